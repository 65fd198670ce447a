"""Admin: accounts (list, create, deactivate, reset passwords, revoke tokens), the audit log, the
stage rubric, the risk rules, the wall-display playlists and the risk notifications (webhooks and
the newest notices, `pages/_admin_notify.py`).

Thin: every action calls `auth.admin` (playlists: `display.playlists`), which checks the role on the
server and audits the change.
"""

from __future__ import annotations

import datetime as dt

import dash
import dash_ag_grid as dag
import dash_mantine_components as dmc
from dash import ClientsideFunction, Input, Output, State, callback, clientside_callback, dcc, no_update
from flask_login import current_user

from auth import admin
from auth.accounts import AccountError
from auth.guard import writes_data
from components.filters import date_range
from components.grid_locale import grid_locale
from components.i18n import LANGS, MESSAGES, name, t
from components.tables import csv_export_params, size_to_content
from data.catalog import carriers as catalog_carriers
from data.db import get_session
from data.models import ROLES
from data.rubric import BY_ID as RUBRIC_BY_ID
from display import playlists
from display.playlists import PlaylistError
from metrics.registry import REGISTRY
from pages import _admin_notify
from pages._common import company_zone, in_zone
from risk import rules_admin
from risk.params import reference

dash.register_page(__name__, path="/admin", name="Admin · 管理")
_admin_notify.register()  # the risk notifications tab's callbacks, on this app

def _lang() -> str:
    return getattr(current_user, "language", None) or "zh"


def user_columns(lang: str) -> list[dict]:
    """The accounts table's columns (role and active shown in words; their codes stay in the row)."""
    return [
        {"field": "username", "headerName": t("admin.username", lang)},
        {"field": "display_name", "headerName": t("admin.name", lang)},
        {"field": "role_name", "colId": "role", "headerName": t("admin.role", lang)},
        {"field": "unit", "headerName": t("admin.unit", lang)},
        {"field": "unit_name", "headerName": t("admin.unit_name", lang)},
        {"field": "active_text", "colId": "active", "headerName": t("admin.active", lang)},
        {"field": "tokens", "headerName": t("admin.tokens", lang)},
        {"field": "last_login_at", "headerName": in_zone("admin.last_login", lang), "minWidth": 170},
        {"field": "created_at", "headerName": in_zone("admin.created", lang), "minWidth": 170},
    ]


def audit_columns(lang: str) -> list[dict]:
    """The audit table's columns, its time in the company's zone."""
    return [{"field": "at", "headerName": in_zone("col.time", lang), "minWidth": 170}] + [
        {"field": f, "headerName": t(k, lang)} for f, k in (
            ("username", "col.user"), ("address", "admin.address"), ("action", "admin.action"),
            ("target", "admin.target"), ("outcome", "col.outcome"), ("detail", "admin.detail"))]


def _grid(grid_id: str, columns: list[dict], selectable: bool = False) -> dag.AgGrid:
    options: dict = {"pagination": True, "paginationPageSize": 20, **size_to_content(columns),
                     **grid_locale(_lang())}
    if selectable:
        options["rowSelection"] = {"mode": "singleRow", "enableClickSelection": True}
    return dag.AgGrid(id=grid_id, columnDefs=columns, rowData=[], dashGridOptions=options,
                      defaultColDef={"sortable": True, "filter": True, "resizable": True},
                      style={"height": "460px"},
                      csvExportParams=csv_export_params(grid_id))


# A grid in a hidden tab cannot measure its cells: size its columns when the tab opens and when
# its rows arrive (assets/dashAgGridFunctions.js).
clientside_callback(ClientsideFunction("grids", "fit"), Output("admin-grids-fitted", "data"),
                    Input("admin-tabs", "value"),
                    *[Input(g, "rowData") for g in ("admin-users", "admin-audit", "admin-rubric",
                                                    "admin-rules", "playlist-items",
                                                    *_admin_notify.GRIDS)])


def _rubric_columns(lang: str) -> list[dict]:
    return [{"field": "stage", "headerName": t("admin.stage", lang)},
            {"field": "name", "headerName": t("admin.criterion", lang)},
            {"field": "threshold", "headerName": t("admin.threshold", lang),
             "editable": True, "cellDataType": "number"},
            {"field": "default", "headerName": t("admin.default", lang)},
            {"field": "version", "headerName": t("admin.version", lang)}]


