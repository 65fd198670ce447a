"""Attainment views: every KPI against its target for each child unit (for the heatmap)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy.orm import Session

from data.models import OrgUnit
from data.units import children
from metrics.cache import cached
from metrics.compute import compute
from metrics.registry import KPIS, REGISTRY
from metrics.scope import Scope, enforce
from metrics.targets import DEFAULT_BANDS, Bands, attainment, status, targets_for_units


@cached("facts", "targets")
def attainment_by_child(session: Session, unit: OrgUnit, start: dt.date, end: dt.date,
                        scope: Scope | None = None, bands: Bands = DEFAULT_BANDS) -> pd.DataFrame:
    """Rows (unit, kpi, value, target, set_at, attainment, status) for every child and KPI."""
    enforce(scope, unit)
    kpi_ids = [k.id for k in KPIS]
    values = compute(session, kpi_ids, unit, start, end, by="child")
    value_of = {(r.unit, r.kpi): r.value for r in values.itertuples()}
    rows = []
    kids = children(session, unit)
    found = targets_for_units(session, kpi_ids, kids, start, end)
    for child in kids:
        targets = found[child.id]
        for k in kpi_ids:
            target = targets[k]
            value = value_of.get((child.code, k))
            att = attainment(REGISTRY[k], value, target.value if target else None)
            rows.append({"unit": child.code, "kpi": k, "value": value,
                         "target": target.value if target else None,
                         "set_at": target.set_at if target else None,
                         "attainment": att, "status": status(att, bands)})
    frame = pd.DataFrame(rows, columns=["unit", "kpi", "value", "target", "set_at", "attainment",
                                        "status"])
    return frame.astype(object).where(frame.notna(), None)


def own_targets(session: Session, kpi: str, units: list[OrgUnit], start: dt.date, end: dt.date,
                scope: Scope | None = None) -> dict[str, dict]:
    """For each unit: its effective target over [start, end] and where it was set."""
    for u in units:
        enforce(scope, u)
    found = targets_for_units(session, [kpi], units, start, end)
    out = {}
    for u in units:
        t = found[u.id][kpi]
        out[u.code] = {"value": t.value if t else None, "set_at": t.set_at if t else None,
                       "own": bool(t and not t.inherited)}
    return out


STATUSES = ("green", "amber", "red")


def status_counts(statuses) -> dict[str, int]:
    """How many of `statuses` are green, amber and red (others, e.g. no target, are not counted)."""
    seen = list(statuses)
    return {s: sum(1 for x in seen if x == s) for s in STATUSES}


def on_target_by_child(frame: pd.DataFrame) -> pd.DataFrame:
    """From `attainment_by_child`'s rows: per child, how many KPIs are green, amber and red, ranked
    by green (most first), then red (fewest first); rank ties share a rank."""
    rows = [{"unit": unit, **status_counts(part["status"])}
            for unit, part in frame.groupby("unit", sort=True)]
    out = pd.DataFrame(rows, columns=["unit", *STATUSES])
    if out.empty:
        return out.assign(rank=pd.Series(dtype="Int64"))
    key = out["green"] * 1000 - out["red"]
    out["rank"] = key.rank(ascending=False, method="min").astype("Int64")
    return out.sort_values(["rank", "unit"]).reset_index(drop=True)
