"""The demo includes today so far (DOMAIN.md): seeded with no end day (or today's), the daily data
ends yesterday and the work orders run on to the seeding time, some still open, some due within
two hours, some overdue; the same seed and time give the same rows."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from data.units import unit_by_code
from jobs.demo import seed_demo
from metrics.live import live_counters
from tests.conftest import DB_KINDS, new_store

NOW = dt.datetime(2026, 11, 26, 11, 20, 25)  # a Thursday morning, local time


def _seeded(tmp_path, now: dt.datetime, end: dt.date | None = None, kind: str = "sqlite"):
    tmp_path.mkdir(parents=True, exist_ok=True)
    store = new_store(kind, tmp_path)
    seed_demo(store.engine, "tiny", 42, end, now=now)
    return store


def _orders_digest(engine) -> str:
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT order_no, unit_id, carrier_id, category, created_at, first_response_at, "
            "sla_deadline, closed_at, first_contact_resolved, rating FROM work_order "
            "ORDER BY order_no")).all()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


@pytest.fixture(params=DB_KINDS)
def today_store(request, tmp_path):
    store = _seeded(tmp_path / "a", NOW, kind=request.param)
    yield store
    store.drop()


def test_the_demo_has_today_so_far_and_nothing_after_now(today_store):
    engine = today_store.engine
    with engine.connect() as conn:
        latest = conn.execute(text(
            "SELECT max(created_at), max(closed_at), max(first_response_at) FROM work_order")).one()
        daily_end = conn.execute(text("SELECT max(day) FROM channel_daily")).scalar()
        loaded_end = conn.execute(text("SELECT max(day) FROM data_load")).scalar()
        meta = dict(conn.execute(text("SELECT key, value FROM meta WHERE key LIKE 'demo%'")).all())
    assert all(str(v) < str(NOW) and str(v) >= "2026-11-26" for v in latest), latest
    assert str(daily_end) == str(loaded_end) == "2026-11-25"  # daily facts end yesterday
    assert meta["demo_end"] == "2026-11-25" and meta["demo_now"] == "2026-11-26T11:20:25"
    with Session(engine) as s:
        c = live_counters(s, unit_by_code(s, "ZJ"), NOW.replace(second=0))
    assert c.orders_today and c.open and c.overdue and c.due_2h, c
    assert c.closed_today and c.fcr is not None and c.orders_last_week


def test_the_same_seed_and_time_give_the_same_rows_and_today_as_end_is_the_default(
        today_store, tmp_path):
    again = _seeded(tmp_path / "b", NOW, end=NOW.date(), kind=today_store.kind)
    later = _seeded(tmp_path / "c", NOW + dt.timedelta(hours=1), kind=today_store.kind)
    try:
        assert _orders_digest(again.engine) == _orders_digest(today_store.engine)
        with today_store.engine.connect() as a, later.engine.connect() as b:
            query = text("SELECT order_no, created_at FROM work_order WHERE created_day = "
                         "'2026-11-26' ORDER BY created_at")
            now_rows = a.execute(query).all()
            later_rows = b.execute(query).all()
        # An hour later: the same orders of today (numbered afresh) and the next hour's.
        assert [r[1] for r in later_rows[:len(now_rows)]] == [r[1] for r in now_rows]
        assert len(later_rows) > len(now_rows)
    finally:
        again.drop()
        later.drop()


def test_a_past_end_day_has_no_today(tmp_path):
    store = _seeded(tmp_path, NOW, end=dt.date(2026, 6, 30))
    try:
        with store.engine.connect() as conn:
            last = conn.execute(text("SELECT max(created_day), max(closed_day) FROM work_order")).one()
            meta = conn.execute(text("SELECT count(*) FROM meta WHERE key = 'demo_now'")).scalar()
        assert [str(v) for v in last] == ["2026-06-30", "2026-06-30"] and meta == 0
    finally:
        store.drop()
