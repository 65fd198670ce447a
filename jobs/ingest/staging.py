"""The staging table and the SQL over it: checks that span the whole file, upserts, bookkeeping.

Every statement runs in the import's transaction. Table and column names come from the specs in
`spec.py`, never from a file; values travel through the staging table or bound parameters.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pandas as pd
from sqlalchemy import Column, Connection, DateTime, Integer, MetaData, Table, bindparam, text
from sqlalchemy.types import TypeEngine

from data.clock import local_now, month_end, utc_now
from data.models import Base
from jobs.ingest.spec import Destination, Kind
from jobs.ingest.validate import Problem, Problems

SOURCE_PREFIX = "import:"


def staging_table(conn: Connection, spec: Kind) -> Table:
    """Create a TEMP table for the kind's storage columns, typed like the tables it feeds."""
    types: dict[str, TypeEngine] = {}
    for target in spec.destinations:
        for col in Base.metadata.tables[target.table].columns:
            types.setdefault(col.name, col.type)
    stage = Table(f"import_stage_{uuid.uuid4().hex[:12]}", MetaData(),
                  Column("row_no", Integer, nullable=False),
                  *[Column(name, types[name]) for name in spec.storage_columns],
                  prefixes=["TEMPORARY"])
    stage.create(conn)
    return stage


TS_FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's DATETIME storage format on SQLite


def for_database(rows: pd.DataFrame, dialect: str) -> pd.DataFrame:
    """Dates and times as SQLite stores them (strings); PostgreSQL's COPY reads pandas' own."""
    if dialect == "postgresql":
        return rows
    for name, dtype in rows.dtypes.items():
        if str(dtype).startswith("datetime64"):
            is_day = name in ("day", "month", "created_day", "closed_day", "period_start", "period_end")
            text_ = rows[name].dt.strftime("%Y-%m-%d" if is_day else TS_FORMAT)
            rows[name] = text_.astype(object).where(rows[name].notna(), None)
    return rows


def _file_columns(spec: Kind, storage: tuple[str, ...]) -> str:
    names = []
    for s in storage:
        names.append(next((c.name for c in spec.columns if c.store == s), s))
    return ", ".join(names)


def duplicates(conn: Connection, spec: Kind, stage: str, problems: Problems) -> None:
    keys = ", ".join(spec.key)
    dupes = (f"SELECT row_no, first_row FROM (SELECT row_no, min(row_no) OVER (PARTITION BY {keys}) "
             f"AS first_row FROM {stage}) d WHERE row_no > first_row")
    total = conn.execute(text(f"SELECT count(*) FROM ({dupes}) x")).scalar_one()
    if not total:
        return
    what = _file_columns(spec, spec.key)
    for row, first in conn.execute(text(f"{dupes} ORDER BY row_no LIMIT {problems.limit}")):
        if spec.name == "hotline_intervals":  # fixed 15-minute intervals: same start = overlap
            problems.add(Problem(
                row, what, f"overlaps row {first}: the same unit's interval starting at the same "
                           "time (an interval is 15 minutes; give each once)",
                f"与第 {first} 行的时段重叠：同一单位、同一开始时间的 15 分钟时段只能出现一次"))
        else:
            problems.add(Problem(row, what, f"duplicate of row {first} (same {what})",
                                 f"与第 {first} 行重复（{what} 相同）"))
    problems.count += total - min(total, problems.limit)


def carrier_above_total(conn: Connection, stage: str, problems: Problems) -> None:
    rows = conn.execute(text(
        f"SELECT c.row_no, c.active_users, t.row_no, t.active_users FROM {stage} c "
        f"JOIN {stage} t ON t.unit_id = c.unit_id AND t.month = c.month AND t.carrier_id IS NULL "
        f"WHERE c.carrier_id IS NOT NULL AND c.active_users > t.active_users ORDER BY c.row_no"))
    for row, users, total_row, total in rows:
        problems.add(Problem(row, "active_users",
                             f"{users} active users on one carrier exceed the {total} on all "
                             f"carriers together (row {total_row})"))


def _where(target: Destination, alias: str = "") -> str:
    prefix = f"{alias}." if alias else ""
    if target.carrier_null is None:
        return "1=1"  # SQLite needs a WHERE before ON CONFLICT in INSERT .. SELECT
    return f"{prefix}carrier_id IS {'' if target.carrier_null else 'NOT '}NULL"


def _distinct_op(conn: Connection) -> str:
    return "IS DISTINCT FROM" if conn.dialect.name == "postgresql" else "IS NOT"


def _same_op(conn: Connection) -> str:
    return "IS NOT DISTINCT FROM" if conn.dialect.name == "postgresql" else "IS"


