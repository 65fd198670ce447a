"""How fast risk work is handled: hours to dispatch and to resolve, and the share resolved by the
deadline, per owner tier and rule type (issue 23).

One work item per incident: the events of one incident (`risk_event.incident_id`) count once; an
event not (yet) grouped counts alone. Measured from the events and their steps only:

- created: the earliest `created_at` of the item's events;
- dispatched: the earliest step of its events that left "open" (`from_state` "open", another
  `to_state`), whether to dispatched, in progress or straight to resolved;
- resolved: the latest `resolved_at` of its events, once every one of them is resolved (an item
  with an event still open, or reopened, is unresolved);
- deadline: the earliest deadline of its events (an incident's deadline is its earliest event's);
- owner tier: the tier of the incident's owner unit (an event alone: its own owner unit).

Hours are from created to dispatched and from created to resolved. Only the events in the unit's
subtree are read (at HQ every item is whole; below it, an incident reaching outside the subtree is
measured on its events inside). Items count when created in [start, end] (local days). The share
resolved by the deadline is over the items whose outcome is known at `as_of`: resolved, or past
their deadline unresolved (late); an open item still within its deadline is not counted yet.

Medians and 90th percentiles are interpolated between the two nearest ranks (PostgreSQL's
`percentile_cont`, numpy's default), picked in the database by `row_number()` over each group: the
answer is a few dozen rows however many events there are.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Float,
    and_,
    case,
    cast,
    extract,
    func,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from data.clock import local_now
from data.models import OrgUnit, RiskEvent, RiskEventStep, RiskIncident, RiskRule
from data.units import subtree_filter
from metrics.cache import cached
from metrics.scope import Scope, enforce

COLUMNS = ["tier", "rule_type", "incidents", "dispatched", "dispatch_median_hours",
           "dispatch_p90_hours", "resolved", "resolve_median_hours", "resolve_p90_hours", "due",
           "resolved_on_time", "on_time_share"]
# The percentiles, in tenths: the median and the 90th (integer arithmetic picks their ranks).
MEDIAN, P90 = 5, 9
ALL_TIERS, ALL_TYPES = 0, ""  # the sentinels of the total rows in SQL (None in the answer)


def handling_times(session: Session, unit: OrgUnit, start: dt.date, end: dt.date,
                   scope: Scope | None = None, as_of: dt.datetime | None = None) -> pd.DataFrame:
    """Per owner tier and rule type, with totals (tier None: every tier; rule_type None: every
    type): incidents created in [start, end] in `unit`'s subtree, how many were dispatched and
    resolved, the median and 90th percentile of their hours to dispatch and to resolve (None when
    none), how many are due (resolved, or unresolved past the deadline at `as_of`, default now to
    the minute), how many of those were resolved by the deadline, and that share (None when none
    is due). Rows: tiers 1..5 then every tier; within each, types by name, then every type."""
    enforce(scope, unit)
    moment = (as_of or local_now()).replace(second=0, microsecond=0)
    return _handling_rows(session, unit, start, end, moment)


@cached("risk")
def _handling_rows(session: Session, unit: OrgUnit, start: dt.date, end: dt.date,
                   as_of: dt.datetime) -> pd.DataFrame:
    """`handling_times` without the scope check (cached until a risk table changes, per minute
    of `as_of`)."""
    dialect = session.get_bind().dialect.name
    begin = dt.datetime.combine(start, dt.time())
    stop = dt.datetime.combine(end + dt.timedelta(days=1), dt.time())
    e, step = RiskEvent, RiskEventStep
    incident = aliased(RiskIncident)
    owner = aliased(OrgUnit)

    left_open = (select(func.min(step.at))
                 .where(step.event_id == e.id, step.from_state == "open", step.to_state != "open")
                 .correlate(e).scalar_subquery())
    events = (select(case((e.incident_id.is_(None), -e.id), else_=e.incident_id).label("item"),
                     func.coalesce(incident.owner_unit_id, e.owner_unit_id).label("owner_id"),
                     RiskRule.type.label("rule_type"), e.created_at, e.resolved_at, e.deadline,
                     left_open.label("dispatched_at"))
              .select_from(e).join(OrgUnit, OrgUnit.id == e.unit_id)
              .join(RiskRule, RiskRule.id == e.rule_id)
              .outerjoin(incident, incident.id == e.incident_id)
              .where(subtree_filter(unit.path))).cte("handling_events")
    created = func.min(events.c.created_at)
    items = (select(events.c.item, func.min(events.c.owner_id).label("owner_id"),
                    func.min(events.c.rule_type).label("rule_type"), created.label("created_at"),
                    func.min(events.c.dispatched_at).label("dispatched_at"),
                    case((func.count(events.c.resolved_at) == func.count(),
                          func.max(events.c.resolved_at))).label("resolved_at"),
                    func.min(events.c.deadline).label("deadline"))
             .group_by(events.c.item)
             .having(and_(created >= begin, created < stop))).cte("handling_items")
    done = items.c.resolved_at.is_not(None)
    measured = (select(owner.tier.label("tier"), items.c.rule_type,
                       _hours(items.c.dispatched_at, items.c.created_at, dialect).label("h_d"),
                       _hours(items.c.resolved_at, items.c.created_at, dialect).label("h_r"),
                       case((or_(done, items.c.deadline < as_of), 1), else_=0).label("due"),
                       case((and_(done, items.c.resolved_at <= items.c.deadline), 1),
                            else_=0).label("on_time"))
                .select_from(items).join(owner, owner.id == items.c.owner_id)
                ).cte("handling_measured")
    m = measured.c
    every_tier: ColumnElement = literal_column(str(ALL_TIERS))
    every_type: ColumnElement = literal_column(f"'{ALL_TYPES}'")
    grouped = union_all(*(
        select(tier.label("g_tier"), kind.label("g_type"), m.h_d, m.h_r, m.due, m.on_time)
        for tier, kind in ((m.tier, m.rule_type), (m.tier, every_type),
                           (every_tier, m.rule_type), (every_tier, every_type)))
    ).subquery("handling_grouped")
    g = grouped.c
    by_group = (g.g_tier, g.g_type)
    ranked = select(
        *by_group, g.h_d, g.h_r, g.due, g.on_time,
        (func.row_number().over(partition_by=by_group, order_by=(g.h_d.is_(None), g.h_d)) - 1
         ).label("r_d"),
        func.count(g.h_d).over(partition_by=by_group).label("n_d"),
        (func.row_number().over(partition_by=by_group, order_by=(g.h_r.is_(None), g.h_r)) - 1
         ).label("r_r"),
        func.count(g.h_r).over(partition_by=by_group).label("n_r"),
    ).subquery("handling_ranked")
    r = ranked.c
    stmt = (select(r.g_tier, r.g_type, func.count(), func.max(r.n_d),
                   _percentile(r.h_d, r.r_d, r.n_d, MEDIAN), _percentile(r.h_d, r.r_d, r.n_d, P90),
                   func.max(r.n_r),
                   _percentile(r.h_r, r.r_r, r.n_r, MEDIAN), _percentile(r.h_r, r.r_r, r.n_r, P90),
                   func.sum(r.due), func.sum(r.on_time))
            .group_by(r.g_tier, r.g_type))
    rows = []
    for (tier, kind, n, n_d, d50, d90, n_r, r50, r90, due, on_time) in session.execute(stmt):
        due, on_time = int(due or 0), int(on_time or 0)
        rows.append({"tier": None if tier == ALL_TIERS else int(tier),
                     "rule_type": None if kind == ALL_TYPES else kind,
                     "incidents": int(n), "dispatched": int(n_d or 0),
                     "dispatch_median_hours": _float(d50), "dispatch_p90_hours": _float(d90),
                     "resolved": int(n_r or 0),
                     "resolve_median_hours": _float(r50), "resolve_p90_hours": _float(r90),
                     "due": due, "resolved_on_time": on_time,
                     "on_time_share": on_time / due if due else None})
    if not any(row["tier"] is None and row["rule_type"] is None for row in rows):
        rows.append(dict.fromkeys(COLUMNS, None) | {
            "incidents": 0, "dispatched": 0, "resolved": 0, "due": 0, "resolved_on_time": 0})
    rows.sort(key=lambda row: (row["tier"] is None, row["tier"] or 0,
                               row["rule_type"] is None, row["rule_type"] or ""))
    return pd.DataFrame(rows, columns=COLUMNS, dtype=object)


def _hours(later, earlier, dialect: str):
    """Hours from `earlier` to `later` (naive timestamps), NULL when either is."""
    if dialect == "postgresql":
        return cast(extract("epoch", later - earlier), Float) / 3600.0
    return (func.julianday(later) - func.julianday(earlier)) * 24.0


def _percentile(value, rank, count, tenths: int):
    """The `tenths`/10 percentile of `value` in a group, interpolated between the ranks
    floor(p) and ceil(p) of p = (count - 1) * tenths / 10 (`rank`: 0-based, values first; NULL
    when the group has no value). In integer arithmetic, so both databases pick the same ranks."""
    scaled = (count - 1) * tenths
    low, high = scaled // 10, (scaled + 9) // 10
    frac = cast(scaled % 10, Float) / 10.0
    has = value.is_not(None)
    return (func.sum(case((and_(has, rank == low), value * (1.0 - frac))))
            + func.sum(case((and_(has, rank == high), value * frac))))


def _float(value) -> float | None:
    return None if value is None else float(value)
