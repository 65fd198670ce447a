"""Comparisons: the previous period of the same length, and the same period a year earlier."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
from sqlalchemy.orm import Session

from data.models import OrgUnit
from metrics.compute import compute
from metrics.scope import Scope, enforce


def previous_period(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """Return the range of the same length that ends the day before `start`."""
    length = end - start
    prev_end = start - dt.timedelta(days=1)
    return prev_end - length, prev_end


def year_earlier(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """Return the same range one year earlier (29 February becomes the 28th)."""
    return _minus_year(start), _minus_year(end)


def _minus_year(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def change(current: float | None, before: float | None) -> tuple[float | None, float | None]:
    """Return (absolute change, relative change); None where either side is missing."""
    if current is None or before is None:
        return None, None
    return current - before, ((current - before) / abs(before) if before else None)


def compare(session: Session, kpis: Sequence[str], unit: OrgUnit, start: dt.date, end: dt.date,
            carriers: Sequence[str] | None = None, scope: Scope | None = None) -> pd.DataFrame:
    """Return per KPI: value (with numerator and denominator), the previous-period value and
    change, and the last-year value and change."""
    enforce(scope, unit)
    current = compute(session, kpis, unit, start, end, carriers).set_index("kpi")
    now = current["value"]
    prev = compute(session, kpis, unit, *previous_period(start, end), carriers).set_index(
        "kpi")["value"]
    yoy = compute(session, kpis, unit, *year_earlier(start, end), carriers).set_index(
        "kpi")["value"]
    rows = []
    for kpi in kpis:
        p_abs, p_rel = change(now[kpi], prev[kpi])
        y_abs, y_rel = change(now[kpi], yoy[kpi])
        rows.append({"kpi": kpi, "value": now[kpi], "numerator": current.loc[kpi, "numerator"],
                     "denominator": current.loc[kpi, "denominator"],
                     "previous": prev[kpi], "previous_change": p_abs,
                     "previous_change_pct": p_rel, "last_year": yoy[kpi], "last_year_change": y_abs,
                     "last_year_change_pct": y_rel})
    frame = pd.DataFrame(rows)
    return frame.astype(object).where(frame.notna(), None)
