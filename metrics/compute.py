"""Compute KPIs for a unit's subtree over a date range, aggregated in the database.

`compute(session, kpis, unit, start, end, carriers=None, by=None)` returns a DataFrame with the key
of `by` (`unit`, `carrier`, `core` or `period`), `kpi`, `value`, `numerator` and `denominator`.

One SQL query per source touched, grouped in the database over the subtree (found through the
indexed materialised path). Ratios are sum(numerator) / sum(denominator) over the whole selection;
levels (stocks, monthly actives) take each outlet's level on its last day (month) with data in the
range, then add up over outlets; a missing or zero denominator gives None, never 0. For ratios
with a scale (per 10k), `value` = scale x numerator / denominator.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import ColumnElement, FromClause, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from data.clock import month_start
from data.models import OUTLET_TIER, Carrier, OrgUnit
from data.units import subtree_bounds
from metrics import rollups, sql
from metrics.cache import bypass, cached, per_transaction
from metrics.registry import REGISTRY, SOURCES, Kpi, Measure
from metrics.scope import Scope, enforce

BY_OPTIONS = ("child", "carrier", "core", "day", "week", "month")
BY_KEY = {"child": "unit", "carrier": "carrier", "core": "core", "day": "period", "week": "period",
          "month": "period"}
EVERY_KEY = "*"  # a measure with no split by the grouping serves every key (customers by carrier)

Values = dict[str, dict[object, float | None]]
_facts_only: ContextVar[bool] = ContextVar("compute_facts_only", default=False)


@contextlib.contextmanager
def facts_only() -> Iterator[None]:
    """Compute inside from the fact tables alone, never from roll-ups nor the cache (the reference
    path the optimised one is tested against)."""
    token = _facts_only.set(True)
    try:
        with bypass():
            yield
    finally:
        _facts_only.reset(token)


@dataclass(frozen=True)
class Selection:
    """What is measured: a unit's subtree, a date range, and the carriers (None = all together)."""

    unit: OrgUnit
    start: dt.date
    end: dt.date
    carriers: tuple[str, ...] | None
    group: str | None  # child, carrier, day, week, month or None
    carrier_ids: dict[str, int]
    use_rollups: bool = False

    @property
    def all_carriers(self) -> bool:
        """Whether no carrier filter applies (none given, or every carrier given)."""
        return self.carriers is None or set(self.carriers) >= set(self.carrier_ids)


@cached("facts")
def compute(session: Session, kpis: Sequence[str], unit: OrgUnit, start: dt.date, end: dt.date,
            carriers: Sequence[str] | None = None, by: str | None = None,
            scope: Scope | None = None) -> pd.DataFrame:
    """Compute `kpis` for `unit`'s subtree from `start` to `end` (both inclusive), grouped `by`.

    With a `scope`, a unit outside it raises OutOfScope before anything is read.
    """
    enforce(scope, unit)
    if by is not None and by not in BY_OPTIONS:
        raise ValueError(f"by must be one of {', '.join(BY_OPTIONS)}; got {by!r}")
    chosen = [REGISTRY[k] for k in kpis]
    carrier_ids = per_transaction(session, "carrier_ids", lambda: dict(session.execute(
        select(Carrier.code, Carrier.id)).all()))
    unknown = [c for c in carriers or () if c not in carrier_ids]
    if unknown:
        raise ValueError(f"unknown carrier(s): {', '.join(unknown)}")
    sel = Selection(unit, start, end, tuple(carriers) if carriers else None,
                    None if by == "core" else by, carrier_ids, rollups_usable(session, unit))
    needed: dict[str, list[Measure]] = {}
    for kpi in chosen:
        for m in kpi.measures:
            src = answering_source(m, sel)
            if src is not None and m not in needed.setdefault(src, []):
                needed[src].append(m)
    values: Values = {}
    for src, measures in needed.items():
        values.update(_query_source(session, src, measures, sel))
    return _assemble(session, chosen, sel, by, values)


def rollups_usable(session: Session, unit: OrgUnit) -> bool:
    """Whether roll-ups may answer for `unit` (built, not an outlet, not inside `facts_only`)."""
    return (not _facts_only.get() and unit.tier != OUTLET_TIER
            and per_transaction(session, "rollups_built", lambda: rollups.built(session)))


