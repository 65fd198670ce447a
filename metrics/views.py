"""Composite views the pages show, built from `compute` and friends (never from fact rows)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
from sqlalchemy.orm import Session

from data.models import OrgUnit
from metrics.cache import cached
from metrics.compare import compare
from metrics.compute import compute
from metrics.registry import REGISTRY
from metrics.scope import Scope, enforce
from metrics.targets import DEFAULT_BANDS, Bands, attainment, status, targets_for


@cached("facts", "targets")
def headline(session: Session, kpis: Sequence[str], unit: OrgUnit, start: dt.date,
             end: dt.date, carriers: Sequence[str] | None, scope: Scope | None,
             bands: Bands = DEFAULT_BANDS) -> list[dict]:
    """Per KPI: value row, comparison, target, attainment, status and a sparkline series."""
    enforce(scope, unit)
    comp = compare(session, kpis, unit, start, end, carriers).set_index("kpi")
    carrier = carriers[0] if carriers and len(carriers) == 1 else None
    targets = targets_for(session, kpis, unit, start, end, carrier)
    grain = "day" if (end - start).days <= 62 else "week"
    spark = kpi_trends(session, kpis, unit, start, end, carriers, grain)
    out = []
    for k in kpis:
        kpi = REGISTRY[k]
        comparison = comp.loc[k].to_dict()
        row = {key: comparison[key] for key in ("value", "numerator", "denominator")}
        target = targets[k]
        att = attainment(kpi, row["value"], target.value if target else None)
        series = spark[spark["kpi"] == k].sort_values("period")["value"].tolist()
        out.append({"kpi": kpi, "row": row, "comparison": comparison, "target": target,
                    "attainment": att, "status": status(att, bands), "spark": series})
    return out


def kpi_trends(session: Session, kpis: Sequence[str], unit: OrgUnit, start: dt.date,
               end: dt.date, carriers: Sequence[str] | None, grain: str,
               scope: Scope | None = None) -> pd.DataFrame:
    """The KPIs' values by `grain` (day or week), except monthly KPIs (MAU, activity rate), which
    have values by month only and are computed by month (by day they would be all "no data")."""
    by_grain = [k for k in kpis if not REGISTRY[k].monthly]
    by_month = [k for k in kpis if REGISTRY[k].monthly]
    parts = [compute(session, ks, unit, start, end, carriers, by=g, scope=scope)
             for ks, g in ((by_grain, grain), (by_month, "month")) if ks]
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


@cached("facts")
def carrier_mix(session: Session, unit: OrgUnit, start: dt.date, end: dt.date,
                scope: Scope | None) -> pd.DataFrame:
    """Each carrier's share of transactions and of payments (count) in the unit's subtree."""
    enforce(scope, unit)
    frame = compute(session, ["transactions", "online_payment"], unit, start, end, by="carrier")
    rows = []
    for measure, kpi, column in (("transactions", "transactions", "value"),
                                 ("payments", "online_payment", "denominator")):
        part = frame[frame["kpi"] == kpi]
        total = sum(v for v in part[column] if v is not None)
        for r in part.itertuples():
            value = getattr(r, column)
            if total and value is not None:
                rows.append({"measure": measure, "carrier": r.carrier, "share": value / total,
                             "count": value})
    return pd.DataFrame(rows, columns=["measure", "carrier", "share", "count"])
