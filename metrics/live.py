"""Today, live: a unit's subtree's work orders and risk events of the current local day up to now.

Every figure is counted in SQL over the work orders of the subtree (times are local, as the
source systems give them):

- `orders_today`: created today up to `now`; `by_hour` the same by hour of creation, against the
  same weekday last week up to the same time of day (`last_week`);
- `open`: created by `now` and not closed by `now` (any creation day); of them `overdue` (SLA
  deadline passed) and `due_2h` (deadline within the next two hours);
- `complaints_today`: complaint orders created today up to `now`;
- `fcr` and `satisfaction`: the registry's `first_contact_resolution` and `satisfaction` over the
  orders closed today up to `now` (resolved at first contact / closed; ratings 4-5 / ratings), with
  numerator and denominator;
- `risk_events_today`: risk incidents with an event of the subtree created today up to `now`
  (a county and its four outlets breaching one rule on one day are one), and `risk_units_today`
  the units of the subtree those events are at.

"No data" is None, never 0: when the subtree has no work order in the last LOOKBACK_DAYS days
(no live feed) the order counts are None; a rate without a denominator is None; the comparison
series is None when the subtree's orders do not reach back a week; the risk counts are None before
any risk scan ever ran. With data, nothing counted is 0.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, case, exists, func, or_, select, true
from sqlalchemy.orm import Session

from data.models import OrgUnit, RiskEvent, RiskScanRun, WorkOrder
from data.units import subtree_filter
from metrics.cache import cached
from metrics.scope import Scope, enforce

LOOKBACK_DAYS = 7  # a subtree with no order created in this many days before today has no feed
DUE_SOON = dt.timedelta(hours=2)
WEEK = dt.timedelta(days=7)

_wo = WorkOrder.__table__
_ou = OrgUnit.__table__


@dataclass(frozen=True)
class HourCount:
    """Orders created in one hour of today and of the same weekday last week (to the same time)."""

    hour: int
    today: int | None
    last_week: int | None


@dataclass(frozen=True)
class LiveCounters:
    """What the live view shows of a unit's subtree at `as_of` (local time)."""

    unit: str
    as_of: dt.datetime
    day: dt.date
    orders_today: int | None
    orders_last_week: int | None  # the same weekday last week, up to the same time of day
    by_hour: list[HourCount]
    open: int | None
    due_2h: int | None
    overdue: int | None
    complaints_today: int | None
    closed_today: int | None
    fcr: float | None
    fcr_numerator: int | None
    fcr_denominator: int | None
    satisfaction: float | None
    satisfaction_numerator: int | None
    satisfaction_denominator: int | None
    risk_events_today: int | None  # incidents
    risk_units_today: int | None

    def as_dict(self) -> dict:
        """The counters as plain values (times ISO, to the minute), for JSON."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "by_hour"}
        out["as_of"] = self.as_of.isoformat(timespec="minutes")
        out["day"] = self.day.isoformat()
        out["by_hour"] = [{"hour": h.hour, "today": h.today, "last_week": h.last_week}
                          for h in self.by_hour]
        return out


def _subtree(unit: OrgUnit):
    """The work orders of `unit`'s subtree: the join and its condition."""
    return _wo.join(_ou, _ou.c.id == _wo.c.unit_id), subtree_filter(unit.path, _ou.c.path)


def _int(value) -> int:
    return int(value or 0)


