"""Escalation: an incident overdue too long is raised to its owner unit's parent, which then sees
it in its list and is notified (`risk.notify`); the escalation is a step of each of its events."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import OrgUnit, RiskEvent, RiskEventStep, RiskIncident

ESCALATOR = "risk-escalation"  # the username on escalation steps


def escalate_overdue(session: Session, now: dt.datetime, after: dt.timedelta) -> list[RiskIncident]:
    """Raise every unresolved incident overdue by more than `after` and not yet escalated to its
    owner unit's parent; return the incidents raised (flushed; the caller commits).

    `now` is in the company's zone, naive, as incidents and steps keep their times. Each event of
    the incident gets a step (action "escalate", its state unchanged, `assignee` the parent's
    code, by "risk-escalation"). An incident owned by a unit at the top tier has nobody above it:
    it is not escalated (and stays a candidate, so nothing is recorded for it).
    """
    raised = []
    overdue = session.scalars(select(RiskIncident).where(
        RiskIncident.resolved_at.is_(None), RiskIncident.escalated_at.is_(None),
        RiskIncident.deadline < now - after).order_by(RiskIncident.id))
    for incident in overdue:
        owner = session.get(OrgUnit, incident.owner_unit_id)
        parent = owner.parent if owner is not None else None
        if parent is None:
            continue
        incident.escalated_unit_id, incident.escalated_at = parent.id, now
        hours = (now - incident.deadline).total_seconds() / 3600
        note = (f"超期 {hours:.0f} 小时，升级至 {parent.name_zh} / overdue by {hours:.0f} h, "
                f"escalated to {parent.name_en}")
        for event in session.scalars(select(RiskEvent).where(
                RiskEvent.incident_id == incident.id).order_by(RiskEvent.id)):
            session.add(RiskEventStep(event_id=event.id, at=now, username=ESCALATOR,
                                      from_state=event.state, to_state=event.state, note=note,
                                      action="escalate", assignee=parent.code))
        raised.append(incident)
    session.flush()
    return raised
