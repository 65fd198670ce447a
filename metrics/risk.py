"""Risk events as the pages and the API see them: lists, counts by child and core, closure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

import pandas as pd
from sqlalchemy import Date, case, cast, distinct, func, or_, select
from sqlalchemy.orm import Session, aliased

from data.clock import month_end, month_start, months_between
from data.models import (
    OrgUnit,
    RiskEvent,
    RiskEventStep,
    RiskIncident,
    RiskRule,
    RiskScanRun,
    User,
)
from data.units import PATH_ID_WIDTH, subtree_bounds
from metrics import sql
from metrics.cache import cached
from metrics.compute import compute
from metrics.scope import Scope, enforce

DONE = ("resolved", "closed")


def _in_subtree(unit: OrgUnit):
    low, high = subtree_bounds(unit.path)
    return (OrgUnit.path >= low) & (OrgUnit.path < high)


def events(session: Session, unit: OrgUnit, now: dt.datetime, states: list[str] | None = None,
           start: dt.date | None = None, end: dt.date | None = None,
           scope: Scope | None = None, limit: int = 2000) -> pd.DataFrame:
    """Events of the unit's subtree (newest first) with rule, unit, state, deadline and overdue.

    `value` and `threshold` are of the event's last day; `worst_*` of its worst day. `incident`
    is the id of the incident the event is worked in (None only before it is grouped), `units`
    how many units that incident's events are at (1 for an event of no incident), `assignee`
    who the incident is assigned to: a user's name, "<role>@<unit code>", or None.
    """
    enforce(scope, unit)
    frame = _event_rows(session, unit, tuple(states) if states else None, start, end, limit)
    if frame.empty:
        return frame.assign(overdue=pd.Series(dtype=bool))
    return frame.assign(overdue=~frame["state"].isin(list(DONE)) & (frame["deadline"] < now))


@cached("risk")
def _event_rows(session: Session, unit: OrgUnit, states: tuple[str, ...] | None,
                start: dt.date | None, end: dt.date | None, limit: int) -> pd.DataFrame:
    """`events` without `overdue` (which depends on the time asked): cached until a risk event,
    step or rule changes (HQ lists thousands of events)."""
    e, r, i = RiskEvent, RiskRule, RiskIncident
    others, at = aliased(RiskEvent), aliased(OrgUnit)
    units = (select(func.count(distinct(others.unit_id)))
             .where(others.incident_id == e.incident_id).scalar_subquery())
    # Columns, not ORM entities: building an entity per row took 130 ms of a 400 ms page at HQ.
    q = (select(e.id, r.code, r.name_zh, r.name_en, r.type, r.core, r.severity, OrgUnit.code,
                OrgUnit.name_zh, OrgUnit.name_en, e.carrier, r.kpi, e.first_day, e.last_day,
                e.value, e.threshold, e.worst_day, e.worst_value, e.worst_threshold, e.state,
                e.deadline, e.incident_id, User.username, i.assignee_role, at.code, units,
                OrgUnit.tier)
         .join(RiskRule, RiskRule.id == RiskEvent.rule_id)
         .join(OrgUnit, OrgUnit.id == RiskEvent.unit_id)
         .outerjoin(i, i.id == e.incident_id)
         .outerjoin(User, User.id == i.assignee_id)
         .outerjoin(at, at.id == i.assignee_unit_id)
         .where(_in_subtree(unit)).order_by(RiskEvent.first_day.desc(), RiskEvent.id.desc())
         .limit(limit))
    if states:
        q = q.where(RiskEvent.state.in_(states))
    if start:
        q = q.where(RiskEvent.last_day >= start)
    if end:
        q = q.where(RiskEvent.first_day <= end)
    rows = [(*row[:21], row[21], _assignee(row[22], row[23], row[24]),
             row[25] if row[21] is not None else 1, row[26])
            for row in session.execute(q).all()]
    frame = pd.DataFrame(rows, columns=EVENT_COLUMNS[:-1])
    # an id or None (an event not yet grouped), never a float
    frame["incident"] = pd.Series([r[21] for r in rows], index=frame.index, dtype=object)
    return frame


def _assignee(username: str | None, role: str | None, unit_code: str | None) -> str | None:
    """Who an incident is assigned to, as text: a user's name, or "<role>@<unit code>"."""
    if username:
        return username
    if role and unit_code:
        return f"{role}@{unit_code}"
    return None


EVENT_COLUMNS = ["id", "rule", "rule_zh", "rule_en", "rule_type", "core", "severity", "unit",
                 "unit_zh", "unit_en", "carrier", "kpi", "date", "last_day", "value", "threshold",
                 "worst_day", "worst_value", "worst_threshold", "state", "deadline", "incident",
                 "assignee", "units", "unit_tier", "overdue"]


