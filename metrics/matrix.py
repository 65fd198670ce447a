"""The 6x6 matrix: a 0-100 score per (operating core, supporting carrier) cell.

Scoring formula (also in the README):
    score(core, carrier) = 100 x mean over the core's KPIs scored on that carrier that have both a
                           value and a target of min(attainment, 1)
where attainment is value / target (higher is better) or target / value (lower is better), computed
for that carrier alone; zero of a lower-is-better KPI is on target (see `metrics.targets.attainment`,
which decides every edge case). Capping at 1 keeps one KPI far above target from hiding another below it:
100 means every KPI of the cell is on or above target.
A cell where no KPI of the core applies to the carrier is "n/a" (score None); a cell whose KPIs have
no value or no target in the range is "no_data" (score None); never 0.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import Carrier, OrgUnit
from metrics.cache import cached
from metrics.compute import compute
from metrics.registry import CORES, KPIS, applicable
from metrics.scope import Scope, enforce
from metrics.targets import DEFAULT_BANDS, Bands, ancestor_ids, attainment, resolve, status, target_rows


@cached("facts", "targets")
def matrix(session: Session, unit: OrgUnit, start: dt.date, end: dt.date,
           bands: Bands = DEFAULT_BANDS, scope: Scope | None = None) -> pd.DataFrame:
    """Return 36 rows: core, carrier, score (0-100 or None), status, scored and applicable KPIs."""
    enforce(scope, unit)
    kpis = [k.id for k in KPIS if k.carriers]
    values = compute(session, kpis, unit, start, end, by="carrier")
    value_of = {(r.kpi, r.carrier): r.value for r in values.itertuples()}
    carriers = session.execute(select(Carrier.code, Carrier.id).order_by(Carrier.sort_order)).all()
    rows = target_rows(session, kpis, unit, start, end)
    codes = dict(session.execute(select(OrgUnit.id, OrgUnit.code).where(
        OrgUnit.id.in_(ancestor_ids(unit)))).all())
    out = []
    for core in CORES:
        for carrier, carrier_id in carriers:
            kpis_here = applicable(core, carrier)
            scores = []
            for kpi in kpis_here:
                target = resolve(rows, kpi, unit, start, end, carrier_id, codes)
                att = attainment(kpi, value_of.get((kpi.id, carrier)),
                                 target.value if target else None)
                if att is not None:
                    scores.append(min(att, 1.0))
            score = 100 * sum(scores) / len(scores) if scores else None
            state = ("n/a" if not kpis_here else "no_data" if score is None
                     else status(score / 100, bands))
            out.append({"core": core, "carrier": carrier, "score": score, "status": state,
                        "scored": len(scores), "applicable": len(kpis_here)})
    return pd.DataFrame(out)
