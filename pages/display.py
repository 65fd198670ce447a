"""Wall display: a playlist's views full screen, in turn, refreshed in place.

`/display?playlist=ID`; `/display` alone opens a display account's home playlist (the one that
shows its own unit) or lists the playlists to choose from. The server renders one view at a time,
by its wall layout (display/wall) or else its page module (the same scope checks and numbers as on
the pages), and sends it with the time of the refresh; the browser rotates through the views by
their dwell times, turns the pages of long lists, fits the view to the screen and shows a "stale
since" banner when refreshes stop succeeding (assets/display.js). A failed refresh leaves the last
good view on screen; the next one that succeeds clears the banner.
"""

from __future__ import annotations

import dash
import dash_mantine_components as dmc
from dash import Input, Output, State, callback, dcc, html, no_update
from flask import g
from flask_login import current_user

from components.i18n import LANGS, t
from data.clock import local_now
from data.db import get_read_session
from display.kiosk import describe, render_view
from display.playlists import (
    PlaylistError,
    PlaylistUnavailable,
    find_for,
    home_playlist,
    playlists_for,
    views,
)
from pages._common import refused

dash.register_page(__name__, path="/display", name="Display", title="大屏 Wall display")


def layout(playlist: str | None = None, **_query: str):
    """The display of `playlist` (without one: a display account's home playlist), or the list of
    playlists to choose from."""
    lang = current_user.language or "zh"
    session = get_read_session()
    if playlist is None:
        home = home_playlist(session, current_user)
        return _chooser(session, lang) if home is None else _wall(home, lang)
    try:
        chosen = _open(session, playlist, lang)
    except PlaylistError as exc:
        return dmc.Container(dmc.Alert(f"{t('display.bad', lang)}{exc}", color="red",
                                       id="display-error"), py="xl")
    return _wall(chosen, lang)


def _wall(chosen, lang: str):
    """The display of the playlist `chosen`: the bar, the view's canvas and the clocks."""
    return html.Div([
        html.Div([
            html.Div(chosen.name, className="kiosk-name"),
            html.Div(id="display-title", className="kiosk-title"),
            html.Div(id="display-dots", className="kiosk-dots"),
            html.Div(id="display-updated", className="kiosk-updated"),
        ], className="kiosk-bar"),
        html.Div(id="display-stale", className="kiosk-stale", hidden=True),
        html.Div(html.Div(id="display-body", className="kiosk-body"), id="display-canvas",
                 className="kiosk-canvas"),
        dcc.Store(id="display-playlist", data=chosen.id),
        dcc.Store(id="display-slide", data=0),
        dcc.Store(id="display-ok"),
        dcc.Store(id="display-lang", data=lang),
        dcc.Store(id="display-text", data={"stale": t("display.stale", lang)}),
        dcc.Interval(id="display-clock", interval=1000),
        dcc.Interval(id="display-refresh", interval=chosen.refresh_seconds * 1000),
    ], className="kiosk", id="display-root")


def _open(session, raw_id, lang: str):
    """The playlist `raw_id` names if the caller may open it; PlaylistError (with the message to
    show) otherwise, audited. A playlist that does not exist and one the caller may not open get
    the same message."""
    if not isinstance(raw_id, (str, int)) or isinstance(raw_id, bool):
        refused("/display", f"playlist {str(raw_id)[:60]}")
        raise PlaylistError(t("error.repeated", lang).format(name="playlist")
                            if isinstance(raw_id, list) else "playlist must be a number")
    try:
        return find_for(session, current_user, raw_id)
    except PlaylistUnavailable as exc:
        refused("/display", str(exc))
        raise PlaylistError(t("display.unavailable", lang)) from None
    except PlaylistError as exc:
        refused("/display", str(exc))
        raise


def _chooser(session, lang: str):
    lists = playlists_for(session, current_user)
    if not lists:
        return dmc.Container(dmc.Alert(t("display.none", lang), color="gray", id="display-none"),
                             py="xl")
    return dmc.Container(dmc.Stack([
        dmc.Title(t("display.title", lang), order=2),
        dmc.Text(t("display.choose", lang)),
        *[dmc.Anchor(f"{p.name} · " + t("display.views", lang).format(
            n=len(p.items), refresh=p.refresh_seconds), href=f"/display?playlist={p.id}", size="xl",
            refresh=True) for p in lists],
    ], gap="md"), py="xl", id="display-chooser")


@callback(Output("display-body", "children"), Output("display-title", "children"),
          Output("display-dots", "children"), Output("display-updated", "children"),
          Output("display-ok", "data"), Output("display-refresh", "interval"),
          Input("display-slide", "data"), Input("display-refresh", "n_intervals"),
          State("display-playlist", "data"), State("display-lang", "data"))
def refresh(slide, _tick, playlist_id, lang):
    """Render the current view of the playlist afresh (the playlist is re-read, so an admin's edit
    shows at the next refresh)."""
    session = get_read_session()
    lang = lang if lang in LANGS else "zh"
    try:
        playlist = _open(session, playlist_id, lang)
    except PlaylistError as exc:
        alert = dmc.Alert(f"{t('display.bad', lang)}{exc}", color="red", id="display-error")
        return alert, "", [], no_update, no_update, no_update
    shown = views(playlist)
    index = (slide if isinstance(slide, int) and not isinstance(slide, bool) else 0) % len(shown)
    view = shown[index]
    g.kiosk = True  # the page modules render for a display account here, scope unchanged
    body = render_view(view)
    now = local_now()
    dots = [html.Span(className="kiosk-dot on" if i == index else "kiosk-dot")
            for i in range(len(shown))]
    ok = {"stamp": now.isoformat(), "label": f"{now:%H:%M}", "slide": index,
          "dwell": [v.dwell_seconds for v in shown], "refresh": playlist.refresh_seconds}
    return (body, describe(session, view, current_user, lang), dots,
            f"{t('display.updated', lang)} {now:%H:%M:%S}", ok, playlist.refresh_seconds * 1000)


# Rotation, the stale banner and fitting the view to the screen run in the browser, every second,
# so they keep working while the server does not answer.
dash.clientside_callback(
    dash.ClientsideFunction(namespace="display", function_name="tick"),
    Output("display-slide", "data"), Output("display-stale", "children"),
    Output("display-stale", "hidden"),
    Input("display-clock", "n_intervals"), State("display-ok", "data"),
    State("display-slide", "data"), State("display-text", "data"))
