"""Big demo loads (the national scale's path, forced here on the tiny demo): binary COPY gives the
rows text COPY gives, generator processes give the rows one process gives, and the fact tables'
keys set aside for the load come back, also after a load that failed or was killed."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, select, text

from data.bulk import bulk_insert, copy_encoded, encode_copy
from data.models import Base, Meta
from jobs import demo
from jobs.demo_facts import Calendar
from tests.conftest import DEMO_END, new_store
from tests.test_demo import dump


def _tiny_frames() -> dict[str, pd.DataFrame]:
    scale = demo.SCALES["tiny"]
    units = demo.plan_units(scale)
    days = np.arange(np.datetime64(DEMO_END - dt.timedelta(days=scale.days - 1), "D"),
                     np.datetime64(DEMO_END, "D") + 1)
    chunks = demo._generate(demo.outlet_profiles(units, 42)[:3], units,
                            Calendar(days=days, end=DEMO_END), 42, demo.incidents(units, DEMO_END),
                            encode=False)
    return next(iter(chunks))[1]  # type: ignore[return-value]


def test_binary_copy_gives_the_rows_text_copy_gives(tmp_path):
    store = new_store("postgresql", tmp_path)
    try:
        frames = _tiny_frames()
        channel = frames["channel_daily"].copy()
        # money at the edges of what the binary numeric holds, negative, and with cents
        channel.loc[0:3, "payment_amount_total"] = [999_999_999_999.99, -5.07, 0.0, 0.01]
        frames["channel_daily"] = channel
        with store.engine.begin() as conn:
            for name, frame in frames.items():
                conn.execute(text(f"CREATE TABLE {name}_text (LIKE {name})"))
                conn.execute(text(f"CREATE TABLE {name}_binary (LIKE {name})"))
                bulk_insert(conn, f"{name}_text", frame)
                encoded = encode_copy(Base.metadata.tables[name], frame)
                # the daily facts are fixed-width; work orders have NULLs and names of any length
                assert encoded.binary == (name != "work_order"), name
                assert copy_encoded(conn, f"{name}_binary", encoded) == len(frame)
                differ = conn.execute(text(
                    f"SELECT count(*) FROM ((TABLE {name}_text EXCEPT ALL TABLE {name}_binary) "
                    f"UNION ALL (TABLE {name}_binary EXCEPT ALL TABLE {name}_text)) d")).scalar()
                assert differ == 0, name
                assert conn.execute(text(f"SELECT count(*) FROM {name}_binary")).scalar() == len(frame)
            amounts = conn.execute(text(
                "SELECT payment_amount_total::text FROM channel_daily_binary LIMIT 4")).scalars().all()
            assert amounts == ["999999999999.99", "-5.07", "0.00", "0.01"]
    finally:
        store.drop()


def test_money_beyond_the_binary_numeric_is_copied_as_text():
    frame = pd.DataFrame({"unit_id": [1], "day": ["2026-01-01"], "carrier_id": [1],
                          "participants": [1], "conversions": [1], "cost": [1e12]})
    assert not encode_copy(Base.metadata.tables["campaign_daily"], frame).binary


def _keys(engine: Engine) -> list[tuple[str, str]]:
    """The store's constraints and indexes, as PostgreSQL's catalogue defines them."""
    with engine.connect() as conn:
        constraints = conn.execute(text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE connamespace = current_schema()::regnamespace")).all()
        indexes = conn.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()")).all()
    return sorted([tuple(r) for r in constraints] + [tuple(r) for r in indexes])


def _set_aside_left(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(Meta.value).where(Meta.key == demo.SET_ASIDE_KEY)).first() is not None


def test_a_big_load_gives_the_rows_of_a_small_one_and_puts_the_keys_back(tmp_path, monkeypatch):
    lite, pg = new_store("sqlite", tmp_path), new_store("postgresql", tmp_path)
    try:
        before = _keys(pg.engine)
        demo.seed_demo(lite.engine, "tiny", 7, DEMO_END)  # one process, executemany
        monkeypatch.setattr(demo, "WORKER_OUTLETS", 1)  # generator processes, binary COPY,
        demo.seed_demo(pg.engine, "tiny", 7, DEMO_END)  # keys set aside
        assert dump(lite.engine) == dump(pg.engine)
        assert _keys(pg.engine) == before
        assert not _set_aside_left(pg.engine)
    finally:
        lite.drop()
        pg.drop()


def test_a_big_load_that_fails_or_was_killed_puts_the_keys_back(tmp_path, monkeypatch):
    pg = new_store("postgresql", tmp_path)
    try:
        before = _keys(pg.engine)
        monkeypatch.setattr(demo, "WORKER_OUTLETS", 1)
        copied = []

        def copy_then_fail(conn, table, encoded):
            copied.append(table)
            if len(copied) > 3:
                raise OSError("disk full")
            return copy_encoded(conn, table, encoded)

        with monkeypatch.context() as m:
            m.setattr(demo, "copy_encoded", copy_then_fail)
            with pytest.raises(OSError, match="disk full"):
                demo.seed_demo(pg.engine, "tiny", 7, DEMO_END)
        assert _keys(pg.engine) == before and not _set_aside_left(pg.engine)

        demo._set_aside_keys(pg.engine, reset=False)  # a seed killed during its load left this
        assert _keys(pg.engine) != before and _set_aside_left(pg.engine)
        demo.seed_demo(pg.engine, "tiny", 7, DEMO_END)  # the next seed puts them back first
        assert _keys(pg.engine) == before and not _set_aside_left(pg.engine)
    finally:
        pg.drop()