def _rule_columns(lang: str) -> list[dict]:
    return ([{"field": "code", "headerName": t("admin.code", lang), "pinned": "left"},
             {"field": "name", "headerName": t("risk.rule", lang)},
             {"field": "type", "headerName": t("admin.type", lang)},
             {"field": "kpi", "headerName": t("col.kpi", lang)},
             {"field": "carrier", "headerName": t("col.carrier", lang)}]
            + [{"field": f, "headerName": t(k, lang), "editable": True,
                "cellDataType": "text" if f != "active" else "boolean"}
               for f, k in (("params", "admin.params"), ("tiers", "admin.tiers"),
                            ("severity", "risk.severity"), ("owner_tier", "admin.owner_tier"),
                            ("deadline_hours", "admin.hours"), ("active", "admin.active"))]
            + [{"field": "skip_reason", "headerName": t("admin.skip_reason", lang),
                "minWidth": 260, "wrapText": True, "autoHeight": True},
               {"field": "skipped_at", "headerName": in_zone("admin.skipped_at", lang)}])


def _setting_columns(lang: str) -> list[dict]:
    return [{"field": f, "headerName": t(k, lang)} for f, k in (
        ("type", "admin.type"), ("setting", "admin.setting"), ("required", "admin.required"),
        ("allowed", "admin.allowed"), ("default", "admin.default"))] + [
        {"field": "meaning", "headerName": t("admin.meaning", lang), "minWidth": 380,
         "wrapText": True, "autoHeight": True}]


