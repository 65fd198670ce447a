"""Engine and per-request session: the one place that opens connections to the store.

How long a connection may wait, per kind of work:
- web requests (the session `get_session` gives inside a request) wait at most DB_LOCK_WAIT_SECONDS for a
  lock (SQLite's write lock, a PostgreSQL row or table lock) and, on PostgreSQL, run each statement at
  most DB_STATEMENT_TIMEOUT_SECONDS; past that the app answers 503 "busy, try again" (data/unavailable.py);
- everything else (CLI jobs: seeding, imports, roll-up rebuilds, risk scans) waits up to
  SQLITE_JOB_BUSY_SECONDS on SQLite and has no statement limit;
- on PostgreSQL every connection lets the server end it when its client is gone: the server checks
  for a closed client socket during long statements, ends sessions idle inside a transaction after
  DB_IDLE_IN_TRANSACTION_SECONDS, and both sides send TCP keepalives.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g, has_request_context
from sqlalchemy import Connection, Engine, Executable, create_engine, event, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from settings import DEFAULTS, of

DATA_DIR = Path(__file__).resolve().parent
DEFAULT_SQLITE_PATH = DATA_DIR / "dashboard.sqlite3"

# The declared defaults (settings.py), for engines made outside an app (alembic, tests, bench).
SQLITE_JOB_BUSY_SECONDS = DEFAULTS.SQLITE_JOB_BUSY_SECONDS
DB_IDLE_IN_TRANSACTION_SECONDS = DEFAULTS.DB_IDLE_IN_TRANSACTION_SECONDS
# PostgreSQL server side: how often a running statement checks that its client is still there, and
# TCP keepalives on the server's socket (a vanished client host is noticed in idle + interval * count).
CLIENT_CHECK_MS = 2000
SERVER_KEEPALIVES = {"tcp_keepalives_idle": 30, "tcp_keepalives_interval": 10, "tcp_keepalives_count": 3}
# libpq (client side): give up connecting after 5 s; keepalives notice a vanished server.
CLIENT_CONNECT_ARGS = {"connect_timeout": 5, "keepalives": 1, "keepalives_idle": 30,
                       "keepalives_interval": 10, "keepalives_count": 3}
# A write that must never wait (recording an API token's use) gives up after this long on PostgreSQL.
NO_WAIT_MS = 50


def default_url() -> str:
    """Return the URL of the embedded SQLite store under data/."""
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


def make_engine(url: str | None, *, job_busy_seconds: float = SQLITE_JOB_BUSY_SECONDS,
                idle_in_transaction_seconds: float = DB_IDLE_IN_TRANSACTION_SECONDS) -> Engine:
    """Create an engine for `url` (the embedded SQLite file when None), tuned per dialect."""
    parsed = make_url(url or default_url())
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": job_busy_seconds}
    else:
        kwargs["pool_pre_ping"] = True
        if parsed.get_driver_name() == "psycopg":
            parsed = _with_server_timeouts(parsed, idle_in_transaction_seconds)
            kwargs["connect_args"] = dict(CLIENT_CONNECT_ARGS)
    engine = create_engine(parsed, **kwargs)
    if engine.dialect.name == "sqlite":
        busy_ms = int(job_busy_seconds * 1000)
        event.listen(engine, "connect", _sqlite_pragmas)
        # A connection a web request shortened goes back to the long wait for whoever takes it next.
        event.listen(engine, "checkout", lambda dbapi_conn, *_: _sqlite_busy(dbapi_conn, busy_ms))
    return engine


def _with_server_timeouts(url, idle_in_transaction_seconds: float):
    # Server settings ride in libpq's `options`, after any the URL already carries (search_path).
    wanted = {"idle_in_transaction_session_timeout": int(idle_in_transaction_seconds * 1000),
              "client_connection_check_interval": CLIENT_CHECK_MS, **SERVER_KEEPALIVES}
    given = url.query.get("options")
    given = " ".join(given) if isinstance(given, tuple) else (given or "")
    options = " ".join([given, *(f"-c {k}={v}" for k, v in wanted.items())]).strip()
    return url.update_query_dict({"options": options})


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets the dashboard read while an import writes; foreign keys are off by default in SQLite.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_busy(dbapi_conn: Any, ms: int) -> None:
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout = {int(ms)}")
    cur.close()


def _limit_request_waits(session: Session, lock_ms: int, statement_ms: int) -> None:
    """Make every transaction of a web request's session wait briefly for locks and statements."""

    def limit(_session: Session, _transaction: SessionTransaction, conn: Connection) -> None:
        _wait_briefly(conn, lock_ms, statement_ms)

    event.listen(session, "after_begin", limit)


