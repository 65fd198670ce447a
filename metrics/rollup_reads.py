"""Answer a source's measures from the roll-up tables, where that gives exactly the facts' answer.

`query_rollup` returns the same {label: {group key: value}} as reading the facts, or None when
the roll-ups cannot answer exactly, and the caller reads the facts:

- flows (sums, filtered counts) add up over units, days and carriers, so a unit's (or each
  child's) roll-up rows summed over the range and carriers equal the facts summed over the subtree;
- stocks take each outlet's level on its last day with data in the range (per period when grouped
  by week or month). A roll-up row is the sum over the outlets that reported that day, so it is the
  answer only on the range's (period's) last day and only when every outlet of the subtree reported
  then; by day every day is its own period, so the day's row is the answer. Otherwise: None.
- a unit that is an outlet, or a child grouping whose children are outlets, has no roll-up rows.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from data.clock import month_end, month_start
from data.models import OUTLET_TIER, OrgUnit
from data.units import subtree_bounds
from metrics import sql
from metrics.registry import Measure
from metrics.rollups import SPECS, column_name

if TYPE_CHECKING:
    from metrics.compute import Selection, Values


def query_rollup(session: Session, source_name: str, measures: list[Measure], labels: list[str],
                 sel: Selection) -> Values | None:
    """Read `measures` of `source_name` for the selection from its roll-up, or None (see above)."""
    spec = SPECS[source_name]
    r = spec.table
    read = [_column(spec, m) for m in measures]
    if any(e is None for e in read) or sel.unit.tier == OUTLET_TIER:
        return None
    columns = [column_name(m.column, m.filter) for m in measures]
    if sel.group == "child":
        kids = session.execute(select(OrgUnit.id, OrgUnit.tier, OrgUnit.path).where(
            OrgUnit.parent_id == sel.unit.id)).all()
        if not kids or any(k.tier == OUTLET_TIER for k in kids):
            return None
        units = {k.id: k.path for k in kids}
    else:
        units = {sel.unit.id: sel.unit.path}
    where: list[ColumnElement[bool]] = [r.c.unit_id.in_(list(units)), r.c.day >= sel.start,
                                        r.c.day <= sel.end]
    if spec.carrier and not sel.all_carriers:
        assert sel.carriers is not None
        where.append(r.c.carrier_id.in_([sel.carrier_ids[c] for c in sel.carriers]))
    dialect = session.get_bind().dialect.name
    if sel.group == "child":
        key = r.c.unit_id
    elif sel.group == "carrier":
        key = r.c.carrier_id
    elif sel.group in ("day", "week", "month"):
        key = sql.period_expr(r.c.day, sel.group, dialect)
    else:
        key = None
    if "outlets" not in r.c:  # a flow
        keyed = [key.label("k")] if key is not None else []
        stmt = select(*keyed, *[func.sum(e).label(lab) for e, lab in zip(read, labels, strict=True)]
                      ).where(*where)
        if key is not None:
            stmt = stmt.group_by(key)
        out: Values = {lab: {} for lab in labels}
        for row in session.execute(stmt).mappings():
            k = _normalise(row["k"], sel.group) if key is not None else None
            for lab in labels:
                v = row[lab]
                out[lab][k] = float(v) if v is not None else None
        return out
    return _levels(session, r, columns, labels, sel, units, where)


def flow_columns(spec, measures: list[Measure]) -> list[ColumnElement] | None:
    """The roll-up values summed for `measures` of a flow kept by carrier, or None when the roll-up
    does not hold one of them (or holds levels, or no carrier key)."""
    if "outlets" in spec.table.c or not spec.carrier:
        return None
    read = [_column(spec, m) for m in measures]
    return None if any(e is None for e in read) else [e for e in read if e is not None]


def _column(spec, m: Measure) -> ColumnElement | None:
    """The roll-up value summed for measure `m`, or None if the roll-up does not hold it. A filter
    on the carrier alone is applied to the row's carrier key (there is no filtered column)."""
    r = spec.table
    if spec.carrier and m.filter in sql.CARRIER_FILTERS:
        base = column_name(m.column, None)
        return case((sql.filter_expr(r, m.filter), r.c[base]), else_=0) if base in r.c else None
    name = column_name(m.column, m.filter)
    return r.c.get(name)