def layout(**_query: str):
    """Render the admin page for admins; anyone else gets a 'not permitted' message."""
    lang = _lang()
    if getattr(current_user, "role", None) != "admin":
        return dmc.Container(dmc.Alert(t("admin.denied", lang), title=t("admin.denied_title", lang),
                                       color="red", id="admin-denied"), py="xl")
    locale = grid_locale(lang)
    users = dmc.Stack([
        dmc.Group([
            dmc.Button(t("admin.toggle", lang), id="admin-toggle", variant="light"),
            dmc.PasswordInput(id="admin-reset-password", placeholder=t("admin.new_password", lang),
                              w=300),
            dmc.Button(t("admin.reset", lang), id="admin-reset", variant="light"),
            dmc.Button(t("admin.revoke", lang), id="admin-revoke", variant="light", color="red"),
        ]),
        _grid("admin-users", user_columns(lang), selectable=True),
        dmc.Title(t("admin.new_user", lang), order=4),
        dmc.Group([
            dmc.TextInput(id="new-username", label=t("admin.username", lang), w=160),
            dmc.TextInput(id="new-display-name", label=t("admin.name", lang), w=180),
            dmc.Select(id="new-role", label=t("admin.role", lang), value="viewer", w=130,
                       data=[{"value": r, "label": t(f"role.{r}", lang)} for r in ROLES]),
            dmc.TextInput(id="new-unit", label=t("admin.unit", lang), w=150),
            dmc.Select(id="new-language", label=t("admin.language", lang), value="zh", w=100,
                       data=[{"value": v, "label": t(f"language.{v}", lang)} for v in LANGS]),
            dmc.PasswordInput(id="new-password", label=t("admin.password", lang), w=220),
            dmc.Button(t("admin.create", lang), id="admin-create", mt=24),
        ], align="flex-start"),
    ], gap="sm")
    audit_tab = dmc.Stack([
        dmc.Group([
            dmc.Select(id="audit-action", label=t("admin.action", lang), data=[], clearable=True,
                       w=200),
            dmc.TextInput(id="audit-username", label=t("col.user", lang), w=180),
            date_range("audit-dates", in_zone("admin.dates", lang), None, clearable=True),
            dmc.Button(t("export.csv", lang), id="audit-export", variant="light", mt=24),
        ], align="flex-start"),
        _grid("admin-audit", audit_columns(lang)),
    ], gap="sm")
    rubric_columns, rule_columns, setting_columns = (
        _rubric_columns(lang), _rule_columns(lang), _setting_columns(lang))
    rubric_tab = dmc.Stack([
        dmc.Text(t("admin.rubric_help", lang), size="sm", c="dimmed"),
        dag.AgGrid(id="admin-rubric", rowData=[], getRowId="params.data.id",
                   columnDefs=rubric_columns,
                   dashGridOptions={"domLayout": "autoHeight", **size_to_content(rubric_columns),
                                    **locale}),
    ], gap="sm")
    rules_tab = dmc.Stack([
        dmc.Text(t("admin.rules_help", lang), size="sm", c="dimmed"),
        dag.AgGrid(id="admin-rules", rowData=[], getRowId="params.data.code",
                   columnDefs=rule_columns,
                   defaultColDef={"resizable": True, "sortable": True},
                   dashGridOptions={"domLayout": "autoHeight", **size_to_content(rule_columns),
                                    **locale}),
        dmc.Text(t("admin.rule_settings_help", lang), size="sm", c="dimmed"),
        dag.AgGrid(id="admin-rule-settings", rowData=reference(lang),
                   columnDefs=setting_columns, defaultColDef={"resizable": True},
                   dashGridOptions={"domLayout": "autoHeight", **size_to_content(setting_columns),
                                    **locale}),
    ], gap="sm")
    playlists_tab = dmc.Stack([
        dmc.Text(t("admin.playlists_help", lang), size="sm", c="dimmed"),
        dmc.Group([
            dmc.Select(id="playlist-pick", label=t("admin.playlist", lang), data=[], w=280,
                       placeholder=t("admin.playlist_new", lang), clearable=True),
            dmc.TextInput(id="playlist-name", label=t("admin.playlist_name", lang), w=280),
            dmc.NumberInput(id="playlist-refresh", label=t("admin.refresh", lang), value=60,
                            min=10, max=3600, w=250),
            dmc.Anchor(t("display.open", lang) + " ↗", id="playlist-open", href="/display",
                       target="_blank", mt=30),
        ], align="flex-start"),
        dag.AgGrid(id="playlist-items", rowData=[],
                   columnDefs=[{"field": "url", "headerName": t("admin.view_url", lang),
                                "editable": True, "rowDrag": True, "flex": 3},
                               {"field": "dwell_seconds", "headerName": t("admin.dwell", lang),
                                "editable": True, "cellDataType": "number", "flex": 1}],
                   dashGridOptions={"rowDragManaged": True, "animateRows": True,
                                    "domLayout": "autoHeight", **locale,
                                    "rowSelection": {"mode": "singleRow",
                                                     "enableClickSelection": True}}),
        dmc.Group([
            dmc.Button(t("admin.add_view", lang), id="playlist-add", variant="light"),
            dmc.Button(t("admin.remove_view", lang), id="playlist-remove", variant="light"),
            dmc.Button(t("admin.save", lang), id="playlist-save"),
            dmc.Button(t("admin.delete_playlist", lang), id="playlist-delete", variant="light",
                       color="red"),
        ]),
    ], gap="sm")
    return dmc.Container([
        dmc.Group([dmc.Title(t("admin.title", lang), order=2),
                   dcc.Link(t("import.link", lang), href="/admin/import",
                            id="admin-import-link")], justify="space-between"),
        dmc.Alert(id="admin-message", children="", color="blue", hide=True, my="sm"),
        dcc.Store(id="admin-changed", data=0),
        dcc.Store(id="admin-grids-fitted"),
        dmc.Tabs([
            dmc.TabsList([dmc.TabsTab(t(f"admin.tab.{tab}", lang), value=tab)
                          for tab in ("users", "audit", "rubric", "rules", "playlists",
                                      "notify")]),
            dmc.TabsPanel(users, value="users", pt="sm"),
            dmc.TabsPanel(audit_tab, value="audit", pt="sm"),
            dmc.TabsPanel(rubric_tab, value="rubric", pt="sm"),
            dmc.TabsPanel(rules_tab, value="rules", pt="sm"),
            dmc.TabsPanel(playlists_tab, value="playlists", pt="sm"),
            dmc.TabsPanel(_admin_notify.section(lang), value="notify", pt="sm"),
        ], value="users", id="admin-tabs"),
    ], size="xl", py="md")


def _message(text: str, ok: bool):
    return text, False, "green" if ok else "red"


def _act(action, *args):
    """Run an admin action for the signed-in user; return (message, hidden, colour)."""
    session = get_session()
    try:
        result = action(session, current_user, *args)
    except (AccountError, admin.NotPermitted, PlaylistError) as exc:
        session.rollback()
        return _message(f"{t('admin.not_done', _lang())}{exc}", False), None
    session.commit()  # this callback started the work: it commits it
    return _message(t("admin.done", _lang()), True), result


