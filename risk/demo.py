"""Demo history of risk handling: the scan over the demo period, and events worked to closure by
simulated staff, on time as often as the unit closes its work orders on time."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import OrgUnit, RiskEvent, RiskEventStep
from metrics.compute import compute
from risk.scan import LOOKBACK_DAYS, scan

DEMO_STAFF = "demo-operator"
PATH = ("dispatched", "in_progress", "resolved", "closed")


def seed_risk_history(session: Session, first_day: dt.date, end: dt.date, seed: int) -> dict[str, int]:
    """Scan the whole demo period after the look-back (one run over every unit, so every month
    from the first whole one on has evidence for the closed-on-time criterion) and work its
    events; return the scan counts."""
    start = first_day + dt.timedelta(days=LOOKBACK_DAYS)
    stats = scan(session, start, end)
    as_of = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(6, 0))
    on_time: dict[int, float] = {}
    events = session.scalars(select(RiskEvent).where(RiskEvent.state == "open")
                             .order_by(RiskEvent.id)).all()
    for event in events:
        if event.unit_id not in on_time:
            unit = session.get(OrgUnit, event.unit_id)
            assert unit is not None
            rate = compute(session, ["on_time_rate"], unit, first_day, end)["value"][0]
            on_time[event.unit_id] = float(rate) if rate is not None else 0.9
        rng = random.Random(seed * 1_000_003 + event.id)
        hours = (event.deadline - event.created_at).total_seconds() / 3600
        in_time = rng.random() < on_time[event.unit_id]
        resolve_after = hours * (rng.uniform(0.2, 0.9) if in_time else rng.uniform(1.1, 2.0))
        times = [event.created_at + dt.timedelta(hours=1), event.created_at + dt.timedelta(hours=2),
                 event.created_at + dt.timedelta(hours=resolve_after),
                 event.created_at + dt.timedelta(hours=resolve_after + 4)]
        state = "open"
        for to_state, at in zip(PATH, times, strict=True):
            if at > as_of:
                break
            session.add(RiskEventStep(event_id=event.id, at=at, username=DEMO_STAFF,
                                      from_state=state, to_state=to_state,
                                      note="演示处置记录 demo handling"))
            state = to_state
            if to_state == "resolved":
                event.resolved_at = at
            elif to_state == "closed":
                event.closed_at = at
        event.state = state
    session.flush()
    return stats
