"""Admin: accounts (list, create, deactivate, reset passwords, revoke tokens) and the audit log.

Thin: every action calls `auth.admin`, which checks the role on the server and audits the change.
"""

from __future__ import annotations

import datetime as dt

import dash
import dash_ag_grid as dag
import dash_mantine_components as dmc
from dash import Input, Output, State, callback, dcc, html, no_update
from flask_login import current_user

from auth import admin
from auth.accounts import AccountError
from auth.guard import writes_data
from components.i18n import t
from components.tables import csv_export_params
from data.db import get_session
from data.models import ROLES
from display import playlists
from display.playlists import PlaylistError
from risk.params import reference

dash.register_page(__name__, path="/admin", name="Admin · 管理")

USER_COLUMNS = [
    {"field": "username", "headerName": "用户名 Username"},
    {"field": "display_name", "headerName": "姓名 Name"},
    {"field": "role", "headerName": "角色 Role"},
    {"field": "unit", "headerName": "单位 Unit"},
    {"field": "unit_name", "headerName": "单位名称 Unit name"},
    {"field": "active", "headerName": "启用 Active", "cellDataType": "text"},
    {"field": "tokens", "headerName": "令牌 Tokens"},
    {"field": "last_login_at", "headerName": "最近登录 Last sign-in"},
    {"field": "created_at", "headerName": "创建 Created"},
]
AUDIT_COLUMNS = [{"field": f, "headerName": h} for f, h in (
    ("at", "时间 Time (UTC)"), ("username", "用户 User"), ("address", "地址 Address"),
    ("action", "动作 Action"), ("target", "对象 Target"), ("outcome", "结果 Outcome"),
    ("detail", "详情 Detail"))]


def _grid(grid_id: str, columns: list[dict], selectable: bool = False) -> dag.AgGrid:
    options: dict = {"pagination": True, "paginationPageSize": 20}
    if selectable:
        options["rowSelection"] = {"mode": "singleRow", "enableClickSelection": True}
    return dag.AgGrid(id=grid_id, columnDefs=columns, rowData=[], dashGridOptions=options,
                      defaultColDef={"sortable": True, "filter": True, "resizable": True},
                      columnSize="responsiveSizeToFit", style={"height": "460px"},
                      csvExportParams=csv_export_params(grid_id))