def _levels(session: Session, r, columns: list[str], labels: list[str], sel: Selection,
            units: dict[int, str], where: list) -> Values | None:
    out: Values = {lab: {} for lab in labels}
    if sel.group == "day":
        # The day's row sums the outlets that reported that day; on a day some did not (one loaded
        # late), their last known levels in the range are carried forward from the facts.
        (uid,) = units
        total = len(_outlets(session, units)[uid])
        partial_days: list[dt.date] = []
        for row in session.execute(select(r.c.day, r.c.outlets, *[r.c[c] for c in columns])
                                   .where(*where)):
            day = row.day if isinstance(row.day, dt.date) else dt.date.fromisoformat(row.day)
            for c, lab in zip(columns, labels, strict=True):
                out[lab][day] = float(getattr(row, c))
            if row.outlets < total:
                partial_days.append(day)
        if partial_days:
            from metrics.compute import add_carried, carried_levels

            add_carried(out, carried_levels(session, "stock", [
                Measure("stock", c) for c in columns], labels, sel, partial_days))
        return out
    # Each key's (unit's, period's) last day L: the outlets that reported on L are the roll-up
    # row of L; those that did not are read from the facts (their own last day before L).
    keys = _level_keys(sel, units)
    at = {(row.unit_id, sql.as_date(row.day)): row for row in session.execute(
        select(r.c.unit_id, r.c.day, r.c.outlets, *[r.c[c] for c in columns]).where(
            r.c.unit_id.in_(list(units)), r.c.day.in_({k[3] for k in keys})))}
    outlets = _outlets(session, units)
    short = [k for k in keys if (k[1], k[3]) not in at or at[(k[1], k[3])].outlets
             != len(outlets[k[1]])]
    if short:  # a period in which no outlet reported at all has no late outlet either
        days: dict[int, list[dt.date]] = {}
        for uid, day in session.execute(select(r.c.unit_id, r.c.day).distinct().where(
                r.c.unit_id.in_({k[1] for k in short}), r.c.day >= min(k[2] for k in short),
                r.c.day <= max(k[3] for k in short))):
            days.setdefault(uid, []).append(sql.as_date(day))  # type: ignore[arg-type]
        short = [k for k in short if any(k[2] <= d <= k[3] for d in days.get(k[1], ()))]
    late = _late_levels(session, columns, short, units)
    for key, unit_id, _first, last in keys:
        summed = at.get((unit_id, last))
        values: list[float | None] = [float(getattr(summed, c)) if summed is not None else None
                                      for c in columns]
        if (unit_id, last) in late:
            values = [_add(a, b) for a, b in zip(values, late[(unit_id, last)], strict=True)]
        if all(v is None for v in values):
            continue  # no outlet has data in the period: no key, as from the facts
        for v, lab in zip(values, labels, strict=True):
            out[lab][key] = v
    return out


def _level_keys(sel: Selection, units: dict[int, str]) -> list[tuple]:
    """(group key, unit id, first day, last day) of each unit or period the levels are taken in."""
    if sel.group == "child":
        return [(uid, uid, sel.start, sel.end) for uid in units]
    (uid,) = units
    if sel.group is None:
        return [(None, uid, sel.start, sel.end)]
    keys, first = [], _period(sel.start, sel.group)
    while first <= sel.end:
        keys.append((first, uid, max(first, sel.start), min(_period_end(first, sel.group), sel.end)))
        first = _period_end(first, sel.group) + dt.timedelta(days=1)
    return keys


def _late_levels(session: Session, columns: list[str], keys: list[tuple], units: dict[int, str]
                 ) -> dict[tuple[int, dt.date], list[float | None]]:
    """For each key (group key, unit, first, last) given: the sum over the unit's outlets with no
    stock row on `last` of their levels on their last day with data in [first, last].

    Two queries per range (all the children of a grouping by child share them): the database
    finds the outlets lacking the day (an anti-join on the facts' key; only those come back, not
    every outlet's row - HQ has over ten thousand outlets), then their last levels are read by
    their primary keys."""
    fact = sql.table("user_stock_daily")
    ranges: dict[tuple[dt.date, dt.date], dict[int, str]] = {}
    for _key, unit_id, first, last in keys:
        ranges.setdefault((first, last), {})[unit_id] = units[unit_id]
    out: dict[tuple[int, dt.date], list[float | None]] = {}
    for (first, last), wanted in ranges.items():
        low, high, width = _span(wanted)
        by_path = {p: uid for uid, p in wanted.items()}
        owner = {}
        for oid, path in session.execute(select(OrgUnit.id, OrgUnit.path).where(
                OrgUnit.path >= low, OrgUnit.path < high, OrgUnit.tier == OUTLET_TIER,
                ~select(fact.c.unit_id).where(fact.c.unit_id == OrgUnit.id, fact.c.day == last)
                .exists())):
            if path[:width] in by_path:
                owner[oid] = by_path[path[:width]]
        if not owner:
            continue
        inner = (select(fact.c.unit_id, fact.c.day.label("d"),
                        func.max(fact.c.day).over(partition_by=fact.c.unit_id).label("last_d"),
                        *[fact.c[c] for c in columns])
                 .where(fact.c.unit_id.in_(list(owner)), fact.c.day >= first, fact.c.day <= last)
                 .subquery("late"))
        for row in session.execute(select(inner.c.unit_id, *[inner.c[c] for c in columns])
                                   .where(inner.c.d == inner.c.last_d)):
            k = (owner[row.unit_id], last)
            have = out.get(k, [None] * len(columns))
            out[k] = [_add(a, None if getattr(row, c) is None else float(getattr(row, c)))
                      for a, c in zip(have, columns, strict=True)]
    return out


