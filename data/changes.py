"""One place that hears "facts changed": seeding and import call `data_changed` inside the
transaction that wrote the facts.

It bumps the store's data version (the `facts` row of `store_version`), which anything derived
from facts (cached results, roll-ups) keys on, so nothing derived outlives the facts it came from:
in the same transaction it refreshes the roll-up tables (`metrics.rollups`, reached through
`rollups()`) for the changed units' ancestors and days, and it calls what upper layers registered
with `on_data_changed` (the result cache, `metrics.cache`, clears itself in the process it runs in;
entries written meanwhile, and in other processes, carry the old version and are never read
again). Data is the floor: it imports no upper layer, it calls them back.

The other stamps (`STAMPED`) need no call: triggers on their tables (migrations 0015 and 0016) bump them in
the writing transaction, whoever writes. `versions` reads every stamp in one query of a few rows,
whatever the size of the store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from data.models import StoreVersion

FACTS = "facts"
# Stamp -> the tables whose every write bumps it (by trigger). A table that cached results read
# needs its entry here and its triggers in a migration.
STAMPED: dict[str, tuple[str, ...]] = {
    "targets": ("target",),
    "rubric": ("stage_criterion",),
    "risk": ("risk_rule", "risk_event", "risk_event_step", "risk_scan_run", "risk_incident"),
    "carriers": ("carrier",),
}
_listeners: list[Callable[[], None]] = []


def on_data_changed(listener: Callable[[], None]) -> None:
    """Have `listener` called after every `data_changed` (once however often it is registered)."""
    if listener not in _listeners:
        _listeners.append(listener)


class Rollups(Protocol):
    """The roll-up tables derived from the facts. They are built from the metrics registry, so
    `metrics.rollups` implements this and registers itself (importing `metrics` does); the data
    layer reaches them only through `rollups()`."""

    def refresh(self, bind: Session | Connection, start: dt.date | None = None,
                end: dt.date | None = None, unit_ids: Iterable[int] | None = None,
                tables: Iterable[str] | None = None) -> None: ...

    def build(self, engine: Engine, progress: Callable[[int, int], None] | None = None) -> bool: ...

    def forget(self, bind: Session | Connection) -> None: ...


_rollups: list[Rollups] = []


def register_rollups(implementation: Rollups) -> None:
    """Make `implementation` the roll-ups that `data_changed`, seeding and upgrades keep built."""
    _rollups[:] = [implementation]


def rollups() -> Rollups:
    """The registered roll-ups; an error, never stale roll-ups, if none were registered."""
    if not _rollups:
        raise RuntimeError("No roll-ups are registered: import metrics (metrics.rollups) first")
    return _rollups[0]


def versions(bind: Session | Connection) -> dict[str, int]:
    """Every stamp's current version (one primary-key-sized read)."""
    return {name: int(v) for name, v in bind.execute(
        select(StoreVersion.name, StoreVersion.version)).all()}


def data_version(bind: Session | Connection) -> int:
    """The store's current data version (0 before any facts were written)."""
    value = bind.execute(select(StoreVersion.version).where(StoreVersion.name == FACTS)).scalar()
    return int(value) if value is not None else 0


def data_changed(bind: Session | Connection, start: dt.date | None = None, end: dt.date | None = None,
                 unit_ids: Iterable[int] | None = None, tables: Iterable[str] | None = None) -> int:
    """Record that facts of `unit_ids` (None: any) on days `start`..`end` (None: any) in the fact
    `tables` (None: any) changed.

    Refreshes the roll-ups of those tables for those units' ancestors on those days, calls the
    `on_data_changed` listeners and returns the new data version. Runs in the caller's
    transaction: if that rolls back, so do the bump and the roll-ups.
    """

    rollups().refresh(bind, start, end, unit_ids, tables)
    bump(bind, FACTS)
    for listener in _listeners:
        listener()
    return data_version(bind)


def bump(bind: Session | Connection, name: str) -> None:
    """Add one to stamp `name`, atomically (concurrent writers each count), in the caller's
    transaction."""
    bind.execute(update(StoreVersion).where(StoreVersion.name == name)
                 .values(version=StoreVersion.version + 1))

