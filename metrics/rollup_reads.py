"""Answer a source's measures from the roll-up tables, where that gives exactly the facts' answer.

`query_rollup` returns the same {label: {group key: value}} as reading the facts, or None when
the roll-ups cannot answer exactly, and the caller reads the facts:

- flows (sums, filtered counts) add up over units, days and carriers, so a unit's (or each
  child's) roll-up rows summed over the range and carriers equal the facts summed over the subtree;
- stocks take each outlet's level on its last day with data in the range (per period when grouped
  by week or month; by day, on each day with data, carried from the range's first day). A roll-up
  row is the sum over the outlets that reported that day; the outlets that did not are added from
  `rollup_stock_gap` (the levels carried over their gaps), so the range's (period's, day's) last
  day's row plus the gaps begun in the range and not ended by that day is the answer.
- a unit that is an outlet, or a child grouping whose children are outlets, has no roll-up rows.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from data.clock import month_end, month_start
from data.models import OUTLET_TIER, OrgUnit, RollupStockGap
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
        # The day's row sums the outlets that reported that day; those that did not add the level
        # of the day their gap began, if it began in the range.
        (uid,) = units
        for row in session.execute(select(r.c.day, *[r.c[c] for c in columns]).where(*where)):
            day = sql.as_date(row.day)
            for c, lab in zip(columns, labels, strict=True):
                out[lab][day] = float(getattr(row, c))
        carried = carried_over_gaps(session, columns, [(uid, sel.start, d) for d in out[labels[0]]])
        for (_uid, _first, day), levels in carried.items():
            for v, lab in zip(levels, labels, strict=True):
                have = out[lab][day]
                out[lab][day] = v if have is None else have + v
        return out
    # Each key's (unit's, period's) last day L: the outlets that reported on L are the roll-up
    # row of L; those that did not add their level of the day their gap began, if in the period.
    keys = _level_keys(sel, units)
    at = {(row.unit_id, sql.as_date(row.day)): row for row in session.execute(
        select(r.c.unit_id, r.c.day, *[r.c[c] for c in columns]).where(
            r.c.unit_id.in_(list(units)), r.c.day.in_({k[3] for k in keys})))}
    carried = carried_over_gaps(session, columns, [(k[1], k[2], k[3]) for k in keys])
    for key, unit_id, first, last in keys:
        summed = at.get((unit_id, last))
        late = carried.get((unit_id, first, last))
        if summed is None and late is None:
            continue  # no outlet has data in the period: no key, as from the facts
        for i, (c, lab) in enumerate(zip(columns, labels, strict=True)):
            out[lab][key] = ((float(getattr(summed, c)) if summed is not None else 0.0)
                             + (late[i] if late is not None else 0.0))
    return out


def carried_over_gaps(session: Session, columns: list[str],
                      asks: list[tuple[int, dt.date, Any]]) -> dict[tuple, list[float]]:
    """For each (unit, first, day) asked: the sum over the units of the subtree with no stock row
    on `day` of their level on their last day with data in [first, day), by column; only where
    some unit is carried. One read of `rollup_stock_gap` (a gap begun on F and ended on U carries
    its levels over every day strictly between them)."""
    if not asks:
        return {}
    g = RollupStockGap.__table__
    rows: dict[int, list] = {}
    for row in session.execute(
            select(g.c.unit_id, g.c.day, g.c.until, *[g.c[c] for c in columns])
            .where(g.c.unit_id.in_({a[0] for a in asks}), g.c.day >= min(a[1] for a in asks),
                   g.c.day < max(a[2] for a in asks), g.c.until > min(a[2] for a in asks))).all():
        rows.setdefault(row[0], []).append((sql.as_date(row[1]), sql.as_date(row[2]), row[3:]))
    out: dict[tuple, list[float]] = {}
    for ask in asks:
        uid, first, day = ask
        sums: list[float] | None = None
        for began, until, levels in rows.get(uid, ()):
            if first <= began < day < until:  # type: ignore[operator]
                if sums is None:
                    sums = [0.0] * len(columns)
                for i, v in enumerate(levels):
                    sums[i] += float(v)
        if sums is not None:
            out[ask] = sums
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
    from metrics.compute import _chunks

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
    for chunk in _chunks(ids):
        for uid, stored, *vs in session.execute(
                select(r.c.unit_id, r.c.day, *[r.c[c] for c in columns])
                .where(r.c.unit_id.in_(chunk), *where)).all():
            day = days.get(stored) or days.setdefault(stored, sql.as_date(stored))
            for lab, v in zip(labels, vs, strict=True):
                out[lab][uid][day] = float(v)
    first = carry_from or sel.start
    for chunk in _chunks(ids):
        asks = [(uid, first, day) for uid in chunk for day in out[labels[0]][uid]]
        for (uid, _first, day), levels in carried_over_gaps(session, columns, asks).items():
            for lab, v in zip(labels, levels, strict=True):
                out[lab][uid][day] += v  # type: ignore[operator]
    return out
