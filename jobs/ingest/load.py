"""Loading a validated file: one transaction, staging, upserts on natural keys, bookkeeping.

`import_file` owns its transactions (like `seed_demo`). It first commits the import log's row
("started") on its own, so an import killed part way leaves "started, never finished". Then inside
ONE transaction it takes a lock (a transaction-level advisory lock per kind on PostgreSQL; SQLite's
write lock), streams the file chunk by chunk through validation into a TEMP staging table (COPY on
PostgreSQL), checks what spans chunks (duplicates within the file), and only when the whole file
is valid upserts from staging into the fact tables with one INSERT .. SELECT .. ON CONFLICT per
table, records the unit-days in `data_load`, bumps the data version and refreshes the roll-ups,
runs the risk scan over the affected days and completes the import log. Any invalid row, and any
failure up to the commit (roll-ups, scan), rolls everything back.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import (
    Connection,
    Engine,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from data.bulk import bulk_insert
from data.changes import data_changed
from data.clock import utc_now
from data.models import Carrier, DataLoad, ImportLog, OrgUnit
from jobs.ingest import staging
from jobs.ingest.read import CHUNK_ROWS, FileProblem, TableFile, clip, file_digest
from jobs.ingest.spec import KINDS, Kind, guess_kind
from jobs.ingest.units import load_units
from jobs.ingest.validate import Lookups, Problem, Problems, Window, check_chunk, check_header
from metrics import cache
from settings import default

log = logging.getLogger(__name__)
DATA_START = default("DATA_START")
STARTED = "started"  # the import log's outcome until the import ends ("started, never finished")
DETAIL_CHARS = 2000  # the most of its problems the import log keeps
CONNECTION_CHECK_MS = 1000


@dataclass
class ImportReport:
    """What an import (or a dry run) found and did."""

    file_name: str
    kind: str
    file_hash: str = ""
    dry_run: bool = False
    # imported | valid (a dry run that found no problem) | rejected | failed (an error after
    # validation; nothing written)
    outcome: str = "rejected"
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    first_day: dt.date | None = None
    last_day: dt.date | None = None
    seconds: float = 0.0
    risk: dict[str, int] | None = None
    scan_seconds: float = 0.0
    import_id: int | None = None

    @property
    def ok(self) -> bool:
        """Whether the file was valid (and, unless a dry run, loaded)."""
        return self.outcome in ("imported", "valid")

    @property
    def unchanged(self) -> int:
        """Rows that matched stored rows exactly."""
        return max(self.rows_read - self.inserted - self.updated, 0) if self.ok else 0

    def problem_lines(self) -> list[str]:
        """The first problems as 'file, row, column: reason', then how many more there are."""
        lines = [p.text(self.file_name) for p in self.problems]
        if self.problem_count > len(self.problems):
            lines.append(f"... and {self.problem_count - len(self.problems)} more problem(s) "
                         f"({self.problem_count} in all)")
        return lines

    def summary(self) -> str:
        """One line saying what happened."""
        span = f", days {self.first_day} to {self.last_day}" if self.first_day else ""
        if not self.ok:
            return (f"{self.file_name}: {self.outcome} ({self.kind}), {self.problem_count} "
                    "problem(s); nothing was written.")
        verb = "would insert" if self.dry_run else "inserted"
        return (f"{self.file_name}: {self.kind}, {self.rows_read} row(s) read, {verb} "
                f"{self.inserted}, {'would update' if self.dry_run else 'updated'} {self.updated}, "
                f"unchanged {self.unchanged}{span}, {self.seconds:.1f} s"
                + (" (dry run: nothing was written)" if self.dry_run else ""))


def import_file(engine: Engine, path: str | Path, kind: str | None = None, *,
                file_name: str | None = None, dry_run: bool = False, username: str | None = None,
                tz: str = "Asia/Shanghai", data_start: str | dt.date = DATA_START,
                scan_risk: bool = True, chunk_rows: int = CHUNK_ROWS) -> ImportReport:
    """Validate `path` and, if every row is valid and not `dry_run`, load it in one transaction.

    The import's start is committed first on its own (a killed import leaves "started, never
    finished" in the log); the facts, their bookkeeping, the roll-ups and the risk scan of the
    imported days are then one transaction: a failure in any of them leaves nothing of the import.
    """
    started, started_at = time.perf_counter(), utc_now()
    path = Path(path)
    report = ImportReport(file_name=file_name or path.name, kind=kind or "?", dry_run=dry_run,
                          file_hash=file_digest(path))
    problems = Problems()
    try:
        table = TableFile(path, chunk_rows)
    except FileProblem as exc:
        problems.add(Problem(None, "", str(exc)))
        return _rejected(engine, report, problems, started, started_at, username)
    spec = KINDS.get(kind) if kind else guess_kind(report.file_name, table.header)
    if spec is None:
        problems.add(Problem(None, "", f"cannot tell the kind of data from the file name or header; "
                                       f"name it (one of {', '.join(KINDS)})" if not kind
                             else f"unknown kind {clip(kind)!r}; one of {', '.join(KINDS)}"))
        return _rejected(engine, report, problems, started, started_at, username)
    report.kind = spec.name
    for problem in check_header(spec, table.header):
        problems.add(problem)
    if problems.count:
        return _rejected(engine, report, problems, started, started_at, username)

    log_id = None if dry_run else _open_log(engine, spec, report, started_at, username)
    window = Window.of(data_start, tz)
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            _lock(conn, spec)
            lookups = _lookups(conn, window)
            try:
                if spec.name == "units":
                    counts = load_units(conn, table, problems)
                else:
                    counts = _load_facts(conn, spec, table, lookups, problems, tz)
            except FileProblem as exc:  # the file breaks off part way (a malformed line)
                problems.add(Problem(None, "", str(exc)))
                counts = Counts()
            report.rows_read = counts.rows
            if not counts.rows and not problems.count:
                problems.add(Problem(None, "", "no rows: the file has a header but no data rows"))
            if problems.count:
                trans.rollback()
                return _rejected(engine, report, problems, started, started_at, username, log_id)
            report.inserted, report.updated = counts.inserted, counts.updated
            report.first_day, report.last_day = counts.first_day, counts.last_day
            if counts.inserted or counts.updated:
                data_changed(conn, counts.first_day, counts.last_day, counts.unit_ids,
                             written(spec))
            if dry_run:
                report.seconds = time.perf_counter() - started
                trans.rollback()
                report.outcome = "valid"
                return report
            if scan_risk and (report.inserted or report.updated) and (spec.day or spec.month):
                scan_started = time.perf_counter()
                report.risk = _scan(conn, report, window, counts.unit_ids, written(spec))
                report.scan_seconds = time.perf_counter() - scan_started
            report.seconds = time.perf_counter() - started
            report.outcome, report.import_id = "imported", log_id
            _close_log(conn, log_id, report)  # type: ignore[arg-type]
            trans.commit()
        except Exception as exc:  # roll-ups, scan or the database failed: nothing of it stays
            if trans.is_active:
                trans.rollback()
            cache.clear()  # nothing computed from the rolled-back facts may be served
            log.exception("import of %s failed", report.file_name)
            problems.add(Problem(None, "", f"the import failed ({type(exc).__name__}: "
                                           f"{clip(exc)}); nothing was written"))
            return _rejected(engine, report, problems, started, started_at, username, log_id,
                             outcome="failed")
    return report


@dataclass
class Counts:
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    first_day: dt.date | None = None
    last_day: dt.date | None = None
    unit_ids: list[int] = field(default_factory=list)


def _open_log(engine: Engine, spec: Kind, report: ImportReport, started_at: dt.datetime,
              username: str | None) -> int:
    """Record the import's start in its own transaction: a crash leaves 'started, never finished'."""
    with engine.begin() as conn:
        result = conn.execute(insert(ImportLog).values(
            kind=spec.name, file_name=report.file_name[:255], file_hash=report.file_hash,
            username=username, started_at=started_at, duration_seconds=0, rows_read=0, inserted=0,
            updated=0, errors=0, outcome=STARTED, detail=""))
        return int(result.inserted_primary_key[0])  # type: ignore[index]