def by_incident(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per incident of an `events` frame: its highest unit's event (the earliest of
    those on a tie), in the frame's order of those rows; an event of no incident is a row of its
    own. `units` stays the incident's count of units."""
    if frame.empty:
        return frame
    key = frame["incident"].where(frame["incident"].notna(), -frame["id"])
    ranked = frame.assign(_key=key.astype("int64"), _pos=range(len(frame)))
    lead = (ranked.sort_values(["_key", "unit_tier", "date", "id"])
            .drop_duplicates("_key").sort_values("_pos"))
    return lead.drop(columns=["_key", "_pos"])


def incident_counts(frame: pd.DataFrame) -> dict[str, int]:
    """How many incidents the events of an `events` frame belong to, and at how many units they
    are (`incidents`, `units`)."""
    if frame.empty:
        return {"incidents": 0, "units": 0}
    key = frame["incident"].where(frame["incident"].notna(), -frame["id"])
    return {"incidents": int(key.nunique()), "units": int(frame["unit"].nunique())}


def event_detail(session: Session, event_id: int, scope: Scope | None = None):
    """Return (event, its steps in order), or None when there is no such event."""
    event = session.get(RiskEvent, event_id)
    if event is None:
        return None
    enforce(scope, event.unit)
    steps = session.scalars(select(RiskEventStep).where(RiskEventStep.event_id == event_id)
                            .order_by(RiskEventStep.at, RiskEventStep.id)).all()
    return event, steps


# The days of a KPI shown around an event: three weeks before it, one week after (to today).
AROUND_BEFORE, AROUND_AFTER = dt.timedelta(days=21), dt.timedelta(days=7)


def kpi_around(session: Session, event: RiskEvent, today: dt.date) -> pd.DataFrame:
    """The event's KPI by day at its unit (and carrier) from three weeks before the event to a week
    after it, or to `today` if sooner (compute's rows: period, kpi, value...)."""
    assert event.rule.kpi is not None
    return compute(session, [event.rule.kpi], event.unit, event.first_day - AROUND_BEFORE,
                   min(event.last_day + AROUND_AFTER, today),
                   [event.carrier] if event.carrier else None, by="day")


def scan_coverage(session: Session) -> list[tuple[dt.date, dt.date]]:
    """The days the risk scan covered for every unit, as disjoint ranges (first, last) in order:
    the union of the days of the finished runs over every unit (a run over some units, an
    import's, covers no day: the other units' events were not looked for)."""
    rows = session.execute(
        select(RiskScanRun.first_day, RiskScanRun.last_day)
        .where(RiskScanRun.all_units.is_(True), RiskScanRun.finished_at.is_not(None),
               RiskScanRun.skipped == 0,
               RiskScanRun.first_day <= RiskScanRun.last_day)
        .group_by(RiskScanRun.first_day, RiskScanRun.last_day)
        .order_by(RiskScanRun.first_day, RiskScanRun.last_day)).all()
    merged: list[tuple[dt.date, dt.date]] = []
    for first, last in rows:
        if merged and first.toordinal() <= merged[-1][1].toordinal() + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def covers(coverage: list[tuple[dt.date, dt.date]], start: dt.date, end: dt.date) -> bool:
    """Whether every day from `start` to `end` lies in the coverage (one range holds them all)."""
    return any(first <= start and end <= last for first, last in coverage)


def unscanned_months(session: Session, start: dt.date, end: dt.date) -> list[dt.date]:
    """The months from `start` to `end` that the scan did not wholly cover, each from its first
    day to its last (the last month up to `end`)."""
    coverage = scan_coverage(session)
    return [first for first in months_between(start, end)
            if not covers(coverage, first, min(month_end(first), end))]


def closed_on_time(session: Session, unit: OrgUnit, start: dt.date, end: dt.date,
                   as_of: dt.datetime, unscanned: Collection[dt.date] | None = None
                   ) -> dict[dt.date, float | None]:
    """Per month: the share of the subtree's events due that month (by `as_of`) that were
    resolved by their deadline, or 1.0 when none was due. A month the scan did not wholly cover
    (up to `end`) is unknown (None): events it would have found are missing, so neither a share
    nor "none due" can be told. `unscanned`: those months, when the caller has them already."""
    unknown = set(unscanned_months(session, start, end) if unscanned is None else unscanned)
    rows = session.execute(
        select(RiskEvent.deadline, RiskEvent.resolved_at)
        .join(OrgUnit, OrgUnit.id == RiskEvent.unit_id)
        .where(_in_subtree(unit), RiskEvent.deadline >= dt.datetime.combine(start, dt.time()),
               RiskEvent.deadline < dt.datetime.combine(end + dt.timedelta(days=1), dt.time()),
               RiskEvent.deadline <= as_of)).all()
    out: dict[dt.date, float | None] = {}
    for first in months_between(start, end):
        due = [(d, r) for d, r in rows if month_start(d.date()) == first]
        if first in unknown:
            out[first] = None
        elif due:
            out[first] = sum(1 for d, r in due if r is not None and r <= d) / len(due)
        else:
            out[first] = 1.0
    return out


