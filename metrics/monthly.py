"""The figures of the monthly operations report (月度运营分析报告): every KPI of a month against
its target, last month and the same month last year; the KPIs that moved most and the child unit
that moved each most; the children ranked by their share of KPIs on target.

A report month runs from its first day to its last, or to the last loaded day when the month is
not over. Last month is the whole previous calendar month when the report month is complete, else
its same days (1st to the same day of the month); the same month last year likewise.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy.orm import Session

from data.clock import month_end, month_start
from data.models import OrgUnit
from metrics.cache import cached
from metrics.compare import change
from metrics.compute import compute
from metrics.registry import REGISTRY
from metrics.scope import Scope, enforce
from metrics.targets import DEFAULT_BANDS, Bands, attainment, status, targets_for


@dataclass(frozen=True)
class MonthRanges:
    """The date ranges a report month compares: this month, last month, the same month last year."""

    start: dt.date
    end: dt.date
    previous: tuple[dt.date, dt.date]
    last_year: tuple[dt.date, dt.date]

    @property
    def complete(self) -> bool:
        """Whether the month's data runs to its last day."""
        return self.end == month_end(self.start)


def month_ranges(month: dt.date, data_end: dt.date) -> MonthRanges:
    """The ranges of the report month that `month` falls in, its data ending by `data_end`."""
    first = month_start(month)
    end = min(month_end(first), data_end)
    day = None if end == month_end(first) else end.day
    previous_first = month_start(first - dt.timedelta(days=1))
    year_first = first.replace(year=first.year - 1)
    return MonthRanges(first, end, _month_part(previous_first, day), _month_part(year_first, day))


def _month_part(first: dt.date, day: int | None) -> tuple[dt.date, dt.date]:
    """The whole month from `first` (day None), else its 1st to its `day` (at most its last day)."""
    last = month_end(first)
    return first, last if day is None else min(last, first.replace(day=min(day, last.day)))


@cached("facts", "targets")
def month_kpis(session: Session, kpis: Sequence[str], unit: OrgUnit, month: dt.date,
               data_end: dt.date, scope: Scope | None = None,
               bands: Bands = DEFAULT_BANDS) -> pd.DataFrame:
    """Per KPI: value (numerator, denominator), target, attainment and status of the month; last
    month's value and the change (absolute, relative); the same month last year's and the change."""
    enforce(scope, unit)
    r = month_ranges(month, data_end)
    now = compute(session, kpis, unit, r.start, r.end).set_index("kpi")
    before = compute(session, kpis, unit, *r.previous).set_index("kpi")["value"]
    year = compute(session, kpis, unit, *r.last_year).set_index("kpi")["value"]
    targets = targets_for(session, kpis, unit, r.start, r.end)
    rows = []
    for k in kpis:
        value = _num(now.loc[k, "value"])
        found = targets[k]
        target = found.value if found is not None else None
        att = attainment(REGISTRY[k], value, target)
        p_abs, p_rel = change(value, _num(before[k]))
        y_abs, y_rel = change(value, _num(year[k]))
        rows.append({"kpi": k, "value": value, "numerator": _num(now.loc[k, "numerator"]),
                     "denominator": _num(now.loc[k, "denominator"]), "target": target,
                     "attainment": att, "status": status(att, bands),
                     "previous": _num(before[k]), "previous_change": p_abs,
                     "previous_change_pct": p_rel, "last_year": _num(year[k]),
                     "last_year_change": y_abs, "last_year_change_pct": y_rel})
    frame = pd.DataFrame(rows)
    return frame.astype(object).where(frame.notna(), None)


def _num(value) -> float | None:
    if value is None:
        return None
    v = float(value)
    return None if math.isnan(v) else v