def answering_source(m: Measure, sel: Selection) -> str | None:
    """Return the source that answers a measure in this selection, or None if none can exactly.

    Distinct actives come from the all-carriers table unless the view is per carrier (grouped by
    carrier, or one carrier selected): adding several carriers' actives would count people twice.
    """
    if m.source != "actives_total":
        return m.source
    if sel.group == "carrier":
        return "actives"
    if sel.all_carriers:
        return "actives_total"
    assert sel.carriers is not None
    return "actives" if len(sel.carriers) == 1 else None


# -- SQL -----------------------------------------------------------------------------------------


def _query_source(session: Session, source_name: str, measures: list[Measure],
                  sel: Selection) -> Values:
    """Run one grouped query over a source; return {label: {group key: value}}."""
    source = SOURCES[source_name]
    labels = [label(source_name, m) for m in measures]
    if sel.group == "carrier" and source.carrier_column is None:
        whole = Selection(sel.unit, sel.start, sel.end, sel.carriers, None, sel.carrier_ids,
                          sel.use_rollups)
        totals = _query_source(session, source_name, measures, whole)
        return {lab: {EVERY_KEY: vals.get(None)} for lab, vals in totals.items()}
    if source.monthly and sel.group in ("day", "week"):
        return {lab: {} for lab in labels}  # monthly data has no daily or weekly values
    if sel.use_rollups and source_name in rollups.SPECS:
        from metrics.rollup_reads import query_rollup

        answer = query_rollup(session, source_name, measures, labels, sel)
        if answer is not None:
            return answer

    t = sql.table(source.table)
    ou = OrgUnit.__table__.alias("ou")
    low, high = subtree_bounds(sel.unit.path)
    date_col = t.c[source.date_column]
    start = month_start(sel.start) if source.monthly else sel.start
    where: list[ColumnElement[bool]] = [ou.c.path >= low, ou.c.path < high,
                                        date_col >= start, date_col <= sel.end]
    if source.carrier_column and not sel.all_carriers:
        assert sel.carriers is not None
        where.append(t.c[source.carrier_column].in_([sel.carrier_ids[c] for c in sel.carriers]))
    key = _group_key(session, sel, t, ou, source, session.get_bind().dialect.name)
    exprs = [_measure_expr(t, m).label(lab) for m, lab in zip(measures, labels, strict=True)]
    base = t.join(ou, ou.c.id == t.c.unit_id)
    keyed = [key.label("k")] if key is not None else []

    if source.rollup == "flow":
        stmt = select(*keyed, *[func.sum(e).label(e.name) for e in exprs]).select_from(base)
        stmt = stmt.where(*where)
    else:
        # Levels: each outlet's (and carrier's) rows on its last date in the range or period.
        partition = [t.c.unit_id]
        if source.carrier_column:
            partition.append(t.c[source.carrier_column])
        if sel.group in ("day", "week", "month"):
            partition.append(key)
        inner = (select(*keyed, date_col.label("d"),
                        func.max(date_col).over(partition_by=partition).label("last_d"), *exprs)
                 .select_from(base).where(*where).subquery("levels"))
        stmt = select(*([inner.c.k] if key is not None else []),
                      *[func.sum(inner.c[lab]).label(lab) for lab in labels]
                      ).where(inner.c.d == inner.c.last_d)
        key = inner.c.k if key is not None else None
    if key is not None:
        stmt = stmt.group_by(key if source.rollup != "flow" else stmt.selected_columns.k)

    out: Values = {lab: {} for lab in labels}
    for row in session.execute(stmt).mappings():
        k = _normalise_key(row["k"], sel.group) if key is not None else None
        if key is not None and k is None:
            continue
        for lab in labels:
            v = row[lab]
            out[lab][k] = float(v) if v is not None else None
    if source.rollup == "level" and not source.monthly and sel.group == "day":
        add_carried(out, carried_levels(session, source_name, measures, labels, sel))
    return out