def _wait_briefly(conn: Connection, lock_ms: int, statement_ms: int) -> None:
    if conn.dialect.name == "sqlite":
        _sqlite_busy(conn.connection.dbapi_connection, lock_ms)
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            "SELECT set_config('lock_timeout', %(lock)s, true), "
            "set_config('statement_timeout', %(statement)s, true)",
            {"lock": str(lock_ms), "statement": str(statement_ms)})


@contextmanager
def begin_briefly(engine: Engine) -> Iterator[Connection]:
    """Open a transaction of its own that, inside a web request, waits for locks as the request's
    session does (a sign-in's throttle counter must not wait 30 s behind an import)."""
    with engine.begin() as conn:
        if has_request_context():
            _wait_briefly(conn, *current_app.extensions["request_waits_ms"])
        yield conn


def write_without_waiting(bind: Engine | Connection, statement: Executable) -> bool:
    """Run `statement` in its own short transaction if the lock it needs is free now; tell whether it ran."""
    with bind.engine.connect() as conn:
        try:
            if conn.dialect.name == "sqlite":
                _sqlite_busy(conn.connection.dbapi_connection, 0)
            elif conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SELECT set_config('lock_timeout', %(ms)s, true), "
                                     "set_config('statement_timeout', %(stmt)s, true)",
                                     {"ms": str(NO_WAIT_MS), "stmt": str(10 * NO_WAIT_MS)})
            conn.execute(statement)
            conn.commit()
        except OperationalError as exc:
            conn.rollback()
            if is_lock_wait(exc):
                return False
            raise
    return True


def is_lock_wait(exc: BaseException) -> bool:
    """Tell whether `exc` says a lock was not free in time (SQLite busy, PostgreSQL lock timeouts)."""
    orig = getattr(exc, "orig", exc)
    if isinstance(orig, sqlite3.OperationalError):
        return getattr(orig, "sqlite_errorname", "").startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))
    return getattr(orig, "sqlstate", None) in ("55P03", "57014")


def init_app(app: Flask) -> None:
    """Bind an engine and session factory to `app` and close each request's session at teardown."""
    given = of(app)
    engine = make_engine(given.DATABASE_URL, job_busy_seconds=given.SQLITE_JOB_BUSY_SECONDS,
                         idle_in_transaction_seconds=given.DB_IDLE_IN_TRANSACTION_SECONDS)
    app.extensions["engine"] = engine
    app.extensions["sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    app.extensions["request_waits_ms"] = (int(given.DB_LOCK_WAIT_SECONDS * 1000),
                                          int(given.DB_STATEMENT_TIMEOUT_SECONDS * 1000))
    app.teardown_appcontext(_close_session)


def get_engine(app: Flask | None = None) -> Engine:
    """Return the engine of `app` (the current app by default)."""
    return (app or current_app).extensions["engine"]


def get_session() -> Session:
    """Return this request's (or CLI command's) session, opening it on first use."""
    if "db_session" not in g:
        session = current_app.extensions["sessionmaker"]()
        if has_request_context():
            _limit_request_waits(session, *current_app.extensions["request_waits_ms"])
        g.db_session = session
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