def _lock(conn: Connection, spec: Kind) -> None:
    """Serialise imports of a kind (on SQLite the write lock, taken now)."""
    if conn.dialect.name == "postgresql":
        # A killed client's session ends at the server within a second even mid-statement (it
        # would otherwise keep working, and holding this lock, until the statement ends).
        conn.execute(text(f"SET LOCAL client_connection_check_interval = "
                          f"'{CONNECTION_CHECK_MS}ms'"))
        key = zlib.crc32(f"{staging.SOURCE_PREFIX}{spec.name}".encode()) - 2**31
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    elif conn.dialect.name == "sqlite" and not conn.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
        # Take the write lock now (waiting up to the busy timeout) rather than on the first write,
        # where a writer that committed meanwhile would make this transaction fail. A killed
        # process's lock goes with it (SQLite's locks are the operating system's file locks).
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _close_log(conn: Connection, log_id: int, report: ImportReport) -> None:
    detail = f"risk scan: {report.risk}" if report.risk else ""
    conn.execute(update(ImportLog).where(ImportLog.id == log_id).values(
        duration_seconds=round(report.seconds, 3), rows_read=report.rows_read,
        inserted=report.inserted, updated=report.updated, outcome=report.outcome,
        first_day=report.first_day, last_day=report.last_day, detail=detail))


