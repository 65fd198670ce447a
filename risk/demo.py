"""Demo history of risk handling: the scan over the demo period, and incidents worked to closure by
simulated staff, on time as often as the unit closes its work orders on time.

An incident is worked as one: each of its events takes the same steps at the same times. It is
dispatched (assigned to the managers of its owner unit, "manager@<unit code>") an hour after its
last event was found, taken in hand an hour later, resolved and, four hours after that, closed.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import OrgUnit, RiskEvent, RiskEventStep, RiskIncident
from metrics.compute import compute
from risk.scan import LOOKBACK_DAYS, scan

DEMO_STAFF = "demo-operator"
DEMO_ROLE = "manager"  # who an incident is assigned to: the managers of its owner unit
PATH = ("dispatched", "in_progress", "resolved", "closed")


def seed_risk_history(session: Session, first_day: dt.date, end: dt.date, seed: int) -> dict[str, int]:
    """Scan the whole demo period after the look-back (one run over every unit, so every month
    from the first whole one on has evidence for the closed-on-time criterion) and work its
    incidents; return the scan counts."""
    start = first_day + dt.timedelta(days=LOOKBACK_DAYS)
    stats = scan(session, start, end)
    as_of = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(6, 0))
    on_time: dict[int, float] = {}
    by_incident: dict[int, list[RiskEvent]] = defaultdict(list)
    for event in session.scalars(select(RiskEvent).order_by(RiskEvent.id)):
        assert event.incident_id is not None  # the scan grouped every event
        by_incident[event.incident_id].append(event)
    for incident in session.scalars(select(RiskIncident).order_by(RiskIncident.id)).all():
        members = by_incident.get(incident.id, [])
        if not members or any(e.state != "open" for e in members):
            continue
        if incident.unit_id not in on_time:
            rate = compute(session, ["on_time_rate"], incident.unit, first_day, end)["value"][0]
            on_time[incident.unit_id] = float(rate) if rate is not None else 0.9
        owner = session.get(OrgUnit, incident.owner_unit_id)
        assert owner is not None
        _work(session, incident, members, owner, on_time[incident.unit_id],
              random.Random(seed * 1_000_003 + incident.id), as_of)
    session.flush()
    return stats


def _work(session: Session, incident: RiskIncident, members: list[RiskEvent], owner: OrgUnit,
          on_time: float, rng: random.Random, as_of: dt.datetime) -> None:
    """Take the incident's events along the loop together, up to `as_of`."""
    found = max(e.created_at for e in members)  # worked once its last event is known
    hours = max((incident.deadline - found).total_seconds() / 3600, 2.0)
    in_time = rng.random() < on_time
    resolve_after = hours * (rng.uniform(0.2, 0.9) if in_time else rng.uniform(1.1, 2.0))
    times = [found + dt.timedelta(hours=1), found + dt.timedelta(hours=2),
             found + dt.timedelta(hours=resolve_after),
             found + dt.timedelta(hours=resolve_after + 4)]
    assignee = f"{DEMO_ROLE}@{owner.code}"
    state = "open"
    for to_state, at in zip(PATH, times, strict=True):
        if at > as_of:
            break
        dispatch = to_state == "dispatched"
        session.add_all([RiskEventStep(
            event_id=e.id, at=at, username=DEMO_STAFF, from_state=state, to_state=to_state,
            note="演示处置记录 demo handling", action="assign" if dispatch else "move",
            assignee=assignee if dispatch else None) for e in members])
        state = to_state
        if dispatch:
            incident.dispatched_at = at
            incident.assignee_role, incident.assignee_unit_id = DEMO_ROLE, owner.id
        elif to_state == "resolved":
            incident.resolved_at = at
        for e in members:
            if to_state == "resolved":
                e.resolved_at = at
            elif to_state == "closed":
                e.closed_at = at
    for e in members:
        e.state = state
