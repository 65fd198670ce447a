"""Operating stages (运营阶段): basic -> deepening -> digital -> smart, per unit and month.

A unit is at the highest stage whose criteria, and the criteria of every stage below it, are all
met (stage 0 = below basic). A criterion is met when its value reaches the threshold; a criterion
without data is unknown (met = None), and a stage that needs it is not reached - never passed
silently. A parent's stage comes from its own aggregated figures, not from its children's stages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from data.clock import month_end, month_start, months_between
from data.models import OrgUnit
from data.rubric import CRITERIA, STAGES, thresholds
from data.units import children
from metrics.cache import cached
from metrics.compute import compute, rollups_usable
from metrics.quality import monthly_quality, monthly_quality_by_child
from metrics.registry import KPIS
from metrics.risk import closed_on_time, closed_on_time_by_child, unscanned_months
from metrics.scope import Scope, enforce
from metrics.targets import attainment, resolve, target_rows, target_rows_by_unit

NOT_SCANNED = "not_scanned"  # the risk scan did not cover the whole month: closure is unknown
KPI_CRITERIA = ("channel_availability", "binding_rate", "profile_coverage", "activity_rate",
                "online_substitution", "online_handling", "satisfaction")


@dataclass(frozen=True)
class CriterionResult:
    id: str
    stage: int
    value: float | None
    threshold: float
    met: bool | None
    reason: str | None = None  # why an unknown criterion is unknown, e.g. NOT_SCANNED


@dataclass(frozen=True)
class Assessment:
    unit: str
    month: dt.date
    stage: int
    criteria: tuple[CriterionResult, ...]
    rubric_version: int

    @property
    def has_data(self) -> bool:
        """Whether any data was loaded for the unit that month (else its stage means nothing)."""
        return any(c.id == "data_completeness" and c.value for c in self.criteria)

    @property
    def unscanned(self) -> bool:
        """Whether the risk scan did not cover the whole month (so risk closure is unknown)."""
        return any(c.reason == NOT_SCANNED for c in self.criteria)

    @property
    def missing(self) -> list[CriterionResult]:
        """The criteria of the next stage that are not met (or unknown)."""
        return [c for c in self.criteria if c.stage == self.stage + 1 and c.met is not True]


def stage_of(results: list[CriterionResult]) -> int:
    """Return the highest stage whose criteria and every lower stage's criteria are all met."""
    stage = 0
    for s in sorted(STAGES)[1:]:
        if all(c.met is True for c in results if c.stage == s):
            stage = s
        else:
            break
    return stage


def judge(values: dict[str, float | None], limits: dict[str, float],
          reasons: dict[str, str] | None = None) -> list[CriterionResult]:
    """Compare each criterion's value with its threshold (None stays unknown, with its reason
    from `reasons` when one is given)."""
    out = []
    for c in CRITERIA:
        value = values.get(c.id)
        out.append(CriterionResult(c.id, c.stage, value, limits[c.id],
                                   None if value is None else value >= limits[c.id],
                                   (reasons or {}).get(c.id) if value is None else None))
    return out


@cached("facts", "targets", "rubric", "risk")
def assess_months(session: Session, unit: OrgUnit, first: dt.date, last: dt.date,
                  data_end: dt.date, scope: Scope | None = None) -> list[Assessment]:
    """Assess `unit` for every month from `first` to `last` (months; the last may be partial)."""
    enforce(scope, unit)
    limits, version = thresholds(session)
    end = min(month_end(last), data_end)
    start = month_start(first)
    kpi_ids = [k.id for k in KPIS]
    values = compute(session, kpi_ids, unit, start, end, by="month")
    quality = monthly_quality(session, unit, start, end)
    unscanned = set(unscanned_months(session, start, end))
    closure = closed_on_time(session, unit, start, end,
                             dt.datetime.combine(end + dt.timedelta(days=1), dt.time(6, 0)),
                             unscanned)
    rows: dict[str, list] = {}
    for row in target_rows(session, kpi_ids, unit, start, end):
        rows.setdefault(row.kpi, []).append(row)  # resolve() looks at one KPI's rows at a time
    out = []
    for month in months_between(start, end):
        now = values[values["period"] == month].set_index("kpi")["value"].to_dict()
        out.append(_assessment(unit, month, min(month_end(month), end), now,
                               quality.get(month, {}), closure.get(month), rows,
                               month in unscanned, limits, version))
    return out


