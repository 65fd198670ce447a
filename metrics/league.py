"""League tables: a unit's children ranked on one KPI, against their targets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
from sqlalchemy.orm import Session

from data.models import OrgUnit
from data.units import children
from metrics.cache import cached
from metrics.compare import change, previous_period, year_earlier
from metrics.compute import compute
from metrics.registry import REGISTRY
from metrics.scope import Scope, enforce
from metrics.targets import DEFAULT_BANDS, Bands, attainment, status, targets_for_units


@cached("facts", "targets")
def league_table(session: Session, kpi_id: str, parent: OrgUnit, start: dt.date, end: dt.date,
                 carriers: Sequence[str] | None = None, bands: Bands = DEFAULT_BANDS,
                 scope: Scope | None = None, compare: str | None = None) -> pd.DataFrame:
    """Rank the children of `parent` on one KPI: by attainment where every child has a target,
    else by value in the KPI's better direction; units without a value rank last. With
    `compare` ("previous" or "last_year") each row also gets that period's value and the change."""
    enforce(scope, parent)
    kpi = REGISTRY[kpi_id]
    kids = children(session, parent)
    values = compute(session, [kpi_id], parent, start, end, carriers, by="child")
    by_code = {r.unit: r for r in values.itertuples()}
    before: dict = {}
    if compare in ("previous", "last_year"):
        other = previous_period(start, end) if compare == "previous" else year_earlier(start, end)
        before = {r.unit: r.value for r in compute(session, [kpi_id], parent, *other, carriers,
                                                    by="child").itertuples()}
    carrier = carriers[0] if carriers and len(carriers) == 1 else None
    rows = []
    found = targets_for_units(session, [kpi_id], kids, start, end, carrier)
    for child in kids:
        r = by_code.get(child.code)
        value = r.value if r is not None else None
        target = found[child.id][kpi_id]
        att = attainment(kpi, value, target.value if target else None)
        rows.append({"unit": child.code, "name_zh": child.name_zh, "name_en": child.name_en,
                     "value": value, "numerator": r.numerator if r is not None else None,
                     "denominator": r.denominator if r is not None else None,
                     "target": target.value if target else None, "attainment": att,
                     "status": status(att, bands), "compared": before.get(child.code),
                     "change": change(value, before.get(child.code))[0],
                     "change_pct": change(value, before.get(child.code))[1]})
    frame = pd.DataFrame(rows, columns=["unit", "name_zh", "name_en", "value", "numerator",
                                        "denominator", "target", "attainment", "status",
                                        "compared", "change", "change_pct"])
    by_attainment = len(frame) > 0 and frame["attainment"].notna().all()
    if by_attainment:
        order = frame["attainment"].rank(ascending=False, method="min")
    else:
        order = frame["value"].astype(float).rank(ascending=kpi.better == "lower", method="min")
    frame["rank"] = order.astype("Int64")
    frame["ranked_by"] = "attainment" if by_attainment else "value"
    frame = frame.sort_values("rank", na_position="last").reset_index(drop=True)
    return frame.astype(object).where(frame.notna(), None)
