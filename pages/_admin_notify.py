"""Admin → 风险通知 / Risk notifications: set or remove a unit's chat-robot webhook (URLs shown
masked: a robot's key is a secret) and the newest notices with their outcomes.

Thin: the actions call `risk.webhooks` (admins only, the URL checked, audited), the table
`risk.notify.recent_notifications`; the callback that changes a webhook commits what it started.
"""

from __future__ import annotations

import dash
import dash_ag_grid as dag
import dash_mantine_components as dmc
from dash import Input, Output, State, callback, no_update
from flask_login import current_user

import settings
from auth import admin
from auth.guard import writes_data
from components.grid_locale import grid_locale
from components.i18n import t
from components.notices import risk_notice_rows
from components.tables import size_to_content
from data.db import get_session
from pages._common import company_zone, in_zone
from risk import notify, webhooks

GRIDS = ("notify-webhooks", "notify-recent")


def _lang() -> str:
    return getattr(current_user, "language", None) or "zh"


def webhook_columns(lang: str) -> list[dict]:
    """The webhooks table's columns."""
    return [{"field": "unit", "headerName": t("admin.unit", lang)},
            {"field": "unit_name", "headerName": t("admin.unit_name", lang)},
            {"field": "url", "headerName": t("notify.webhook_url", lang), "minWidth": 320},
            {"field": "updated_by", "headerName": t("notify.col.updated_by", lang)},
            {"field": "updated_at", "headerName": in_zone("notify.col.updated_at", lang)}]


def notification_columns(lang: str) -> list[dict]:
    """The recent notices table's columns."""
    return ([{"field": f, "headerName": t(k, lang)} for f, k in (
        ("incident", "notify.col.incident"), ("kind", "notify.col.kind"),
        ("channel", "notify.col.channel"), ("recipient", "notify.col.recipient"),
        ("state", "notify.col.state"), ("attempts", "notify.col.attempts"))]
        + [{"field": "created_at", "headerName": in_zone("notify.col.created", lang)},
           {"field": "error", "headerName": t("notify.col.error", lang), "minWidth": 320,
            "wrapText": True, "autoHeight": True}])


def section(lang: str) -> dmc.Stack:
    """The tab's content."""
    hooks, recent = webhook_columns(lang), notification_columns(lang)
    return dmc.Stack([
        dmc.Text(t("notify.admin_help", lang), size="sm", c="dimmed"),
        dmc.Group([
            dmc.TextInput(id="notify-unit", label=t("admin.unit", lang), w=160),
            dmc.TextInput(id="notify-url", label=t("notify.webhook_url", lang), w=480,
                          placeholder=t("notify.webhook_placeholder", lang)),
            dmc.Button(t("notify.set_webhook", lang), id="notify-set", mt=24),
            dmc.Button(t("notify.remove_webhook", lang), id="notify-remove", variant="light",
                       color="red", mt=24),
        ], align="flex-start"),
        dmc.Title(t("notify.webhooks", lang), order=5),
        dag.AgGrid(id="notify-webhooks", rowData=[], columnDefs=hooks,
                   defaultColDef={"resizable": True, "sortable": True},
                   dashGridOptions={"domLayout": "autoHeight", **size_to_content(hooks),
                                    **grid_locale(lang)}),
        dmc.Title(t("notify.recent", lang), order=5),
        dag.AgGrid(id="notify-recent", rowData=[], columnDefs=recent,
                   defaultColDef={"resizable": True, "sortable": True, "filter": True},
                   dashGridOptions={"pagination": True, "paginationPageSize": 20,
                                    **size_to_content(recent), **grid_locale(lang)},
                   style={"height": "460px"}),
    ], gap="sm")


def register() -> None:
    """Define this section's callbacks. Called by `pages/admin.py`, which Dash executes afresh for
    every app it makes (this module, imported once, would give its callbacks to the first app only).
    """

    @callback(Output("notify-webhooks", "rowData"), Output("notify-recent", "rowData"),
              Input("admin-changed", "data"))
    def show_notifications(_changed):
        """Fill the webhooks and recent notices tables."""
        session, lang = get_session(), _lang()
        try:
            hooks = webhooks.list_webhooks(session, current_user, tz=company_zone())
            recent = notify.recent_notifications(session, current_user, tz=company_zone())
        except admin.NotPermitted:
            return [], []
        return ([{**h, "unit_name": h["unit_name_en" if lang == "en" else "unit_name_zh"]}
                 for h in hooks], risk_notice_rows(recent, lang))

    @callback(Output("admin-message", "children", allow_duplicate=True),
              Output("admin-message", "hide", allow_duplicate=True),
              Output("admin-message", "color", allow_duplicate=True),
              Output("admin-changed", "data", allow_duplicate=True),
              Output("notify-url", "value"),
              Input("notify-set", "n_clicks"), Input("notify-remove", "n_clicks"),
              State("notify-unit", "value"), State("notify-url", "value"),
              State("admin-changed", "data"), prevent_initial_call=True)
    @writes_data
    def change_webhook(_set, _remove, unit, url, changed):
        """Set or remove the typed unit's webhook (checked on the server, audited); once set, the
        URL (a secret) leaves the input."""
        session, lang = get_session(), _lang()
        try:
            if dash.ctx.triggered_id == "notify-remove":
                webhooks.remove_webhook(session, current_user, unit or "")
            else:
                webhooks.set_webhook(session, current_user, unit or "", url or "", allowed=(
                    webhooks.Allowed.parse(settings.current().WEBHOOK_ALLOWED_HOSTS)))
        except (webhooks.WebhookError, admin.NotPermitted) as exc:
            session.rollback()
            return f"{t('admin.not_done', lang)}{exc}", False, "red", no_update, no_update
        session.commit()  # this callback started the work: it commits it
        return t("admin.done", lang), False, "green", (changed or 0) + 1, ""
