"""The closed loop (闭环管控): open -> dispatched -> in progress -> resolved -> closed (verified),
and reopened; each step recorded with who, when and a note; allowed by role and scope."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from auth import audit
from data.clock import local_now
from data.models import RiskEvent, RiskEventStep, User
from metrics.scope import Scope

NEXT: dict[str, tuple[str, ...]] = {
    "open": ("dispatched", "in_progress", "resolved"),
    "dispatched": ("in_progress", "resolved"),
    "in_progress": ("resolved",),
    "resolved": ("closed", "reopened"),
    "closed": ("reopened",),
    "reopened": ("in_progress", "resolved"),
}
DONE = ("resolved", "closed")
WORKERS = ("admin", "manager")


class StepRefused(ValueError):
    """A step that this user may not take on this event now; the message says why."""


def allowed_steps(event: RiskEvent, actor: User) -> tuple[str, ...]:
    """The states `actor` may move `event` to (none for viewers or out of scope)."""
    if actor.role not in WORKERS or not actor.active:
        return ()
    if not Scope.of(actor.unit).allows(event.unit):
        return ()
    return NEXT.get(event.state, ())


def step(session: Session, event: RiskEvent, actor: User, to_state: str, note: str = "",
         now: dt.datetime | None = None) -> RiskEventStep:
    """Move `event` to `to_state` for `actor`, recording the step; refuse what is not allowed."""
    if to_state not in allowed_steps(event, actor):
        audit.record(session, "forbidden", actor.username, target=f"risk event {event.id}",
                     outcome="refused", detail=f"{event.state} -> {to_state}")
        if not Scope.of(actor.unit).allows(event.unit):
            # Say nothing of an event outside the actor's scope, not even its state.
            raise StepRefused(f"risk event {event.id} is not found or not permitted")
        raise StepRefused(f"{event.state} -> {to_state} is not allowed for {actor.username}")
    now = now or local_now()
    record = RiskEventStep(event_id=event.id, at=now, username=actor.username,
                           from_state=event.state, to_state=to_state, note=note)
    session.add(record)
    event.state = to_state
    if to_state == "resolved":
        event.resolved_at = now
    elif to_state == "closed":
        event.closed_at = now
    elif to_state == "reopened":
        event.resolved_at = event.closed_at = None
    session.flush()
    return record


def is_overdue(event: RiskEvent, now: dt.datetime) -> bool:
    """Past its deadline and not yet resolved."""
    return event.state not in DONE and now > event.deadline
