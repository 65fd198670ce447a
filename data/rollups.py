"""Roll-up tables: the flow facts and user stocks pre-summed per non-outlet unit, day and carrier.

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
in chunks of days, each its own transaction, so no transaction grows with the store. Until the
last chunk is done `built` is false and the metrics read the facts (exact, slower); the meta row
`rollups_through` records the last day built, so an interrupted build continues where it stopped.
Meanwhile `refresh` keeps the days already built in step with new facts; later days wait for
their chunk (which reads the facts as they are then). A chunk and a refresh of a pending build
take the same row lock, so neither works from the other's half-done state.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Table, case, delete, func, insert, literal, select, text, union_all
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from data.models import (
    OUTLET_TIER,
    Base,
    Meta,
    OrgUnit,
    RollupCampaign,
    RollupChannel,
    RollupContent,
    RollupLoad,
    RollupOrdersClosed,
    RollupOrdersCreated,
    RollupStock,
)

BUILT_KEY = "rollups_built"
THROUGH_KEY = "rollups_through"  # last day a pending whole build has done ("" = none yet)
CHUNK_DAYS = 31
KEYS = ("unit_id", "day", "carrier_id")


@dataclass(frozen=True)
class Spec:
    """How one metrics source (see `metrics.registry.SOURCES`; `load` is the data-load log that
    `metrics.quality` reads) is rolled up."""

    source: str
    fact_table: str
    date_column: str
    carrier: bool
    rollup: type[Base]

    @property
    def table(self) -> Table:
        return self.rollup.__table__  # type: ignore[return-value]

    @property
    def measures(self) -> list[str]:
        """The roll-up's measure columns (everything but the keys and the outlet count)."""
        return [c.name for c in self.table.columns if c.name not in (*KEYS, "outlets")]


SPECS = {s.source: s for s in (
    Spec("channel", "channel_daily", "day", True, RollupChannel),
    Spec("content", "content_daily", "day", True, RollupContent),
    Spec("campaign", "campaign_daily", "day", True, RollupCampaign),
    Spec("stock", "user_stock_daily", "day", False, RollupStock),
    Spec("orders_created", "work_order", "created_day", True, RollupOrdersCreated),
    Spec("orders_closed", "work_order", "closed_day", True, RollupOrdersClosed),
    Spec("load", "data_load", "day", False, RollupLoad),  # not a KPI source: metrics.quality
)}


def column_name(column: str | None, filter_name: str | None) -> str:
    """Name of the roll-up column holding a measure: the column (or `rows`), `__filter` if any."""
    return (column or "rows") + (f"__{filter_name}" if filter_name else "")


def fact_expression(fact: Table, name: str, dialect: str) -> ColumnElement:
    """The per-fact-row value that roll-up column `name` sums (as metrics.compute reads it)."""
    from metrics.sql import filter_expr  # the same row filters the computations apply

    column, _, filter_name = name.partition("__")
    value = literal(1) if column == "rows" else fact.c[column]
    if not filter_name:
        return value
    return case((filter_expr(fact, filter_name, dialect), value), else_=0)


def built(bind: Session | Connection) -> bool:
    """Whether the roll-ups are complete for the store's facts."""
    return bind.execute(select(Meta.value).where(Meta.key == BUILT_KEY)).scalar() == "1"


def refresh(bind: Session | Connection, start: dt.date | None = None, end: dt.date | None = None,
            unit_ids: Iterable[int] | None = None) -> None:
    """Rebuild the roll-up rows of `unit_ids`' ancestors (None: every unit) on `start`..`end`.

    With no span and no units on a store whose roll-ups are not built: build them whole, in this
    transaction (small stores, tests). Otherwise, while a whole build is pending (or was never
    started: this starts one), only the days it has done are refreshed; `build` does the rest.
    """
    if not built(bind):
        if start is None and end is None and unit_ids is None:
            _analyze(bind)
            _rebuild(bind, None, None, None)
            _finish(bind)
            return
        through = _pending(bind)  # locks the build state until this transaction ends
        if through is None:
            return
        if start is not None and start > through:
            return
        end = through if end is None else min(end, through)
    _rebuild(bind, start, end, unit_ids)


