"""Work-order imports during the day (every 15 minutes, say): an order already in the store that
arrives again closed is updated in place (closing time, status, resolution, rating), the roll-ups
of every day it touched are refreshed, and the live view follows at once (cached or not)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.models import WorkOrder
from data.units import unit_by_code
from jobs.ingest import import_file
from metrics import cache
from metrics.compute import compute, facts_only
from metrics.live import live_counters
from tests.conftest import DB_KINDS, app_over, new_store
from tests.test_import import WO_HEADER, add_tiny_units, write_csv

DAY = dt.date(2026, 7, 1)


def _row(no: str, created: str, deadline: str, closed: str = "", fcr="", rating="",
         unit: str = "ZJ-HZ-01-01") -> list:
    return [no, unit, "hotline", "repair", f"2026-07-01 {created}:00", "",
            f"2026-07-01 {deadline}:00", f"2026-07-01 {closed}:00" if closed else "", fcr, rating]


def _morning() -> list[list]:
    return [_row("L1", "08:00", "23:00"), _row("L2", "08:30", "12:00"),
            _row("L3", "09:00", "11:30"), _row("L4", "09:10", "20:00", unit="ZJ-HZ-01-02")]


@pytest.fixture(params=DB_KINDS)
def store(request, tmp_path):
    s = new_store(request.param, tmp_path)
    add_tiny_units(s.engine)
    yield s
    s.drop()


def test_an_order_arriving_again_closed_is_updated_in_place_and_live_follows(store, tmp_path):
    path = tmp_path / "work_orders.csv"
    first = import_file(store.engine, write_csv(path, WO_HEADER, _morning()))
    assert first.ok and first.inserted == 4, first.problem_lines()
    with Session(store.engine) as s:
        ids = dict(s.execute(select(WorkOrder.order_no, WorkOrder.id)).all())
    with app_over(store) as flask_app, flask_app.app_context():
        assert cache.enabled()  # the live counters are cached here: the import must show anyway
        with Session(store.engine) as s:
            county = unit_by_code(s, "ZJ-HZ-01")
            before = live_counters(s, county, dt.datetime(2026, 7, 1, 10, 0))
            assert (before.orders_today, before.open, before.overdue, before.closed_today) == (
                4, 4, 0, 0)
        # 10:15: the next file holds the orders that changed: L2 closed, L3 closed late, and a
        # new one; nothing else.
        later = [_row("L2", "08:30", "12:00", "09:50", 1, 5),
                 _row("L3", "09:00", "11:30", "10:05", 0, 2),
                 _row("L5", "10:02", "11:00")]
        again = import_file(store.engine, write_csv(path, WO_HEADER, later))
        assert (again.inserted, again.updated) == (1, 2), again.problem_lines()
        with Session(store.engine) as s:
            after = live_counters(s, county, dt.datetime(2026, 7, 1, 10, 0))
            at_1015 = live_counters(s, county, dt.datetime(2026, 7, 1, 10, 15))
    assert (after.open, after.closed_today, after.fcr) == (3, 1, 1.0)  # L3 closes after 10:00
    assert (at_1015.orders_today, at_1015.open, at_1015.closed_today) == (5, 3, 2)
    assert (at_1015.fcr, at_1015.satisfaction) == (0.5, 0.5)
    with Session(store.engine) as s:
        assert s.scalar(select(func.count()).select_from(WorkOrder)) == 5
        stored = {w.order_no: w for w in s.scalars(select(WorkOrder))}
    assert {no: stored[no].id for no in ids} == ids  # the same rows, updated in place
    l2 = stored["L2"]
    assert (l2.closed_at, l2.closed_day, l2.first_contact_resolved, l2.rating) == (
        dt.datetime(2026, 7, 1, 9, 50), DAY, True, 5)
    assert stored["L1"].closed_at is None  # not in the second file: untouched


def _closed_on(engine, day: dt.date) -> tuple:
    """Orders closed on `day` in ZJ by the roll-ups and by the facts."""
    with Session(engine) as s:
        zj = unit_by_code(s, "ZJ")
        fast = compute(s, ["first_contact_resolution"], zj, day, day)
        with facts_only():
            slow = compute(s, ["first_contact_resolution"], zj, day, day)
    return fast.iloc[0]["denominator"], slow.iloc[0]["denominator"]


def test_a_reopened_or_recorrected_order_leaves_no_stale_roll_up(store, tmp_path):
    path = tmp_path / "work_orders.csv"
    rows = [["R1", "ZJ-HZ-01-01", "hotline", "repair", "2026-06-28 09:00:00", "",
             "2026-07-05 09:00:00", "2026-07-01 10:00:00", 1, 5],
            ["R2", "ZJ-HZ-01-01", "hotline", "repair", "2026-06-28 09:00:00", "",
             "2026-07-05 09:00:00", "2026-07-01 11:00:00", 1, 5]]
    assert import_file(store.engine, write_csv(path, WO_HEADER, rows)).ok
    assert _closed_on(store.engine, DAY) == (2, 2)
    rows[0][7] = rows[0][8] = rows[0][9] = ""  # R1 is re-opened
    rows[1][7] = "2026-06-29 11:00:00"  # R2's closing day corrected to an earlier day
    fixed = import_file(store.engine, write_csv(path, WO_HEADER, rows))
    assert fixed.ok and fixed.updated == 2
    # The file's own days end on 2026-06-29; the stored closing day 2026-07-01 changed too.
    fast, slow = _closed_on(store.engine, DAY)
    assert fast == slow
    assert _closed_on(store.engine, dt.date(2026, 6, 29)) == (1, 1)
