"""Data and channel quality behind the basic and digital stages: how much of the expected data
arrived, how much arrived in time, and how many carriers carried traffic, per month."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from data.clock import month_end, months_between
from data.models import OUTLET_TIER, ChannelDaily, DataLoad, OrgUnit, RollupChannel, RollupLoad
from data.units import PATH_ID_WIDTH, subtree_bounds
from metrics import sql
from metrics.cache import cached
from metrics.compute import rollups_usable
from metrics.scope import Scope, enforce


def _month_key(column, dialect: str):
    return sql.period_expr(column, "month", dialect)


def _in_subtree(unit: OrgUnit):
    low, high = subtree_bounds(unit.path)
    return (OrgUnit.path >= low) & (OrgUnit.path < high)


def outlets_in(session: Session, unit: OrgUnit) -> int:
    """Return how many outlets (units that load data) the unit's subtree has."""
    return session.scalar(select(func.count()).select_from(OrgUnit).where(
        _in_subtree(unit), OrgUnit.tier == OUTLET_TIER)) or 0


@cached("facts")
def monthly_quality(session: Session, unit: OrgUnit, start: dt.date, end: dt.date,
                    scope: Scope | None = None) -> dict[dt.date, dict[str, float | None]]:
    """Per month in [start, end]: data completeness, data timeliness and carriers active.

    completeness = unit-days loaded / (outlets x days); timeliness = unit-days loaded by the end
    of the next day / (outlets x days); carriers active = carriers with any transaction.
    """
    enforce(scope, unit)
    dialect = session.get_bind().dialect.name
    if rollups_usable(session, unit):
        # The unit's roll-up rows hold its subtree's unit-days loaded (and loaded in time) per day.
        lmonth = _month_key(RollupLoad.day, dialect)
        loads_stmt = (select(lmonth.label("m"), func.sum(RollupLoad.rows),
                             func.sum(RollupLoad.rows__timely))
                      .where(RollupLoad.unit_id == unit.id, RollupLoad.day >= start,
                             RollupLoad.day <= end)
                      .group_by(lmonth))
        # A roll-up row's transactions are the sum of its outlets' (never negative) counts: above
        # 0 exactly when some outlet had a transaction on that carrier that day.
        cmonth = _month_key(RollupChannel.day, dialect)
        active_stmt = (select(cmonth.label("m"), func.count(distinct(RollupChannel.carrier_id)))
                       .where(RollupChannel.unit_id == unit.id, RollupChannel.day >= start,
                              RollupChannel.day <= end, RollupChannel.transactions > 0))
    else:
        month = _month_key(DataLoad.day, dialect)
        timely = sql.filter_expr(sql.table("data_load"), "timely", dialect)
        loads_stmt = (select(month.label("m"), func.count(), func.sum(sql.case_count(timely)))
                      .join(OrgUnit, OrgUnit.id == DataLoad.unit_id)
                      .where(_in_subtree(unit), DataLoad.day >= start, DataLoad.day <= end)
                      .group_by(month))
        cmonth = _month_key(ChannelDaily.day, dialect)
        active_stmt = (select(cmonth.label("m"), func.count(distinct(ChannelDaily.carrier_id)))
                       .join(OrgUnit, OrgUnit.id == ChannelDaily.unit_id)
                       .where(_in_subtree(unit), ChannelDaily.day >= start,
                              ChannelDaily.day <= end, ChannelDaily.transactions > 0))
    loads = {sql.as_date(m): (n, n_timely) for m, n, n_timely in session.execute(loads_stmt)}
    active_raw: dict = dict(session.execute(active_stmt.group_by(cmonth)).all())
    active = {sql.as_date(k): v for k, v in active_raw.items()}
    outlets = outlets_in(session, unit)
    out: dict[dt.date, dict[str, float | None]] = {}
    for first in months_between(start, end):
        last = min(month_end(first), end)
        expected = outlets * ((last - max(first, start)).days + 1)
        out[first] = {"data_completeness": None, "data_timeliness": None,
                      "carriers_active": float(active[first]) if first in active else None}
        n, n_timely = loads.get(first, (0, 0))
        if n and expected:
            out[first]["data_completeness"] = float(n) / expected
            out[first]["data_timeliness"] = float(n_timely or 0) / expected
    return out


