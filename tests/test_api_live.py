"""GET /api/v1/live: today's counters of a unit's subtree as JSON, with a fixed clock."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert, text

from data import clock
from data.models import HotlineInterval
from tests.test_live import _rounded, oracle

NOW = dt.datetime(2026, 6, 30, 15, 30, 42)  # the tiny demo's last day, mid-afternoon


@pytest.fixture
def fixed_clock(monkeypatch):
    """The company's clock stopped at NOW."""
    monkeypatch.setattr(clock, "local_now", lambda tz=None: NOW)
    return NOW


@pytest.mark.parametrize("code", ["ZJ", "ZJ-HZ-01", "ZJ-NB-02-01"])
def test_live_answers_the_counters_of_today_so_far(client, app_store, fixed_clock, code):
    body = client.get(f"/api/v1/live?unit={code}").get_json()
    assert {"as_of", "orders_today", "open", "due_2h", "overdue", "by_hour", "complaints_today",
            "hotline", "fcr", "satisfaction", "risk_events_today"} <= set(body)
    assert body["as_of"] == "2026-06-30T15:30" and body["unit"] == code
    with app_store.engine.connect() as conn:
        expected = oracle(conn, code, NOW.replace(second=0))
        hotline = hotline_oracle(conn, code, NOW.replace(second=0))
    assert _hotline_rounded(body["hotline"]) == _hotline_rounded(hotline)
    if code == "ZJ":  # counties answer no calls: no hotline data there (null, tested below)
        assert body["hotline"]["offered"] > 0 and body["hotline"]["intervals"] == 62  # to 15:15
    assert _rounded({k: body[k] for k in expected}) == _rounded(expected)
    assert body["orders_today"] == sum(h["today"] for h in body["by_hour"])
    assert [h["hour"] for h in body["by_hour"]] == list(range(16))


def hotline_oracle(conn, code: str, now: dt.datetime) -> dict:
    """The hotline's part of the answer restated with plain SQL over hotline_interval: the unit's
    subtree's intervals of today that started before `now`, as the JSON should carry them."""
    subtree = ("FROM hotline_interval h JOIN org_unit u ON u.id = h.unit_id WHERE u.path LIKE "
               "(SELECT path FROM org_unit WHERE code = :c) || '%' AND h.day = :d "
               "AND h.interval_start < :t")
    args = {"c": code, "d": now.date(), "t": now}
    o, a, w20, ab, wait, handle, n = conn.execute(text(
        "SELECT sum(offered), sum(answered), sum(answered_20s), sum(abandoned), sum(wait_seconds), "
        f"sum(handle_seconds), count(DISTINCT interval_start) {subtree}"), args).one()
    by = conn.execute(text(f"SELECT interval_start, sum(offered), sum(answered_20s) {subtree} "
                           "GROUP BY interval_start ORDER BY interval_start"), args).all()

    def ratio(num, den):
        return num / den if num is not None and den else None

    return {"day": now.date().isoformat(), "offered": o, "answered": a, "answered_20s": w20,
            "abandoned": ab, "service_level": ratio(w20, o), "abandonment_rate": ratio(ab, o),
            "asa_seconds": ratio(wait, a), "aht_seconds": ratio(handle, a), "intervals": n,
            "by_interval": [{"start": str(start).replace(" ", "T")[:16], "offered": int(off),
                             "answered_20s": int(within)} for start, off, within in by]}


def _hotline_rounded(values: dict) -> dict:
    return {k: round(v, 12) if isinstance(v, float) else v for k, v in values.items()}


DAY = dt.datetime(2026, 9, 1, 10, 7, 30)  # after the tiny demo's data: only the rows written here


def _interval(unit_id, start, offered, answered, within, abandoned, wait, handle):
    return {"unit_id": unit_id, "interval_start": start, "day": start.date(), "carrier_id": None,
            "offered": offered, "answered": answered, "answered_20s": within,
            "abandoned": abandoned, "wait_seconds": wait, "handle_seconds": handle}


