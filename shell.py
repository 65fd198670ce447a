"""The frame around every page: header with navigation, language, sign-out; and the callbacks
that turn filter changes, drill clicks and the language switch into navigation."""

from __future__ import annotations

from urllib.parse import urlencode

import dash
import dash_mantine_components as dmc
from dash import ALL, MATCH, Input, Output, State, dcc, html, no_update
from flask import has_request_context
from flask_login import current_user

from auth.guard import writes_data
from auth.login import csrf_token
from components.filters import dates_settings
from components.i18n import t
from components.theme import FONT
from components.view_state import PAGES, carry, first_values, update
from data.db import get_session

NAV = tuple(PAGES.items())


def layout() -> dmc.MantineProvider:
    """Build the page frame for the signed-in user (Dash calls this per page load)."""
    signed_in = has_request_context() and current_user.is_authenticated
    lang = current_user.language if signed_in else "zh"
    theme = current_user.theme if signed_in else "light"
    links = [dcc.Link(t(key, lang), href=path, id={"type": "nav", "path": path},
                      className="nav-link") for path, key in NAV]
    if signed_in and current_user.role != "display":
        links.append(dcc.Link(t("nav.reports", lang), href="/reports", className="nav-link"))
        links.append(dcc.Link(t("nav.subscriptions", lang), href="/subscriptions",
                              className="nav-link", id="nav-subscriptions"))
    if signed_in and current_user.role == "admin":
        links.append(dcc.Link(t("nav.admin", lang), href="/admin", className="nav-link"))
    user_box = []
    if signed_in:
        user_box = [
            dmc.Text(f"{current_user.display_name} · {current_user.unit.code}", size="sm"),
            dmc.Button(t("lang", lang), id="lang-switch", variant="subtle", size="compact-sm"),
            dmc.Button(t("theme.dark" if theme == "light" else "theme.light", lang),
                       id="theme-switch", variant="subtle", size="compact-sm"),
            html.Form([dcc.Input(type="hidden", name="csrf_token", value=csrf_token()),
                       html.Button(t("nav.signout", lang), type="submit", className="signout")],
                      method="post", action="/logout", style={"margin": 0}),
        ]
    header = dmc.Group([
        dmc.Group([dmc.Text(t("app.title", lang), fw=700, size="lg"),
                   dmc.Group(links, gap="lg", id="nav")], gap="xl"),
        dmc.Group(user_box, gap="sm"),
    ], justify="space-between", px="md", py="xs", className="app-header", id="app-header")
    # The spinner is for navigating to a page, not for a wall display refreshing in place.
    return dmc.MantineProvider(forceColorScheme=theme, theme={"fontFamily": FONT}, id="provider",
                               children=[
        header, dcc.Store(id="lang-saved"), html.Div(id="lang-reload", hidden=True),
        dcc.Store(id="user-theme", data=theme),
        dmc.DatesProvider(settings=dates_settings(lang), children=dcc.Loading(
            dash.page_container, delay_show=400, type="dot", color="#1c7ed6",
            overlay_style={"visibility": "visible", "opacity": 0.6},
            target_components={"_pages_content": "children"})),  # type: ignore[arg-type]
    ])


def init_app(app: dash.Dash) -> None:
    """Install the frame and its callbacks on this Dash app (not on a process-global list, so
    every app the factory builds gets its own)."""
    app.layout = layout
    app.callback(Output({"type": "nav", "path": ALL}, "href"),
                 Output({"type": "nav", "path": ALL}, "className"),
                 Input("_pages_location", "search"), Input("_pages_location", "pathname"),
                 State({"type": "nav", "path": ALL}, "id"))(keep_view_across_pages)
    app.callback(Output("_pages_location", "search", allow_duplicate=True),
                 Input("f-child", "value"), Input("f-period", "value"),
                 Input("f-dates", "value"),
                 Input("f-carriers", "value"), Input("f-compare", "value"),
                 State("_pages_location", "search"), prevent_initial_call=True)(apply_filters)
    app.callback(Output("_pages_location", "search", allow_duplicate=True),
                 Input({"type": "kpi-picker", "page": ALL}, "value"),
                 State("_pages_location", "search"), prevent_initial_call=True)(choose_kpi)
    app.callback(Output({"type": "csv-grid", "name": MATCH}, "exportDataAsCsv"),
                 Input({"type": "csv", "name": MATCH}, "n_clicks"),
                 prevent_initial_call=True)(lambda _n: True)
    app.callback(Output("lang-saved", "data"), Input("lang-switch", "n_clicks"),
                 Input("theme-switch", "n_clicks"), prevent_initial_call=True)(switch_preference)
    # Reload once the choice is saved, so the frame and the page come back in the new language.
    # A wall display is dark and has no navigation chrome.
    app.clientside_callback(
        """(path, theme) => path === '/display' ? ['dark', {display: 'none'}] : [theme, {}]""",
        Output("provider", "forceColorScheme"), Output("app-header", "style"),
        Input("_pages_location", "pathname"), State("user-theme", "data"))
    app.clientside_callback("(lang) => { if (lang) { window.location.reload(); } return ''; }",
                            Output("lang-reload", "children"), Input("lang-saved", "data"),
                            prevent_initial_call=True)


def keep_view_across_pages(search, pathname, ids):
    """Navigation links keep the unit, period, carriers and comparison; the current one is marked."""
    return ([i["path"] + carry(search) for i in ids],
            ["nav-link active" if i["path"] == pathname else "nav-link" for i in ids])


def apply_filters(child, period, dates, carriers, compare, search):
    """Turn a change in the filter bar into the new URL (the page re-renders from it)."""
    start, end = (list(dates) + [None, None])[:2] if isinstance(dates, list) else (None, None)
    params = first_values(search)
    trigger = dash.ctx.triggered_id
    if trigger == "f-child":
        if not child:
            return no_update
        params["unit"] = child
    elif trigger == "f-period":
        if period == "custom":
            params.update({k: v[:10] for k, v in (("start", start), ("end", end)) if v})
            params.pop("period", None)
        else:
            params["period"] = period
            params.pop("start", None)
            params.pop("end", None)
    elif trigger == "f-dates":
        if not (start and end):
            return no_update
        params.update(start=start[:10], end=end[:10])
        params.pop("period", None)
    elif trigger == "f-carriers":
        if carriers:
            params["carrier"] = ",".join(carriers)
        else:
            params.pop("carrier", None)
    elif trigger == "f-compare":
        params["compare"] = compare
    new = "?" + urlencode(params, safe=",")
    return new if new != (search or "") else no_update


def choose_kpi(values, search):
    """Show the KPI picked on the page (Regions, Targets)."""
    picked = next((v for v in values or [] if v), None)
    if not picked:
        return no_update
    new = update(search, kpi=picked)
    return new if new != (search or "") else no_update


@writes_data
def switch_preference(_lang_clicks, _theme_clicks):
    """Switch the signed-in user's language or theme (remembered on their account)."""
    if dash.ctx.triggered_id == "theme-switch":
        current_user.theme = "dark" if current_user.theme == "light" else "light"
    else:
        current_user.language = "en" if current_user.language == "zh" else "zh"
    get_session().commit()
    return f"{current_user.language}-{current_user.theme}"
