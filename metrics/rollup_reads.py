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

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from data.models import OUTLET_TIER, OrgUnit
from data.rollups import SPECS, column_name
from data.units import subtree_bounds
from metrics import sql
from metrics.quality import month_end
from metrics.registry import Measure

if TYPE_CHECKING:
    from metrics.compute import Selection, Values


def query_rollup(session: Session, source_name: str, measures: list[Measure], labels: list[str],
                 sel: Selection) -> Values | None:
    """Read `measures` of `source_name` for the selection from its roll-up, or None (see above)."""
    spec = SPECS[source_name]
    r = spec.table
    columns = [column_name(m.column, m.filter) for m in measures]
    if any(c not in r.c for c in columns) or sel.unit.tier == OUTLET_TIER:
        return None
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
        stmt = select(*keyed, *[func.sum(r.c[c]).label(lab) for c, lab in zip(columns, labels,
                                                                           strict=True)]
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


def _levels(session: Session, r, columns: list[str], labels: list[str], sel: Selection,
            units: dict[int, str], where: list) -> Values | None:
    if sel.group in (None, "child"):
        where = [*where, r.c.day == sel.end]
    rows = session.execute(select(r.c.unit_id, r.c.day, r.c.outlets, *[r.c[c] for c in columns])
                           .where(*where)).all()
    out: Values = {lab: {} for lab in labels}
    if sel.group == "day":
        for row in rows:
            for c, lab in zip(columns, labels, strict=True):
                out[lab][sql.as_date(row.day)] = float(getattr(row, c))
        return out
    expected = _outlets(session, units)
    if sel.group in (None, "child"):
        found = {row.unit_id: row for row in rows}
        if set(found) != set(units) or any(found[u].outlets != expected[u] for u in units):
            return None
        for u, row in found.items():
            for c, lab in zip(columns, labels, strict=True):
                out[lab][u if sel.group == "child" else None] = float(getattr(row, c))
        return out
    # week or month: the row on each period's last day in the range, if everyone reported then
    by_day = {sql.as_date(row.day): row for row in rows}
    periods: dict[dt.date, list[dt.date]] = {}
    for d in by_day:
        assert d is not None
        periods.setdefault(_period(d, sel.group), []).append(d)
    (unit_id,) = units
    for first in periods:
        last = min(_period_end(first, sel.group), sel.end)
        at_last = by_day.get(last)
        if at_last is None or at_last.outlets != expected[unit_id]:
            return None
        for c, lab in zip(columns, labels, strict=True):
            out[lab][first] = float(getattr(at_last, c))
    return out


def _outlets(session: Session, units: dict[int, str]) -> dict[int, int]:
    """How many outlets each unit's subtree has."""
    out = {}
    for uid, path in units.items():
        low, high = subtree_bounds(path)
        out[uid] = session.scalar(select(func.count()).select_from(OrgUnit).where(
            OrgUnit.path >= low, OrgUnit.path < high, OrgUnit.tier == OUTLET_TIER)) or 0
    return out


def _period(day: dt.date, grain: str | None) -> dt.date:
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    return day.replace(day=1)


def _period_end(first: dt.date, grain: str | None) -> dt.date:
    if grain == "week":
        return first + dt.timedelta(days=6)
    return month_end(first)


def _normalise(k, group: str | None):
    return sql.as_date(k) if group in ("day", "week", "month") else k
