"""My work: the unresolved risk incidents a user is to act on, and why each is theirs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import Session, aliased

from data.models import OrgUnit, RiskEvent, RiskIncident, RiskRule, User
from data.units import subtree_filter
from metrics import sql
from metrics.scope import Scope, enforce

DONE = ("resolved", "closed")
# Why an incident is listed, most personal first (one reason per incident).
REASONS = ("assigned_to_me", "my_unit", "escalated_to_my_unit", "owner_unit")
WORK_COLUMNS = ["incident", "event", "rule", "rule_zh", "rule_en", "unit", "unit_zh", "unit_en",
                "units", "state", "assignee", "deadline", "overdue", "reason"]


def my_work(session: Session, user: User, now: dt.datetime, scope: Scope | None) -> pd.DataFrame:
    """The unresolved incidents (some event not yet resolved or closed) in `scope` that are the
    user's: assigned to them; assigned to their role at their home unit; escalated to their home
    unit; or not assigned at all and owned by their home unit. One row per incident (columns
    WORK_COLUMNS; `event` is its lead event: the first at the incident's unit; `units` how many
    units its events are at), the earliest deadline first; filtered and counted in SQL."""
    enforce(scope, user.unit)
    i, e = RiskIncident, RiskEvent
    home = user.unit_id
    per = (select(e.incident_id.label("incident_id"),
                  func.min(case((e.unit_id == i.unit_id, e.id))).label("lead_here"),
                  func.min(e.id).label("lead_any"),
                  func.count(func.distinct(e.unit_id)).label("units"),
                  func.sum(sql.case_count(e.state.not_in(DONE))).label("unresolved"))
           .join(i, i.id == e.incident_id).group_by(e.incident_id).subquery())
    mine = i.assignee_id == user.id
    my_unit = and_(i.assignee_id.is_(None), i.assignee_role == user.role,
                   i.assignee_unit_id == home)
    escalated = i.escalated_unit_id == home
    owner = and_(i.assignee_id.is_(None), i.assignee_role.is_(None), i.owner_unit_id == home)
    reason = case((mine, literal("assigned_to_me")), (my_unit, literal("my_unit")),
                  (escalated, literal("escalated_to_my_unit")), else_=literal("owner_unit"))
    person, at_unit, lead = aliased(User), aliased(OrgUnit), aliased(RiskEvent)
    lead_id = func.coalesce(per.c.lead_here, per.c.lead_any)
    q = (select(i.id, lead_id, RiskRule.code, RiskRule.name_zh, RiskRule.name_en, OrgUnit.code,
                OrgUnit.name_zh, OrgUnit.name_en, per.c.units, lead.state, person.username,
                i.assignee_role, at_unit.code, i.deadline, reason)
         .join(per, per.c.incident_id == i.id)
         .join(lead, lead.id == lead_id)
         .join(RiskRule, RiskRule.id == i.rule_id)
         .join(OrgUnit, OrgUnit.id == i.unit_id)
         .outerjoin(person, person.id == i.assignee_id)
         .outerjoin(at_unit, at_unit.id == i.assignee_unit_id)
         .where(per.c.unresolved > 0, mine | my_unit | escalated | owner)
         .order_by(i.deadline, i.id))
    if scope is not None:
        q = q.where(subtree_filter(scope.root_path))
    rows = []
    for (incident, event, rule, rule_zh, rule_en, unit, unit_zh, unit_en, units, state, username,
         role, role_unit, deadline, why) in session.execute(q):
        who = username or (f"{role}@{role_unit}" if role and role_unit else None)
        rows.append((incident, event, rule, rule_zh, rule_en, unit, unit_zh, unit_en, int(units),
                     state, who, deadline, deadline < now, why))
    # Objects as they came (pandas would make a missing assignee NaN): None is "nobody".
    return pd.DataFrame(rows, columns=WORK_COLUMNS, dtype=object)


@dataclass(frozen=True)
class IncidentFacts:
    """An incident as an event's detail shows it: the incident, the units its events are at (top
    first) and whom it is assigned to ("zhang", "manager@ZJ-HZ-01"; None: nobody)."""

    incident: RiskIncident
    units: list[OrgUnit]
    assignee: str | None


def incident_of(session: Session, event: RiskEvent) -> IncidentFacts | None:
    """The incident `event` is worked in, or None while it is in none (the caller has checked the
    event's scope; the incident's other units lie below the incident's unit, which is the
    event's or above it)."""
    if event.incident_id is None:
        return None
    incident = session.get(RiskIncident, event.incident_id)
    if incident is None:
        return None
    units = list(session.scalars(
        select(OrgUnit).where(OrgUnit.id.in_(
            select(RiskEvent.unit_id).where(RiskEvent.incident_id == incident.id)))
        .order_by(OrgUnit.path)))
    return IncidentFacts(incident, units, assignee_text(session, incident))


def assignee_text(session: Session, incident: RiskIncident) -> str | None:
    """Whom the incident is assigned to, as steps name it; None: nobody."""
    if incident.assignee_id is not None:
        return session.scalar(select(User.username).where(User.id == incident.assignee_id))
    if incident.assignee_role and incident.assignee_unit_id is not None:
        code = session.scalar(select(OrgUnit.code).where(OrgUnit.id == incident.assignee_unit_id))
        return f"{incident.assignee_role}@{code}"
    return None