def user_rows(rows: list[dict], lang: str) -> list[dict]:
    """Accounts as the table shows them: role and active in words beside their codes."""
    return [{**r, "role_name": t(f"role.{r['role']}", lang) if f"role.{r['role']}" in MESSAGES
             else r["role"], "active_text": t("yes" if r["active"] else "no", lang)} for r in rows]


@callback(Output("admin-users", "rowData"), Input("admin-changed", "data"))
def show_users(_changed):
    """Fill the accounts table."""
    try:
        return user_rows(admin.list_users(get_session(), current_user, tz=company_zone()), _lang())
    except admin.NotPermitted:
        return []


@callback(Output("admin-message", "children"), Output("admin-message", "hide"),
          Output("admin-message", "color"), Output("admin-changed", "data"),
          Input("admin-create", "n_clicks"), Input("admin-toggle", "n_clicks"),
          Input("admin-reset", "n_clicks"), Input("admin-revoke", "n_clicks"),
          State("admin-users", "selectedRows"), State("new-username", "value"),
          State("new-display-name", "value"), State("new-role", "value"),
          State("new-unit", "value"), State("new-language", "value"),
          State("new-password", "value"), State("admin-reset-password", "value"),
          State("admin-changed", "data"), prevent_initial_call=True)
@writes_data
def account_action(_create, _toggle, _reset, _revoke, selected, username, display_name, role,
                   unit, language, password, new_password, changed):
    """Carry out the clicked account action on the selected (or new) account."""
    trigger = dash.ctx.triggered_id
    if trigger == "admin-create":
        (msg, hide, colour), _ = _act(admin.create, username or "", role or "", unit or "",
                                      password or "", display_name or "", language or "zh")
        return msg, hide, colour, changed + 1
    if not selected:
        return t("admin.select_user", _lang()), False, "yellow", no_update
    target = selected[0]["username"]
    if trigger == "admin-toggle":
        (msg, hide, colour), _ = _act(admin.set_active, target, not selected[0]["active"])
    elif trigger == "admin-reset":
        (msg, hide, colour), _ = _act(admin.reset_password, target, new_password or "")
    else:
        (msg, hide, colour), n = _act(admin.revoke_tokens, target)
        if n is not None:
            msg = t("admin.revoked", _lang()).format(n=n, user=target)
    return msg, hide, colour, changed + 1


@callback(Output("admin-audit", "rowData"), Output("audit-action", "data"),
          Input("audit-action", "value"), Input("audit-username", "value"),
          Input("audit-dates", "value"), Input("admin-changed", "data"))
def show_audit(action, username, dates, _changed):
    """Fill the audit table with the newest events matching the filters (days in the company's
    time zone)."""
    start, end = (list(dates) + [None, None])[:2] if isinstance(dates, list) else (None, None)
    session = get_session()
    try:
        rows = admin.audit_events(session, current_user, action or None,
                                  (username or "").strip() or None,
                                  dt.date.fromisoformat(start[:10]) if start else None,
                                  dt.date.fromisoformat(end[:10]) if end else None, tz=company_zone())
        return rows, admin.audit_actions(session, current_user)
    except admin.NotPermitted:
        return [], []


@callback(Output("admin-audit", "exportDataAsCsv"), Input("audit-export", "n_clicks"),
          prevent_initial_call=True)
def export_audit(_clicks):
    """Download what the audit table shows, as CSV."""
    return True


def rubric_rows(rows: list[dict], lang: str) -> list[dict]:
    """Stage criteria named in the user's language."""
    return [{**r, "name": name(RUBRIC_BY_ID[r["id"]], lang)} if r["id"] in RUBRIC_BY_ID else r
            for r in rows]


def rule_rows(rows: list[dict], lang: str) -> list[dict]:
    """Risk rules named in the user's language, their KPI and carrier by name."""
    carriers = {c.code: name(c, lang) for c in catalog_carriers(get_session())}
    return [{**r, "name": r[f"name_{'en' if lang == 'en' else 'zh'}"],
             "kpi": name(REGISTRY[r["kpi"]], lang) if r["kpi"] in REGISTRY else r["kpi"],
             "carrier": carriers.get(r["carrier"], r["carrier"])} for r in rows]


@callback(Output("admin-rubric", "rowData"), Output("admin-rules", "rowData"),
          Input("admin-changed", "data"))