def build(engine: Engine, chunk_days: int = CHUNK_DAYS,
          progress: Callable[[dt.date, dt.date], None] | None = None) -> bool:
    """Build the roll-ups whole, `chunk_days` days per transaction, continuing a build that was
    interrupted; call `progress(day_done, last_day)` after each chunk. Return whether anything was
    to be done (False: already built)."""
    with engine.begin() as conn:
        if built(conn):
            return False
        _pending(conn)
        _analyze(conn)
    while True:
        with engine.begin() as conn:
            through = _pending(conn)
            first, last = _fact_span(conn)
            if first is None or last is None or (through is not None and through >= last):
                # Done (new facts of later days may have come meanwhile: then loop on): drop rows
                # of days that no longer have facts, and mark the set complete.
                _delete_outside(conn, first, last)
                _finish(conn)
                return True
            day = first if through is None or through < first else through + dt.timedelta(days=1)
            chunk_end = min(day + dt.timedelta(days=chunk_days - 1), last)
            if through is None:
                _delete_outside(conn, first, last)  # rows before the facts' first day
            _rebuild(conn, day, chunk_end, None)
            _set(conn, THROUGH_KEY, chunk_end.isoformat())
        if progress is not None:
            progress(chunk_end, last)


def forget(bind: Session | Connection) -> None:
    """Mark the roll-ups as not built (e.g. after their rows were deleted): `build` starts over."""
    bind.execute(delete(Meta).where(Meta.key.in_([BUILT_KEY, THROUGH_KEY])))


def _rebuild(bind, start: dt.date | None, end: dt.date | None,
             unit_ids: Iterable[int] | None) -> None:
    units = bind.execute(select(OrgUnit.id, OrgUnit.parent_id, OrgUnit.tier, OrgUnit.path)).all()
    paths = {u.id: u.path for u in units}
    parents = [u for u in units if u.tier != OUTLET_TIER]
    if unit_ids is not None:
        changed = {int(p) for uid in unit_ids if uid in paths
                   for p in paths[uid].strip("/").split("/")}
        parents = [u for u in parents if u.id in changed]
    by_depth: dict[int, list[int]] = {}
    for u in parents:
        by_depth.setdefault(u.path.count("/") - 1, []).append(u.id)
    for spec in SPECS.values():
        _delete(bind, spec, start, end, None if unit_ids is None else [u.id for u in parents])
        for depth in sorted(by_depth, reverse=True):
            _insert_level(bind, spec, by_depth[depth], start, end)


def _analyze(bind) -> None:
    if _dialect(bind) == "postgresql":
        # Facts written in this transaction (a seed, a first import) have no planner statistics
        # yet, and without them PostgreSQL's plans for the build ran 20 minutes for a province
        # instead of 2; ANALYZE in the transaction samples its own new rows.
        names = sorted({s.fact_table for s in SPECS.values()} | {"org_unit"})
        bind.execute(text(f"ANALYZE {', '.join(names)}"))


def _pending(bind) -> dt.date | None:
    """Lock the build state row (creating it: a build is pending) and return its last day done."""
    row = bind.execute(select(Meta.value).where(Meta.key == THROUGH_KEY)
                       .with_for_update()).scalar()
    if row is None:
        bind.execute(insert(Meta).values(key=THROUGH_KEY, value=""))
        return None
    return dt.date.fromisoformat(row) if row else None


def _set(bind, key: str, value: str) -> None:
    bind.execute(delete(Meta).where(Meta.key == key))
    bind.execute(insert(Meta).values(key=key, value=value))


def _finish(bind) -> None:
    bind.execute(delete(Meta).where(Meta.key == THROUGH_KEY))
    _set(bind, BUILT_KEY, "1")


def _fact_span(bind) -> tuple[dt.date | None, dt.date | None]:
    """The first and last day of any fact the roll-ups sum."""
    firsts, lasts = [], []
    for spec in SPECS.values():
        column = Base.metadata.tables[spec.fact_table].c[spec.date_column]
        first, last = bind.execute(select(func.min(column), func.max(column))).one()
        if first is not None:
            firsts.append(_as_date(first))
            lasts.append(_as_date(last))
    return (min(firsts), max(lasts)) if firsts else (None, None)


def _as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _delete_outside(bind, first: dt.date | None, last: dt.date | None) -> None:
    for spec in SPECS.values():
        r = spec.table
        if first is None or last is None:
            bind.execute(delete(r))
        else:
            bind.execute(delete(r).where((r.c.day < first) | (r.c.day > last)))


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
