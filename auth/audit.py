"""The append-only audit log: who did what, from where, with what outcome.

`record` never commits, flushes into or otherwise touches the caller's transaction: the request,
command or job that started the work commits or rolls it back, and an audit row goes through a
connection and transaction of its own. What becomes of the row follows what the caller does:

- a refusal, a failed sign-in, a denied access, a failed export (any outcome but "ok") persists
  even when the caller then rolls back (or closes its session without committing);
- a change ("ok") the caller rolls back leaves no row claiming it happened; committed, its row is
  written just after the caller's commit.

How: when the caller's session has no writes of its own pending (nothing added, changed or deleted,
nothing flushed or executed as DML in its open transaction), the row is written at once on its own
connection. Otherwise it waits for the end of the caller's transaction (session events): after a
commit every waiting row is written; after a rollback only the rows whose outcome is not "ok".
Writing at once while the caller holds a write would deadlock on SQLite (its one write lock is the
caller's until it commits: the audit's connection would wait out the busy timeout and fail), and
would let a change's row outlive the change's rollback; waiting for the end of the caller's
transaction avoids both. Call `record` after the change it reports has been made in the session.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import has_request_context, request
from sqlalchemy import event, insert
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from data.clock import utc_now
from data.db import begin_briefly, write_engine
from data.models import AuditEvent

# Keys in Session.info: rows waiting for the end of the caller's transaction, whether the session
# has written in its open transaction, and whether that transaction committed.
_WAITING = "audit_waiting"
_WROTE = "audit_wrote"
_COMMITTED = "audit_committed"


def now() -> dt.datetime:
    """Return the current UTC time without tzinfo (how the audit log stores times)."""
    return utc_now()


def client_address() -> str | None:
    """Return the requesting address (behind a proxy, ProxyFix supplies the real one)."""
    return request.remote_addr if has_request_context() else None


def record(session: Session, action: str, username: str | None, target: str = "",
           outcome: str = "ok", detail: str = "") -> None:
    """Append one event on a connection of its own; never commit the caller's session.

    An outcome other than "ok" (a refusal, a failure) persists whatever the caller then does; an
    "ok" row (a change) persists only if the caller commits (see the module's docstring).
    """
    row = {"at": now(), "username": username, "address": client_address(), "action": action,
           "target": target[:255], "outcome": outcome, "detail": detail}
    if has_pending_writes(session):
        session.info.setdefault(_WAITING, []).append(row)
    else:
        _write(session, [row])


def has_pending_writes(session: Session) -> bool:
    """Tell whether `session` has written, or will write on its next flush, in its open transaction."""
    return bool(session.info.get(_WROTE) or session.new or session.deleted
                or any(session.is_modified(o) for o in session.dirty))


def _write(session: Session, rows: list[dict[str, Any]]) -> None:
    with begin_briefly(write_engine(session)) as conn:  # the primary, for a replica's session too
        conn.execute(insert(AuditEvent), rows)


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context: Any) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if not session.in_nested_transaction():  # a savepoint's release is not the caller's commit
        session.info[_COMMITTED] = True


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    session.info.pop(_WROTE, None)
    committed = session.info.pop(_COMMITTED, False)
    rows = session.info.pop(_WAITING, None)
    keep = [r for r in rows or () if committed or r["outcome"] != "ok"]
    if keep:
        _write(session, keep)