def closed_on_time_by_child(session: Session, unit: OrgUnit, kids: list[OrgUnit], first: dt.date,
                            end: dt.date, as_of: dt.datetime, unscanned: bool
                            ) -> dict[int, float | None]:
    """`closed_on_time(child, first, end, as_of)[first]` of each child (by id) of `unit`, for one
    month (`first` its first day, `end` in it; `unscanned`: the scan did not wholly cover it):
    one query grouped by the child's path, however many children."""
    if unscanned:
        return {k.id: None for k in kids}
    step = len(unit.path) + PATH_ID_WIDTH + 1
    child_path = func.substr(OrgUnit.path, 1, step)
    on_time = sql.case_count(RiskEvent.resolved_at.is_not(None)
                             & (RiskEvent.resolved_at <= RiskEvent.deadline))
    rows = {path: (due, kept) for path, due, kept in session.execute(
        select(child_path, func.count(), func.sum(on_time))
        .select_from(RiskEvent).join(OrgUnit, OrgUnit.id == RiskEvent.unit_id)
        .where(_in_subtree(unit), RiskEvent.deadline >= dt.datetime.combine(first, dt.time()),
               RiskEvent.deadline < dt.datetime.combine(end + dt.timedelta(days=1), dt.time()),
               RiskEvent.deadline <= as_of)
        .group_by(child_path))}
    out: dict[int, float | None] = {}
    for k in kids:
        due, kept = rows.get(k.path, (0, 0))
        out[k.id] = float(kept or 0) / due if due else 1.0
    return out


def _incident_key():
    """An event's incident, or (not yet grouped) the event itself, as one distinct number."""
    return func.coalesce(RiskEvent.incident_id, -RiskEvent.id)


def open_counts(session: Session, unit: OrgUnit, now: dt.datetime,
                scope: Scope | None = None) -> dict[str, int]:
    """How many incidents have an event in the subtree not yet resolved (`open`), how many of
    those have one past its deadline (`overdue`), and how many units of the subtree have an
    event not yet resolved (`units`)."""
    enforce(scope, unit)
    key = _incident_key()
    late = case((RiskEvent.deadline < now, key), else_=None)
    row = session.execute(
        select(func.count(distinct(key)), func.count(distinct(late)),
               func.count(distinct(RiskEvent.unit_id)))
        .select_from(RiskEvent).join(OrgUnit, OrgUnit.id == RiskEvent.unit_id)
        .where(_in_subtree(unit), RiskEvent.state.not_in(DONE))).one()
    return {"open": int(row[0] or 0), "overdue": int(row[1] or 0), "units": int(row[2] or 0)}


def heat_by_child_and_core(session: Session, unit: OrgUnit, start: dt.date, end: dt.date,
                           now: dt.datetime, scope: Scope | None = None) -> pd.DataFrame:
    """Incidents with an event touching [start, end], counted per child unit and core (column
    `events`): an incident whose events lie in two children counts in both; the unit's own
    (events at the unit itself, not in a child's subtree) under the unit's own code.

    Counted in the database, grouped by the child's path (a child's path is the unit's and one
    fixed-width step): every incident, however many (a list of events stops at its limit)."""
    enforce(scope, unit)
    step = len(unit.path) + PATH_ID_WIDTH + 1
    child_path = func.substr(OrgUnit.path, 1, step)
    rows = session.execute(
        select(child_path, RiskRule.core, func.count(distinct(_incident_key())))
        .select_from(RiskEvent).join(RiskRule, RiskRule.id == RiskEvent.rule_id)
        .join(OrgUnit, OrgUnit.id == RiskEvent.unit_id)
        .where(_in_subtree(unit), RiskEvent.last_day >= start, RiskEvent.first_day <= end)
        .group_by(child_path, RiskRule.core)).all()
    if not rows:
        return pd.DataFrame(columns=["child", "core", "events"])
    kids = dict(session.execute(select(OrgUnit.path, OrgUnit.code).where(
        OrgUnit.parent_id == unit.id)).all())
    frame = pd.DataFrame([(kids.get(path, unit.code), core, n) for path, core, n in rows],
                         columns=["child", "core", "events"])
    return frame.groupby(["child", "core"])["events"].sum().reset_index()