def _rejected(engine: Engine, report: ImportReport, problems: Problems, started: float,
              started_at: dt.datetime, username: str | None, log_id: int | None = None,
              outcome: str = "rejected") -> ImportReport:
    """Fill the report with the problems and log the rejection (unless a dry run)."""
    report.outcome = outcome
    report.problems, report.problem_count = list(problems.first), problems.count
    report.inserted = report.updated = 0
    report.seconds = time.perf_counter() - started
    if report.dry_run:
        return report
    values = dict(kind=report.kind[:32], file_name=report.file_name[:255],
                  file_hash=report.file_hash, username=username, started_at=started_at,
                  duration_seconds=round(report.seconds, 3), rows_read=report.rows_read,
                  inserted=0, updated=0, errors=problems.count, outcome=outcome,
                  detail=clip("\n".join(report.problem_lines()[:10]), DETAIL_CHARS))
    with engine.begin() as conn:
        if log_id is None:
            conn.execute(insert(ImportLog).values(**values))
        else:
            conn.execute(update(ImportLog).where(ImportLog.id == log_id).values(**values))
    return report


def _lookups(conn: Connection, window: Window | None = None) -> Lookups:
    units = {code: (uid, tier) for code, uid, tier in
             conn.execute(select(OrgUnit.code, OrgUnit.id, OrgUnit.tier))}
    carriers = dict(conn.execute(select(Carrier.code, Carrier.id).order_by(Carrier.sort_order)).all())
    return Lookups(units, carriers, window)


# -- facts ------------------------------------------------------------------------------------

def _load_facts(conn: Connection, spec: Kind, table: TableFile, lookups: Lookups,
                problems: Problems, tz: str) -> Counts:
    stage = staging.staging_table(conn, spec)
    counts = Counts()
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL work_mem = '256MB'"))  # the duplicate check sorts the file
    for chunk in table.chunks():
        counts.rows += len(chunk)
        rows = check_chunk(spec, chunk, lookups, problems)
        bulk_insert(conn, stage.name, staging.for_database(rows, conn.dialect.name))
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"ANALYZE {stage.name}"))
    staging.duplicates(conn, spec, stage.name, problems)
    if spec.name == "monthly_actives":
        staging.carrier_above_total(conn, stage.name, problems)
    if problems.count:
        return counts
    replaced = staging.replaced_span(conn, spec, stage.name)  # read before the upsert below
    for target in spec.destinations:
        ins, upd = (staging.update_then_insert(conn, stage.name, target) if target.table == "target"
                    else staging.upsert(conn, stage.name, target))
        counts.inserted += ins
        counts.updated += upd
    counts.first_day, counts.last_day = staging.widest(staging.span(conn, spec, stage.name),
                                                       replaced)
    counts.unit_ids = list(conn.execute(text(f"SELECT DISTINCT unit_id FROM {stage.name}")).scalars())
    if spec.day and spec.loads:
        staging.record_loads(conn, spec, stage.name, tz)
    stage.drop(conn)
    return counts


def written(spec: Kind) -> list[str] | None:
    """The fact tables an import of `spec` writes (its destinations, and the data-load log); None
    for units (the tree itself: every roll-up of the units' ancestors may change)."""
    if spec.name == "units":
        return None
    return [d.table for d in spec.destinations] + (["data_load"] if spec.day and spec.loads
                                                   else [])


def _scan(conn: Connection, report: ImportReport, window: Window, unit_ids: list[int],
          tables: list[str] | None) -> dict[str, int]:
    """Run the risk scan over the imported units (and their ancestors) and days, in the import's
    transaction, the days clipped to those that have data (and to the accepted window), for the
    rules whose KPIs read the `tables` the import wrote (no other rule's answer can change)."""
    from risk.scan import scan  # risk builds on metrics, which build on data

    with cache.bypass(), Session(bind=conn) as session:  # nothing cached from uncommitted facts
        last_loaded = session.scalar(select(func.max(DataLoad.day)))
        last = min(report.last_day, window.last) if report.last_day else None
        if last_loaded is not None and last is not None:
            last = min(last, staging.as_date(last_loaded) or last)
        if report.first_day is None or last is None or last < report.first_day:
            return {"new": 0, "extended": 0}
        stats = scan(session, report.first_day, last, unit_ids, tables)
        session.flush()
    return stats
