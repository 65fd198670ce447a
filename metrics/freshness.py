"""How current the data is: the range of loaded days and the last loaded day per unit."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.clock import utc_now
from data.models import OUTLET_TIER, DataLoad, Meta, OrgUnit, RollupLoad
from data.units import children, subtree_bounds
from metrics import sql
from metrics.cache import cached
from metrics.compute import rollups_usable
from metrics.scope import Scope, enforce


def loaded_range(session: Session) -> tuple[dt.date, dt.date] | None:
    """Return the first and last day with loaded data, or None when nothing is loaded.

    Days after tomorrow (anywhere on earth) are not real loads: imports refuse them, but an older
    store may hold one (a 9999-12-31 row); they must not become every view's default period.
    """
    latest = utc_now().date() + dt.timedelta(days=2)
    # Two scalar subqueries: each is one index probe, where min and max in one query scan.
    first, last = session.execute(select(
        select(func.min(DataLoad.day)).scalar_subquery(),
        select(func.max(DataLoad.day)).where(DataLoad.day <= latest).scalar_subquery())).one()
    return (first, last) if last is not None else None


def is_demo(session: Session) -> bool:
    """Tell whether the store holds generated demo data (which must be labelled as such)."""
    return session.scalar(select(Meta.value).where(Meta.key == "demo")) == "true"


@cached("facts")
def last_loaded(session: Session, unit: OrgUnit, by_child: bool = False,
                scope: Scope | None = None) -> dict[str, dt.date | None]:
    """Return the last loaded day of the unit's subtree, or of each of its children, by unit code."""
    enforce(scope, unit)
    targets = children(session, unit) if by_child else [unit]
    out: dict[str, dt.date | None] = {}
    for u in targets:
        if u.tier == OUTLET_TIER:  # one probe of the primary key
            stmt = select(func.max(DataLoad.day)).where(DataLoad.unit_id == u.id)
        elif rollups_usable(session, u):  # the roll-up has a row for each day the subtree loaded
            stmt = select(func.max(RollupLoad.day)).where(RollupLoad.unit_id == u.id)
        else:
            low, high = subtree_bounds(u.path)
            stmt = (select(func.max(DataLoad.day)).join(OrgUnit, OrgUnit.id == DataLoad.unit_id)
                    .where(OrgUnit.path >= low, OrgUnit.path < high))
        out[u.code] = sql.as_date(session.scalar(stmt))
    return out


@cached("facts")
def outlets_loaded(session: Session, unit: OrgUnit, start: dt.date, end: dt.date,
                   scope: Scope | None = None) -> tuple[dict[dt.date, int], int]:
    """How many of the unit's outlets loaded each day from `start` to `end` (days none loaded are
    absent), and how many outlets it has: a day with fewer is partly loaded (one outlet late),
    and its stocks carry the late outlets' last known levels (see metrics.compute)."""
    enforce(scope, unit)
    low, high = subtree_bounds(unit.path)
    in_subtree = (OrgUnit.path >= low, OrgUnit.path < high, OrgUnit.tier == OUTLET_TIER)
    total = session.scalar(select(func.count()).select_from(OrgUnit).where(*in_subtree)) or 0
    rows = session.execute(
        select(DataLoad.day, func.count()).join(OrgUnit, OrgUnit.id == DataLoad.unit_id)
        .where(*in_subtree, DataLoad.day >= start, DataLoad.day <= end).group_by(DataLoad.day))
    return {d: n for d, n in ((sql.as_date(day), n) for day, n in rows) if d is not None}, total
