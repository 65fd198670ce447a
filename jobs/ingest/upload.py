"""The admin actions behind the upload page: check the role, run the import (or delete a
mistaken load), audit it.

Role checks are on the server (a forged callback from a non-admin is refused and audited).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session

from auth import audit
from auth.admin import NotPermitted, require_admin
from data.clock import local_text
from data.models import ImportLog, User
from jobs.ingest import ImportReport, import_file
from jobs.ingest.correct import Deletion, delete_range
from jobs.ingest.load import DATA_START
from jobs.ingest.read import clip

SUFFIXES = (".csv", ".txt", ".xlsx")
MAX_BYTES = 200 * 2**20


def import_upload(session: Session, engine: Engine, actor: User, file_name: str, content: bytes,
                  kind: str | None = None, dry_run: bool = False,
                  tz: str = "Asia/Shanghai", data_start: str | dt.date = DATA_START) -> ImportReport:
    """Import an uploaded file as `actor` (admins only); audit the outcome (dry runs included)."""
    try:
        require_admin(actor)
    except NotPermitted:
        audit.record(session, "import", getattr(actor, "username", None), target=file_name,
                     outcome="refused", detail="not an administrator")
        raise
    suffix = Path(file_name).suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(f"'{clip(file_name)}': only CSV (.csv, .txt) and Excel (.xlsx) files can be "
                         "imported")
    if len(content) > MAX_BYTES:
        raise ValueError(f"'{clip(file_name)}' is larger than {MAX_BYTES // 2**20} MB; use "
                         "`flask --app app import-data` for big files")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(content)
        report = import_file(engine, path, kind, file_name=Path(file_name).name, dry_run=dry_run,
                             username=actor.username, tz=tz, data_start=data_start)
    audit.record(session, "import", actor.username, target=f"{report.kind}:{report.file_name}",
                 outcome=("dry_run" if dry_run else "ok") if report.ok else report.outcome,
                 detail=f"{report.file_hash[:16]} read {report.rows_read} inserted {report.inserted} "
                        f"updated {report.updated} problems {report.problem_count}")
    return report


def delete_data(session: Session, conn: Connection, actor: User, unit_code: str, start: dt.date,
                end: dt.date, kind: str | None = None, dry_run: bool = True) -> Deletion:
    """Delete a unit subtree's facts over days as `actor` (admins only) in `conn`'s transaction,
    which the caller owns: it commits (or rolls back a dry run), then calls `audit_deletion`.

    One transaction (the facts, the data-load log, the roll-ups and the import log's entry);
    `BadRange` for an unknown unit, reversed days or a kind that has no days. A refusal is audited
    here (nothing was written).
    """
    try:
        require_admin(actor)
    except NotPermitted:
        audit.record(session, "delete_data", getattr(actor, "username", None),
                     target=f"{kind or 'all'}:{unit_code}"[:255], outcome="refused",
                     detail="not an administrator")
        raise
    return delete_range(conn, unit_code, start, end, kind, dry_run=dry_run, username=actor.username)


def audit_deletion(session: Session, actor: User, done: Deletion) -> None:
    """Audit a deletion once its transaction has ended (committed, or a dry run rolled back): the
    row goes on its own connection, which on SQLite must not wait behind the deletion's lock."""
    audit.record(session, "delete_data", actor.username,
                 target=f"{done.kind or 'all'}:{done.unit}"[:255],
                 outcome="dry_run" if done.dry_run else "ok", detail=done.summary())


def recent_imports(session: Session, actor: User, limit: int = 50, tz: str = "UTC") -> list[dict]:
    """Return the newest entries of the import log (admins only), times in zone `tz`."""
    require_admin(actor)
    rows = session.scalars(select(ImportLog).order_by(ImportLog.started_at.desc(),
                                                      ImportLog.id.desc()).limit(limit))
    return [{"started_at": local_text(r.started_at, tz, seconds=True), "username": r.username or "",
             "kind": r.kind, "file_name": r.file_name, "file_hash": r.file_hash[:12],
             "outcome": r.outcome, "rows_read": r.rows_read, "inserted": r.inserted,
             "updated": r.updated, "errors": r.errors, "seconds": round(r.duration_seconds, 1),
             "days": f"{r.first_day} ~ {r.last_day}" if r.first_day else ""} for r in rows]