@cached("facts", "risk")
def live_counters(session: Session, unit: OrgUnit, now: dt.datetime,
                  scope: Scope | None = None) -> LiveCounters:
    """The live counters of `unit`'s subtree for the local day of `now` up to `now` (naive local
    time, in the company's zone: `data.clock.local_now()`, to the minute so that callers share
    cached answers)."""
    enforce(scope, unit)
    day = now.date()
    midnight = dt.datetime.combine(day, dt.time())
    joined, in_subtree = _subtree(unit)

    def orders(condition) -> bool:
        return bool(session.scalar(select(exists().select_from(joined).where(in_subtree, condition))))

    live = orders(and_(_wo.c.created_day >= day - dt.timedelta(days=LOOKBACK_DAYS),
                       _wo.c.created_day <= day, _wo.c.created_at <= now))
    reaches_back = live and orders(and_(_wo.c.created_day <= day - WEEK,
                                        _wo.c.created_day >= day - WEEK - dt.timedelta(
                                            days=LOOKBACK_DAYS)))
    hours = now.hour + 1
    today = _by_hour(session, unit, day, now, hours) if live else None
    before = _by_hour(session, unit, day - WEEK, now - WEEK, hours) if reaches_back else None
    by_hour = [HourCount(h, today[0][h] if today else None, before[0][h] if before else None)
               for h in range(hours)]

    backlog = closed = None
    if live:
        still_open = and_(_wo.c.created_day <= day, _wo.c.created_at <= now,
                          or_(_wo.c.closed_day.is_(None), _wo.c.closed_day >= day),
                          or_(_wo.c.closed_at.is_(None), _wo.c.closed_at > now))
        backlog = session.execute(select(
            func.count(), _sum(_wo.c.sla_deadline < now),
            _sum(and_(_wo.c.sla_deadline >= now, _wo.c.sla_deadline < now + DUE_SOON)),
        ).select_from(joined).where(in_subtree, still_open)).one()
        closed = session.execute(select(
            func.count(), _sum(_wo.c.first_contact_resolved == true()),
            _sum(_wo.c.rating >= 4), _sum(_wo.c.rating.is_not(None)),
        ).select_from(joined).where(in_subtree, _wo.c.closed_day == day,
                                    _wo.c.closed_at <= now, _wo.c.closed_at >= midnight)).one()

    return LiveCounters(
        unit=unit.code, as_of=now, day=day,
        orders_today=sum(today[0]) if today else None,
        orders_last_week=sum(before[0]) if before else None,
        by_hour=by_hour,
        open=_int(backlog[0]) if backlog else None,
        overdue=_int(backlog[1]) if backlog else None,
        due_2h=_int(backlog[2]) if backlog else None,
        complaints_today=today[1] if today else None,
        closed_today=_int(closed[0]) if closed else None,
        fcr=_ratio(closed[1], closed[0]) if closed else None,
        fcr_numerator=_int(closed[1]) if closed else None,
        fcr_denominator=_int(closed[0]) if closed else None,
        satisfaction=_ratio(closed[2], closed[3]) if closed else None,
        satisfaction_numerator=_int(closed[2]) if closed else None,
        satisfaction_denominator=_int(closed[3]) if closed else None,
        **_risk_events(session, unit, midnight, now),
    )


def _sum(condition):
    """The number of rows where `condition` holds (NULL over no rows: `_int` makes it 0)."""
    return func.sum(case((condition, 1), else_=0))


def _ratio(numerator, denominator) -> float | None:
    return _int(numerator) / _int(denominator) if _int(denominator) else None


def _by_hour(session: Session, unit: OrgUnit, day: dt.date, until: dt.datetime,
             hours: int) -> tuple[list[int], int]:
    """Orders of the subtree created on `day` up to `until`, by hour 0..`hours`-1, and the
    complaints among them (one query)."""
    joined, in_subtree = _subtree(unit)
    midnight = dt.datetime.combine(day, dt.time())
    bounds = [midnight + dt.timedelta(hours=h) for h in range(hours + 1)]
    columns = [_sum(and_(_wo.c.created_at >= bounds[h], _wo.c.created_at < bounds[h + 1]))
               for h in range(hours)]
    row = session.execute(select(*columns, _sum(_wo.c.category == "complaint"))
                          .select_from(joined)
                          .where(in_subtree, _wo.c.created_day == day,
                                 _wo.c.created_at <= until)).one()
    return [_int(v) for v in row[:hours]], _int(row[hours])


def _risk_events(session: Session, unit: OrgUnit, midnight: dt.datetime,
                 now: dt.datetime) -> dict[str, int | None]:
    """Incidents with an event of the subtree created from `midnight` to `now`, and the units of
    those events (`risk_events_today`, `risk_units_today`); None before any scan ran."""
    if session.scalar(select(exists().where(RiskScanRun.id.is_not(None)))) is not True:
        return {"risk_events_today": None, "risk_units_today": None}
    incidents, units = session.execute(
        select(func.count(func.distinct(func.coalesce(RiskEvent.incident_id, -RiskEvent.id))),
               func.count(func.distinct(RiskEvent.unit_id))).select_from(RiskEvent)
        .join(OrgUnit, OrgUnit.id == RiskEvent.unit_id)
        .where(subtree_filter(unit.path), RiskEvent.created_at >= midnight,
               RiskEvent.created_at <= now)).one()
    return {"risk_events_today": _int(incidents), "risk_units_today": _int(units)}