def improvement(kpi_id: str, abs_change: float | None, rel_change: float | None) -> float | None:
    """How much a change improves a KPI, comparable across KPIs: the relative change, negated when
    lower is better (None when unknown). Rates and volumes alike are ranked by this."""
    if rel_change is None or abs_change is None:
        return None
    return rel_change if REGISTRY[kpi_id].better == "higher" else -rel_change


@cached("facts")
def kpi_movers(session: Session, kpis: Sequence[str], unit: OrgUnit, month: dt.date,
               data_end: dt.date, scope: Scope | None = None) -> pd.DataFrame:
    """Each KPI's change from last month at `unit` and, among its children, the child whose
    change went furthest the same way (improved most when the KPI improved, declined most when it
    declined). Rows ordered from the biggest improvement to the biggest decline (see
    `improvement`); KPIs without a change are left out."""
    enforce(scope, unit)
    r = month_ranges(month, data_end)
    now = compute(session, kpis, unit, r.start, r.end).set_index("kpi")["value"]
    before = compute(session, kpis, unit, *r.previous).set_index("kpi")["value"]
    kids_now = compute(session, kpis, unit, r.start, r.end, by="child")
    kids_before = compute(session, kpis, unit, *r.previous, by="child")
    was = {(row.unit, row.kpi): _num(row.value) for row in kids_before.itertuples()}
    rows = []
    for k in kpis:
        p_abs, p_rel = change(_num(now[k]), _num(before[k]))
        score = improvement(k, p_abs, p_rel)
        if score is None or score == 0:
            continue
        best = None
        for row in kids_now[kids_now["kpi"] == k].itertuples():
            c_abs, c_rel = change(_num(row.value), was.get((row.unit, k)))
            c_score = improvement(k, c_abs, c_rel)
            if c_score is None or (c_score > 0) != (score > 0):
                continue
            if best is None or abs(c_score) > abs(best[3]):
                best = (row.unit, c_abs, c_rel, c_score)
        rows.append({"kpi": k, "value": _num(now[k]), "previous": _num(before[k]),
                     "change": p_abs, "change_pct": p_rel, "improvement": score,
                     "child": best[0] if best else None, "child_change": best[1] if best else None,
                     "child_change_pct": best[2] if best else None})
    frame = pd.DataFrame(rows, columns=["kpi", "value", "previous", "change", "change_pct",
                                        "improvement", "child", "child_change",
                                        "child_change_pct"])
    frame = frame.sort_values("improvement", ascending=False, kind="stable").reset_index(drop=True)
    return frame.astype(object).where(frame.notna(), None)


def rank_children(attainment_rows: pd.DataFrame, stages: dict[str, int]) -> pd.DataFrame:
    """The children ranked by their share of KPIs on target (attainment at least 1, among the KPIs
    with a value and a target), then by stage: rows (rank, unit, on_target, judged, share, stage)
    from `attainment_by_child`'s rows and each child's stage. Children with no KPI judged rank
    last, without a rank."""
    rows = []
    for code, part in attainment_rows.groupby("unit", sort=False):
        judged = [a for a in part["attainment"] if a is not None]
        on = sum(1 for a in judged if a >= 1.0)
        rows.append({"unit": code, "on_target": on, "judged": len(judged),
                     "share": on / len(judged) if judged else None, "stage": stages.get(str(code))})
    frame = pd.DataFrame(rows, columns=["unit", "on_target", "judged", "share", "stage"])
    if frame.empty:
        return frame.assign(rank=pd.Series(dtype="Int64"))
    # Share first, then stage: shares of at most 27 KPIs differ by far more than 4 / 100000.
    key = frame["share"].astype(float).fillna(-1) * 100_000 + frame["stage"].astype(float).fillna(0)
    frame["rank"] = key.rank(ascending=False, method="min").astype("Int64")
    frame.loc[frame["share"].isna(), "rank"] = pd.NA
    frame = frame.sort_values(["rank", "unit"], na_position="last").reset_index(drop=True)
    return frame.astype(object).where(frame.notna(), None)
