"""A click on a risk event's mark on a KPI trend chart (components.charts.add_event_marks) opens the
event on the risk page, keeping the view (unit, period, carriers)."""

from __future__ import annotations

from dash import ctx, no_update
from flask_login import current_user

from auth import audit
from components.view_state import carry
from data.db import get_read_session
from metrics.risk import event_detail
from metrics.scope import OutOfScope, Scope
from pages._common import refused

RISK = "/risk"


def open_marked_event(click, search: str | None, page_path: str):
    """(pathname, search) of the risk page with the clicked mark's event open, or no_update twice.

    A click on a line (a point without customdata) goes nowhere. The event id is the mark's
    customdata, which the browser sends and anyone can forge: anything but a plain id is refused
    as a bad request; an event that does not exist or lies outside the user's scope is refused
    alike (nothing tells them apart), both audited."""
    nothing = no_update, no_update
    points = click.get("points") if isinstance(click, dict) else None
    point = points[0] if isinstance(points, list) and points else None
    if not isinstance(point, dict) or "customdata" not in point:
        return nothing
    raw = point["customdata"]
    event_no = _event_id(raw)
    if event_no is None:
        refused(page_path, f"event mark {str(raw)[:40]!r}")
        return nothing
    session = get_read_session()
    try:
        found = event_detail(session, event_no, scope=Scope.of(current_user.unit))
        why = None if found is not None else "no such event"
    except OutOfScope as exc:
        why = f"unit {exc.unit_code}"
    if why is not None:
        audit.record(session, "forbidden", current_user.username, target=f"risk event {event_no}",
                     outcome="refused", detail=why)
        return nothing
    return RISK, carry(search, event=str(event_no))


def fired_click():
    """The clickData that fired the callback (of one of the graphs it listens to)."""
    return ctx.triggered[0]["value"] if ctx.triggered else None


def _event_id(raw) -> int | None:
    """The event id of a mark: a positive integer (JSON sends a number; a string of digits is
    taken too), None for anything else."""
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 10:
        raw = int(raw)
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 < raw < 2**31:
        return raw
    return None
