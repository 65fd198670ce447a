"""Targets (指标管控): cascade down the tree, fit to the viewed range, attainment and RAG status.

Resolution, per KPI (and carrier):
1. Candidates are the target rows of the unit and its ancestors whose period overlaps the range.
2. Each day of the range takes the target of the nearest unit (the unit itself, else its parent, and
   so on) whose period covers that day; among a unit's rows covering the day, the shortest period.
3. The range's target: for KPIs whose value grows with the period's length (sums, per-10k ratios)
   the covering targets pro-rated by days (a yearly plan of 365 over a 30-day view is 30); for
   the others the day-weighted mean. If a pro-rated KPI has days without a target, there is no
   target (a partial plan would understate it).
4. Per carrier: the carrier's own target when there is one; otherwise a ratio's all-carrier target
   (a satisfaction target holds on every carrier); never a volume plan meant for all carriers.

Attainment (1.0 = exactly on target) is value / target when higher is better and target / value
when lower is better, kept within 0..ATTAINMENT_CAP (2.0: "twice as good as the target or better").
Where a ratio cannot be taken, `attainment()` decides once for every caller (cards, league tables,
the targets heatmap, the matrix score, the stage criterion "KPIs on target"):

| better | value        | target | attainment                                              |
|--------|--------------|--------|---------------------------------------------------------|
| any    | None or NaN  | any    | None (no value)                                         |
| any    | any          | None   | None (no target; a NaN target alike)                    |
| any    | any          | < 0    | None (targets are never negative; no meaningful ratio)  |
| higher | any          | > 0    | value / target, within 0..cap (a negative value is 0)   |
| higher | 0            | 0      | 1.0 (met exactly)                                       |
| higher | > 0          | 0      | cap (beyond a target of nothing)                        |
| higher | < 0          | 0      | 0.0 (missed)                                            |
| lower  | > 0          | >= 0   | target / value, within 0..cap (target 0: 0.0, missed)   |
| lower  | 0            | > 0    | cap (zero is the best value: fully attained, on target) |
| lower  | 0            | 0      | 1.0 (a target of 0 is met by 0)                         |
| lower  | < 0          | >= 0   | cap (below the target)                                  |

So zero of a lower-is-better KPI (an outlet without complaints) is on target, never "no value".
Status: green at or above `Bands.green`, amber at or above `Bands.amber`, red below.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import Carrier, OrgUnit, Target
from metrics.registry import REGISTRY, Kpi
from metrics.scope import Scope, enforce
from settings import Settings


@dataclass(frozen=True)
class Bands:
    """Attainment thresholds of the red/amber/green status."""

    green: float = 1.0
    amber: float = 0.95

    @classmethod
    def from_settings(cls, given: Settings) -> Bands:
        """The bands of the settings ATTAINMENT_GREEN and ATTAINMENT_AMBER."""
        return cls(given.ATTAINMENT_GREEN, given.ATTAINMENT_AMBER)


DEFAULT_BANDS = Bands()


@dataclass(frozen=True)
class ResolvedTarget:
    """A KPI's target over a range, and the unit it was set at (for explaining it)."""

    kpi: str
    value: float
    set_at: str  # unit code
    inherited: bool


def ancestor_ids(unit: OrgUnit) -> list[int]:
    """Return the ids on the unit's path, top first (the unit itself last)."""
    return [int(p) for p in unit.path.strip("/").split("/")]


def target_rows(session: Session, kpis: Sequence[str], unit: OrgUnit, start: dt.date,
                end: dt.date) -> list[Target]:
    """Fetch the target rows that could apply to `unit` over the range (its own and ancestors')."""
    return list(session.scalars(select(Target).where(
        Target.kpi.in_(list(kpis)), Target.unit_id.in_(ancestor_ids(unit)),
        Target.period_start <= end, Target.period_end >= start)))


def target_rows_by_unit(session: Session, kpis: Sequence[str], units: Sequence[OrgUnit],
                        start: dt.date, end: dt.date) -> dict[int, list[Target]]:
    """`target_rows` of each of `units` (by id), in one query however many units."""
    ids = sorted({uid for u in units for uid in ancestor_ids(u)})
    rows = list(session.scalars(select(Target).where(
        Target.kpi.in_(list(kpis)), Target.unit_id.in_(ids),
        Target.period_start <= end, Target.period_end >= start))) if units else []
    by_unit: dict[int, list[Target]] = {}
    for row in rows:
        by_unit.setdefault(row.unit_id, []).append(row)
    return {u.id: [r for uid in ancestor_ids(u) for r in by_unit.get(uid, [])] for u in units}


