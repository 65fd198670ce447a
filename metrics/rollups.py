"""Roll-up tables: the flow facts and user stocks pre-summed per non-outlet unit, day and carrier.

Which sources are rolled up, from which fact table and date column, with or without the carrier:
`metrics.registry` (`SOURCES`, `LOAD`, `rolled_up`); the measures are the roll-up table's columns.

A row of `rollup_channel` for unit U, day D and carrier C holds the sums of `channel_daily` over
every outlet of U's subtree on D and C (likewise content, campaign, work orders by day created and
by day closed; stocks per day with the count of outlets that reported). They are built bottom-up,
deepest units first: a unit's row sums its outlet children's facts, its own facts (if any) and its
non-outlet children's roll-up rows, so each fact row is read once.

`refresh` runs inside the transaction that wrote the facts (called by `data.changes.data_changed`):
the rows of the changed units' ancestors on the changed days are deleted and rebuilt; with no
units or no days given, all of them. `metrics.compute` reads a roll-up only when `built` says the
whole set is there, and only where it answers exactly what the facts answer.

A whole build (`build`: a seed, `init-db` after a migration, `flask --app app build-rollups`) runs
in chunks, one city's subtree (its counties, then the city) per transaction and the tiers above
the cities last, so no transaction grows with the store: a chunk reads its own outlets' facts
through the unit-leading indexes (chunks of days would re-read every fact table per chunk: five
times slower in total on the small demo). Until the last chunk is done `built` is false and the
metrics read the facts (exact, slower); the meta row `rollups_through` records the path of the
last city built, so an interrupted build continues where it stopped. Meanwhile `refresh` keeps the
units already built in step with new facts; the rest wait for their chunk (which reads the facts
as they are then). A chunk and a refresh of a pending build take the same row lock, so neither
works from the other's half-done state.

Stocks also keep `rollup_stock_gap` (see `data.models.RollupStockGap`): the levels of the units
that missed days, per day their gap began and day it ended, so a stock's carry-forward onto a day
is read from a few roll-up rows, not every outlet's stock rows. It is rebuilt with `rollup_stock`,
for the gaps that touch the changed days: those that begin on or before the last changed day and
end on or after the first (each unit's stock rows in the span, with its last row before the span
and its first after it, are enough to find them).

A roll-up table added to a store whose other roll-ups are built (a migration) is listed in the
meta row `rollups_pending`: `build` then builds that table alone, and `refresh` keeps the others
whole meanwhile.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    Date,
    Table,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from data.changes import register_rollups
from data.models import OPEN_GAP, OUTLET_TIER, ROLLUP_TABLES, Base, Meta, OrgUnit, RollupStockGap
from metrics.registry import LOAD, SOURCES, Source, rolled_up
from metrics.sql import day_after, filter_expr  # the same row filters the computations apply

BUILT_KEY = "rollups_built"
THROUGH_KEY = "rollups_through"  # path of the last chunk a pending build did ("" = none yet)
PENDING_KEY = "rollups_pending"  # tables a build is to build alone (comma-separated; none: all)
GAPS: Table = RollupStockGap.__table__  # type: ignore[assignment]
CHUNK_TIER = 3  # a chunk of a whole build: one unit of this tier (a city) and its subtree
KEYS = ("unit_id", "day", "carrier_id")


@dataclass(frozen=True)
class Spec:
    """How one source of `metrics.registry` (a KPI source, or `LOAD`, the data-load log that
    `metrics.quality` reads) is rolled up: into the table `rollup_<source>`."""

    of: Source
    rollup: type[Base]

    @property
    def source(self) -> str:
        return self.of.name

    @property
    def fact_table(self) -> str:
        return self.of.table

    @property
    def date_column(self) -> str:
        return self.of.date_column

    @property
    def carrier(self) -> bool:
        """Whether the roll-up keeps the carrier (the source splits by it)."""
        return self.of.carrier_column is not None

    @property
    def table(self) -> Table:
        return self.rollup.__table__  # type: ignore[return-value]

    @property
    def measures(self) -> list[str]:
        """The roll-up's measure columns (everything but the keys and the outlet count)."""
        return [c.name for c in self.table.columns if c.name not in (*KEYS, "outlets")]