def layout(**_query: str):
    """Render the admin page for admins; anyone else gets a 'not permitted' message."""
    if getattr(current_user, "role", None) != "admin":
        return dmc.Container(dmc.Alert("仅管理员可用。 Only administrators may use this page.",
                                       title="无权限 Not permitted", color="red", id="admin-denied"),
                             py="xl")
    lang = current_user.language or "zh"
    users = dmc.Stack([
        dmc.Group([
            dmc.Button("停用/启用 Deactivate / activate", id="admin-toggle", variant="light"),
            dmc.PasswordInput(id="admin-reset-password",
                              placeholder="新密码 New password (>= 10, 不常见 uncommon)", w=300),
            dmc.Button("重置密码 Reset password", id="admin-reset", variant="light"),
            dmc.Button("吊销令牌 Revoke tokens", id="admin-revoke", variant="light", color="red"),
        ]),
        _grid("admin-users", USER_COLUMNS, selectable=True),
        dmc.Title("新建用户 New user", order=4),
        dmc.Group([
            dmc.TextInput(id="new-username", label="用户名 Username", w=160),
            dmc.TextInput(id="new-display-name", label="姓名 Name", w=180),
            dmc.Select(id="new-role", label="角色 Role", data=list(ROLES), value="viewer", w=130),
            dmc.TextInput(id="new-unit", label="单位代码 Unit code", w=150),
            dmc.Select(id="new-language", label="语言 Language", data=["zh", "en"], value="zh", w=100),
            dmc.PasswordInput(id="new-password", label="密码 Password (>= 10, 不常见 uncommon)", w=200),
            dmc.Button("创建 Create", id="admin-create", mt=24),
        ], align="flex-start"),
    ], gap="sm")
    audit_tab = dmc.Stack([
        dmc.Group([
            dmc.Select(id="audit-action", label="动作 Action", data=[], clearable=True, w=200),
            dmc.TextInput(id="audit-username", label="用户 User", w=180),
            html.Div([dmc.Text("日期 Dates", size="sm"),
                      dcc.DatePickerRange(id="audit-dates", display_format="YYYY-MM-DD")]),
            dmc.Button("导出 CSV Export", id="audit-export", variant="light", mt=24),
        ], align="flex-start"),
        _grid("admin-audit", AUDIT_COLUMNS),
    ], gap="sm")
    rubric_tab = dmc.Stack([
        dmc.Text("修改阈值后评估规则版本加一，并记入审计日志。 Changing a threshold raises the rubric "
                 "version and is audited. Rates are fractions (0.95 = 95%).", size="sm", c="dimmed"),
        dag.AgGrid(id="admin-rubric", rowData=[], getRowId="params.data.id",
                   columnDefs=[{"field": "stage", "headerName": "阶段 Stage", "maxWidth": 110},
                               {"field": "name", "headerName": "条件 Criterion"},
                               {"field": "threshold", "headerName": "阈值 Threshold",
                                "editable": True, "cellDataType": "number"},
                               {"field": "default", "headerName": "默认 Default"},
                               {"field": "version", "headerName": "版本 Version"}],
                   columnSize="responsiveSizeToFit", dashGridOptions={"domLayout": "autoHeight"}),
    ], gap="sm")
    rules_tab = dmc.Stack([
        dmc.Text("可编辑：参数（JSON，见下方各类规则的参数）、层级、级别、责任层级、时限（小时）、启用；"
                 "修改记入审计日志。 "
                 "Editable: params (JSON; the settings of each type are listed below), tiers, "
                 "severity, owner tier, deadline (hours), active; "
                 "every change is audited.", size="sm", c="dimmed"),
        dag.AgGrid(id="admin-rules", rowData=[], getRowId="params.data.code",
                   columnDefs=[{"field": "code", "headerName": "代码 Code", "pinned": "left"},
                               {"field": "name", "headerName": "规则 Rule", "minWidth": 260},
                               {"field": "type", "headerName": "类型 Type"},
                               {"field": "kpi", "headerName": "指标 KPI"},
                               {"field": "carrier", "headerName": "载体 Carrier"}]
                   + [{"field": f, "headerName": h, "editable": True,
                       "cellDataType": "text" if f != "active" else "boolean"}
                      for f, h in (("params", "参数 Params"), ("tiers", "层级 Tiers"),
                                   ("severity", "级别 Severity"),
                                   ("owner_tier", "责任层级 Owner tier"),
                                   ("deadline_hours", "时限 Hours"), ("active", "启用 Active"))]
                   + [{"field": "skip_reason", "headerName": "扫描跳过原因 Skipped by the scan",
                       "minWidth": 260, "wrapText": True, "autoHeight": True},
                      {"field": "skipped_at", "headerName": "跳过时间 Skipped at (UTC)"}],
                   defaultColDef={"resizable": True, "sortable": True},
                   dashGridOptions={"domLayout": "autoHeight"}),
        dmc.Text("各类规则的参数（参数须为 JSON 对象；未列出的参数、缺少必填参数或超出范围均不能保存；"
                 "扫描时跳过参数不可用的规则，并在上表写明原因）。 The settings of each rule type "
                 "(params are a JSON object; an unlisted setting, a missing required one or a value "
                 "out of range is not saved; the scan skips a rule whose settings cannot be used and "
                 "says why above).", size="sm", c="dimmed"),
        dag.AgGrid(id="admin-rule-settings", rowData=reference(lang),
                   columnDefs=[{"field": f, "headerName": h} for f, h in (
                       ("type", "类型 Type"), ("setting", "参数 Setting"),
                       ("required", "必填 Required"), ("allowed", "取值 Allowed"),
                       ("default", "默认 Default"))]
                   + [{"field": "meaning", "headerName": "含义 Meaning", "minWidth": 380,
                       "wrapText": True, "autoHeight": True}],
                   defaultColDef={"resizable": True},
                   dashGridOptions={"domLayout": "autoHeight"}),
    ], gap="sm")
    playlists_tab = dmc.Stack([
        dmc.Text("大屏按顺序轮播各视图，每个视图停留设定的秒数，并按刷新间隔更新数据。视图地址可从浏览器地址栏"
                 "复制（如 /regions?unit=ZJ-HZ&period=last30）；拖动行调整顺序。 A display shows the views "
                 "in turn, each for its dwell time, and refreshes the data on the interval. Paste a view's "
                 "address from the browser (e.g. /regions?unit=ZJ-HZ&period=last30); drag rows to "
                 "reorder.", size="sm", c="dimmed"),
        dmc.Group([
            dmc.Select(id="playlist-pick", label="播放列表 Playlist", data=[], w=280,
                       placeholder="新建 New playlist", clearable=True),
            dmc.TextInput(id="playlist-name", label="名称 Name", w=280),
            dmc.NumberInput(id="playlist-refresh", label="刷新间隔（秒） Refresh every (s)", value=60,
                            min=10, max=3600, w=250),
            dmc.Anchor("打开大屏 Open display ↗", id="playlist-open", href="/display", target="_blank",
                       mt=30),
        ], align="flex-start"),
        dag.AgGrid(id="playlist-items", rowData=[],
                   columnDefs=[{"field": "url", "headerName": "视图地址 View (page and query)",
                                "editable": True, "rowDrag": True, "flex": 3},
                               {"field": "dwell_seconds", "headerName": "停留（秒） Dwell (s)",
                                "editable": True, "cellDataType": "number", "flex": 1}],
                   dashGridOptions={"rowDragManaged": True, "animateRows": True,
                                    "domLayout": "autoHeight",
                                    "rowSelection": {"mode": "singleRow",
                                                     "enableClickSelection": True}}),
        dmc.Group([
            dmc.Button("添加视图 Add view", id="playlist-add", variant="light"),
            dmc.Button("删除所选视图 Remove selected view", id="playlist-remove", variant="light"),
            dmc.Button("保存 Save", id="playlist-save"),
            dmc.Button("删除播放列表 Delete playlist", id="playlist-delete", variant="light",
                       color="red"),
        ]),
    ], gap="sm")
    return dmc.Container([
        dmc.Group([dmc.Title("管理 Admin", order=2),
                   dcc.Link(t("import.link", current_user.language or "zh"), href="/admin/import",
                            id="admin-import-link")], justify="space-between"),
        dmc.Alert(id="admin-message", children="", color="blue", hide=True, my="sm"),
        dcc.Store(id="admin-changed", data=0),
        dmc.Tabs([
            dmc.TabsList([dmc.TabsTab("用户 Users", value="users"),
                          dmc.TabsTab("审计日志 Audit log", value="audit"),
                          dmc.TabsTab("阶段规则 Stage rubric", value="rubric"),
                          dmc.TabsTab("风险规则 Risk rules", value="rules"),
                          dmc.TabsTab("大屏播放列表 Playlists", value="playlists")]),
            dmc.TabsPanel(users, value="users", pt="sm"),
            dmc.TabsPanel(audit_tab, value="audit", pt="sm"),
            dmc.TabsPanel(rubric_tab, value="rubric", pt="sm"),
            dmc.TabsPanel(rules_tab, value="rules", pt="sm"),
            dmc.TabsPanel(playlists_tab, value="playlists", pt="sm"),
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
        return _message(f"未完成 Not done: {exc}", False), None
    return _message("已完成 Done.", True), result


@callback(Output("admin-users", "rowData"), Input("admin-changed", "data"))
def show_users(_changed):
    """Fill the accounts table."""
    try:
        return admin.list_users(get_session(), current_user)
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
        return "请先选择一个用户。 Select an account first.", False, "yellow", no_update
    target = selected[0]["username"]
    if trigger == "admin-toggle":
        (msg, hide, colour), _ = _act(admin.set_active, target, not selected[0]["active"])
    elif trigger == "admin-reset":
        (msg, hide, colour), _ = _act(admin.reset_password, target, new_password or "")
    else:
        (msg, hide, colour), n = _act(admin.revoke_tokens, target)
        if n is not None:
            msg = f"已吊销 {n} 个令牌。 Revoked {n} token(s) of {target}."
    return msg, hide, colour, changed + 1


@callback(Output("admin-audit", "rowData"), Output("audit-action", "data"),
          Input("audit-action", "value"), Input("audit-username", "value"),
          Input("audit-dates", "start_date"), Input("audit-dates", "end_date"),
          Input("admin-changed", "data"))
def show_audit(action, username, start, end, _changed):
    """Fill the audit table with the newest events matching the filters."""
    session = get_session()
    try:
        rows = admin.audit_events(session, current_user, action or None,
                                  (username or "").strip() or None,
                                  dt.date.fromisoformat(start) if start else None,
                                  dt.date.fromisoformat(end) if end else None)
        return rows, admin.audit_actions(session, current_user)
    except admin.NotPermitted:
        return [], []


@callback(Output("admin-audit", "exportDataAsCsv"), Input("audit-export", "n_clicks"),
          prevent_initial_call=True)
def export_audit(_clicks):
    """Download what the audit table shows, as CSV."""
    return True


@callback(Output("admin-rubric", "rowData"), Output("admin-rules", "rowData"),
          Input("admin-changed", "data"))
def show_rubric_and_rules(_changed):
    """Fill the stage-rubric and risk-rule tables."""
    try:
        session = get_session()
        return admin.rubric(session, current_user), admin.risk_rules(session, current_user)
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
        (msg, hide, colour), _ = _act(admin.update_rule, change["rowId"], change["colId"],
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
            return "请先选择一个播放列表。 Pick a playlist first.", False, "yellow", no_update, no_update
        (msg, hide, colour), _ = _act(playlists.delete, playlist_id)
        return msg, hide, colour, changed + 1, None
    (msg, hide, colour), saved = _act(playlists.save, playlist_id, name or "", refresh,
                                      list(rows or []))
    if saved is None:  # refused: keep what was typed, so it can be corrected
        return msg, hide, colour, no_update, no_update
    return msg, hide, colour, changed + 1, str(saved.id)
