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
from metrics.compute import compute
from metrics.quality import monthly_quality
from metrics.registry import KPIS
from metrics.risk import closed_on_time, unscanned_months
from metrics.scope import Scope, enforce
from metrics.targets import attainment, resolve, target_rows

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
    codes = {unit.id: unit.code}
    out = []
    for month in months_between(start, end):
        last_day = min(month_end(month), end)
        now = values[values["period"] == month].set_index("kpi")["value"].to_dict()
        found = {k: now.get(k) for k in KPI_CRITERIA}
        found.update(quality.get(month, {}))
        found["kpis_on_target"] = _share_on_target(now, rows, unit, month, last_day, codes)
        found["risk_closed_on_time"] = closure.get(month)
        results = judge(found, limits,
                        {"risk_closed_on_time": NOT_SCANNED} if month in unscanned else None)
        out.append(Assessment(unit.code, month, stage_of(results), tuple(results), version))
    return out


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
    """Each child's assessment for the month before `month` and for `month` (one pass each)."""
    enforce(scope, unit)
    previous = month_start(month - dt.timedelta(days=1))
    return [tuple(assess_months(session, child, previous, month, data_end))  # type: ignore[misc]
            for child in children(session, unit)]


def movers(pairs: list[tuple[Assessment, Assessment]]) -> list[tuple[Assessment, Assessment]]:
    """The (last month, this month) pairs whose stage changed, both months having data."""
    return [(before, now) for before, now in pairs
            if before.has_data and now.has_data and before.stage != now.stage]
