"""Risk notifications: what is to be told to whom (the outbox, `risk_notification`), claiming a
notice before it is sent and recording its outcome. Services: they add, update and flush; the
command (`flask --app app notify-due`, `export/notify_cli.py`) commits and sends.

Causes (`kind`), each queued once per (incident, kind, trigger, channel, recipient):
- `dispatched`: an "assign" step (dispatch or reassignment; one per event of the incident at the
  same time): the trigger is the step's time;
- `reopened`: a step to "reopened"; the trigger is its time;
- `escalated`: an "escalate" step (`risk.escalation`); the trigger is the unit it was raised to;
- `due_soon`: an unresolved incident's deadline within RISK_DUE_SOON_HOURS; the trigger is the
  deadline (a deadline moved is a new cause);
- `overdue`: an unresolved incident past its deadline; the trigger is the deadline.

A cause older than LOOK_BACK (its step's time; for `due_soon` when the deadline came within the
window; for `overdue` the deadline) is not queued: the first run over a store with a history must
not send a notice for every event of the last years.

Recipients: by email the assignee (the person, or every active user with the role at the unit)
and the active managers of the owner unit (for an escalation also those of the unit it was raised
to); a recipient without a usable address, or an assigned person whose account is deactivated, is
recorded `refused` with the reason. By webhook the nearest active `RiskWebhook` at or above the
owner unit (for an escalation: at or above the unit it was raised to).

Sending: `due` lists what to send; `claim` takes one (pending, or failed with its back-off over
and attempts left -> sending, by a conditional UPDATE: of two senders one gets it; the caller
commits before sending); `finish` records sent, failed (with the error and the next try) or
refused. A notice left `sending` past STALE (the sender died) is `stale` and retried.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

import settings
from auth.admin import require_admin
from data.clock import local_text, to_local
from data.models import (
    OrgUnit,
    RiskEvent,
    RiskEventStep,
    RiskIncident,
    RiskNotification,
    RiskWebhook,
    User,
)
from risk.webhooks import webhook_for

KINDS = ("dispatched", "due_soon", "overdue", "reopened", "escalated")
LOOK_BACK = dt.timedelta(hours=24)
STALE = dt.timedelta(hours=1)
MANAGER = "manager"
EMAIL = re.compile(r"[^@\s,;<>\"()\[\]\\]{1,64}@[A-Za-z0-9.-]+\.[A-Za-z0-9-]{2,63}")


@dataclass(frozen=True)
class Cause:
    """Something to tell: an incident, the kind of notice, what makes it unique, and whom it was
    assigned to at the time ("zhang", "manager@ZJ-HZ-01"; None: the incident's assignee now)."""

    incident_id: int
    kind: str
    trigger: str
    assignee: str | None = None


def _stamp(at: dt.datetime) -> str:
    return at.isoformat(sep=" ")


def causes(session: Session, now: dt.datetime, due_soon: dt.timedelta) -> list[Cause]:
    """The causes of the last LOOK_BACK up to `now` (company zone, naive, as incidents keep times)."""
    since = now - LOOK_BACK
    found: dict[tuple[int, str, str], Cause] = {}
    steps = session.execute(
        select(RiskEvent.incident_id, RiskEventStep.action, RiskEventStep.at,
               RiskEventStep.assignee)
        .join(RiskEvent, RiskEvent.id == RiskEventStep.event_id)
        .where(RiskEvent.incident_id.is_not(None), RiskEventStep.at >= since,
               RiskEventStep.at <= now,
               or_(RiskEventStep.action.in_(("assign", "escalate")),
                   and_(RiskEventStep.action == "move", RiskEventStep.to_state == "reopened")))
        .order_by(RiskEventStep.at, RiskEventStep.id))
    for incident_id, action, at, assignee in steps:
        if incident_id is None:
            continue
        if action == "assign":
            cause = Cause(incident_id, "dispatched", _stamp(at), assignee)
        elif action == "escalate":
            cause = Cause(incident_id, "escalated", f"unit {assignee}")
        else:
            cause = Cause(incident_id, "reopened", _stamp(at))
        found.setdefault((cause.incident_id, cause.kind, cause.trigger), cause)
    open_incidents = select(RiskIncident.id, RiskIncident.deadline).where(
        RiskIncident.resolved_at.is_(None))
    # Due soon from when the deadline came within the window (deadline - due_soon), looked back on.
    for incident_id, deadline in session.execute(open_incidents.where(
            RiskIncident.deadline > now, RiskIncident.deadline <= now + due_soon,
            RiskIncident.deadline >= since + due_soon)):
        found.setdefault((incident_id, "due_soon", _stamp(deadline)),
                         Cause(incident_id, "due_soon", _stamp(deadline)))
    for incident_id, deadline in session.execute(open_incidents.where(
            RiskIncident.deadline <= now, RiskIncident.deadline >= since)):
        found.setdefault((incident_id, "overdue", _stamp(deadline)),
                         Cause(incident_id, "overdue", _stamp(deadline)))
    return list(found.values())


# --- recipients -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Recipient:
    """One recipient of a notice: its channel and address, and why it is refused ('' if not)."""

    channel: str
    recipient: str
    user_id: int | None = None
    webhook_id: int | None = None
    refused: str = ""


def _assigned_users(session: Session, incident: RiskIncident,
                    assignee: str | None) -> tuple[list[User], list[User]]:
    """(users to tell, assigned people whose accounts are deactivated) for `assignee`
    ("zhang" or "role@UNIT"; None: the incident's assignee now)."""
    if assignee is None:
        if incident.assignee_id is not None:
            user = session.get(User, incident.assignee_id)
            people = [user] if user is not None else []
        elif incident.assignee_role and incident.assignee_unit_id is not None:
            return _role_at(session, incident.assignee_role, incident.assignee_unit_id), []
        else:
            return [], []
    elif "@" in assignee:
        role, _, code = assignee.partition("@")
        unit_id = session.scalar(select(OrgUnit.id).where(OrgUnit.code == code))
        return (_role_at(session, role, unit_id) if unit_id is not None else []), []
    else:
        people = list(session.scalars(select(User).where(User.username == assignee)))
    return [u for u in people if u.active], [u for u in people if not u.active]


def _role_at(session: Session, role: str, unit_id: int) -> list[User]:
    return list(session.scalars(select(User).where(
        User.role == role, User.unit_id == unit_id, User.active.is_(True)).order_by(User.id)))


def recipients(session: Session, incident: RiskIncident, cause: Cause) -> list[Recipient]:
    """Whom `cause` is told to, by email and by webhook (see the module's docstring)."""
    tell, deactivated = _assigned_users(session, incident, cause.assignee)
    tell += _role_at(session, MANAGER, incident.owner_unit_id)
    escalated = cause.kind == "escalated" and incident.escalated_unit_id is not None
    if escalated:
        assert incident.escalated_unit_id is not None
        tell += _role_at(session, MANAGER, incident.escalated_unit_id)
    found: list[Recipient] = []
    seen: set[int] = set()
    for user in deactivated:
        seen.add(user.id)
        found.append(Recipient("email", f"user {user.username}", user.id, refused=(
            f"the assigned account {user.username} is deactivated / 指派的账号 {user.username} "
            "已停用")))
    for user in tell:
        if user.id in seen:
            continue
        seen.add(user.id)
        address = (user.email or "").strip()
        if not address:
            found.append(Recipient("email", f"user {user.username}", user.id, refused=(
                f"{user.username} has no email address / {user.username} 没有设置电子邮件地址")))
        elif len(address) > 254 or not EMAIL.fullmatch(address):
            found.append(Recipient("email", f"user {user.username}", user.id, refused=(
                f"{user.username}'s email address is not valid / {user.username} 的电子邮件地址无效")))
        else:
            found.append(Recipient("email", address, user.id))
    unit = session.get(OrgUnit, incident.escalated_unit_id if escalated else incident.owner_unit_id)
    hook = webhook_for(session, unit) if unit is not None else None
    if hook is not None:
        found.append(Recipient("webhook", f"webhook:{hook.id}", webhook_id=hook.id))
    return found


def sweep(session: Session, now: dt.datetime, given: settings.Settings) -> int:
    """Queue the notices of every cause of the last LOOK_BACK not queued yet (UTC `now`, naive);
    return how many were added. Idempotent: a cause is queued once per recipient and channel
    (the unique key; two sweeps at once add each row once)."""
    local = to_local(now, given.TIMEZONE)
    assert local is not None
    rows = []
    for cause in causes(session, local, dt.timedelta(hours=given.RISK_DUE_SOON_HOURS)):
        incident = session.get(RiskIncident, cause.incident_id)
        assert incident is not None
        for r in recipients(session, incident, cause):
            rows.append({"incident_id": cause.incident_id, "kind": cause.kind,
                         "trigger": cause.trigger, "channel": r.channel,
                         "recipient": r.recipient[:254], "user_id": r.user_id,
                         "webhook_id": r.webhook_id, "state": "refused" if r.refused else "pending",
                         "attempts": 0, "created_at": now, "next_try_at": None,
                         "finished_at": now if r.refused else None, "error": r.refused})
    return _insert_new(session, rows)


def _insert_new(session: Session, rows: list[dict]) -> int:
    """Insert the rows whose key is not there yet (INSERT ... ON CONFLICT DO NOTHING)."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    maker = postgresql.insert if dialect == "postgresql" else sqlite.insert
    added = 0
    for row in rows:
        statement = maker(RiskNotification).values(**row).on_conflict_do_nothing(
            index_elements=["incident_id", "kind", "trigger", "channel", "recipient"]
        ).returning(RiskNotification.id)
        added += len(session.execute(statement).all())
    session.flush()
    return added


# --- sending ----------------------------------------------------------------------------------

def _sendable(now: dt.datetime, max_attempts: int):
    return or_(RiskNotification.state == "pending",
               and_(RiskNotification.state == "failed", RiskNotification.attempts < max_attempts,
                    RiskNotification.next_try_at.is_not(None),
                    RiskNotification.next_try_at <= now))


def due(session: Session, now: dt.datetime, max_attempts: int) -> list[int]:
    """The notices to send at UTC `now`: pending, or failed with the back-off over and attempts
    left; oldest first."""
    return list(session.scalars(select(RiskNotification.id).where(
        _sendable(now, max_attempts)).order_by(RiskNotification.id)))


def claim(session: Session, notification_id: int, now: dt.datetime, max_attempts: int) -> bool:
    """Take notice `notification_id` for sending (state -> sending, one more attempt) if it is
    still to be sent; False when another sender took it first. While `sending`, `next_try_at`
    is when the attempt counts as abandoned (STALE). The caller commits before sending."""
    taken = session.execute(
        update(RiskNotification)
        .where(RiskNotification.id == notification_id, _sendable(now, max_attempts))
        .values(state="sending", attempts=RiskNotification.attempts + 1, next_try_at=now + STALE)
        .execution_options(synchronize_session=False))
    return taken.rowcount == 1  # type: ignore[attr-defined]


def stale(session: Session, now: dt.datetime) -> list[RiskNotification]:
    """Notices left `sending` by a sender that ended before recording the outcome."""
    return list(session.scalars(select(RiskNotification).where(
        RiskNotification.state == "sending", RiskNotification.next_try_at <= now)))


def finish(notification: RiskNotification, outcome: str, error: str, now: dt.datetime,
           retry_at: dt.datetime | None) -> None:
    """Record an attempt's outcome: sent, refused, or failed (tried again at `retry_at`; None:
    given up)."""
    notification.state, notification.error = outcome, error[:2000]
    notification.next_try_at = retry_at if outcome == "failed" else None
    notification.finished_at = None if outcome == "failed" and retry_at else now


# --- what a notice says -----------------------------------------------------------------------

@dataclass(frozen=True)
class Place:
    """A unit as a notice names it."""

    code: str
    name_zh: str
    name_en: str


def _place(unit: OrgUnit) -> Place:
    return Place(unit.code, unit.name_zh, unit.name_en)


@dataclass(frozen=True)
class Notice:
    """The facts a notice states (the words are made by the sender, `export/notices.py`)."""

    incident_id: int
    kind: str
    rule_zh: str
    rule_en: str
    severity: str
    owner: Place
    units: tuple[Place, ...]  # the affected units, the incident's own first
    state: str  # of the lead event
    deadline: dt.datetime  # company zone
    assignee_user: str | None  # "Zhang Wei (zhang)"
    assignee_role: str | None
    assignee_unit: Place | None
    escalated_to: Place | None
    lead_event_id: int | None
    link: str  # the path of the lead event on the risk page


def notice_of(session: Session, notification: RiskNotification) -> Notice:
    """The facts of `notification`'s incident as they are now."""
    incident = session.get(RiskIncident, notification.incident_id)
    assert incident is not None
    events = list(session.scalars(select(RiskEvent).where(RiskEvent.incident_id == incident.id)
                                  .order_by(RiskEvent.id)))
    lead = next((e for e in events if e.unit_id == incident.unit_id), events[0] if events else None)
    units = {incident.unit_id: _place(incident.unit)}
    for event in sorted(events, key=lambda e: e.unit.path):
        units.setdefault(event.unit_id, _place(event.unit))
    owner = session.get(OrgUnit, incident.owner_unit_id)
    person = session.get(User, incident.assignee_id) if incident.assignee_id else None
    role_unit = (session.get(OrgUnit, incident.assignee_unit_id)
                 if incident.assignee_unit_id else None)
    raised = session.get(OrgUnit, incident.escalated_unit_id) if incident.escalated_unit_id else None
    assert owner is not None
    return Notice(
        incident_id=incident.id, kind=notification.kind, rule_zh=incident.rule.name_zh,
        rule_en=incident.rule.name_en, severity=incident.rule.severity, owner=_place(owner),
        units=tuple(units.values()), state=lead.state if lead else "open",
        deadline=incident.deadline,
        assignee_user=_person(person),
        assignee_role=incident.assignee_role if role_unit else None,
        assignee_unit=_place(role_unit) if role_unit else None,
        escalated_to=_place(raised) if raised else None,
        lead_event_id=lead.id if lead else None,
        link=f"/risk?event={lead.id}" if lead else "/risk")


