"""Risk events as marks on KPI trend charts: per KPI and day, the events of a unit's subtree whose
rule watches that KPI, and the one a click on the mark opens."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
from sqlalchemy import Date, case, func, literal, or_, select
from sqlalchemy.orm import Session

from data.models import OrgUnit, RiskEvent, RiskRule
from data.units import subtree_bounds
from metrics import sql
from metrics.cache import cached
from metrics.scope import Scope, enforce

MARK_COLUMNS = ["kpi", "day", "event", "events", "incidents", "severity", "unit", "unit_zh", "unit_en",
                "rules_zh", "rules_en"]
SEVERITIES = ("low", "medium", "high")  # in rising order


def event_marks(session: Session, unit: OrgUnit, kpis: Sequence[str], start: dt.date,
                end: dt.date, scope: Scope | None, carriers: Sequence[str] | None = None
                ) -> pd.DataFrame:
    """Per KPI and day from `start` to `end`: the risk events of `unit`'s subtree on that day (an
    event is on every day from its first to its last) whose rule watches the KPI.

    Columns: `kpi`, `day`; `event`, the event a click opens (the one at the highest unit, then the
    most severe, then the first recorded); `events`, how many there are that day, `incidents` how
    many incidents they are (`risk.incidents`: an event not yet grouped counts as one); `severity`, the
    most severe of them; `unit`, `unit_zh`, `unit_en` of the opened event's unit; `rules_zh`,
    `rules_en`, the names of their rules, most severe first. `carriers`: only events of those
    carriers or of none (a rule over the KPI of every carrier). One row per KPI and day with events,
    in order of KPI and day.
    """
    enforce(scope, unit)
    if not kpis or end < start:
        return pd.DataFrame(columns=MARK_COLUMNS)
    return _marks(session, unit, tuple(kpis), start, end,
                  tuple(carriers) if carriers is not None else None)


@cached("risk")
def _marks(session: Session, unit: OrgUnit, kpis: tuple[str, ...], start: dt.date, end: dt.date,
           carriers: tuple[str, ...] | None) -> pd.DataFrame:
    """`event_marks`, counted and ranked in the database (cached until a risk event, step or rule
    changes)."""
    dialect = session.get_bind().dialect.name
    e, r = RiskEvent, RiskRule
    low, high = subtree_bounds(unit.path)
    rank = case((r.severity == "high", 3), (r.severity == "medium", 2), else_=1)
    where = [OrgUnit.path >= low, OrgUnit.path < high, r.kpi.in_(kpis), e.last_day >= start,
             e.first_day <= end]
    if carriers is not None:
        where.append(or_(e.carrier.is_(None), e.carrier.in_(carriers)))
    # Each event's days in the range, one row per event and day: a recursive walk from its first
    # day (or `start`) to its last (or `end`), so the work grows with the events' days, not with
    # events x days of the range (that join took 14 s for a year at 20,000 events on SQLite).
    greatest, least = ((func.greatest, func.least) if dialect == "postgresql"
                       else (func.max, func.min))
    walk = (select(e.id.label("event"), greatest(e.first_day, literal(start, Date)).label("day"),
                   least(e.last_day, literal(end, Date)).label("last"))
            .select_from(e).join(r, r.id == e.rule_id).join(OrgUnit, OrgUnit.id == e.unit_id)
            .where(*where).cte("mark_days", recursive=True))
    days = walk.union_all(select(walk.c.event, sql.day_after(walk.c.day, dialect), walk.c.last)
                          .where(walk.c.day < walk.c.last))

    def on_days(*columns):
        return (select(*columns).select_from(days).join(e, e.id == days.c.event)
                .join(r, r.id == e.rule_id).join(OrgUnit, OrgUnit.id == e.unit_id))

    # Each event's place in its incident that day (the first counts the incident once: a window
    # cannot count distinct values on PostgreSQL).
    events_on_days = on_days(
        r.kpi.label("kpi"), days.c.day.label("day"), e.id.label("event"), rank.label("rank"),
        OrgUnit.tier.label("tier"), e.first_day.label("first_day"), OrgUnit.code.label("unit"),
        OrgUnit.name_zh.label("unit_zh"), OrgUnit.name_en.label("unit_en"),
        func.row_number().over(partition_by=(r.kpi, days.c.day,
                                             func.coalesce(e.incident_id, -e.id)),
                               order_by=e.id).label("nth"),
    ).subquery()
    o = events_on_days.c
    per_day = (o.kpi, o.day)
    ranked = select(
        o.kpi, o.day, o.event,
        func.count().over(partition_by=per_day).label("events"),
        func.sum(case((o.nth == 1, 1), else_=0)).over(partition_by=per_day).label("incidents"),
        func.max(o.rank).over(partition_by=per_day).label("worst"),
        o.unit, o.unit_zh, o.unit_en,
        func.row_number().over(partition_by=per_day, order_by=(
            o.tier, o.rank.desc(), o.first_day, o.event)).label("place"),
    ).subquery()
    leads = session.execute(
        select(ranked.c.kpi, ranked.c.day, ranked.c.event, ranked.c.events, ranked.c.incidents,
               ranked.c.worst,
               ranked.c.unit, ranked.c.unit_zh, ranked.c.unit_en)
        .where(ranked.c.place == 1).order_by(ranked.c.kpi, ranked.c.day)).all()
    # The rules of each KPI and day (a few per day), most severe first, then by code. Asked even
    # when there are no marks: a page reads as many statements whatever its data.
    rules: dict[tuple[str, dt.date | None], list[tuple[str, str]]] = {}
    for kpi, day, zh, en in session.execute(
            on_days(r.kpi, days.c.day, r.name_zh, r.name_en)
            .group_by(r.kpi, days.c.day, r.id, r.code, r.name_zh, r.name_en, r.severity)
            .order_by(r.kpi, days.c.day, rank.desc(), r.code)):
        rules.setdefault((kpi, sql.as_date(day)), []).append((zh, en))
    rows = []
    for kpi, day, event, n, incidents, worst, code, unit_zh, unit_en in leads:
        names = rules[(kpi, sql.as_date(day))]
        rows.append((kpi, sql.as_date(day), int(event), int(n), int(incidents),
                     SEVERITIES[int(worst) - 1], code,
                     unit_zh, unit_en, "、".join(zh for zh, _ in names),
                     "; ".join(en for _, en in names)))
    return pd.DataFrame(rows, columns=MARK_COLUMNS) if rows else pd.DataFrame(columns=MARK_COLUMNS)
