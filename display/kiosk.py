"""Render a playlist view for a wall display: the page module's own layout, made static."""

from __future__ import annotations

import json
from typing import Any

import dash
import dash_mantine_components as dmc
from dash import dcc
from flask_login import current_user

import settings
from components.format import period_text
from components.i18n import name, t
from components.notices import not_permitted
from components.view_state import PAGES, TODAY_PAGES
from data.clock import local_now
from data.db import get_read_session
from data.models import User
from data.units import children
from display.playlists import View
from display.wall import WALLS, Renderer, WallContext
from metrics.targets import Bands
from views.resolve import Refusal, audit_refusal, resolve_view


def render_view(view: View) -> Any:
    """`view` drawn for the signed-in user on a wall: by its wall layout (display/wall, WALLS)
    when its page has one, else as its desktop page made static (`render_page`)."""
    renderer = WALLS.get(view.path)
    return render_page(view) if renderer is None else render_wall(renderer, view)


def render_wall(renderer: Renderer, view: View) -> Any:
    """`view` drawn by its wall layout, after the same checks as a page (scope, parameters, data
    loaded); a refusal is shown (and audited) as a page shows it."""
    session = get_read_session()
    lang = current_user.language or "zh"
    found = resolve_view(session, current_user, view.path, view.query, wall=True)
    if isinstance(found, Refusal):
        audit_refusal(session, current_user, found)
        if found.kind == "not_permitted":
            return not_permitted()
        return dmc.Alert(found.text(lang), color="gray", id="wall-refused")
    ctx = WallContext(session, found, lang, local_now(), view.dwell_seconds,
                      Bands.from_settings(settings.current()), children(session, found.unit))
    return renderer(ctx)


def render_page(view: View) -> Any:
    """The page of `view.path` rendered for the signed-in user with `view.query` as its URL.

    Made for a wall: the filter bar goes, and so does everything one clicks or hovers or that
    asks to be clicked (controls, "→" links, "?" buttons, "click ..." hints, the empty "pick an
    event" panel: see OFF_WALL); charts are static (no hover, no tool bar), and nothing in the
    view can fire a callback (a control or chart that fires on mount would otherwise navigate the
    display away).
    """
    page = next(p for p in dash.page_registry.values() if p["path"] == view.path)
    return _for_wall(page["layout"](**view.query), *_callback_inputs())


# Class names of what a wall leaves out (print.css hides the same on paper).
OFF_WALL = frozenset({"filter-bar", "interactive", "hint", "click-panel", "no-print"})


def _off_wall(component: Any) -> bool:
    """Tell whether `component` is one a wall leaves out."""
    return bool(OFF_WALL & set((getattr(component, "className", None) or "").split()))


def _callback_inputs() -> tuple[set[str], set[str]]:
    """The ids (and the `type`s of pattern ids) that are inputs of some callback of this app."""
    ids: set[str] = set()
    types: set[str] = set()
    for spec in dash.get_app().callback_map.values():
        for item in spec.get("inputs", []):
            key = item["id"]
            if key.startswith("{"):
                types.add(json.loads(key).get("type", ""))
            else:
                ids.add(key)
    return ids, types


def _for_wall(component: Any, ids: set[str], types: set[str]) -> Any:
    """Make a component tree fit for a wall, in place; return it."""
    if isinstance(component, (list, tuple)):
        kept = [_for_wall(c, ids, types) for c in component if not _off_wall(c)]
        return type(component)(kept) if isinstance(component, tuple) else kept
    if component is None or isinstance(component, (str, int, float)):
        return component
    if _off_wall(component):
        return None
    own = getattr(component, "id", None)
    if (isinstance(own, str) and own in ids) or (isinstance(own, dict) and own.get("type") in types):
        delattr(component, "id")
    if isinstance(component, dcc.Graph):
        setattr(component, "config", {**(getattr(component, "config", None) or {}),  # noqa: B010
                                       "staticPlot": True, "displayModeBar": False})
    if hasattr(component, "children"):
        component.children = _for_wall(component.children, ids, types)
    return component


def describe(session, view: View, user: User, lang: str) -> str:
    """A view's title on the display: page, unit and period ("总览 · 杭州供电局 · 近 30 天 …")."""
    parts = [t(PAGES[view.path], lang)]
    found = resolve_view(session, user, view.path, view.query, wall=True)
    if not isinstance(found, Refusal):
        period = [] if view.path in TODAY_PAGES else [period_text(found.asked, lang)]
        return " · ".join([*parts, name(found.unit, lang), *period])
    if found.kind != "not_permitted" or found.unit is None or found.state is None:
        return parts[0]  # no data, or parameters that cannot be used
    return " · ".join([*parts, found.unit, period_text(found.state, lang)])  # the code only