def open_trend(session: Session, unit: OrgUnit, start: dt.date, end: dt.date,
               scope: Scope | None = None) -> pd.DataFrame:
    """Per day: events not yet resolved at the end of the day, and how many were overdue.

    An event is open at the end of each day from the day it was created up to the day before it
    was resolved, and overdue from the day its deadline passed (or it was created, if later) up
    to the same day. The database counts the events starting and ending each span by day (a few
    hundred rows however many events); the days are then a running sum."""
    enforce(scope, unit)
    dialect = session.get_bind().dialect.name
    created, deadline, resolved = (_day(c, dialect) for c in (
        RiskEvent.created_at, RiskEvent.deadline, RiskEvent.resolved_at))
    overdue_from = (func.greatest if dialect == "postgresql" else func.max)(created, deadline)
    where = (_in_subtree(unit), RiskEvent.created_at
             < dt.datetime.combine(end + dt.timedelta(days=1), dt.time()))

    def by_day(day_expr, *more) -> dict[dt.date, int]:
        stmt = (select(day_expr, func.count()).select_from(RiskEvent)
                .join(OrgUnit, OrgUnit.id == RiskEvent.unit_id).where(*where, *more)
                .group_by(day_expr))
        return {day: n for d, n in session.execute(stmt) if (day := sql.as_date(d)) is not None}

    done = RiskEvent.resolved_at.is_not(None)
    late = or_(RiskEvent.resolved_at.is_(None), overdue_from < resolved)
    opened, closed = by_day(created), by_day(resolved, done)
    overdue_in, overdue_out = by_day(overdue_from, late), by_day(resolved, done, overdue_from < resolved)
    out, live, overdue = [], 0, 0
    for d in sorted({*opened, *closed, *overdue_in, *overdue_out}):
        if d >= start:
            break
        live += opened.get(d, 0) - closed.get(d, 0)
        overdue += overdue_in.get(d, 0) - overdue_out.get(d, 0)
    day = start
    while day <= end:
        live += opened.get(day, 0) - closed.get(day, 0)
        overdue += overdue_in.get(day, 0) - overdue_out.get(day, 0)
        out.append({"day": day, "open": live, "overdue": overdue})
        day += dt.timedelta(days=1)
    return pd.DataFrame(out, columns=["day", "open", "overdue"])


def _day(column, dialect: str):
    """The calendar day of a (naive) timestamp column."""
    return cast(column, Date) if dialect == "postgresql" else func.date(column)


def month_counts(session: Session, unit: OrgUnit, start: dt.date, end: dt.date,
                 scope: Scope | None = None) -> pd.DataFrame:
    """Risk events of the subtree in `start`..`end` by core, with a total row (core None): opened
    (created in the range), closed (resolved in the range), closed on time (of those, by their
    deadline), and at the end of the range still open and, of those, overdue (deadline passed)."""
    enforce(scope, unit)
    begin = dt.datetime.combine(start, dt.time())
    stop = dt.datetime.combine(end + dt.timedelta(days=1), dt.time())
    rows = session.execute(
        select(RiskRule.core, RiskEvent.created_at, RiskEvent.resolved_at, RiskEvent.deadline)
        .select_from(RiskEvent).join(RiskRule, RiskRule.id == RiskEvent.rule_id)
        .join(OrgUnit, OrgUnit.id == RiskEvent.unit_id)
        .where(_in_subtree(unit), RiskEvent.created_at < stop,
               or_(RiskEvent.resolved_at.is_(None), RiskEvent.resolved_at >= begin))).all()
    counts: dict[str | None, dict[str, int]] = {}
    keys = ("opened", "closed", "closed_on_time", "open_at_end", "overdue_at_end")
    for core, created, resolved, deadline in rows:
        for key in (core, None):
            c = counts.setdefault(key, dict.fromkeys(keys, 0))
            c["opened"] += begin <= created < stop
            done = resolved is not None and resolved < stop
            c["closed"] += done
            c["closed_on_time"] += resolved is not None and resolved < stop and resolved <= deadline
            c["open_at_end"] += not done
            c["overdue_at_end"] += not done and deadline < stop
    counts.setdefault(None, dict.fromkeys(keys, 0))
    frame = pd.DataFrame([{"core": core, **c} for core, c in counts.items()],
                         columns=["core", *keys])
    return frame.astype(object).where(frame.notna(), None)