def _assessment(unit: OrgUnit, month: dt.date, last_day: dt.date, now: dict,
                quality: dict, closure: float | None, rows: dict[str, list], unscanned: bool,
                limits: dict[str, float], version: int) -> Assessment:
    """Judge one unit's month from its figures: KPI values, data quality, risk closure, targets."""
    found = {k: now.get(k) for k in KPI_CRITERIA}
    found.update(quality)
    found["kpis_on_target"] = _share_on_target(now, rows, unit, month, last_day,
                                               {unit.id: unit.code})
    found["risk_closed_on_time"] = closure
    results = judge(found, limits, {"risk_closed_on_time": NOT_SCANNED} if unscanned else None)
    return Assessment(unit.code, month, stage_of(results), tuple(results), version)


def _share_on_target(values: dict, rows: dict[str, list], unit: OrgUnit, start: dt.date, end: dt.date,
                     codes: dict) -> float | None:
    """Share of the KPIs with a value and a target whose attainment is at least 1."""
    judged = []
    for kpi in KPIS:
        target = resolve(rows.get(kpi.id, []), kpi, unit, start, end, None, codes)
        att = attainment(kpi, values.get(kpi.id), target.value if target else None)
        if att is not None:
            judged.append(att >= 1.0)
    return sum(judged) / len(judged) if judged else None


def assess(session: Session, unit: OrgUnit, month: dt.date, data_end: dt.date,
           scope: Scope | None = None) -> Assessment:
    """Assess one unit for one month."""
    return assess_months(session, unit, month, month, data_end, scope)[0]


def assess_children(session: Session, unit: OrgUnit, month: dt.date, data_end: dt.date,
                    scope: Scope | None = None) -> list[Assessment]:
    """Assess each child of `unit` for one month."""
    enforce(scope, unit)
    return [assess(session, child, month, data_end) for child in children(session, unit)]


def distribution(assessments: list[Assessment]) -> dict[int, int]:
    """How many of the assessed units sit at each stage 0-4."""
    counts = dict.fromkeys(STAGES, 0)
    for a in assessments:
        counts[a.stage] += 1
    return counts


@cached("facts", "targets", "rubric", "risk")
def children_this_and_last_month(session: Session, unit: OrgUnit, month: dt.date,
                                 data_end: dt.date, scope: Scope | None = None
                                 ) -> list[tuple[Assessment, Assessment]]:
    """Each child's assessment for the month before `month` and for `month` (one pass each).

    Children with roll-ups (not outlets) are assessed together, a fixed number of queries per
    month however many there are (HQ has 27 provinces): their figures by child from the
    parent's grouped reads. Outlets are assessed one by one (a county has a handful)."""
    enforce(scope, unit)
    previous = month_start(month - dt.timedelta(days=1))
    kids = children(session, unit)
    end = min(month_end(month), data_end)
    if not kids or not rollups_usable(session, kids[0]) or end < month_start(month):
        return [tuple(assess_months(session, child, previous, month, data_end))  # type: ignore[misc]
                for child in kids]
    before, now = (_assess_children(session, unit, kids, first, min(month_end(first), end))
                   for first in (previous, month_start(month)))
    return [(before[k.code], now[k.code]) for k in kids]


def _assess_children(session: Session, unit: OrgUnit, kids: list[OrgUnit], first: dt.date,
                     end: dt.date) -> dict[str, Assessment]:
    """`assess_months(child, first, first, end)` of every child (none an outlet), from grouped
    reads: KPIs by child, quality and risk closure by child, every child's targets at once."""
    limits, version = thresholds(session)
    kpi_ids = [k.id for k in KPIS]
    values: dict[str, dict] = {}
    for r in compute(session, kpi_ids, unit, first, end, by="child").itertuples():
        values.setdefault(r.unit, {})[r.kpi] = r.value
    quality = monthly_quality_by_child(session, unit, kids, first, end)
    unscanned = bool(unscanned_months(session, first, end))
    closure = closed_on_time_by_child(session, unit, kids, first, end,
                                      dt.datetime.combine(end + dt.timedelta(days=1),
                                                          dt.time(6, 0)), unscanned)
    rows = target_rows_by_unit(session, kpi_ids, kids, first, end)
    out = {}
    for child in kids:
        by_kpi: dict[str, list] = {}
        for row in rows[child.id]:
            by_kpi.setdefault(row.kpi, []).append(row)
        out[child.code] = _assessment(child, first, end, values.get(child.code, {}),
                                      quality[child.id], closure[child.id], by_kpi, unscanned,
                                      limits, version)
    return out


def movers(pairs: list[tuple[Assessment, Assessment]]) -> list[tuple[Assessment, Assessment]]:
    """The (last month, this month) pairs whose stage changed, both months having data."""
    return [(before, now) for before, now in pairs
            if before.has_data and now.has_data and before.stage != now.stage]