def resolve(rows: Sequence[Target], kpi: Kpi, unit: OrgUnit, start: dt.date, end: dt.date,
            carrier_id: int | None, codes: dict[int, str]) -> ResolvedTarget | None:
    """Fit the candidate rows to one KPI, carrier and range (see the module docstring)."""
    own = [r for r in rows if r.kpi == kpi.id and r.carrier_id == carrier_id]
    if carrier_id is not None and not own and kpi.kind == "ratio":
        own = [r for r in rows if r.kpi == kpi.id and r.carrier_id is None]
    if not own:
        return None
    depth = {uid: i for i, uid in enumerate(ancestor_ids(unit))}
    # Nearest unit first, then the shortest period.
    own.sort(key=lambda r: (-depth[r.unit_id], (r.period_end - r.period_start).days))
    days = (end - start).days + 1
    total, covered, weighted = 0.0, 0, 0.0
    used: set[int] = set()
    day = start
    while day <= end:
        row = next((r for r in own if r.period_start <= day <= r.period_end), None)
        if row is None:
            day += dt.timedelta(days=1)
            continue
        # Take the whole run of days this row wins, not one day at a time.
        run_end = min(row.period_end, end)
        for other in own:
            if own.index(other) < own.index(row) and day < other.period_start <= run_end:
                run_end = other.period_start - dt.timedelta(days=1)
        n = (run_end - day).days + 1
        period_days = (row.period_end - row.period_start).days + 1
        total += row.value * n / period_days
        weighted += row.value * n
        covered += n
        used.add(row.unit_id)
        day = run_end + dt.timedelta(days=1)
    if covered == 0 or (kpi.prorated_target and covered < days):
        return None
    value = total if kpi.prorated_target else weighted / covered
    nearest = min(used, key=lambda uid: -depth[uid])
    return ResolvedTarget(kpi.id, value, codes.get(nearest, str(nearest)), nearest != unit.id)


def targets_for(session: Session, kpis: Sequence[str], unit: OrgUnit, start: dt.date, end: dt.date,
                carrier: str | None = None, scope: Scope | None = None
                ) -> dict[str, ResolvedTarget | None]:
    """Return each KPI's target for `unit` over the range (optionally for one carrier)."""
    enforce(scope, unit)
    return targets_for_units(session, kpis, [unit], start, end, carrier)[unit.id]


def targets_for_units(session: Session, kpis: Sequence[str], units: Sequence[OrgUnit],
                      start: dt.date, end: dt.date, carrier: str | None = None
                      ) -> dict[int, dict[str, ResolvedTarget | None]]:
    """`targets_for` of each of `units` (by unit id) in two queries however many units: the
    candidate rows of all of them (their own and their ancestors'), and those units' codes."""
    ids = sorted({uid for u in units for uid in ancestor_ids(u)})
    rows = target_rows_by_unit(session, kpis, units, start, end)
    codes = dict(session.execute(select(OrgUnit.id, OrgUnit.code).where(
        OrgUnit.id.in_(ids))).all()) if units else {}
    carrier_id = None
    if carrier is not None:
        carrier_id = session.scalar(select(Carrier.id).where(Carrier.code == carrier))
    out = {}
    for u in units:
        by_kpi: dict[str, list[Target]] = {}
        for row in rows[u.id]:  # resolve() looks at one KPI's rows at a time
            by_kpi.setdefault(row.kpi, []).append(row)
        out[u.id] = {k: resolve(by_kpi.get(k, []), REGISTRY[k], u, start, end, carrier_id, codes)
                     for k in kpis}
    return out


# The highest attainment: twice as good as the target, or better (and zero of a lower-is-better KPI).
ATTAINMENT_CAP = 2.0


def attainment(kpi: Kpi, value: float | None, target: float | None) -> float | None:
    """Return how far the value reaches its target, direction-aware (1.0 = exactly on target),
    within 0..ATTAINMENT_CAP; every edge case (zero, negative, missing) is in the module docstring."""
    if value is None or target is None or math.isnan(value) or math.isnan(target) or target < 0:
        return None
    if kpi.better == "higher" and target > 0:
        ratio = value / target
    elif kpi.better == "higher":  # a target of 0: met by 0, beaten by more, missed by less
        ratio = 1.0 if value == 0 else ATTAINMENT_CAP if value > 0 else 0.0
    elif value > 0:
        ratio = target / value
    else:  # zero (or below) of a lower-is-better KPI: on target; a target of 0 met exactly
        ratio = 1.0 if value == 0 and target == 0 else ATTAINMENT_CAP
    return min(max(ratio, 0.0), ATTAINMENT_CAP)


def status(att: float | None, bands: Bands = DEFAULT_BANDS) -> str | None:
    """Return 'green', 'amber' or 'red' for an attainment (None when there is none)."""
    if att is None:
        return None
    if att >= bands.green:
        return "green"
    return "amber" if att >= bands.amber else "red"