def _add(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else a + b


def _span(units: dict[int, str]) -> tuple[str, str, int]:
    """The path range holding the subtrees of `units` (one unit, or siblings: paths of one
    length) and that length."""
    paths = sorted(units.values())
    return paths[0], subtree_bounds(paths[-1])[1], len(paths[0])


def _outlets(session: Session, units: dict[int, str]) -> dict[int, set[int]]:
    """The outlets of each unit's subtree (one unit, or siblings), in one query."""
    low, high, width = _span(units)
    by_path = {p: uid for uid, p in units.items()}
    out: dict[int, set[int]] = {uid: set() for uid in units}
    for oid, path in session.execute(select(OrgUnit.id, OrgUnit.path).where(
            OrgUnit.path >= low, OrgUnit.path < high, OrgUnit.tier == OUTLET_TIER)):
        uid = by_path.get(path[:width])
        if uid is not None:
            out[uid].add(oid)
    return out


def _period(day: dt.date, grain: str | None) -> dt.date:
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    return month_start(day)


def _period_end(first: dt.date, grain: str | None) -> dt.date:
    if grain == "week":
        return first + dt.timedelta(days=6)
    return month_end(first)


def _normalise(k, group: str | None):
    return sql.as_date(k) if group in ("day", "week", "month") else k


def daily_by_unit(session: Session, source_name: str, measures: list[Measure], labels: list[str],
                  units, sel: Selection, carry_from: dt.date | None = None
                  ) -> dict[str, dict[int, dict[object, float | None]]] | None:
    """`measures` by unit and day for every one of `units` (none an outlet) in one grouped read
    of the roll-up: {label: {unit id: {day: value}}}, what `query_rollup` answers by day for each
    unit alone (levels with their carry-forward on the days some outlet did not report, for all
    the units in one more read, carried from `carry_from`: the first day of the range asked of
    `query_rollup`, by default the selection's). None when the roll-up lacks one of them."""
    from metrics.compute import _chunks, carried_by_unit

    spec = SPECS[source_name]
    r = spec.table
    read = [_column(spec, m) for m in measures]
    if any(e is None for e in read) or any(u.tier == OUTLET_TIER for u in units):
        return None
    where: list[ColumnElement[bool]] = [r.c.day >= sel.start, r.c.day <= sel.end]
    if spec.carrier and not sel.all_carriers:
        assert sel.carriers is not None
        where.append(r.c.carrier_id.in_([sel.carrier_ids[c] for c in sel.carriers]))
    out: dict[str, dict[int, dict[object, float | None]]] = {
        lab: {u.id: {} for u in units} for lab in labels}
    ids = [u.id for u in units]
    days: dict = {}  # a stored day -> the date (SQLite hands back text)
    if "outlets" not in r.c:  # a flow
        sums = [func.sum(e) for e in read if e is not None]
        for chunk in _chunks(ids):
            stmt = (select(r.c.unit_id, r.c.day, *sums)
                    .where(r.c.unit_id.in_(chunk), *where).group_by(r.c.unit_id, r.c.day))
            for uid, day, *vs in session.execute(stmt).all():  # all: fetchall, not row by row
                day = days.get(day) or days.setdefault(day, sql.as_date(day))
                for lab, v in zip(labels, vs, strict=True):
                    out[lab][uid][day] = float(v) if v is not None else None
        return out
    columns = [column_name(m.column, m.filter) for m in measures]
    total = _outlet_counts(session)
    partial: dict[int, list[dt.date]] = {}
    for chunk in _chunks(ids):
        for uid, stored, outlets, *vs in session.execute(
                select(r.c.unit_id, r.c.day, r.c.outlets, *[r.c[c] for c in columns])
                .where(r.c.unit_id.in_(chunk), *where)).all():
            day = days.get(stored) or days.setdefault(stored, sql.as_date(stored))
            assert day is not None
            for lab, v in zip(labels, vs, strict=True):
                out[lab][uid][day] = float(v)
            if outlets < total.get(uid, 0):
                partial.setdefault(uid, []).append(day)
    if partial:
        for uid, carried in carried_by_unit(session, source_name, columns, partial,
                                            carry_from or sel.start).items():
            for c, lab in zip(columns, labels, strict=True):
                for day, v in carried[c].items():
                    have = out[lab][uid].get(day)
                    out[lab][uid][day] = v if have is None else have + v
    return out


def _outlet_counts(session: Session) -> dict[int, int]:
    """How many outlets each unit's subtree holds (by the ids in the outlets' paths)."""
    counts: dict[int, int] = {}
    for (path,) in session.execute(select(OrgUnit.path).where(OrgUnit.tier == OUTLET_TIER)):
        for part in path.strip("/").split("/")[:-1]:
            uid = int(part)
            counts[uid] = counts.get(uid, 0) + 1
    return counts