@pytest.mark.writes  # writes hotline intervals into a store of its own
def test_the_hotline_of_today_equals_raw_sql_on_a_store_written_here(client, app_store,
                                                                     monkeypatch):
    monkeypatch.setattr(clock, "local_now", lambda tz=None: DAY)
    with app_store.engine.begin() as conn:
        ids = dict(conn.execute(text("SELECT code, id FROM org_unit WHERE code IN "
                                     "('ZJ', 'ZJ-HZ', 'ZJ-NB')")).all())
        hotline = conn.execute(text("SELECT id FROM carrier WHERE code = 'hotline'")).scalar_one()
        at = DAY.replace(second=0)
        rows = [
            _interval(ids["ZJ-HZ"], at.replace(hour=9, minute=45), 40, 36, 30, 3, 540, 9000),
            _interval(ids["ZJ-HZ"], at.replace(hour=10, minute=0), 50, 44, 33, 5, 880, 11000),
            _interval(ids["ZJ-NB"], at.replace(hour=10, minute=0), 10, 9, 9, 1, 90, 2000),
            _interval(ids["ZJ-HZ"], at.replace(hour=10, minute=15), 70, 60, 20, 9, 9000, 15000),
            _interval(ids["ZJ-HZ"], at.replace(hour=9) - dt.timedelta(days=1), 99, 99, 99, 0, 0,
                      0),  # yesterday's: not today
        ]
        conn.execute(insert(HotlineInterval), [{**r, "carrier_id": hotline} for r in rows])
    answers = {code: client.get(f"/api/v1/live?unit={code}").get_json()["hotline"]
               for code in ("ZJ", "ZJ-HZ", "ZJ-NB", "ZJ-HZ-01")}
    with app_store.engine.connect() as conn:
        for code, got in answers.items():
            assert _hotline_rounded(got) == _hotline_rounded(
                hotline_oracle(conn, code, DAY.replace(second=0))), code
    # 10:15 has not started by 10:07; the province sums its two centres.
    assert answers["ZJ"]["offered"] == 100 and answers["ZJ"]["intervals"] == 2
    assert answers["ZJ"]["service_level"] == pytest.approx(72 / 100)
    assert answers["ZJ"]["asa_seconds"] == pytest.approx(1510 / 89)
    assert answers["ZJ"]["by_interval"] == [
        {"start": "2026-09-01T09:45", "offered": 40, "answered_20s": 30},
        {"start": "2026-09-01T10:00", "offered": 60, "answered_20s": 42}]
    assert answers["ZJ"]["day"] == "2026-09-01"
    # A county answers no calls: no data is null, never 0.
    county = answers["ZJ-HZ-01"]
    assert county["intervals"] == 0 and county["by_interval"] == []
    assert all(county[k] is None for k in ("offered", "answered", "answered_20s", "abandoned",
                                           "service_level", "abandonment_rate", "asa_seconds",
                                           "aht_seconds"))


def test_live_for_a_day_without_data_says_none_not_zero(client, monkeypatch):
    monkeypatch.setattr(clock, "local_now", lambda tz=None: dt.datetime(2026, 9, 1, 10, 0))
    body = client.get("/api/v1/live?unit=ZJ").get_json()
    for key in ("orders_today", "open", "due_2h", "overdue", "complaints_today", "fcr",
                "satisfaction"):
        assert body[key] is None, key
    for key in ("offered", "service_level", "abandonment_rate", "asa_seconds", "aht_seconds"):
        assert body["hotline"][key] is None, key


@pytest.mark.writes  # refusals are audited
def test_live_parameters_are_checked_like_the_others(client, manager, fixed_clock):
    missing = client.get("/api/v1/live")
    assert missing.status_code == 400 and missing.get_json()["parameter"] == "unit"
    twice = client.get("/api/v1/live?unit=ZJ&unit=ZJ-HZ")
    assert twice.status_code == 400 and twice.get_json()["parameter"] == "unit"
    unknown = client.get("/api/v1/live?unit=ZJ-NOPE")
    outside = manager.get("/api/v1/live?unit=ZJ-NB")  # the manager's home is county ZJ-HZ-01
    assert unknown.status_code == outside.status_code == 403
    assert unknown.get_json() == outside.get_json() == {
        "error": "unit not found or not permitted", "parameter": "unit"}
    assert manager.get("/api/v1/live?unit=ZJ-HZ-01-01").status_code == 200


def test_live_needs_a_signed_in_caller(anon):
    response = anon.get("/api/v1/live?unit=ZJ")
    assert response.status_code == 401
