"""Today's 95598 hotline so far, for the live wall: a unit's subtree's contact-centre counters.

`live_counters(session, unit, day, until)` reads the interval facts (`hotline_interval`) of every
centre in `unit`'s subtree (the unit itself included: a city's own centre) on the local `day`,
the intervals that started before `until`, and returns the day's counters and the ratios of the
registry's hotline KPIs, computed the same way (sum / sum over intervals and centres):

- `offered`, `answered`, `answered_20s`, `abandoned`: sums of the intervals;
- `service_level` = answered_20s / offered, `abandonment_rate` = abandoned / offered,
  `asa_seconds` = wait seconds / answered, `aht_seconds` = handling seconds / answered;
- `by_interval`: [{"start": datetime, "offered": n, "answered_20s": n}] in time order, one entry per
  interval that has data (summed over the centres);
- `intervals`: how many distinct intervals had data.

A value is None where there is no data behind it (no interval loaded yet, or a zero denominator):
the wall shows "-", never 0. Short abandons (under 5 s) are in neither offered nor abandoned (the
import's rule). Scope: pass the viewer's `scope` and a unit outside it raises `OutOfScope` before
anything is read (`metrics.scope.enforce`, as `metrics.compute.compute` does); callers that have
checked the unit already (`metrics.scope` helpers) may leave it None. Never cached: it is live.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.models import HotlineInterval, OrgUnit
from data.units import subtree_bounds
from metrics.scope import Scope, enforce

COUNTS = ("offered", "answered", "answered_20s", "abandoned", "wait_seconds", "handle_seconds")


def live_counters(session: Session, unit: OrgUnit, day: dt.date, until: dt.datetime | None = None,
                  scope: Scope | None = None) -> dict:
    """Return `unit`'s subtree's hotline counters for local `day`, intervals starting before
    `until` (None: the whole day); see the module docstring for the keys."""
    enforce(scope, unit)
    h = HotlineInterval
    low, high = subtree_bounds(unit.path)
    where = [OrgUnit.path >= low, OrgUnit.path < high, h.day == day]
    if until is not None:
        where.append(h.interval_start < until)
    stmt = (select(h.interval_start, *[func.sum(getattr(h, c)).label(c) for c in COUNTS])
            .select_from(h).join(OrgUnit, OrgUnit.id == h.unit_id).where(*where)
            .group_by(h.interval_start).order_by(h.interval_start))
    rows = session.execute(stmt).all()
    totals: dict[str, int | None] = {c: None for c in COUNTS}
    by_interval = []
    for row in rows:
        for c in COUNTS:
            totals[c] = (totals[c] or 0) + int(getattr(row, c) or 0)
        by_interval.append({"start": _as_datetime(row.interval_start), "offered": int(row.offered),
                            "answered_20s": int(row.answered_20s)})
    return {
        "day": day,
        "offered": totals["offered"],
        "answered": totals["answered"],
        "answered_20s": totals["answered_20s"],
        "abandoned": totals["abandoned"],
        "service_level": _ratio(totals["answered_20s"], totals["offered"]),
        "abandonment_rate": _ratio(totals["abandoned"], totals["offered"]),
        "asa_seconds": _ratio(totals["wait_seconds"], totals["answered"]),
        "aht_seconds": _ratio(totals["handle_seconds"], totals["answered"]),
        "intervals": len(by_interval),
        "by_interval": by_interval,
    }


def _ratio(numerator: int | None, denominator: int | None) -> float | None:
    return numerator / denominator if numerator is not None and denominator else None


def _as_datetime(value) -> dt.datetime:
    """An interval start as a datetime (whatever the driver hands back)."""
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
