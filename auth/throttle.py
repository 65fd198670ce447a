"""The sign-in throttle: attempts counted atomically per account+address, address and account.

Each attempt is counted *before* the password is checked, in its own short transaction that holds
the keys' rows (SELECT ... FOR UPDATE on PostgreSQL; SQLite's single writer lock, taken by the first
INSERT), so parallel attempts cannot all slip through between a check and a count. A successful
sign-in hands its count back. The rule (README "Sign-in, roles and scope"):

- at most PAIR_LIMIT attempts per account and address, ADDRESS_LIMIT per address (any account) and
  ACCOUNT_LIMIT per account (any address) within WINDOW;
- the attempt past a limit locks that key for LOCK_BASE, doubled for each further lock of the same
  key (at most LOCK_MAX); a key's lock count is forgotten FORGET_AFTER after its last lock ended;
- while any key of an attempt is locked, the attempt is refused without a password check.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Connection, Engine, Table, select, update
from sqlalchemy.dialects import postgresql, sqlite

from auth.audit import now
from data.db import begin_briefly
from data.models import LoginThrottle

PAIR_LIMIT = 5
ADDRESS_LIMIT = 20
ACCOUNT_LIMIT = 50
WINDOW = dt.timedelta(minutes=15)
LOCK_BASE = dt.timedelta(minutes=15)
LOCK_MAX = dt.timedelta(hours=24)
FORGET_AFTER = dt.timedelta(hours=24)

_T = cast(Table, LoginThrottle.__table__)


@dataclass(frozen=True)
class Verdict:
    """Whether an attempt may check its password; if not, until when it is locked."""

    allowed: bool
    locked_until: dt.datetime | None = None


def keys_for(username: str, address: str | None) -> dict[str, int]:
    """Return the throttle keys of an attempt with their limits."""
    name = username[:64]
    keys = {f"user:{name}": ACCOUNT_LIMIT}
    if address:
        keys[f"pair:{address}|{name}"] = PAIR_LIMIT
        keys[f"addr:{address}"] = ADDRESS_LIMIT
    else:  # no address known (tests without one): the account is its own pair
        keys[f"pair:-|{name}"] = PAIR_LIMIT
    return keys


def lock_length(lockouts: int) -> dt.timedelta:
    """Return how long the (lockouts+1)-th consecutive lock of a key lasts."""
    return min(LOCK_BASE * (2 ** min(lockouts, 16)), LOCK_MAX)


def reserve(engine: Engine, username: str, address: str | None) -> Verdict:
    """Count one attempt against every key, or refuse it if a key is or becomes locked."""
    keys = keys_for(username, address)
    at = now()
    with begin_briefly(engine) as conn:
        _insert_missing(conn, sorted(keys), at)
        rows = conn.execute(select(_T).where(_T.c.key.in_(keys)).order_by(_T.c.key)
                            .with_for_update()).all()
        locked = [r.locked_until for r in rows if r.locked_until is not None and r.locked_until > at]
        if locked:
            return Verdict(False, max(locked))
        changes, lock_until = {}, None
        for r in rows:
            failures, start, lockouts = r.failures, r.window_start, r.lockouts
            if start <= at - WINDOW:
                failures, start = 0, at
            if r.locked_until is not None and r.locked_until <= at - FORGET_AFTER:
                lockouts = 0
            if failures + 1 > keys[r.key]:
                until = at + lock_length(lockouts)
                lock_until = max(lock_until or until, until)
                changes[r.key] = {"failures": 0, "window_start": at, "locked_until": until,
                                  "lockouts": lockouts + 1}
            else:
                changes[r.key] = {"failures": failures + 1, "window_start": start,
                                  "lockouts": lockouts}
        if lock_until is not None:  # refused: only the keys that lock change
            changes = {k: v for k, v in changes.items() if "locked_until" in v}
        for key, values in changes.items():
            conn.execute(update(_T).where(_T.c.key == key).values(**values))
    return Verdict(lock_until is None, lock_until)


def release(engine: Engine, username: str, address: str | None) -> None:
    """Hand back a successful attempt's count: its pair starts afresh, the others lose one."""
    keys = keys_for(username, address)
    pair = next(k for k in keys if k.startswith("pair:"))
    others = [k for k in keys if k != pair]
    with begin_briefly(engine) as conn:
        # The keys' rows in key order, as `reserve` takes them: otherwise a hand-back and a count
        # of the same account and address each hold a row the other waits for (a deadlock).
        conn.execute(select(_T.c.key).where(_T.c.key.in_(keys)).order_by(_T.c.key).with_for_update())
        conn.execute(update(_T).where(_T.c.key == pair).values(failures=0, lockouts=0))
        conn.execute(update(_T).where(_T.c.key.in_(others), _T.c.failures > 0)
                     .values(failures=_T.c.failures - 1))
        # Forget keys that have been quiet for a day and are not locked; rows another attempt holds
        # right now are left for a later sign-in (SKIP LOCKED: never wait on, or deadlock with, it).
        stale = now() - FORGET_AFTER
        quiet = (select(_T.c.key).where(_T.c.window_start < stale, _T.c.failures == 0,
                                         (_T.c.locked_until.is_(None)) | (_T.c.locked_until < stale))
                 .with_for_update(skip_locked=True))
        conn.execute(_T.delete().where(_T.c.key.in_(quiet.scalar_subquery())))


def _insert_missing(conn: Connection, keys: list[str], at: dt.datetime) -> None:
    # One row per key, in key order (no deadlock between two attempts); an existing row is kept.
    # On SQLite this first write takes the database's write lock until the transaction ends.
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    for key in keys:
        conn.execute(insert(_T).values(key=key, failures=0, window_start=at, lockouts=0)
                     .on_conflict_do_nothing(index_elements=["key"]))