def show_rubric_and_rules(_changed):
    """Fill the stage-rubric and risk-rule tables."""
    try:
        session = get_session()
        lang = _lang()
        return (rubric_rows(admin.rubric(session, current_user), lang),
                rule_rows(rules_admin.risk_rules(session, current_user, tz=company_zone()), lang))
    except admin.NotPermitted:
        return [], []


@callback(Output("admin-message", "children", allow_duplicate=True),
          Output("admin-message", "hide", allow_duplicate=True),
          Output("admin-message", "color", allow_duplicate=True),
          Output("admin-changed", "data", allow_duplicate=True),
          Input("admin-rubric", "cellValueChanged"), Input("admin-rules", "cellValueChanged"),
          State("admin-changed", "data"), prevent_initial_call=True)
@writes_data
def edit_cell(rubric_changes, rule_changes, changed):
    """Store an edited threshold or rule field (checked on the server, audited)."""
    on_rubric = dash.ctx.triggered_id == "admin-rubric"
    change = ((rubric_changes if on_rubric else rule_changes) or [None])[0]
    if not change:
        return no_update, no_update, no_update, no_update
    if on_rubric:
        (msg, hide, colour), _ = _act(admin.set_threshold, change["rowId"], change["value"])
    else:
        (msg, hide, colour), _ = _act(rules_admin.update_rule, change["rowId"], change["colId"],
                                      change["value"])
    return msg, hide, colour, changed + 1


@callback(Output("playlist-pick", "data"), Output("playlist-name", "value"),
          Output("playlist-refresh", "value"), Output("playlist-items", "rowData"),
          Output("playlist-open", "href"),
          Input("playlist-pick", "value"), Input("admin-changed", "data"),
          Input("playlist-add", "n_clicks"), Input("playlist-remove", "n_clicks"),
          State("playlist-items", "virtualRowData"), State("playlist-items", "selectedRows"))
def show_playlist(picked, _changed, _add, _remove, rows, selected):
    """Fill the playlist editor: the choice of playlists, and the picked one's fields and views;
    or add a view row / remove the selected one (kept until Save)."""
    trigger = dash.ctx.triggered_id
    if trigger in ("playlist-add", "playlist-remove"):
        rows = list(rows or [])
        if trigger == "playlist-add":
            rows.append({"url": "/?period=last30", "dwell_seconds": 30})
        elif selected:
            rows = [r for r in rows if r != selected[0]]
        return no_update, no_update, no_update, rows, no_update
    try:
        admin.require_admin(current_user)
    except admin.NotPermitted:
        return [], None, 60, [], "/display"
    session = get_session()
    options = [{"value": str(p.id), "label": p.name} for p in playlists.playlists(session)]
    if not picked:
        return options, "", 60, [], "/display"
    try:
        chosen = playlists.find(session, picked)
    except PlaylistError:
        return options, "", 60, [], "/display"
    items = [{"url": i.url, "dwell_seconds": i.dwell_seconds} for i in chosen.items]
    return options, chosen.name, chosen.refresh_seconds, items, f"/display?playlist={chosen.id}"


@callback(Output("admin-message", "children", allow_duplicate=True),
          Output("admin-message", "hide", allow_duplicate=True),
          Output("admin-message", "color", allow_duplicate=True),
          Output("admin-changed", "data", allow_duplicate=True),
          Output("playlist-pick", "value"),
          Input("playlist-save", "n_clicks"), Input("playlist-delete", "n_clicks"),
          State("playlist-pick", "value"), State("playlist-name", "value"),
          State("playlist-refresh", "value"), State("playlist-items", "virtualRowData"),
          State("admin-changed", "data"), prevent_initial_call=True)
@writes_data
def save_playlist(_save, _delete, picked, name, refresh, rows, changed):
    """Save the playlist being edited (checked on the server, audited), or delete it."""
    playlist_id = int(picked) if picked else None
    if dash.ctx.triggered_id == "playlist-delete":
        if playlist_id is None:
            return t("admin.pick_playlist", _lang()), False, "yellow", no_update, no_update
        (msg, hide, colour), _ = _act(playlists.delete, playlist_id)
        return msg, hide, colour, changed + 1, None
    (msg, hide, colour), saved = _act(playlists.save, playlist_id, name or "", refresh,
                                      list(rows or []))
    if saved is None:  # refused: keep what was typed, so it can be corrected
        return msg, hide, colour, no_update, no_update
    return msg, hide, colour, changed + 1, str(saved.id)