def _existing(conn: Connection, stage: str, target: Destination) -> tuple[int, int]:
    """Return (staged rows for the target, of which already stored under the same key)."""
    same = _same_op(conn)
    staged = conn.execute(text(f"SELECT count(*) FROM {stage} s WHERE {_where(target, 's')}")).scalar_one()
    join = " AND ".join(f"t.{k} {same} s.{k}" if k == "carrier_id" else f"t.{k} = s.{k}"
                        for k in target.key)
    existing = conn.execute(text(f"SELECT count(*) FROM {stage} s JOIN {target.table} t ON {join} "
                                 f"WHERE {_where(target, 's')}")).scalar_one()
    return staged, existing


def upsert(conn: Connection, stage: str, target: Destination) -> tuple[int, int]:
    """INSERT .. SELECT .. ON CONFLICT DO UPDATE where something differs; return (new, changed)."""
    staged, existing = _existing(conn, stage, target)
    cols = ", ".join(target.key + target.columns)
    sets = ", ".join(f"{c} = excluded.{c}" for c in target.columns)
    old = ", ".join(f"{target.table}.{c}" for c in target.columns)
    new = ", ".join(f"excluded.{c}" for c in target.columns)
    result = conn.execute(text(
        f"INSERT INTO {target.table} ({cols}) SELECT {cols} FROM {stage} WHERE {_where(target)} "
        f"ON CONFLICT ({', '.join(target.key)}) DO UPDATE SET {sets} "
        f"WHERE ({old}) {_distinct_op(conn)} ({new})"))
    inserted = staged - existing
    return inserted, result.rowcount - inserted  # type: ignore[attr-defined]


def update_then_insert(conn: Connection, stage: str, target: Destination) -> tuple[int, int]:
    """For targets, whose key holds a nullable carrier (SQLite's unique index cannot match NULLs)."""
    staged, existing = _existing(conn, stage, target)
    same, differs = _same_op(conn), _distinct_op(conn)
    match = " AND ".join(f"{target.table}.{k} {same} s.{k}" for k in target.key)
    now = bindparam("now", utc_now(), type_=DateTime())
    changed = conn.execute(text(
        f"UPDATE {target.table} SET value = s.value, updated_at = :now FROM {stage} s "
        f"WHERE {match} AND {target.table}.value {differs} s.value").bindparams(now)).rowcount  # type: ignore[attr-defined]
    cols = ", ".join(target.key + target.columns)
    match_t = " AND ".join(f"t.{k} {same} s.{k}" for k in target.key)
    conn.execute(text(
        f"INSERT INTO {target.table} ({cols}, updated_at) SELECT {cols}, :now FROM {stage} s "
        f"WHERE NOT EXISTS (SELECT 1 FROM {target.table} t WHERE {match_t})").bindparams(now))
    return staged - existing, changed


def as_date(value) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def span(conn: Connection, spec: Kind, stage: str) -> tuple[dt.date | None, dt.date | None]:
    """The first and last day the file's rows are about (closing days of work orders included)."""
    if spec.name == "work_orders":
        sql = f"SELECT min(created_day), max(coalesce(closed_day, created_day)) FROM {stage}"
    elif spec.name == "targets":
        sql = f"SELECT min(period_start), max(period_end) FROM {stage}"
    elif spec.month:
        sql = f"SELECT min(month), max(month) FROM {stage}"
    else:
        sql = f"SELECT min({spec.day}), max({spec.day}) FROM {stage}"
    first, last = (as_date(v) for v in conn.execute(text(sql)).one())
    if spec.month and last is not None:
        last = month_end(last)
    return first, last


def replaced_span(conn: Connection, spec: Kind, stage: str) -> tuple[dt.date | None, dt.date | None]:
    """The first and last day the stored work orders that the file replaces are about (before
    they are replaced): an order re-opened, or closed on another day than stored, leaves a day
    outside the file's own span whose roll-ups change too. (None, None) for other kinds."""
    if spec.name != "work_orders":
        return None, None
    first, last = (as_date(v) for v in conn.execute(text(
        f"SELECT min(t.created_day), max(coalesce(t.closed_day, t.created_day)) FROM {stage} s "
        f"JOIN work_order t ON t.unit_id = s.unit_id AND t.order_no = s.order_no")).one())
    return first, last


def widest(*spans: tuple[dt.date | None, dt.date | None]) -> tuple[dt.date | None, dt.date | None]:
    """The smallest span holding every given span (None ends are ignored)."""
    firsts = [a for a, _ in spans if a is not None]
    lasts = [b for _, b in spans if b is not None]
    return (min(firsts) if firsts else None), (max(lasts) if lasts else None)


def record_loads(conn: Connection, spec: Kind, stage: str, tz: str) -> None:
    """Record each unit-day of the file as loaded now (local time); a day keeps its first load."""
    loaded_at = local_now(tz)
    conn.execute(text(
        f"INSERT INTO data_load (unit_id, day, loaded_at, source) "
        f"SELECT DISTINCT unit_id, {spec.day}, :at, :source FROM {stage} WHERE 1=1 "
        f"ON CONFLICT (unit_id, day) DO NOTHING").bindparams(
            bindparam("at", loaded_at, type_=DateTime()), source=f"{SOURCE_PREFIX}{spec.name}"))
