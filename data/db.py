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

Reads may go to a PostgreSQL streaming replica (`DATABASE_READ_URL`): `get_read_session()` gives a
request's read session on the replica when it is usable, else the primary's session (`get_session`).
Each process checks the replica at most every REPLICA_CHECK_SECONDS (`Replica.usable`): reachable,
in recovery, and not behind the primary by more than REPLICA_MAX_LAG_SECONDS; a change of verdict
is logged once. Read-your-own-writes: a request that commits a write reads the primary for the rest
of the request, and the primary's WAL position after it is kept in the user's (signed) session; that
user reads the primary until the replica has replayed past it. Writes, sign-in and account checks
always use `get_session()`.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context
from flask import session as flask_session
from sqlalchemy import Connection, Engine, Executable, create_engine, event, make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
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
# A read replica: a dead one must cost a request little (libpq gives up connecting after 2 s).
REPLICA_CONNECT_ARGS = {**CLIENT_CONNECT_ARGS, "connect_timeout": 2}
# A replica that looks behind is looked at once more after this long (it may be milliseconds behind).
RECHECK_PAUSE = 0.05
# The user's session cookie key holding the primary's WAL position after their last write.
READ_AFTER = "read_after_lsn"
log = logging.getLogger(__name__)
# A write that must never wait (recording an API token's use) gives up after this long on PostgreSQL.
NO_WAIT_MS = 50


def default_url() -> str:
    """Return the URL of the embedded SQLite store under data/."""
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


def make_engine(url: str | None, *, job_busy_seconds: float = SQLITE_JOB_BUSY_SECONDS,
                idle_in_transaction_seconds: float = DB_IDLE_IN_TRANSACTION_SECONDS,
                replica: bool = False) -> Engine:
    """Create an engine for `url` (the embedded SQLite file when None), tuned per dialect.
    A `replica` engine connects with a short timeout and reads in REPEATABLE READ, so that all of a
    request's reads (the cache's stamps and the numbers) see one replayed state."""
    parsed = make_url(url or default_url())
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": job_busy_seconds}
    else:
        kwargs["pool_pre_ping"] = True
        if parsed.get_driver_name() == "psycopg":
            parsed = _with_server_timeouts(parsed, idle_in_transaction_seconds)
            kwargs["connect_args"] = dict(REPLICA_CONNECT_ARGS if replica else CLIENT_CONNECT_ARGS)
        if replica:
            kwargs["isolation_level"] = "REPEATABLE READ"
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
    """Bind an engine and session factory to `app` (and the replica's, with DATABASE_READ_URL) and
    close each request's sessions at teardown."""
    given = of(app)
    engine = make_engine(given.DATABASE_URL, job_busy_seconds=given.SQLITE_JOB_BUSY_SECONDS,
                         idle_in_transaction_seconds=given.DB_IDLE_IN_TRANSACTION_SECONDS)
    app.extensions["engine"] = engine
    app.extensions["sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    app.extensions["request_waits_ms"] = (int(given.DB_LOCK_WAIT_SECONDS * 1000),
                                          int(given.DB_STATEMENT_TIMEOUT_SECONDS * 1000))
    app.extensions["replica"] = None
    if given.DATABASE_READ_URL and engine.dialect.name == "postgresql":
        replica_engine = make_engine(
            given.DATABASE_READ_URL, replica=True,
            idle_in_transaction_seconds=given.DB_IDLE_IN_TRANSACTION_SECONDS)
        app.extensions["replica"] = Replica(replica_engine, engine, app)
        event.listen(engine, "commit", _note_write)
        app.after_request(_remember_write)
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
    for name in ("db_session", "db_read_session"):
        session = g.pop(name, None)
        if session is not None:
            session.close()


def write_engine(session: Session) -> Engine:
    """The engine that writes for `session`: the primary's, also for a replica's read session."""
    return session.info.get("primary_engine") or session.get_bind().engine


def store_name(session: Session) -> str:
    """The store `session` reads, named by the primary's URL (no password): a replica's session
    reads the same store, so results computed on either share cache entries (their stamps come from
    the same session as the numbers, so they name the version the numbers are of)."""
    return write_engine(session).url.render_as_string(hide_password=True)


def get_read_session() -> Session:
    """Return this request's session for reads that need not see the newest write: on the replica
    (DATABASE_READ_URL) when one is usable and has replayed the caller's own last write; otherwise
    the primary's session (`get_session()`). Never write through it."""
    replica: Replica | None = current_app.extensions.get("replica")
    if replica is None or not has_request_context() or g.get("db_wrote"):
        return get_session()
    chosen = g.get("db_read_session")
    if chosen is not None:
        return chosen
    if g.get("db_read_primary") or not replica.usable():
        return get_session()
    pending = flask_session.get(READ_AFTER)
    session = None
    try:
        if pending is not None:
            # Read before the session's snapshot is taken, so that the snapshot holds at least this.
            with replica.engine.connect() as conn:
                replayed = conn.exec_driver_sql("SELECT pg_last_wal_replay_lsn()::text").scalar()
            if isinstance(pending, str) and lsn_number(replayed) < lsn_number(pending):
                g.db_read_primary = True  # the caller's own write is not there yet
                return get_session()
        session = replica.sessionmaker()
        _limit_request_waits(session, *current_app.extensions["request_waits_ms"])
        session.info["primary_engine"] = get_engine()
        session.connection()  # connect and begin now (REPEATABLE READ: one snapshot per request)
    except OperationalError as exc:
        if session is not None:
            session.close()
        replica.failed(exc)
        return get_session()
    if pending is not None:
        flask_session.pop(READ_AFTER, None)
    g.db_read_session = session
    return session