def carried_levels(session: Session, source_name: str, measures: list[Measure], labels: list[str],
                   sel: Selection, days: Sequence[dt.date] | None = None) -> Values:
    """A daily stock's carry-forward: on each day some outlet of the subtree reported (of `days`
    if given), the sum over the outlets that did NOT report that day of their level on their last
    day with data before it in the range. An outlet loaded a day late keeps its last known level
    instead of dropping out of the day's total (DOMAIN.md: the last day that has data).

    One query: each outlet's rows with the day of its next row (LEAD); a row followed by a gap
    carries over every day strictly inside the gap (and a last row over every later day).
    """
    source = SOURCES[source_name]
    t = sql.table(source.table)
    ou = OrgUnit.__table__.alias("ou")
    low, high = subtree_bounds(sel.unit.path)
    date_col = t.c[source.date_column]
    exprs = [_measure_expr(t, m).label(lab) for m, lab in zip(measures, labels, strict=True)]
    rows = (select(t.c.unit_id, date_col.label("d"),
                   func.lead(date_col).over(partition_by=t.c.unit_id, order_by=date_col)
                   .label("next_d"), *exprs)
            .select_from(t.join(ou, ou.c.id == t.c.unit_id))
            .where(ou.c.path >= low, ou.c.path < high, date_col >= sel.start,
                   date_col <= (max(days) if days else sel.end))
            .cte("stock_rows"))
    dialect = session.get_bind().dialect.name
    gaps = select(rows).where(or_(rows.c.next_d.is_(None),
                                  rows.c.next_d > sql.day_after(rows.c.d, dialect))).subquery("gaps")
    reported = select(rows.c.d.label("day")).distinct()
    if days is not None:
        reported = reported.where(rows.c.d.in_(list(days)))
    on = reported.subquery("reported")
    stmt = (select(on.c.day.label("k"), *[func.sum(gaps.c[lab]).label(lab) for lab in labels])
            .select_from(on.join(gaps, and_(gaps.c.d < on.c.day, or_(
                gaps.c.next_d.is_(None), gaps.c.next_d > on.c.day))))
            .group_by(on.c.day))
    out: Values = {lab: {} for lab in labels}
    for row in session.execute(stmt).mappings():
        for lab in labels:
            if row[lab] is not None:
                out[lab][sql.as_date(row["k"])] = float(row[lab])
    return out


def add_carried(values: Values, carried: Values) -> None:
    """Add a carry-forward (see `carried_levels`) onto the days' reported levels."""
    for lab, by_day in carried.items():
        for day, v in by_day.items():
            have = values[lab].get(day)
            if v is not None:
                values[lab][day] = v if have is None else have + v


def _group_key(session: Session, sel: Selection, t, ou, source, dialect: str):
    if sel.group is None:
        return None
    if sel.group == "child":
        kids = session.execute(select(OrgUnit.id, OrgUnit.path).where(
            OrgUnit.parent_id == sel.unit.id)).all()
        if not kids:
            return literal(None)
        return case(*[(and_(ou.c.path >= subtree_bounds(p)[0], ou.c.path < subtree_bounds(p)[1]),
                       uid) for uid, p in kids], else_=None)
    if sel.group == "carrier":
        return t.c[source.carrier_column]
    return sql.period_expr(t.c[source.date_column], sel.group, dialect, source.monthly)


def _measure_expr(t, m: Measure):
    value = t.c[m.column] if m.column else literal(1)
    if m.filter is None:
        return value
    return case((sql.filter_expr(t, m.filter), value), else_=0)


def _normalise_key(k, group: str | None):
    if group in ("day", "week", "month"):
        return sql.as_date(k)
    return k


def label(source_name: str, m: Measure) -> str:
    """Return the SQL label of a measure read from a source."""
    return f"{source_name}__{m.column or 'rows'}__{m.filter or 'all'}"


# -- assembling rows -----------------------------------------------------------------------------


