"""The shared stores stay as seeded: a write counter on every table, a fingerprint of their content.

`watch(store)` (conftest's session-scoped stores call it once seeded) puts a trigger on every table
of the store that counts the writes to it in `WRITES_TABLE`, and takes the store's fingerprint: per
table, its row count and a checksum of its rows (PostgreSQL: the sum of `hashtext` of each row's
text; SQLite: the sum of a CRC-32 of each row). After each test that used the store, `check` reads
the counters (one small query) and fingerprints only the tables written since the last check; a
table whose fingerprint differs from the seeded one is a leak, and the test fails naming it.
`final_check` fingerprints every table at the session's end.

Signing in through the form is how most tests reach the pages, and it writes: an `audit_event`
row `login`, `app_user.last_login_at` and a `login_throttle` row per key at zero. `check` takes
those traces of a successful sign-in away before comparing (nothing else), so the next test finds
the store as seeded; a failed sign-in, a lock, any other audit event or a changed account is a leak.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Engine, text

from data.models import Base

WRITES_TABLE = "_test_writes"
# What the guard counts and fingerprints: the model's tables and the migrations' version.
Fingerprint = dict[str, tuple[int, int]]


def _tables() -> list[str]:
    return [*(t.name for t in Base.metadata.sorted_tables), "alembic_version"]


def _columns(table: str) -> list[str]:
    if table == "alembic_version":
        return ["version_num"]
    return [c.name for c in Base.metadata.tables[table].columns]


def _row_crc(*values: object) -> int:
    return zlib.crc32(repr(values).encode())


def fingerprint(engine: Engine, tables: list[str] | None = None) -> Fingerprint:
    """Per table of `tables` (default: all): (row count, checksum of the rows' content)."""
    tables = _tables() if tables is None else tables
    out: Fingerprint = {}
    if engine.dialect.name == "postgresql":
        query = " UNION ALL ".join(
            f"SELECT '{t}', count(*), coalesce(sum(hashtext(r::text)::bigint), 0) FROM \"{t}\" r"
            for t in tables)
        with engine.connect() as conn:
            for name, count, checksum in conn.execute(text(query)):
                out[name] = (int(count), int(checksum))
        return out
    raw = engine.raw_connection()
    try:
        dbapi = raw.driver_connection
        assert dbapi is not None
        dbapi.create_function("_test_row_crc", -1, _row_crc, deterministic=True)
        for t in tables:
            cols = ", ".join(f'"{c}"' for c in _columns(t))
            count, checksum = dbapi.execute(
                f'SELECT count(*), coalesce(sum(_test_row_crc({cols})), 0) FROM "{t}"').fetchone()
            out[t] = (int(count), int(checksum))
    finally:
        raw.close()
    return out


def _install_counters(engine: Engine) -> None:
    tables = _tables()
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {WRITES_TABLE} (name VARCHAR(64) PRIMARY KEY, "
                          "n INTEGER NOT NULL)"))
        for t in tables:
            conn.execute(text(f"INSERT INTO {WRITES_TABLE} (name, n) VALUES ('{t}', 0)"))
        if engine.dialect.name == "postgresql":
            conn.execute(text(
                "CREATE FUNCTION _test_count_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"UPDATE {WRITES_TABLE} SET n = n + 1 WHERE name = TG_TABLE_NAME; RETURN NULL; END $$"))
            for t in tables:
                conn.execute(text(
                    f'CREATE TRIGGER _test_writes_{t} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE '
                    f'ON "{t}" FOR EACH STATEMENT EXECUTE FUNCTION _test_count_write()'))
            return
        for t in tables:
            for op in ("INSERT", "UPDATE", "DELETE"):
                conn.execute(text(
                    f'CREATE TRIGGER _test_writes_{t}_{op.lower()} AFTER {op} ON "{t}" BEGIN '
                    f"UPDATE {WRITES_TABLE} SET n = n + 1 WHERE name = '{t}'; END"))


def _counters(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {name: n for name, n in conn.execute(text(f"SELECT name, n FROM {WRITES_TABLE}"))}


# The traces a successful sign-in through the form leaves (auth/login.py, auth/throttle.py).
SIGN_IN_TRACES = {
    "audit_event": "DELETE FROM audit_event WHERE action = 'login' AND outcome = 'ok'",
    "app_user": "UPDATE app_user SET last_login_at = NULL WHERE last_login_at IS NOT NULL",
    "login_throttle": "DELETE FROM login_throttle WHERE failures = 0 AND lockouts = 0 "
                      "AND locked_until IS NULL",
}


class SharedStoreChanged(AssertionError):
    """A test wrote to a store that every test shares."""


@dataclass
class Guard:
    """The seeded fingerprint of one shared store and the write counters seen last."""

    engine: Engine
    label: str
    seeded: Fingerprint
    expected: Fingerprint
    seen: dict[str, int] = field(default_factory=dict)

    def check(self) -> None:
        """Raise SharedStoreChanged naming the tables that differ from the seeded store."""
        counters = _counters(self.engine)
        written = sorted(t for t, n in counters.items() if n != self.seen.get(t))
        if not written:
            return
        traces = [SIGN_IN_TRACES[t] for t in written if t in SIGN_IN_TRACES]
        if traces:
            with self.engine.begin() as conn:
                for statement in traces:
                    conn.execute(text(statement))
            counters = _counters(self.engine)
        self.seen = counters
        now = fingerprint(self.engine, written)
        changed = [t for t in written if now[t] != self.expected[t]]
        if changed:
            # Report each leak once: the tests after this one are compared with what it left.
            self.expected.update(now)
            raise SharedStoreChanged(describe(self.label, changed, self.seeded, now))

    def final_check(self) -> None:
        """Raise SharedStoreChanged if any table differs from the seeded store at the end."""
        now = fingerprint(self.engine)
        changed = [t for t in now if now[t] != self.seeded[t]]
        if changed:
            raise SharedStoreChanged(describe(self.label, changed, self.seeded, now))


def describe(label: str, changed: list[str], before: Fingerprint, after: Fingerprint) -> str:
    """Say which tables of the shared store changed, with their row counts before and after."""
    tables = ", ".join(f"{t} ({before[t][0]} -> {after[t][0]} rows)" for t in changed)
    return (f"the shared store {label} changed: {tables}. A test that writes needs a store of its "
            "own: mark it @pytest.mark.writes (app, clients and app_store then use a copy) or use "
            "own_store/own_app/own_client, seeded_store or new_store (tests/conftest.py)")


def watch(engine: Engine, label: str) -> Guard:
    """Put write counters on a seeded store and remember its fingerprint."""
    _install_counters(engine)
    seeded = fingerprint(engine)
    return Guard(engine, label, seeded, dict(seeded), _counters(engine))


_GUARDS: dict[int, Guard] = {}


@contextmanager
def watched(engine: Engine, label: str) -> Iterator[Guard]:
    """Watch a shared store while the block runs; at its end, check every table (the session's end)."""
    guard = watch(engine, label)
    _GUARDS[id(engine)] = guard
    try:
        yield guard
    finally:
        del _GUARDS[id(engine)]
    guard.final_check()


def check(engine: Engine) -> None:
    """Check the shared store over `engine` after a test (see Guard.check)."""
    _GUARDS[id(engine)].check()
