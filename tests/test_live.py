"""Today, live (`metrics.live`): every counter against an independent count in Python over the raw
rows, on the tiny demo and on a store written here, with a fixed clock; None for no data."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from data.models import WorkOrder
from data.units import unit_by_code
from metrics.live import live_counters
from metrics.scope import OutOfScope, Scope
from tests.conftest import new_store
from tests.test_import import add_tiny_units


def _time(value) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def oracle(conn, code: str, now: dt.datetime) -> dict:
    """The live counters restated: the subtree's raw rows read with plain SQL, counted in Python."""
    path = conn.execute(text("SELECT path FROM org_unit WHERE code = :c"), {"c": code}).scalar_one()
    rows = [dict(r._mapping) for r in conn.execute(text(
        "SELECT w.created_at, w.closed_at, w.sla_deadline, w.category, w.first_contact_resolved, "
        "w.rating FROM work_order w JOIN org_unit u ON u.id = w.unit_id WHERE u.path LIKE :p"),
        {"p": path + "%"})]
    for r in rows:
        for k in ("created_at", "closed_at", "sla_deadline"):
            r[k] = _time(r[k])
    midnight = dt.datetime.combine(now.date(), dt.time())
    week = dt.timedelta(days=7)
    live = any(midnight - dt.timedelta(days=7) <= r["created_at"] <= now for r in rows)
    back = live and any(midnight - week - dt.timedelta(days=7) <= r["created_at"] < midnight - week
                        + dt.timedelta(days=1) for r in rows)
    today = [r for r in rows if midnight <= r["created_at"] <= now]
    before = [r for r in rows if midnight - week <= r["created_at"] <= now - week]
    open_ = [r for r in rows if r["created_at"] <= now and (r["closed_at"] is None
                                                             or r["closed_at"] > now)]
    closed = [r for r in rows if midnight <= (r["closed_at"] or dt.datetime.min) <= now]
    rated = [r for r in closed if r["rating"] is not None]
    risk_ran = conn.execute(text("SELECT count(*) FROM risk_scan_run")).scalar_one() > 0
    risk = [_time(v) for v in conn.execute(text(
        "SELECT e.created_at FROM risk_event e JOIN org_unit u ON u.id = e.unit_id "
        "WHERE u.path LIKE :p"), {"p": path + "%"}).scalars()]

    def when(value):
        return value if live else None

    return {
        "orders_today": when(len(today)),
        "orders_last_week": len(before) if back else None,
        "by_hour": [{"hour": h,
                     "today": when(sum(r["created_at"].hour == h for r in today)),
                     "last_week": sum(r["created_at"].hour == h for r in before) if back else None}
                    for h in range(now.hour + 1)],
        "open": when(len(open_)),
        "overdue": when(sum(r["sla_deadline"] < now for r in open_)),
        "due_2h": when(sum(now <= r["sla_deadline"] < now + dt.timedelta(hours=2)
                           for r in open_)),
        "complaints_today": when(sum(r["category"] == "complaint" for r in today)),
        "closed_today": when(len(closed)),
        "fcr": (sum(bool(r["first_contact_resolved"]) for r in closed) / len(closed)
                if live and closed else None),
        "satisfaction": (sum(r["rating"] >= 4 for r in rated) / len(rated)
                         if live and rated else None),
        "risk_events_today": (sum(midnight <= e <= now for e in risk) if risk_ran else None),
    }


def _rounded(values: dict) -> dict:
    return {k: round(v, 12) if isinstance(v, float) else v for k, v in values.items()}


def _shown(counters) -> dict:
    answer = counters.as_dict()
    return {k: answer[k] for k in ("orders_today", "orders_last_week", "by_hour", "open", "overdue",
                                   "due_2h", "complaints_today", "closed_today", "fcr",
                                   "satisfaction", "risk_events_today")}


@pytest.mark.parametrize("code, now", [
    ("ZJ", dt.datetime(2026, 6, 30, 15, 30)),
    ("HQ", dt.datetime(2026, 6, 30, 23, 59)),
    ("ZJ-HZ-01", dt.datetime(2026, 6, 29, 9, 5)),
    ("ZJ-NB-01-01", dt.datetime(2026, 6, 24, 12, 0)),
    ("ZJ", dt.datetime(2026, 6, 30, 0, 10)),
    ("ZJ", dt.datetime(2026, 8, 30, 15, 30)),  # after the data: no feed, every count None
])
def test_live_counters_equal_the_raw_rows_counted_in_python(tiny_store, code, now):
    with Session(tiny_store.engine) as session:
        got = live_counters(session, unit_by_code(session, code), now)
        expected = oracle(session.connection(), code, now)
    assert _rounded(_shown(got)) == _rounded(expected)
    if now.month == 6:
        assert got.orders_today is not None and got.open  # the demo has a live feed
    else:
        assert got.orders_today is None and got.open is None and got.fcr is None


def test_live_counters_refuse_a_unit_outside_the_scope(tiny_store):
    with Session(tiny_store.engine) as session:
        scope = Scope.of(unit_by_code(session, "ZJ-HZ-01"))
        with pytest.raises(OutOfScope):
            live_counters(session, unit_by_code(session, "ZJ-NB"), dt.datetime(2026, 6, 30, 12),
                          scope=scope)


