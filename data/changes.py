"""One place that hears "facts changed": seeding and import call `data_changed` inside the
transaction that wrote the facts.

It bumps the store's data version (`meta.data_version`), which anything derived from facts
(cached results, roll-ups) keys on, so nothing derived outlives the facts it came from: in the same
transaction it refreshes the roll-up tables (`data.rollups`) for the changed units' ancestors and
days, and it clears the result cache of the process it runs in (entries written meanwhile, and in
other processes, carry the old version and are never read again).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from data.models import Meta

VERSION_KEY = "data_version"
TARGETS_KEY = "targets_version"


def data_version(bind: Session | Connection) -> int:
    """The store's current data version (0 before any facts were written)."""
    value = bind.execute(select(Meta.value).where(Meta.key == VERSION_KEY)).scalar()
    return int(value) if value is not None else 0


def data_changed(bind: Session | Connection, start: dt.date | None = None, end: dt.date | None = None,
                 unit_ids: Iterable[int] | None = None) -> int:
    """Record that facts of `unit_ids` (None: any) on days `start`..`end` (None: any) changed.

    Refreshes the roll-ups of those units' ancestors on those days and returns the new data
    version. Runs in the caller's transaction: if that rolls back, so do the bump and the roll-ups.
    """
    from data import rollups
    from metrics import cache

    rollups.refresh(bind, start, end, unit_ids)
    bumped = bind.execute(update(Meta).where(Meta.key == VERSION_KEY)
                          .values(value=str(data_version(bind) + 1)))
    cache.clear()
    if bumped.rowcount == 0:  # type: ignore[attr-defined]
        bind.execute(insert(Meta).values(key=VERSION_KEY, value="1"))
        return 1
    return data_version(bind)


def targets_changed(bind: Session | Connection) -> None:
    """Record that targets were edited (cached attainment keys on it); in the caller's transaction."""
    value = bind.execute(select(Meta.value).where(Meta.key == TARGETS_KEY)).scalar()
    if value is None:
        bind.execute(insert(Meta).values(key=TARGETS_KEY, value="1"))
    else:
        bind.execute(update(Meta).where(Meta.key == TARGETS_KEY).values(value=str(int(value) + 1)))
