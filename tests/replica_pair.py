"""A real PostgreSQL primary and streaming replica for the read-replica tests.

`initdb` makes a primary (WAL for replication, local replication trusted) in a temporary folder
owned by `postgres`, on a free port; `pg_basebackup -R` copies it into a replica that streams from
it, on another port. Server commands run as `postgres` (`runuser`), so the tests need root and the
PostgreSQL binaries (PG_BIN, default /usr/lib/postgresql/15/bin); without them they skip, or fail
when REQUIRE_REPLICA=1 (.ci/run sets it).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
SERVER_CONF = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{sockets}'
wal_level = replica
max_wal_senders = 5
hot_standby = on
wal_receiver_status_interval = 1
fsync = off
full_page_writes = off
shared_buffers = 32MB
max_connections = 50
log_min_messages = warning
"""


def cannot(reason: str) -> None:
    """Skip (or, with REQUIRE_REPLICA=1, fail) for want of what a real pair needs."""
    if os.environ.get("REQUIRE_REPLICA") == "1":
        pytest.fail(f"{reason}; REQUIRE_REPLICA=1 asks for a real primary and replica")
    pytest.skip(f"{reason} (.ci/run runs these as root with REQUIRE_REPLICA=1)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Pair:
    """A running primary and replica, and what the tests do to them."""

    def __init__(self) -> None:
        missing = [b for b in ("initdb", "pg_ctl", "pg_basebackup", "postgres")
                   if not (PG_BIN / b).exists()]
        if missing:
            cannot(f"PostgreSQL server binaries missing in {PG_BIN}: {', '.join(missing)}")
        if os.geteuid() != 0 or shutil.which("runuser") is None:
            cannot("starting a PostgreSQL primary and replica needs root (runuser -u postgres)")
        try:
            self.owner = pwd.getpwnam("postgres")
        except KeyError:
            cannot("no `postgres` account to run the servers as")
        self.base = Path(tempfile.mkdtemp(prefix="replica-pair-"))
        os.chown(self.base, self.owner.pw_uid, self.owner.pw_gid)
        self.primary_dir, self.replica_dir = self.base / "primary", self.base / "replica"
        self.primary_port, self.replica_port = free_port(), free_port()
        self.primary_url = f"postgresql+psycopg://postgres@127.0.0.1:{self.primary_port}/postgres"
        self.replica_url = f"postgresql+psycopg://postgres@127.0.0.1:{self.replica_port}/postgres"
        self.primary: Engine | None = None
        self.replica: Engine | None = None

    def _run(self, *args: object, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(["runuser", "-u", "postgres", "--", *map(str, args)],
                              capture_output=True, text=True, timeout=90, cwd=self.base)
        if check and done.returncode:
            raise RuntimeError(f"{args[0]} failed: {done.stdout}{done.stderr}")
        return done

    def start(self) -> None:
        self._run(PG_BIN / "initdb", "-D", self.primary_dir, "-A", "trust", "-U", "postgres",
                  "--no-sync", "-E", "UTF8", "--locale=C")
        with open(self.primary_dir / "postgresql.conf", "a") as conf:
            conf.write(SERVER_CONF.format(port=self.primary_port, sockets=self.base))
        self._ctl(self.primary_dir, "start")
        self._run(PG_BIN / "pg_basebackup", "-h", "127.0.0.1", "-p", self.primary_port,
                  "-U", "postgres", "-D", self.replica_dir, "-R", "-X", "stream",
                  "--checkpoint=fast", "--no-sync")
        with open(self.replica_dir / "postgresql.conf", "a") as conf:
            conf.write(f"\nport = {self.replica_port}\n")
        self.start_replica()
        self.primary = create_engine(self.primary_url, isolation_level="AUTOCOMMIT")
        self.replica = create_engine(self.replica_url, isolation_level="AUTOCOMMIT",
                                     pool_pre_ping=True)

    def _ctl(self, folder: Path, action: str, *more: str, check: bool = True) -> None:
        self._run(PG_BIN / "pg_ctl", "-D", folder, "-l", folder.parent / f"{folder.name}.log",
                  "-w", "-t", "60", action, *more, check=check)

    def start_replica(self) -> None:
        self._ctl(self.replica_dir, "start")

    def stop_replica(self) -> None:
        if self.replica is not None:
            self.replica.dispose()
        self._ctl(self.replica_dir, "stop", "-m", "fast")

    def replica_sql(self, sql: str):
        assert self.replica is not None
        with self.replica.connect() as conn:
            return conn.execute(text(sql)).scalar()

    def replica_sql_or_none(self, sql: str):
        """`replica_sql`, or None when the replica does not answer (stopped)."""
        try:
            return self.replica_sql(sql)
        except OperationalError:
            return None

    def primary_sql(self, sql: str, **params):
        assert self.primary is not None
        with self.primary.connect() as conn:
            result = conn.execute(text(sql), params)
            return result.scalar() if result.returns_rows else None

    def pause(self) -> None:
        """Pause the replica's replay (it keeps receiving WAL but applies none)."""
        self.replica_sql("SELECT pg_wal_replay_pause()")
        deadline = time.monotonic() + 10
        while self.replica_sql("SELECT pg_get_wal_replay_pause_state()") != "paused":
            assert time.monotonic() < deadline, "the replica did not pause"
            time.sleep(0.02)

    def resume(self) -> None:
        self.replica_sql("SELECT pg_wal_replay_resume()")

    def caught_up(self, timeout: float = 20) -> None:
        """Wait until the replica has replayed everything the primary has written so far."""
        target = self.primary_sql("SELECT pg_current_wal_lsn()")
        deadline = time.monotonic() + timeout
        while self.replica_sql(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn") is not True:
            assert time.monotonic() < deadline, "the replica did not catch up"
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop both servers (whatever state they are in) and remove their folders."""
        for engine in (self.primary, self.replica):
            if engine is not None:
                engine.dispose()
        for folder in (self.replica_dir, self.primary_dir):
            if (folder / "postmaster.pid").exists():
                self._ctl(folder, "stop", "-m", "immediate", check=False)
        shutil.rmtree(self.base, ignore_errors=True)