_MODELS = {t.__tablename__: t for t in ROLLUP_TABLES}
SPECS = {s.name: Spec(s, _MODELS[f"rollup_{s.name}"])
         for s in (*SOURCES.values(), LOAD) if rolled_up(s)}


def column_name(column: str | None, filter_name: str | None) -> str:
    """Name of the roll-up column holding a measure: the column (or `rows`), `__filter` if any."""
    return (column or "rows") + (f"__{filter_name}" if filter_name else "")


def fact_expression(fact: Table, name: str, dialect: str) -> ColumnElement:
    """The per-fact-row value that roll-up column `name` sums (as metrics.compute reads it)."""
    column, _, filter_name = name.partition("__")
    value = literal(1) if column == "rows" else fact.c[column]
    if not filter_name:
        return value
    return case((filter_expr(fact, filter_name, dialect), value), else_=0)


def built(bind: Session | Connection) -> bool:
    """Whether the roll-ups are complete for the store's facts."""
    return bind.execute(select(Meta.value).where(Meta.key == BUILT_KEY)).scalar() == "1"


def refresh(bind: Session | Connection, start: dt.date | None = None, end: dt.date | None = None,
            unit_ids: Iterable[int] | None = None, tables: Iterable[str] | None = None) -> None:
    """Rebuild the roll-up rows of `unit_ids`' ancestors (None: every unit) on `start`..`end`,
    of the roll-ups of the fact `tables` (None: every roll-up).

    With no span and no units on a store whose roll-ups are not built: build them whole, in this
    transaction (small stores, tests). Otherwise, while a whole build is pending (or was never
    started: this starts one), only the units it has done are refreshed; `build` does the rest.
    """
    units = _units(bind)
    derived = ALL if tables is None else derived_from(tables)
    if built(bind):
        _rebuild(bind, _ancestors(units, unit_ids), start, end, whole=unit_ids is None,
                 tables=derived)
    elif start is None and end is None and unit_ids is None:
        _analyze(bind)
        _rebuild(bind, [u for u in units if u.tier != OUTLET_TIER], None, None, whole=True)
        _finish(bind)
    else:
        through = _pending(bind)  # locks the build state until this transaction ends
        pending = _pending_tables(bind)
        ancestors = _ancestors(units, unit_ids)
        done = [u for u in ancestors if _chunk_done(u, units, through)]
        _rebuild(bind, done, start, end, whole=False, tables=derived & pending)
        _rebuild(bind, ancestors, start, end, whole=unit_ids is None, tables=derived - pending)


def build(engine: Engine, progress: Callable[[int, int], None] | None = None) -> bool:
    """Build the roll-ups whole, one chunk (a city's subtree; last, the tiers above) per
    transaction, continuing a build that was interrupted; call `progress(done, chunks)` after each
    chunk. Return whether anything was to be done (False: already built)."""
    with engine.begin() as conn:
        if built(conn):
            return False
        _pending(conn)
        _analyze(conn)
    while True:
        with engine.begin() as conn:
            through = _pending(conn)
            tables = _pending_tables(conn)
            units = _units(conn)
            roots = sorted((u for u in units if u.tier == CHUNK_TIER), key=lambda u: u.path)
            todo = [r for r in roots if not through or r.path > through]
            if todo:
                root = todo[0]
                _rebuild(conn, [u for u in units if u.tier != OUTLET_TIER
                                and u.path.startswith(root.path)], None, None, whole=False,
                         tables=tables)
                _set(conn, THROUGH_KEY, root.path)
            else:  # the units above the chunk tier (or outside every chunk), from their children
                _rebuild(conn, [u for u in units if u.tier != OUTLET_TIER
                                and not any(u.path.startswith(r.path) for r in roots)],
                         None, None, whole=False, tables=tables)
                _finish(conn)
        if progress is not None:
            progress(len(roots) - len(todo) + 1, len(roots) + 1)
        if not todo:
            return True


