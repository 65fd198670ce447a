"""The roll-up specs are derived from the registry (`metrics.registry.SOURCES`), and the derived
specs build exactly the roll-ups the hand-written ones built."""

from __future__ import annotations

import ast
import datetime as dt
import decimal
import hashlib
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from data import changes
from data.models import ROLLUP_TABLES
from metrics import rollups
from metrics.registry import SOURCES

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
    # added with the hotline (its digest recorded when it was added; the others above unchanged)
    "rollup_hotline": (720, "a00992685ad738e2"),
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


# The specs as they were written by hand before they were derived from the registry:
# source -> (fact table, date column, keeps the carrier, roll-up table).
HAND_WRITTEN = {
    "channel": ("channel_daily", "day", True, "rollup_channel"),
    "content": ("content_daily", "day", True, "rollup_content"),
    "campaign": ("campaign_daily", "day", True, "rollup_campaign"),
    "stock": ("user_stock_daily", "day", False, "rollup_stock"),
    "orders_created": ("work_order", "created_day", True, "rollup_orders_created"),
    "orders_closed": ("work_order", "closed_day", True, "rollup_orders_closed"),
    "load": ("data_load", "day", False, "rollup_load"),
    "hotline": ("hotline_interval", "day", True, "rollup_hotline"),  # added with the hotline
}


def test_the_derived_specs_are_the_hand_written_ones():
    assert {name: (s.fact_table, s.date_column, s.carrier, s.table.name)
            for name, s in rollups.SPECS.items()} == HAND_WRITTEN
    assert {s.rollup for s in rollups.SPECS.values()} == set(ROLLUP_TABLES)


def test_every_summable_source_is_rolled_up():
    """Flows and levels have a roll-up; distinct counts (monthly actives) cannot have one."""
    assert {n for n, s in SOURCES.items() if s.rollup in ("flow", "level")} | {"load"} \
        == set(rollups.SPECS)
    assert not {n for n, s in SOURCES.items() if s.rollup == "distinct"} & set(rollups.SPECS)


def test_the_data_layer_does_not_import_the_rollups():
    """data/ reaches the roll-ups only through data.changes.rollups(), which metrics registers."""
    found = []
    for path in sorted(Path("data").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            found += [(str(path), n) for n in names
                      if n.startswith(("metrics.rollups", "data.rollups"))]
    assert found == []


def test_unregistered_rollups_are_an_error(monkeypatch):
    monkeypatch.setattr(changes, "_rollups", [])
    with pytest.raises(RuntimeError, match="No roll-ups are registered"):
        changes.rollups()
    monkeypatch.undo()
    assert changes.rollups() is rollups


def test_the_hotline_rollup_equals_its_facts(tiny_store):
    """Each unit's `rollup_hotline` row of a day holds the sums of the interval facts of every
    centre in its subtree (its own included), by plain SQL over the materialised paths."""
    from sqlalchemy import text

    sql = """SELECT u.id, f.day, f.carrier_id, sum(f.offered), sum(f.answered), sum(f.answered_20s),
                    sum(f.abandoned), sum(f.wait_seconds), sum(f.handle_seconds)
             FROM org_unit u JOIN org_unit c ON c.path >= u.path AND c.path < u.path || '~'
             JOIN hotline_interval f ON f.unit_id = c.id
             WHERE u.tier < 5 GROUP BY u.id, f.day, f.carrier_id"""
    rolled = """SELECT unit_id, day, carrier_id, offered, answered, answered_20s, abandoned,
                       wait_seconds, handle_seconds FROM rollup_hotline"""
    with tiny_store.engine.connect() as conn:
        want = {tuple(_value(v) for v in r) for r in conn.execute(text(sql))}
        got = {tuple(_value(v) for v in r) for r in conn.execute(text(rolled))}
    assert want and got == want
    assert len({r[0] for r in got}) == 4  # HQ, ZJ and the two cities (their own centres)