def _assemble(session: Session, chosen: list[Kpi], sel: Selection, by: str | None,
              values: Values) -> pd.DataFrame:
    key_name = BY_KEY.get(by) if by else None
    if sel.group is None:
        keys: list = [None]
    else:
        found = {k for vals in values.values() for k in vals if k != EVERY_KEY}
        keys = sorted(found, key=str)
    show = _key_display(session, sel, keys)
    rows = []
    for kpi in chosen:
        if sel.group == "carrier" and not kpi.splits_by_carrier:
            continue
        for k in keys:
            num = _lookup(values, kpi.numerator, sel, k)
            den = _lookup(values, kpi.denominator, sel, k) if kpi.denominator else None
            if num is None and den and SOURCES[kpi.numerator.source].events:
                num = 0.0  # the unit had customers then, and no work order came in
            if kpi.denominator is None:
                value = num
            else:
                value = kpi.scale * num / den if (num is not None and den) else None
            row: dict[str, object] = {"kpi": kpi.id, "value": value, "numerator": num,
                                      "denominator": den}
            if by == "core":
                row = {"core": kpi.core, **row}
            elif key_name:
                row = {key_name: show.get(k, k), **row}
            rows.append(row)
    columns = ([key_name] if key_name else []) + ["kpi", "value", "numerator", "denominator"]
    return pd.DataFrame(rows, columns=columns, dtype=object)  # None stays None, floats stay floats


def _lookup(values: Values, m: Measure, sel: Selection, k) -> float | None:
    src = answering_source(m, sel)
    if src is None:
        return None
    vals = values.get(label(src, m), {})
    return vals[EVERY_KEY] if EVERY_KEY in vals else vals.get(k)


def _key_display(session: Session, sel: Selection, keys: list) -> dict:
    if sel.group == "carrier":
        return {v: k for k, v in sel.carrier_ids.items()}
    if sel.group == "child" and keys:
        return dict(session.execute(select(OrgUnit.id, OrgUnit.code).where(
            OrgUnit.id.in_([k for k in keys if k is not None]))).all())
    return {}


# -- by period and carrier -----------------------------------------------------------------------


@cached("facts")
def compute_by_period_and_carrier(session: Session, kpis: Sequence[str], unit: OrgUnit,
                                  start: dt.date, end: dt.date, grain: str,
                                  carriers: Sequence[str], scope: Scope | None = None
                                  ) -> pd.DataFrame:
    """`kpis` by `grain` (day, week or month) for each of `carriers` alone, in one query per
    source: the rows of `compute(..., [carrier], by=grain)` for each carrier, with a `carrier`
    column. For KPIs of flows that are kept by carrier (transactions, payments...), whose values
    per carrier add up over units, days and carriers; any other KPI raises ValueError."""
    enforce(scope, unit)
    if grain not in ("day", "week", "month"):
        raise ValueError(f"grain must be day, week or month; got {grain!r}")
    chosen = [REGISTRY[k] for k in kpis]
    for kpi in chosen:
        for m in (kpi.numerator, kpi.denominator):
            source = SOURCES[m.source] if m is not None else None
            if source is not None and (source.rollup != "flow" or source.carrier_column is None):
                raise ValueError(f"{kpi.id} is not a flow kept by carrier")
    carrier_ids = per_transaction(session, "carrier_ids", lambda: dict(session.execute(
        select(Carrier.code, Carrier.id)).all()))
    unknown = [c for c in carriers if c not in carrier_ids]
    if unknown:
        raise ValueError(f"unknown carrier(s): {', '.join(unknown)}")
    sel = Selection(unit, start, end, tuple(carriers), grain, carrier_ids,
                    rollups_usable(session, unit))
    needed: dict[str, list[Measure]] = {}
    for kpi in chosen:
        for m in kpi.measures:
            if m not in needed.setdefault(m.source, []):
                needed[m.source].append(m)
    by_carrier: dict[str, Values] = {c: {} for c in carriers}
    for src, measures in needed.items():
        for code, values in _query_flow_by_carrier(session, src, measures, sel).items():
            by_carrier[code].update(values)
    parts = []
    for code in carriers:
        one = Selection(unit, start, end, (code,), grain, carrier_ids, sel.use_rollups)
        parts.append(_assemble(session, chosen, one, grain, by_carrier[code]).assign(carrier=code))
    if not parts:
        return pd.DataFrame(columns=["period", "kpi", "value", "numerator", "denominator",
                                     "carrier"])
    return pd.concat(parts, ignore_index=True)