def forget(bind: Session | Connection) -> None:
    """Mark the roll-ups as not built (e.g. after their rows were deleted): `build` starts over."""
    bind.execute(delete(Meta).where(Meta.key.in_([BUILT_KEY, THROUGH_KEY, PENDING_KEY])))


ALL = frozenset([*(s.table.name for s in SPECS.values()), GAPS.name])


def derived_from(fact_tables: Iterable[str]) -> frozenset[str]:
    """The roll-up tables kept from `fact_tables`."""
    specs = [s for s in SPECS.values() if s.fact_table in set(fact_tables)]
    return frozenset([s.table.name for s in specs]
                     + [GAPS.name for s in specs if s.source == "stock"])


def _pending_tables(bind) -> frozenset[str]:
    """The tables a pending build is building (all of them unless a migration named some)."""
    named = bind.execute(select(Meta.value).where(Meta.key == PENDING_KEY)).scalar()
    return ALL if not named else ALL & frozenset(named.split(","))


def _units(bind) -> list:
    return list(bind.execute(select(OrgUnit.id, OrgUnit.parent_id, OrgUnit.tier, OrgUnit.path)))


def _ancestors(units: list, unit_ids: Iterable[int] | None) -> list:
    """The non-outlet units whose roll-ups `unit_ids`' facts feed (None: all of them)."""
    parents = [u for u in units if u.tier != OUTLET_TIER]
    if unit_ids is None:
        return parents
    paths = {u.id: u.path for u in units}
    changed = {int(p) for uid in unit_ids if uid in paths
               for p in paths[uid].strip("/").split("/")}
    return [u for u in parents if u.id in changed]


def _chunk_done(unit, units: list, through: str | None) -> bool:
    """Whether a pending build has done `unit`'s chunk (its city's subtree, up to `through`)."""
    if not through or unit.tier < CHUNK_TIER:
        return False
    ids = [int(p) for p in unit.path.strip("/").split("/")]
    tiers = {u.id: (u.tier, u.path) for u in units}
    root = next((tiers[i][1] for i in ids if tiers.get(i, (0,))[0] == CHUNK_TIER), None)
    return root is not None and root <= through


def _rebuild(bind, parents: list, start: dt.date | None, end: dt.date | None,
             whole: bool, tables: frozenset[str] = ALL) -> None:
    """Delete and rebuild the roll-up rows of `parents` on `start`..`end`, deepest first (`whole`:
    they are every non-outlet unit, so delete without naming them), of the roll-up `tables`."""
    by_depth: dict[int, list[int]] = {}
    for u in parents:
        by_depth.setdefault(u.path.count("/") - 1, []).append(u.id)
    if not by_depth:
        return
    named = None if whole else [u.id for u in parents]
    for spec in SPECS.values():
        if spec.table.name not in tables:
            continue
        _delete(bind, spec, start, end, named)
        for depth in sorted(by_depth, reverse=True):
            _insert_level(bind, spec, by_depth[depth], start, end)
    if GAPS.name in tables:
        _delete_gaps(bind, start, end, named)
        for depth in sorted(by_depth, reverse=True):
            _insert_gaps(bind, by_depth[depth], start, end)


def _analyze(bind) -> None:
    if _dialect(bind) == "postgresql":
        # Facts written in this transaction (a seed, a first import) have no planner statistics
        # yet, and without them PostgreSQL's plans for the build ran 20 minutes for a province
        # instead of 2; ANALYZE in the transaction samples its own new rows.
        names = sorted({s.fact_table for s in SPECS.values()} | {"org_unit"})
        bind.execute(text(f"ANALYZE {', '.join(names)}"))


