"""A client that dies or hangs inside a PostgreSQL transaction does not keep its locks: the server
ends a killed client's running statement (it checks the client socket) and a hung client's idle
transaction (idle_in_transaction_session_timeout), so an import killed mid-way frees the import lock
within seconds."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import _postgres_base_url, app_over

ROOT = Path(__file__).resolve().parents[2]
# An advisory lock of our own (like the import's per-kind lock), new each run.
IMPORT_LOCK = random.randrange(1 << 40, 1 << 50)
IDLE_SECONDS = 2  # DB_IDLE_IN_TRANSACTION_SECONDS of the client under test
CHECK_SECONDS = 2  # how often the server should check a running statement's client (README)

# The app's own engine, built by create_app from its settings, takes the lock in a transaction and
# then either runs a long statement (like an import's INSERT ... SELECT) or sits idle.
CLIENT = r"""
import sys, time
from app import create_app
from data.db import get_engine
mode, url, idle, key = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
app = create_app({"DATABASE_URL": url, "DB_IDLE_IN_TRANSACTION_SECONDS": idle, "TESTING": True,
                  "SECRET_KEY": "orphan-test"})
conn = get_engine(app).connect()
pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({key})")
print(pid, flush=True)
if mode == "running":
    conn.exec_driver_sql("SELECT pg_sleep(600)")
else:
    time.sleep(600)
"""


@pytest.fixture
def admin():
    engine = create_engine(_postgres_base_url(), isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


def _locks_of(admin, pid: int) -> int:
    with admin.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM pg_locks WHERE pid = :pid AND locktype = 'advisory'"),
                            {"pid": pid}).scalar_one()


def _start_client(mode: str, key: int) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([sys.executable, "-c", CLIENT, mode, _postgres_base_url(), str(IDLE_SECONDS),
                             str(key)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    proc.stdout.close()
    assert line.isdigit(), f"the client did not start: {line!r}"
    return proc, int(line)


def _seconds_until_released(admin, pid: int, bound: float) -> float:
    started = time.perf_counter()
    while _locks_of(admin, pid):
        if time.perf_counter() - started > bound:
            pytest.fail(f"backend {pid} still holds its advisory lock after {bound} s")
        time.sleep(0.1)
    return time.perf_counter() - started


@pytest.mark.parametrize("mode, sig, bound", [
    # Killed while its statement runs: the server sees the closed socket at its next check.
    ("running", signal.SIGKILL, CHECK_SECONDS + 3),
    # Frozen (or its host gone quiet) between statements: the idle-in-transaction timeout.
    ("idle", signal.SIGSTOP, IDLE_SECONDS + 3),
])
def test_a_dead_or_hung_clients_locks_are_released_within_a_bound(admin, mode, sig, bound):
    """The lock goes within the bound, and another session can take it."""
    key = IMPORT_LOCK + (mode == "idle")
    proc, pid = _start_client(mode, key)
    try:
        assert _locks_of(admin, pid) == 1
        time.sleep(0.5)  # the long statement (or the idle wait) is under way
        os.kill(proc.pid, sig)
        took = _seconds_until_released(admin, pid, bound)
        with admin.connect() as conn:
            assert conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar_one()
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
        print(f"{mode} client ({sig.name}): lock released after {took:.1f} s")
    finally:
        proc.kill()
        proc.wait()


def test_every_connection_carries_the_server_side_limits():
    class Store:
        url = _postgres_base_url()

    with app_over(Store(), DB_IDLE_IN_TRANSACTION_SECONDS=7) as flask_app, \
            flask_app.extensions["engine"].connect() as conn:
        shown = {name: conn.exec_driver_sql(f"SHOW {name}").scalar_one() for name in (
            "idle_in_transaction_session_timeout", "client_connection_check_interval",
            "tcp_keepalives_idle", "tcp_keepalives_interval", "tcp_keepalives_count",
            "statement_timeout")}
    assert shown == {"idle_in_transaction_session_timeout": "7s",
                     "client_connection_check_interval": f"{CHECK_SECONDS}s",
                     "tcp_keepalives_idle": "30", "tcp_keepalives_interval": "10",
                     "tcp_keepalives_count": "3", "statement_timeout": "0"}