def _query_flow_by_carrier(session: Session, source_name: str, measures: list[Measure],
                           sel: Selection) -> dict[str, Values]:
    """One grouped query of a flow source by period and carrier (from its roll-up when usable);
    {carrier code: {label: {period: value}}} for each carrier of the selection."""
    source = SOURCES[source_name]
    labels = [label(source_name, m) for m in measures]
    assert sel.group is not None and sel.carriers is not None
    dialect = session.get_bind().dialect.name
    read: list[ColumnElement] | None = None
    base: FromClause
    if sel.use_rollups and source_name in rollups.SPECS:
        from metrics.rollup_reads import flow_columns

        read = flow_columns(rollups.SPECS[source_name], measures)
    if read is not None:
        r = rollups.SPECS[source_name].table
        day, carrier = r.c.day, r.c.carrier_id
        where: list[ColumnElement[bool]] = [r.c.unit_id == sel.unit.id]
        exprs, base = read, r
    else:
        t = sql.table(source.table)
        ou = OrgUnit.__table__.alias("ou")
        low, high = subtree_bounds(sel.unit.path)
        assert source.carrier_column is not None
        day, carrier = t.c[source.date_column], t.c[source.carrier_column]
        where = [ou.c.path >= low, ou.c.path < high]
        exprs, base = [_measure_expr(t, m) for m in measures], t.join(ou, ou.c.id == t.c.unit_id)
    where += [day >= sel.start, day <= sel.end,
              carrier.in_([sel.carrier_ids[c] for c in sel.carriers])]
    period = sql.period_expr(day, sel.group, dialect)
    stmt = (select(period.label("k"), carrier.label("c"),
                   *[func.sum(e).label(lab) for e, lab in zip(exprs, labels, strict=True)])
            .select_from(base).where(*where).group_by(period, carrier))
    codes = {v: k for k, v in sel.carrier_ids.items()}
    out: dict[str, Values] = {c: {lab: {} for lab in labels} for c in sel.carriers}
    for row in session.execute(stmt).mappings():
        k = sql.as_date(row["k"])
        if k is None:
            continue
        for lab in labels:
            v = row[lab]
            out[codes[row["c"]]][lab][k] = float(v) if v is not None else None
    return out


# -- daily series of many units (the risk scan) ----------------------------------------------------

Series = dict[dt.date, tuple[float | None, float | None, float | None]]