def lsn_number(text: str | None) -> int:
    """A PostgreSQL WAL position ('16/B374D848') as a number; -1 for none or a malformed one."""
    try:
        high, low = str(text).split("/")
        return (int(high, 16) << 32) + int(low, 16)
    except ValueError:
        return -1


def _note_write(conn: Connection) -> None:
    # Just before a primary transaction commits inside a request: did it write? (It has a
    # transaction id only if it did.) Then this request reads the primary from now on.
    if not has_request_context() or g.get("db_wrote"):
        return
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute("SELECT pg_current_xact_id_if_assigned() IS NOT NULL")
        row = cursor.fetchone()
    finally:
        cursor.close()
    if row and row[0]:
        g.db_wrote = True


def _remember_write(response: Response) -> Response:
    # After a request that wrote: keep the primary's WAL position in the caller's signed session,
    # so their next requests read the primary until the replica has replayed past it. A caller
    # without a session (an API token) gets no cookie.
    if not g.get("db_wrote") or not flask_session:
        return response
    try:
        with get_engine().connect() as conn:
            now_at = conn.exec_driver_sql("SELECT pg_current_wal_lsn()::text").scalar()
    except SQLAlchemyError as exc:
        log.warning("could not read the primary's WAL position after a write (%s)", exc)
        return response
    known = flask_session.get(READ_AFTER)
    if lsn_number(now_at) > lsn_number(known if isinstance(known, str) else None):
        flask_session[READ_AFTER] = now_at
    return response


class Replica:
    """A streaming replica and this process's verdict on it: usable, or why not (logged once per
    change). The verdict is kept for REPLICA_CHECK_SECONDS."""

    SAMPLES = 256

    def __init__(self, engine: Engine, primary: Engine, app: Flask) -> None:
        self.engine, self.primary, self.app = engine, primary, app
        self.sessionmaker = sessionmaker(engine, expire_on_commit=False)
        url = engine.url
        self.name = f"{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"
        self.why: str | None = "not checked yet"
        self.lag: float | None = None
        self._checked_at = -math.inf
        self._lock = threading.Lock()
        self._samples: deque[tuple[float, int]] = deque(maxlen=self.SAMPLES)  # (when, primary LSN)
        self._logged: str | None = None

    def usable(self) -> bool:
        """Whether reads may go to the replica now (checked at most every REPLICA_CHECK_SECONDS)."""
        now = time.monotonic()
        with self._lock:
            if now - self._checked_at < of(self.app).REPLICA_CHECK_SECONDS:
                return self.why is None
            self._checked_at = now  # other threads keep the old verdict meanwhile
        self._judge(self._check())
        return self.why is None

    def failed(self, exc: BaseException) -> None:
        """A request could not reach the replica: skip it until the next check."""
        with self._lock:
            self._checked_at = time.monotonic()
        self._judge(("down", f"unreachable ({_first_line(exc)})"))

    def _check(self) -> tuple[str, str] | None:
        given = of(self.app)
        started = time.monotonic()
        try:
            with self.primary.connect() as conn:
                primary_at = lsn_number(conn.exec_driver_sql(
                    "SELECT pg_current_wal_lsn()::text").scalar())
        except SQLAlchemyError:
            primary_at = None  # the primary is down: judge the replica by its replay time alone
        try:
            with self.engine.connect() as conn:
                recovering, replayed, since = conn.exec_driver_sql(
                    "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text, "
                    "extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8").one()
        except SQLAlchemyError as exc:
            return "down", f"unreachable ({_first_line(exc)})"
        if not recovering:
            return "not_replica", "is not in recovery (not a streaming replica, or promoted)"
        at = lsn_number(replayed)
        if primary_at is not None and at >= primary_at:
            lag = 0.0  # it has replayed all the primary had when the check began: no lag
        else:
            # How stale it may be, at most: since its last replayed commit, and since the newest
            # earlier check whose primary position it has passed. An idle primary is no lag.
            bounds = [since] if since is not None else []
            bounds += [started - when for when, pos in reversed(self._samples) if pos <= at][:1]
            lag = min(bounds) if bounds else math.inf
        if lag > given.REPLICA_MAX_LAG_SECONDS and primary_at is not None:
            # The bounds are loose after a quiet spell; a replica that is streaming catches up in
            # milliseconds: look once more before calling it behind.
            time.sleep(RECHECK_PAUSE)
            try:
                with self.engine.connect() as conn:
                    if lsn_number(conn.exec_driver_sql(
                            "SELECT pg_last_wal_replay_lsn()::text").scalar()) >= primary_at:
                        lag = time.monotonic() - started
            except SQLAlchemyError as exc:
                return "down", f"unreachable ({_first_line(exc)})"
        if primary_at is not None:
            self._samples.append((started, primary_at))
        self.lag = lag
        if lag > given.REPLICA_MAX_LAG_SECONDS:
            return "behind", (f"is {lag:.1f} s behind the primary (at most "
                              f"{given.REPLICA_MAX_LAG_SECONDS:g} s allowed)")
        return None

    def _judge(self, verdict: tuple[str, str] | None) -> None:
        kind, why = verdict if verdict is not None else ("ok", None)
        with self._lock:
            self.why = why
            changed, self._logged = self._logged != kind, kind
        if not changed:
            return
        if why is None:
            log.warning("read replica %s in use: pages and the API read from it", self.name)
        else:
            log.warning("read replica %s %s; reads go to the primary until it is usable",
                        self.name, why)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__