def _pending(bind) -> str | None:
    """Lock the build state row (creating it: a build is pending); return the last chunk done."""
    row = bind.execute(select(Meta.value).where(Meta.key == THROUGH_KEY)
                       .with_for_update()).scalar()
    if row is None:
        bind.execute(insert(Meta).values(key=THROUGH_KEY, value=""))
    return row or None


def _set(bind, key: str, value: str) -> None:
    bind.execute(delete(Meta).where(Meta.key == key))
    bind.execute(insert(Meta).values(key=key, value=value))


def _finish(bind) -> None:
    bind.execute(delete(Meta).where(Meta.key.in_([THROUGH_KEY, PENDING_KEY])))
    _set(bind, BUILT_KEY, "1")


def _dialect(bind: Session | Connection) -> str:
    return bind.get_bind().dialect.name if isinstance(bind, Session) else bind.dialect.name


def _span(column, start: dt.date | None, end: dt.date | None) -> list[ColumnElement[bool]]:
    where = [column.is_not(None)]
    if start is not None:
        where.append(column >= start)
    if end is not None:
        where.append(column <= end)
    return where


def _delete(bind, spec: Spec, start, end, unit_ids: list[int] | None) -> None:
    r = spec.table
    where = _span(r.c.day, start, end)[1:]
    if unit_ids is not None:
        where.append(r.c.unit_id.in_(unit_ids))
    bind.execute(delete(r).where(*where))


def _insert_level(bind, spec: Spec, parent_ids: list[int], start, end) -> None:
    """Insert the roll-up rows of `parent_ids` (all at one depth; their children's are done)."""
    fact = Base.metadata.tables[spec.fact_table]
    r = spec.table
    child = OrgUnit.__table__.alias("child")
    date_col = fact.c[spec.date_column]
    carrier = [fact.c.carrier_id.label("carrier_id")] if spec.carrier else []
    counted = [literal(1).label("outlets")] if "outlets" in r.c else []
    values = [fact_expression(fact, m, _dialect(bind)).label(m) for m in spec.measures]
    from_outlets = (select(child.c.parent_id.label("unit_id"), date_col.label("day"), *carrier,
                           *counted, *values)
                    .select_from(fact.join(child, child.c.id == fact.c.unit_id))
                    .where(child.c.parent_id.in_(parent_ids), child.c.tier == OUTLET_TIER,
                           *_span(date_col, start, end)))
    own = (select(fact.c.unit_id.label("unit_id"), date_col.label("day"), *carrier, *counted,
                  *values)
           .where(fact.c.unit_id.in_(parent_ids), *_span(date_col, start, end)))
    from_rollups = (select(child.c.parent_id.label("unit_id"), r.c.day,
                           *([r.c.carrier_id] if spec.carrier else []),
                           *([r.c.outlets] if counted else []), *[r.c[m] for m in spec.measures])
                    .select_from(r.join(child, child.c.id == r.c.unit_id))
                    .where(child.c.parent_id.in_(parent_ids), *_span(r.c.day, start, end)[1:]))
    parts = union_all(from_outlets, own, from_rollups).subquery("parts")
    keys = [parts.c.unit_id, parts.c.day] + ([parts.c.carrier_id] if spec.carrier else [])
    sums = [func.sum(parts.c[c]).label(c) for c in (["outlets"] if counted else []) + spec.measures]
    names = [k.name for k in keys] + [s.name for s in sums]
    bind.execute(insert(r).from_select(names, select(*keys, *sums).group_by(*keys)))


def _gap_span(day, until, start: dt.date | None, end: dt.date | None) -> list:
    """The gaps that touch `start`..`end`: begun on or before its end, ended on or after its start."""
    return ([day <= end] if end is not None else []) + ([until >= start] if start is not None else [])


def _delete_gaps(bind, start, end, unit_ids: list[int] | None) -> None:
    where = _gap_span(GAPS.c.day, GAPS.c.until, start, end)
    if unit_ids is not None:
        where.append(GAPS.c.unit_id.in_(unit_ids))
    bind.execute(delete(GAPS).where(*where))


