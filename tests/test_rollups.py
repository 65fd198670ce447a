"""The roll-up specs are derived from the registry (`metrics.registry.SOURCES`), and the derived
specs build exactly the roll-ups the hand-written ones built."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import ROLLUP_TABLES

# Contents of every roll-up table of the tiny demo (seed 42, ending DEMO_END), recorded from the
# hand-written specs before they were derived from the registry: table -> (rows, digest).
TINY_ROLLUPS = {
    "rollup_channel": (8638, "df852f443e00b450"),
    "rollup_content": (4319, "73f4ff183845dedf"),
    "rollup_campaign": (5759, "badc4ed439d89329"),
    "rollup_stock": (1440, "01145800a097a1aa"),
    "rollup_orders_created": (5607, "7b73706136ae6b05"),
    "rollup_orders_closed": (5553, "e06cb932ea93c50d"),
    "rollup_load": (1440, "7baefa2951e7ef28"),
}


def _value(v):
    if isinstance(v, (int, float, decimal.Decimal)):  # PostgreSQL sums integers to numerics
        return f"{float(v):.4f}"
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def fingerprint(session: Session) -> dict[str, tuple[int, str]]:
    """Each roll-up table's row count and a digest of its sorted rows (numbers to 4 places)."""
    out = {}
    for t in ROLLUP_TABLES:
        cols = sorted(t.__table__.columns, key=lambda c: c.name)
        rows = sorted(tuple(_value(v) for v in r) for r in session.execute(select(*cols)))
        text = repr(([c.name for c in cols], rows))
        out[t.__tablename__] = (len(rows), hashlib.sha256(text.encode()).hexdigest()[:16])
    return out


def test_the_tiny_demo_rollups_are_unchanged(tiny_store):
    with Session(tiny_store.engine) as session:
        assert fingerprint(session) == TINY_ROLLUPS
