"""GET /api/v1/live: today's counters of a unit's subtree as JSON, with a fixed clock."""

from __future__ import annotations

import datetime as dt

import pytest

from data import clock
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
    assert body["hotline"] is None
    with app_store.engine.connect() as conn:
        expected = oracle(conn, code, NOW.replace(second=0))
    assert _rounded({k: body[k] for k in expected}) == _rounded(expected)
    assert body["orders_today"] == sum(h["today"] for h in body["by_hour"])
    assert [h["hour"] for h in body["by_hour"]] == list(range(16))


def test_live_for_a_day_without_data_says_none_not_zero(client, monkeypatch):
    monkeypatch.setattr(clock, "local_now", lambda tz=None: dt.datetime(2026, 9, 1, 10, 0))
    body = client.get("/api/v1/live?unit=ZJ").get_json()
    for key in ("orders_today", "open", "due_2h", "overdue", "complaints_today", "fcr",
                "satisfaction"):
        assert body[key] is None, key


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
