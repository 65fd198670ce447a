"""Subscriptions: the monthly report or a view's snapshot by email, on a schedule; each with its
last delivery (an admin may show every account's, with their errors).

Thin: every check and change is `export.subscriptions`' (scope, schedule, address, ownership,
audit); this page shows its answers and commits what it started.
"""

from __future__ import annotations

import dash
import dash_ag_grid as dag
import dash_mantine_components as dmc
from dash import Input, Output, State, callback, dcc, no_update
from flask_login import current_user

from auth.guard import writes_data
from components.grid_locale import grid_locale
from components.i18n import LANGS, t
from components.notices import wall_display_only
from components.tables import size_to_content
from data.db import get_session
from export import subscriptions
from export.schedule import WEEKDAY_KEYS
from export.subscriptions import Order, SubscriptionError
from pages._common import company_zone, in_zone, zone_label

dash.register_page(__name__, path="/subscriptions", name="Subscriptions · 订阅")

OUTCOME_KEYS = {"sent": "subscriptions.outcome.sent", "failed": "subscriptions.outcome.failed",
                "refused": "subscriptions.outcome.refused",
                "running": "subscriptions.outcome.running"}
KIND_KEYS = {"report": "subscriptions.kind.report", "snapshot": "subscriptions.kind.snapshot"}
SCHEDULE_KEYS = {"monthly": "subscriptions.schedule.monthly",
                 "weekly": "subscriptions.schedule.weekly"}


def _lang() -> str:
    return getattr(current_user, "language", None) or "zh"


def _is_admin() -> bool:
    return getattr(current_user, "role", None) == "admin"


def columns(lang: str, admin: bool) -> list[dict]:
    """The table's columns (the account only for an admin)."""
    shown = [("id", "admin.code"), ("kind", "subscriptions.kind"), ("unit", "subscriptions.unit"),
             ("view", "subscriptions.view"), ("when", "subscriptions.col.when"),
             ("language", "subscriptions.language"), ("active", "admin.active"),
             ("slot", "subscriptions.col.last"), ("outcome", "subscriptions.col.outcome"),
             ("error", "subscriptions.col.error")]
    if admin:
        shown.insert(1, ("user", "subscriptions.col.user"))
        shown.insert(2, ("email", "subscriptions.email"))
    cols: list[dict] = [{"field": f, "headerName": t(k, lang)} for f, k in shown]
    cols.append({"field": "next_retry", "headerName": in_zone("subscriptions.col.next_retry", lang)})
    for c in cols:
        if c["field"] == "error":
            c.update(minWidth=320, wrapText=True, autoHeight=True)
    return cols


def rows_for(rows: list[dict], lang: str) -> list[dict]:
    """Subscriptions as the table shows them: kind, schedule, outcome in words."""
    out = []
    for r in rows:
        when = (t("subscriptions.monthly_on", lang).format(day=r["day"]) if r["schedule"] == "monthly"
                else t("subscriptions.weekly_on", lang).format(
                    weekday=t(WEEKDAY_KEYS[r["weekday"] or 0], lang)))
        out.append({**r, "kind": t(KIND_KEYS[r["kind"]], lang), "when": f"{when} {r['at']}",
                    "unit": f"{r['unit']} {r['unit_name_en'] if lang == 'en' else r['unit_name']}",
                    "active": t("yes" if r["active"] else "no", lang),
                    "language": t(f"language.{r['language']}", lang),
                    "outcome": t(OUTCOME_KEYS[r["outcome"]], lang) if r["outcome"] else ""})
    return out