def monthly_quality_by_child(session: Session, unit: OrgUnit, kids: list[OrgUnit], first: dt.date,
                             end: dt.date) -> dict[int, dict[str, float | None]]:
    """`monthly_quality(child, first, end)[first]` of each child (by id) of `unit`, for one month
    (`first` its first day, `end` in it): three grouped queries over the children's roll-up rows
    and the org tree, however many children. The children have roll-ups (none is an outlet)."""
    ids = [k.id for k in kids]
    loads = {uid: (n, n_timely) for uid, n, n_timely in session.execute(
        select(RollupLoad.unit_id, func.sum(RollupLoad.rows), func.sum(RollupLoad.rows__timely))
        .where(RollupLoad.unit_id.in_(ids), RollupLoad.day >= first, RollupLoad.day <= end)
        .group_by(RollupLoad.unit_id))}
    active = dict(session.execute(
        select(RollupChannel.unit_id, func.count(distinct(RollupChannel.carrier_id)))
        .where(RollupChannel.unit_id.in_(ids), RollupChannel.day >= first,
               RollupChannel.day <= end, RollupChannel.transactions > 0)
        .group_by(RollupChannel.unit_id)).all())
    step = len(unit.path) + PATH_ID_WIDTH + 1
    child_path = func.substr(OrgUnit.path, 1, step)
    outlets: dict[str, int] = dict(session.execute(  # type: ignore[arg-type]
        select(child_path, func.count()).where(_in_subtree(unit), OrgUnit.tier == OUTLET_TIER)
        .group_by(child_path)).all())
    days = (min(month_end(first), end) - first).days + 1
    out: dict[int, dict[str, float | None]] = {}
    for k in kids:
        expected = outlets.get(k.path, 0) * days
        n, n_timely = loads.get(k.id, (0, 0))
        out[k.id] = {"data_completeness": float(n) / expected if n and expected else None,
                     "data_timeliness": float(n_timely or 0) / expected if n and expected
                     else None,
                     "carriers_active": float(active[k.id]) if k.id in active else None}
    return out


@cached("facts")
def late_outlets(session: Session, unit: OrgUnit, start: dt.date, end: dt.date,
                 scope: Scope | None = None) -> pd.DataFrame:
    """The subtree's outlets whose data for `start`..`end` was missing on some days or loaded
    late (after the end of the next day): unit, days expected, loaded, late and missing, the
    worst first (most days missing or late)."""
    enforce(scope, unit)
    dialect = session.get_bind().dialect.name
    timely = sql.filter_expr(sql.table("data_load"), "timely", dialect)
    loads = (select(DataLoad.unit_id.label("unit_id"), func.count().label("loaded"),
                    func.sum(sql.case_count(timely)).label("timely"))
             .where(DataLoad.day >= start, DataLoad.day <= end)
             .group_by(DataLoad.unit_id).subquery())
    rows = session.execute(
        select(OrgUnit.code, OrgUnit.name_zh, OrgUnit.name_en, loads.c.loaded, loads.c.timely)
        .outerjoin(loads, loads.c.unit_id == OrgUnit.id)
        .where(_in_subtree(unit), OrgUnit.tier == OUTLET_TIER)).all()
    days = (end - start).days + 1
    out = []
    for code, zh, en, loaded, n_timely in rows:
        loaded, n_timely = int(loaded or 0), int(n_timely or 0)
        if loaded < days or n_timely < loaded:
            out.append({"unit": code, "name_zh": zh, "name_en": en, "expected": days,
                        "loaded": loaded, "late": loaded - n_timely, "missing": days - loaded})
    frame = pd.DataFrame(out, columns=["unit", "name_zh", "name_en", "expected", "loaded", "late",
                                       "missing"])
    return frame.assign(_worst=frame["late"] + frame["missing"]).sort_values(
        ["_worst", "unit"], ascending=[False, True]).drop(columns="_worst").reset_index(drop=True)