def daily_series(session: Session, kpi_id: str, units: Sequence[OrgUnit], start: dt.date,
                 end: dt.date, carriers: Sequence[str] | None = None,
                 since: dt.date | None = None) -> dict[int, Series]:
    """For each of `units`, `kpi_id` by day from `since` (default `start`) to `end`: {unit id:
    {day: (value, numerator, denominator)}}, exactly the rows from `since` on of `compute(session,
    [kpi_id], unit, start, end, carriers, by="day")` for each unit (a stock's carry-forward of a
    late outlet's level starts from `start`), read in one grouped query per source for all of
    them (outlets from the facts, other units from their roll-ups) instead of one per unit.
    Where the roll-ups cannot answer, or cannot answer exactly, the units are read one by one.
    """
    kpi = REGISTRY[kpi_id]
    since = max(since or start, start)
    carrier_ids = per_transaction(session, "carrier_ids", lambda: dict(session.execute(
        select(Carrier.code, Carrier.id)).all()))
    unknown = [c for c in carriers or () if c not in carrier_ids]
    if unknown:
        raise ValueError(f"unknown carrier(s): {', '.join(unknown)}")
    if not units:
        return {}
    picked = tuple(carriers) if carriers else None
    values: dict[int, Values] = {u.id: {} for u in units}
    outlets = [u for u in units if u.tier == OUTLET_TIER]
    others = [u for u in units if u.tier != OUTLET_TIER]
    use_rollups = bool(others) and rollups_usable(session, others[0])
    one_by_one = set() if use_rollups else {u.id for u in others}
    probe = Selection(units[0], since, end, picked, "day", carrier_ids, use_rollups)
    needed: dict[str, list[Measure]] = {}
    for m in kpi.measures:
        src = answering_source(m, probe)
        if src is not None and m not in needed.setdefault(src, []):
            needed[src].append(m)
    for src, measures in needed.items():
        source = SOURCES[src]
        if source.monthly:  # no daily values
            continue
        read: list[dict[str, dict[int, dict[object, float | None]]]] = []
        if outlets:
            read.append(_outlet_days(session, source, measures, outlets, probe))
        if use_rollups and others:
            answer = _rollup_days(session, src, measures, others, probe, start)
            if answer is None:
                one_by_one = {u.id for u in others}
            else:
                read.append(answer)
        for got in read:
            for lab, by_unit in got.items():
                for uid, by_day in by_unit.items():
                    values[uid][lab] = by_day
    labels = [label(src, m) if m is not None and (src := answering_source(m, probe)) is not None
              else None for m in (kpi.numerator, kpi.denominator)]
    events = SOURCES[kpi.numerator.source].events
    out: dict[int, Series] = {}
    for u in units:
        if u.id in one_by_one:
            frame = compute(session, [kpi_id], u, start, end, carriers, by="day")
            out[u.id] = {r.period: (r.value, r.numerator, r.denominator)
                         for r in frame.itertuples() if r.period >= since}
            continue
        nums = values[u.id].get(labels[0] or "", {})
        dens = values[u.id].get(labels[1] or "", {}) if kpi.denominator else {}
        series: Series = {}
        for k in sorted(nums.keys() | dens.keys(), key=str):  # as `_assemble` makes rows by day
            num = nums.get(k)
            den = dens.get(k)
            if num is None and den and events:
                num = 0.0  # the unit had customers then, and no work order came in
            value = num if kpi.denominator is None else (
                kpi.scale * num / den if (num is not None and den) else None)
            series[k] = (value, num, den)  # type: ignore[index]
        out[u.id] = series
    return out


def _outlet_days(session: Session, source, measures: list[Measure], outlets: Sequence[OrgUnit],
                 sel: Selection) -> dict[str, dict[int, dict[object, float | None]]]:
    """Measures by outlet and day from the facts: {label: {outlet id: {day: value}}}. An
    outlet's subtree is itself: a level's day is its own row (no other outlet to carry forward),
    a flow's the sum of its rows."""
    t = sql.table(source.table)
    date_col = t.c[source.date_column]
    where: list[ColumnElement[bool]] = [date_col >= sel.start, date_col <= sel.end]
    if source.carrier_column and not sel.all_carriers:
        assert sel.carriers is not None
        where.append(t.c[source.carrier_column].in_([sel.carrier_ids[c] for c in sel.carriers]))
    labels = [label(source.name, m) for m in measures]
    sums = [func.sum(_measure_expr(t, m)) for m in measures]
    out: dict[str, dict[int, dict[object, float | None]]] = {
        lab: {u.id: {} for u in outlets} for lab in labels}
    days: dict = {}  # a stored day -> the date (SQLite hands back text)
    for chunk in _chunks([u.id for u in outlets]):
        stmt = (select(t.c.unit_id, date_col, *sums)
                .where(t.c.unit_id.in_(chunk), *where).group_by(t.c.unit_id, date_col))
        for uid, k, *vs in session.execute(stmt).all():  # all: fetchall, not row by row
            day = days.get(k) or days.setdefault(k, sql.as_date(k))
            for lab, v in zip(labels, vs, strict=True):
                out[lab][uid][day] = float(v) if v is not None else None
    return out


def _rollup_days(session: Session, source_name: str, measures: list[Measure],
                 units: Sequence[OrgUnit], sel: Selection, carry_from: dt.date
                 ) -> dict[str, dict[int, dict[object, float | None]]] | None:
    """Measures by unit and day from their roll-up (None: the roll-up does not hold them)."""
    from metrics.rollup_reads import daily_by_unit

    if source_name not in rollups.SPECS:
        return None
    return daily_by_unit(session, source_name, measures,
                         [label(source_name, m) for m in measures], units, sel, carry_from)


def _chunks(ids: list[int], size: int = 5000) -> Iterator[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i:i + size]