def layout(view: str | None = None, **_query: str):
    """The subscription form and table; `view` (from a page's export menu) fills in a snapshot."""
    lang = _lang()
    if getattr(current_user, "role", None) == "display":
        return wall_display_only()
    kind = "snapshot" if view else "report"
    form = dmc.Group([
        dmc.Select(id="sub-kind", label=t("subscriptions.kind", lang), value=kind, w=200,
                   data=[{"value": k, "label": t(v, lang)} for k, v in KIND_KEYS.items()]),
        dmc.TextInput(id="sub-unit", label=t("subscriptions.unit", lang), w=140,
                      value=current_user.unit.code),
        dmc.TextInput(id="sub-view", label=t("subscriptions.view", lang), w=360, value=view or "",
                      placeholder="/regions?unit=...&period=last_month"),
        dmc.Select(id="sub-language", label=t("subscriptions.language", lang), value=lang, w=110,
                   data=[{"value": v, "label": t(f"language.{v}", lang)} for v in LANGS]),
        dmc.Select(id="sub-schedule", label=t("subscriptions.schedule", lang), value="monthly",
                   w=110, data=[{"value": k, "label": t(v, lang)} for k, v in SCHEDULE_KEYS.items()]),
        dmc.TextInput(id="sub-day", label=t("subscriptions.day", lang), value="1", w=150),
        dmc.Select(id="sub-weekday", label=t("subscriptions.weekday", lang), value="0", w=110,
                   data=[{"value": str(n), "label": t(k, lang)} for n, k in enumerate(WEEKDAY_KEYS)]),
        dmc.TextInput(id="sub-at", label=t("subscriptions.at", lang), value="08:00", w=120),
        dmc.Button(t("subscriptions.subscribe", lang), id="sub-save", mt=24),
    ], align="flex-start")
    admin = _is_admin()
    table_columns = columns(lang, admin)
    return dmc.Container([
        dmc.Title(t("subscriptions.title", lang), order=2),
        dmc.Text(t("subscriptions.help", lang).format(zone=zone_label(company_zone())), size="sm",
                 c="dimmed", mb="sm"),
        dmc.Alert(id="sub-message", children="", color="blue", hide=True, my="sm"),
        dmc.Group([
            dmc.TextInput(id="sub-email", label=t("subscriptions.email", lang), w=320,
                          value=current_user.email or "", placeholder="name@example.com"),
            dmc.Button(t("subscriptions.save_email", lang), id="sub-email-save", variant="light",
                       mt=24),
        ], align="flex-start"),
        form,
        dmc.Group([
            dmc.Button(t("subscriptions.toggle", lang), id="sub-toggle", variant="light"),
            dmc.Button(t("subscriptions.unsubscribe", lang), id="sub-delete", variant="light",
                       color="red"),
            dmc.Checkbox(id="sub-everyone", label=t("subscriptions.everyone", lang), checked=admin,
                         display="block" if admin else "none"),
        ], mt="md"),
        dag.AgGrid(id="sub-grid", rowData=[], columnDefs=table_columns, getRowId="params.data.id",
                   defaultColDef={"sortable": True, "filter": True, "resizable": True},
                   dashGridOptions={"domLayout": "autoHeight", **size_to_content(table_columns),
                                    **grid_locale(lang),
                                    "rowSelection": {"mode": "singleRow",
                                                     "enableClickSelection": True}}),
        dcc.Store(id="sub-changed", data=0),
    ], fluid=True, px="md", py="md", maw=1880)


@callback(Output("sub-grid", "rowData"), Input("sub-changed", "data"),
          Input("sub-everyone", "checked"))
def show_subscriptions(_changed, everyone):
    """Fill the table: the user's subscriptions (an admin's choice: everyone's)."""
    rows = subscriptions.listing(get_session(), current_user, company_zone(), bool(everyone))
    return rows_for(rows, _lang())


def _act(action, *args) -> tuple[str, bool, str, bool]:
    """Run a change for the signed-in user; commit it, or roll back and say why not."""
    session, lang = get_session(), _lang()
    try:
        action(session, current_user, *args)
    except SubscriptionError as exc:
        session.rollback()
        return f"{t('subscriptions.not_done', lang)}{exc.text(lang)}", False, "red", False
    session.commit()  # this callback started the work: it commits it
    return t("subscriptions.done", lang), False, "green", True


@callback(Output("sub-message", "children"), Output("sub-message", "hide"),
          Output("sub-message", "color"), Output("sub-changed", "data"),
          Input("sub-email-save", "n_clicks"), Input("sub-save", "n_clicks"),
          Input("sub-toggle", "n_clicks"), Input("sub-delete", "n_clicks"),
          State("sub-email", "value"), State("sub-kind", "value"), State("sub-unit", "value"),
          State("sub-view", "value"), State("sub-language", "value"),
          State("sub-schedule", "value"), State("sub-day", "value"), State("sub-weekday", "value"),
          State("sub-at", "value"), State("sub-grid", "selectedRows"), State("sub-changed", "data"),
          prevent_initial_call=True)
@writes_data
def change_subscriptions(_email, _save, _toggle, _delete, email, kind, unit, view, language,
                         schedule, day, weekday, at, selected, changed):
    """Save the address, subscribe, pause/resume or unsubscribe (the selected row)."""
    trigger = dash.ctx.triggered_id
    if trigger == "sub-email-save":
        message = _act(subscriptions.set_email, email)
    elif trigger == "sub-save":
        message = _act(subscriptions.subscribe, Order(
            kind=kind or "", unit=unit, view=view, language=language or "", schedule=schedule or "",
            day=day, weekday=weekday, at=at))
    elif not selected or not isinstance(selected, list) or not isinstance(selected[0], dict):
        return t("subscriptions.select", _lang()), False, "yellow", no_update
    elif trigger == "sub-toggle":
        message = _act(subscriptions.toggle, selected[0].get("id"))
    else:
        message = _act(subscriptions.unsubscribe, selected[0].get("id"))
    text, hide, colour, done = message
    return text, hide, colour, (changed or 0) + 1 if done else no_update