def _insert_gaps(bind, parent_ids: list[int], start, end) -> None:
    """Insert the gap rows of `parent_ids` (all at one depth; their children's are done) that
    touch `start`..`end`: their outlet children's and their own gaps, found from the stock rows,
    and their other children's gap rows."""
    spec = SPECS["stock"]
    fact = Base.metadata.tables[spec.fact_table]
    dialect = _dialect(bind)
    child = OrgUnit.__table__.alias("child")
    unit = OrgUnit.__table__.alias("unit")
    reporters = union_all(  # (reporting unit, the parent whose subtree it is in)
        select(child.c.id.label("rid"), child.c.parent_id.label("unit_id"))
        .where(child.c.parent_id.in_(parent_ids), child.c.tier == OUTLET_TIER),
        select(unit.c.id.label("rid"), unit.c.id.label("unit_id")).where(unit.c.id.in_(parent_ids)),
    ).subquery("reporters")
    on = [fact.c.unit_id == reporters.c.rid]
    if start is not None or end is not None:
        # Each unit's rows in the span with its last row before it and its first after it: a gap
        # touching the span begins or ends on one of them (a scalar lookup per unit, by the
        # unit-leading key, not a scan of its history).
        f2 = fact.alias("f2")
        if start is not None:
            before = select(func.max(f2.c.day)).where(f2.c.unit_id == reporters.c.rid,
                                                      f2.c.day < start).scalar_subquery()
            bounds_lo = func.coalesce(before, literal(start, Date))
        if end is not None:
            after = select(func.min(f2.c.day)).where(f2.c.unit_id == reporters.c.rid,
                                                     f2.c.day > end).scalar_subquery()
            bounds_hi = func.coalesce(after, literal(end, Date))
        spans = select(reporters.c.rid, reporters.c.unit_id,
                       *([bounds_lo.label("lo")] if start is not None else []),
                       *([bounds_hi.label("hi")] if end is not None else [])).subquery("spans")
        on = [fact.c.unit_id == spans.c.rid]
        if start is not None:
            on.append(fact.c.day >= spans.c.lo)
        if end is not None:
            on.append(fact.c.day <= spans.c.hi)
        reporters = spans
    values = [fact_expression(fact, m, dialect).label(m) for m in spec.measures]
    rows = (select(reporters.c.unit_id, fact.c.day.label("day"),
                   func.lead(fact.c.day).over(partition_by=fact.c.unit_id, order_by=fact.c.day)
                   .label("next_day"), *values)
            .select_from(fact.join(reporters, and_(*on))).subquery("stock_rows"))
    until = func.coalesce(rows.c.next_day, literal(OPEN_GAP, Date))
    from_facts = (select(rows.c.unit_id, rows.c.day, until.label("until"),
                         literal(1).label("outlets"), *[rows.c[m] for m in spec.measures])
                  .where(or_(rows.c.next_day.is_(None),
                             rows.c.next_day > day_after(rows.c.day, dialect)),
                         *_gap_span(rows.c.day, until, start, end)))
    from_rollups = (select(child.c.parent_id.label("unit_id"), GAPS.c.day, GAPS.c.until,
                           GAPS.c.outlets, *[GAPS.c[m] for m in spec.measures])
                    .select_from(GAPS.join(child, child.c.id == GAPS.c.unit_id))
                    .where(child.c.parent_id.in_(parent_ids),
                           *_gap_span(GAPS.c.day, GAPS.c.until, start, end)))
    parts = union_all(from_facts, from_rollups).subquery("parts")
    keys = [parts.c.unit_id, parts.c.day, parts.c.until]
    sums = [func.sum(parts.c[c]).label(c) for c in ["outlets", *spec.measures]]
    bind.execute(insert(GAPS).from_select([k.name for k in keys] + [s.name for s in sums],
                                          select(*keys, *sums).group_by(*keys)))


register_rollups(sys.modules[__name__])
