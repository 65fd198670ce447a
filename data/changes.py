"""One place that hears "facts changed": seeding and import call `data_changed` inside the
transaction that wrote the facts.

It bumps the store's data version (`meta.data_version`), which anything derived from facts
(cached results, roll-ups) keys on, so nothing derived outlives the facts it came from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from data.models import Meta

VERSION_KEY = "data_version"


def data_version(bind: Session | Connection) -> int:
    """The store's current data version (0 before any facts were written)."""
    value = bind.execute(select(Meta.value).where(Meta.key == VERSION_KEY)).scalar()
    return int(value) if value is not None else 0


def data_changed(bind: Session | Connection, start: dt.date | None = None, end: dt.date | None = None,
                 unit_ids: Iterable[int] | None = None) -> int:
    """Record that facts of `unit_ids` (None: any) on days `start`..`end` (None: any) changed.

    Returns the new data version. Runs in the caller's transaction: if that rolls back, so does
    the bump.
    """
    del start, end, unit_ids  # the version is store-wide; the span is for finer consumers
    bumped = bind.execute(update(Meta).where(Meta.key == VERSION_KEY)
                          .values(value=str(data_version(bind) + 1)))
    if bumped.rowcount == 0:  # type: ignore[attr-defined]
        bind.execute(insert(Meta).values(key=VERSION_KEY, value="1"))
        return 1
    return data_version(bind)
