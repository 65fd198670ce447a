"""The closed loop (闭环管控): open -> dispatched -> in progress -> resolved -> closed (verified),
and reopened; each step recorded with who, when and a note; allowed by role and scope.

Events are worked one by one (`step`) or, as operations teams do, by incident (`assign`,
`step_incident`): one recorded step on every event of the incident, all at the same time."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from auth import audit
from data.clock import local_now
from data.models import OrgUnit, RiskEvent, RiskEventStep, RiskIncident, User
from data.units import ancestors, unit_by_code
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
# The states an assignment dispatches from (any other keeps its state: a reassignment).
DISPATCHABLE = ("open", "reopened")


class StepRefused(ValueError):
    """A step that this user may not take on this event now; the message says why."""


class AssignRefused(StepRefused):
    """An assignment that is malformed or not allowed; the message says why (zh / en)."""


@dataclass(frozen=True)
class Assignee:
    """Who an incident is assigned to: a person (`user`), or a role at a unit (`role`, `unit`)."""

    user: User | None = None
    role: str | None = None
    unit: OrgUnit | None = None

    @property
    def value(self) -> str:
        """The form value ("user:<id>" or "role:<role>@<unit code>")."""
        if self.user is not None:
            return f"user:{self.user.id}"
        assert self.unit is not None
        return f"role:{self.role}@{self.unit.code}"

    @property
    def text(self) -> str:
        """How steps and lists name it: a username, or "<role>@<unit code>"."""
        if self.user is not None:
            return self.user.username
        assert self.unit is not None
        return f"{self.role}@{self.unit.code}"


_USER_VALUE = re.compile(r"user:([1-9][0-9]{0,9})")
_ROLE_VALUE = re.compile(r"role:([a-z]{1,16})@([A-Za-z0-9][A-Za-z0-9_-]{0,31})")


def parse_assignee(session: Session, raw: object) -> Assignee:
    """Read a form value "user:<id>" or "role:<role>@<unit code>"; refuse anything else."""
    text = raw if isinstance(raw, str) else ""
    if (found := _USER_VALUE.fullmatch(text)) and int(found.group(1)) < 2**31:
        user = session.get(User, int(found.group(1)))
        if user is None:
            raise AssignRefused(f"没有这个用户 / no such user: {text}")
        return Assignee(user=user)
    if found := _ROLE_VALUE.fullmatch(text):
        role, code = found.groups()
        if role not in WORKERS:
            raise AssignRefused(f"角色“{role}”不能处置风险事件 / the role '{role}' cannot "
                                f"handle risk events (roles: {', '.join(WORKERS)})")
        unit = unit_by_code(session, code)
        if unit is None:
            raise AssignRefused(f"没有这个单位 / no such unit: {code}")
        return Assignee(role=role, unit=unit)
    shown = str(raw)[:60]
    raise AssignRefused(f"指派对象格式不正确：{shown!r}（应为 user:<编号> 或 role:<角色>@<单位代码>）"
                        f" / malformed assignee {shown!r} (user:<id> or role:<role>@<unit code>)")


def _may_work(actor: User, unit: OrgUnit) -> bool:
    return actor.role in WORKERS and actor.active and Scope.of(actor.unit).allows(unit)


def allowed_steps(event: RiskEvent, actor: User) -> tuple[str, ...]:
    """The states `actor` may move `event` to (none for viewers or out of scope)."""
    if not _may_work(actor, event.unit):
        return ()
    return NEXT.get(event.state, ())


def incident_events(session: Session, incident: RiskIncident) -> list[RiskEvent]:
    """The events of an incident, by id."""
    return list(session.scalars(select(RiskEvent).where(RiskEvent.incident_id == incident.id)
                                .order_by(RiskEvent.id)))


def incident_steps(session: Session, incident: RiskIncident, actor: User) -> tuple[str, ...]:
    """The states `actor` may move some event of the incident to, in loop order; dispatching is
    not one of them (it is `assign`, which names the assignee)."""
    if not _may_work(actor, incident.unit):
        return ()
    found = {to for e in incident_events(session, incident) for to in NEXT.get(e.state, ())}
    return tuple(s for s in ("in_progress", "resolved", "closed", "reopened") if s in found)


def may_assign(incident: RiskIncident, actor: User) -> bool:
    """Whether `actor` may dispatch or reassign the incident (role and scope)."""
    return _may_work(actor, incident.unit)


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
    record = _move(session, event, actor, to_state, note, now or local_now())
    session.flush()
    return record


def _move(session: Session, event: RiskEvent, actor: User, to_state: str, note: str,
          now: dt.datetime, action: str = "move", assignee: str | None = None) -> RiskEventStep:
    record = RiskEventStep(event_id=event.id, at=now, username=actor.username,
                           from_state=event.state, to_state=to_state, note=note, action=action,
                           assignee=assignee)
    session.add(record)
    event.state = to_state
    if to_state == "resolved":
        event.resolved_at = now
    elif to_state == "closed":
        event.closed_at = now
    elif to_state == "reopened":
        event.resolved_at = event.closed_at = None
    return record


def _refuse(session: Session, incident: RiskIncident, actor: User, detail: str,
            message: str) -> AssignRefused:
    audit.record(session, "forbidden", actor.username, target=f"risk incident {incident.id}",
                 outcome="refused", detail=detail[:255])
    return AssignRefused(message)


def _not_permitted(session: Session, incident: RiskIncident, actor: User,
                   detail: str) -> AssignRefused:
    # Say nothing of an incident outside the actor's scope, not even its state.
    return _refuse(session, incident, actor, detail,
                   f"风险事件不存在或无权处置 / risk incident {incident.id} is not found or not "
                   "permitted")


def _assignee_problem(session: Session, incident: RiskIncident, actor: User,
                      assignee: Assignee) -> str | None:
    """Why `assignee` cannot take the incident from `actor` (zh / en), or None."""
    actor_scope = Scope.of(actor.unit)
    if assignee.user is not None:
        user = assignee.user
        if not user.active:
            return f"用户 {user.username} 已停用 / the user {user.username} is inactive"
        if user.role not in WORKERS:
            return (f"用户 {user.username} 的角色不能处置风险事件 / the user {user.username} "
                    f"({user.role}) cannot handle risk events")
        if not Scope.of(user.unit).allows(incident.unit) or not actor_scope.allows(user.unit):
            return (f"用户 {user.username} 的权限范围不含 {incident.unit.code} / the user "
                    f"{user.username} has no scope over {incident.unit.code}")
        return None
    if assignee.role not in WORKERS or assignee.unit is None:
        return f"角色不能处置风险事件 / the role '{assignee.role}' cannot handle risk events"
    unit = assignee.unit
    if not Scope.of(unit).allows(incident.unit) or not actor_scope.allows(unit):
        return (f"{unit.code} 不是 {incident.unit.code} 或其上级单位（在您的范围内）/ {unit.code} "
                f"is not {incident.unit.code} or a unit above it within your scope")
    return None


def assign(session: Session, incident: RiskIncident, actor: User, assignee: Assignee,
           note: str = "", now: dt.datetime | None = None) -> list[RiskEventStep]:
    """Dispatch the incident to `assignee` (its open and reopened events become dispatched) or
    reassign it (states kept): one "assign" step on every event. Refused (audited, nothing
    written): an actor without the role or scope, an assignee who is inactive or cannot see the
    incident's unit, a role at a unit that is not the incident's unit or above it."""
    if not may_assign(incident, actor):
        raise _not_permitted(session, incident, actor, f"assign to {assignee.text}")
    problem = _assignee_problem(session, incident, actor, assignee)
    if problem:
        raise _refuse(session, incident, actor, f"assign to {assignee.text}: {problem}", problem)
    events = incident_events(session, incident)
    if not events:
        raise _refuse(session, incident, actor, "assign: no events",
                      f"风险事件 {incident.id} 没有事件 / incident {incident.id} has no events")
    if all(e.state in DONE for e in events):
        raise _refuse(session, incident, actor, f"assign to {assignee.text}: resolved",
                      f"事件组 {incident.id} 已解决，请先重开再派单 / incident {incident.id} is "
                      "resolved: reopen it before assigning it")
    now = now or local_now()
    records = [_move(session, e, actor, "dispatched" if e.state in DISPATCHABLE else e.state, note,
                     now, action="assign", assignee=assignee.text) for e in events]
    incident.assignee_id = assignee.user.id if assignee.user is not None else None
    incident.assignee_role = assignee.role if assignee.user is None else None
    incident.assignee_unit_id = assignee.unit.id if assignee.unit is not None else None
    if incident.dispatched_at is None:
        incident.dispatched_at = now
    session.flush()
    return records


def step_incident(session: Session, incident: RiskIncident, actor: User, to_state: str,
                  note: str = "", now: dt.datetime | None = None) -> list[RiskEventStep]:
    """Move every event of the incident that may go to `to_state`, recording a step each;
    refuse when none can (or the actor may not), and dispatching (that is `assign`)."""
    if not may_assign(incident, actor):
        raise _not_permitted(session, incident, actor, f"-> {to_state}")
    if to_state == "dispatched":
        raise _refuse(session, incident, actor, "-> dispatched without an assignee",
                      "派单须指定处理人 / dispatching needs an assignee: use Dispatch")
    events = incident_events(session, incident)
    movable = [e for e in events if to_state in NEXT.get(e.state, ())]
    if not movable:
        states = ", ".join(sorted({e.state for e in events})) or "-"
        raise _refuse(session, incident, actor, f"{states} -> {to_state}",
                      f"没有事件可以转为该状态 / no event of incident {incident.id} can go from "
                      f"{states} to {to_state}")
    now = now or local_now()
    records = [_move(session, e, actor, to_state, note, now) for e in movable]
    incident.resolved_at = resolved_at(events)
    session.flush()
    return records


def resolved_at(events: list[RiskEvent]) -> dt.datetime | None:
    """When the last of the events became resolved (or closed); None while one is not."""
    if not events or any(e.state not in DONE for e in events):
        return None
    times = [e.resolved_at or e.closed_at for e in events]
    return max((t for t in times if t is not None), default=None)


def is_overdue(event: RiskEvent, now: dt.datetime) -> bool:
    """Past its deadline and not yet resolved."""
    return event.state not in DONE and now > event.deadline


def candidates(session: Session, incident: RiskIncident, actor: User) -> list[tuple[str, str]]:
    """Whom `actor` may assign the incident to, as (form value, label): the active managers and
    admins whose scope covers the incident's unit, within the actor's scope; then the manager
    role at the owner unit and at the incident's unit and each unit above it, within the actor's
    scope. None for an actor who may not assign it."""
    if not may_assign(incident, actor):
        return []
    line = ancestors(session, incident.unit)  # from the top down to the incident's unit
    scope = Scope.of(actor.unit)
    tiers = [u for u in line if scope.allows(u)]  # the actor's home unit down to the incident's
    people = session.execute(
        select(User, OrgUnit.code).join(OrgUnit, OrgUnit.id == User.unit_id)
        .where(User.unit_id.in_([u.id for u in tiers]), User.active.is_(True),
               User.role.in_(WORKERS))
        .order_by(OrgUnit.path.desc(), User.username)).all()
    out = [(f"user:{u.id}", f"{u.display_name or u.username} ({u.username}, {code})")
           for u, code in people]
    owner = session.get(OrgUnit, incident.owner_unit_id)
    roles = ([owner] if owner is not None and owner in tiers else []) + [
        u for u in reversed(tiers) if owner is None or u.id != owner.id]
    out += [(f"role:manager@{u.code}", f"manager @ {u.code} {u.name_zh}") for u in roles]
    return out