def _person(user: User | None) -> str | None:
    if user is None:
        return None
    if user.display_name and user.display_name != user.username:
        return f"{user.display_name} ({user.username})"
    return user.username


def webhook_url(session: Session, notification: RiskNotification) -> str | None:
    """The URL of the notice's webhook, or None when it was removed since the notice was queued."""
    hook = session.get(RiskWebhook, notification.webhook_id) if notification.webhook_id else None
    return hook.url if hook is not None and hook.active else None


# --- what was sent ----------------------------------------------------------------------------

def _rows(session: Session, query, tz: str) -> list[dict]:
    hooks = dict(session.execute(select(RiskWebhook.id, OrgUnit.code).join(
        OrgUnit, OrgUnit.id == RiskWebhook.unit_id)).all())
    return [{"id": n.id, "incident": n.incident_id, "kind": n.kind, "trigger": n.trigger,
             "channel": n.channel,
             "recipient": (f"webhook {hooks.get(n.webhook_id, '?')}" if n.channel == "webhook"
                           else n.recipient),
             "state": n.state, "attempts": n.attempts, "error": n.error,
             "created_at": local_text(n.created_at, tz),
             "finished_at": local_text(n.finished_at, tz),
             "next_try_at": local_text(n.next_try_at, tz) if n.state == "failed" else ""}
            for n in session.scalars(query)]


def notifications_of(session: Session, incident_id: int, tz: str = "UTC") -> list[dict]:
    """Every notice of an incident (oldest first), times in zone `tz`, for its detail panel.
    The caller checks that the reader may see the incident."""
    return _rows(session, select(RiskNotification).where(
        RiskNotification.incident_id == incident_id).order_by(RiskNotification.id), tz)


def recent_notifications(session: Session, actor: User, tz: str = "UTC",
                         limit: int = 500) -> list[dict]:
    """The newest notices of every incident (admins only), newest first."""
    require_admin(actor)
    return _rows(session, select(RiskNotification).order_by(RiskNotification.id.desc())
                 .limit(limit), tz)