NOW = dt.datetime(2026, 7, 8, 14, 20)


def _order(no, unit, created, deadline_h, closed=None, category="repair", fcr=None, rating=None):
    created_at = NOW.replace(hour=0, minute=0) + created
    closed_at = NOW.replace(hour=0, minute=0) + closed if closed is not None else None
    return {"order_no": no, "unit_id": unit, "carrier_id": 5, "category": category,
            "created_at": created_at, "created_day": created_at.date(),
            "first_response_at": None, "response_minutes": None,
            "sla_deadline": created_at + dt.timedelta(hours=deadline_h),
            "closed_at": closed_at, "closed_day": closed_at.date() if closed_at else None,
            "first_contact_resolved": fcr, "rating": rating}


H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)
# Outlet 5 (ZJ-HZ-01-01) has a live feed today; outlet 6 (ZJ-HZ-01-02) had orders yesterday and
# none today; outlets of ZJ-NB last had orders a month ago (no live feed).
ORDERS = [
    _order("A1", 5, 8 * H, 24),  # open, due tomorrow
    _order("A2", 5, 9 * H + 30 * H / 60, 24, closed=11 * H, fcr=True, rating=5),
    _order("A3", 5, 10 * H, 4, category="complaint"),  # open, due 14:00: overdue at 14:20
    _order("A4", 5, 13 * H, 2.5),  # due 15:30: within 2 h
    _order("A5", 5, 14 * H + 30 * H / 60, 1),  # created after now: not counted yet
    _order("A6", 5, -D + 15 * H, 24, closed=12 * H, fcr=False, rating=2),  # yesterday's, closed today
    _order("A7", 5, -D + 13 * H, 26, closed=15 * H, fcr=True),  # closes after now: open, due 15:00
    _order("A8", 5, -3 * D, 24),  # open, overdue for two days
    _order("A9", 5, -7 * D + 8 * H, 24, closed=-7 * D + 9 * H),  # last week, hour 8
    _order("A10", 5, -7 * D + 14 * H + 30 * H / 60, 24, closed=-7 * D + 16 * H),  # after 14:20
    _order("B1", 6, -D + 9 * H, 24, closed=-D + 10 * H, fcr=True, rating=4),
    _order("C1", 12, -30 * D + 9 * H, 24, closed=-30 * D + 10 * H, fcr=True, rating=4),
]


@pytest.fixture(params=["sqlite", "postgresql"])
def written_store(request, tmp_path):
    if request.param == "postgresql":
        from tests.conftest import _postgres_base_url

        _postgres_base_url()  # skip without TEST_DATABASE_URL
    store = new_store(request.param, tmp_path)
    add_tiny_units(store.engine)
    with store.engine.begin() as conn:
        conn.execute(insert(WorkOrder), ORDERS)  # stored as the app stores times
    yield store
    store.drop()


def test_live_counters_on_a_store_written_here(written_store):
    with Session(written_store.engine) as session:
        outlet = live_counters(session, unit_by_code(session, "ZJ-HZ-01-01"), NOW)
        quiet = live_counters(session, unit_by_code(session, "ZJ-HZ-01-02"), NOW)
        stale = live_counters(session, unit_by_code(session, "ZJ-NB"), NOW)
        county = live_counters(session, unit_by_code(session, "ZJ-HZ-01"), NOW)
        for code in ("ZJ-HZ-01-01", "ZJ-HZ-01-02", "ZJ-NB", "ZJ-HZ-01"):
            assert _rounded(_shown(live_counters(session, unit_by_code(session, code), NOW))) == \
                _rounded(oracle(session.connection(), code, NOW))
    assert (outlet.orders_today, outlet.open, outlet.overdue, outlet.due_2h) == (4, 5, 2, 2)
    assert outlet.complaints_today == 1 and outlet.orders_last_week == 1
    assert [h.today for h in outlet.by_hour][8:] == [1, 1, 1, 0, 0, 1, 0]
    assert [h.last_week for h in outlet.by_hour][8:] == [1, 0, 0, 0, 0, 0, 0]
    assert len(outlet.by_hour) == 15  # hours 0..14
    assert (outlet.closed_today, outlet.fcr_numerator, outlet.fcr) == (2, 1, 0.5)
    assert (outlet.satisfaction_numerator, outlet.satisfaction_denominator) == (1, 2)
    assert outlet.risk_events_today is None  # no risk scan ever ran in this store
    # A live feed with nothing today: zeros, and rates without a denominator are None.
    assert (quiet.orders_today, quiet.open, quiet.overdue, quiet.closed_today) == (0, 0, 0, 0)
    assert quiet.fcr is None and quiet.satisfaction is None and quiet.orders_last_week is None
    # No order for a month: no feed; nothing is 0.
    assert stale.orders_today is None and stale.open is None and stale.overdue is None
    assert all(h.today is None and h.last_week is None for h in stale.by_hour)
    # The county is the sum of its outlets.
    assert county.orders_today == 4 and county.open == 5 and county.closed_today == 2
