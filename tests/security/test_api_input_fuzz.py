"""Hostile API parameters get a 400 naming the parameter, never a 5xx: NUL and other control
characters, dates at the ends of the calendar, and a few hundred generated combinations."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import app_over, login, own_copy

UNITS = ["HQ", "ZJ", "ZJ-HZ", "ZJ-HZ-01", "ZJ-HZ-01-01", "NOPE"]


@pytest.fixture(scope="module")
def admin_client(tiny_store, _seeded_templates, tmp_path_factory):
    """A client signed in as the HQ administrator, over a copy of the tiny demo of this module's
    own: a refused request is audited."""
    store = own_copy(_seeded_templates, tiny_store.kind, tmp_path_factory.mktemp("fuzz"))
    with app_over(store, CACHE_TYPE="NullCache", CACHE_NO_NULL_WARNING=True) as flask_app:
        c = flask_app.test_client()
        assert login(c, "admin").status_code == 302
        yield c
    store.drop()


def _get(client, path: str, **query: str):
    return client.get(f"{path}?{urlencode(query)}")


@pytest.mark.parametrize("path, name", [("/api/v1/kpis", "unit"), ("/api/v1/matrix", "unit"),
                                        ("/api/v1/freshness", "unit"), ("/api/v1/units", "parent"),
                                        ("/api/v1/risk-events", "unit"), ("/api/v1/stages", "unit"),
                                        ("/api/v1/live", "unit"), ("/api/v1/risk-handling", "unit")])
@pytest.mark.parametrize("bad", ["ZJ\x00", "\x00", "Z\x01J", "ZJ\x7f", "ZJ\x1b[2J"])
def test_control_characters_in_a_unit_get_400_naming_it(admin_client, path, name, bad):
    query = {name: bad, "start": "2026-06-01", "end": "2026-06-30", "period": "2026-06"}
    response = _get(admin_client, path, **query)
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.get_json()["parameter"] == name


@pytest.mark.parametrize("name", ["kpi", "carrier", "by", "start"])
def test_control_characters_in_other_parameters_get_400_naming_them(admin_client, name):
    query = {"unit": "ZJ", "start": "2026-06-01", "end": "2026-06-30", name: "visits\x00"}
    response = _get(admin_client, "/api/v1/kpis", **query)
    assert response.status_code == 400
    assert response.get_json()["parameter"] == name


@pytest.mark.parametrize("by", ["day", "week", "month", None])
@pytest.mark.parametrize("start, end, name", [
    ("9999-12-01", "9999-12-31", "start"),
    ("9999-12-27", "9999-12-31", "start"),
    ("2026-06-01", "9999-12-31", "end"),
    ("0001-01-01", "0001-01-31", "start"),
    ("0001-01-01", "0001-01-01", "start"),
])
def test_dates_at_the_ends_of_the_calendar_get_400(admin_client, by, start, end, name):
    query = {"unit": "ZJ", "start": start, "end": end, "kpi": "visits,binding_rate,mau"}
    if by:
        query["by"] = by
    for path in ("/api/v1/kpis", "/api/v1/matrix"):
        response = _get(admin_client, path, **query)
        assert response.status_code == 400, (path, response.get_data(as_text=True)[:300])
        assert response.get_json()["parameter"] == name


@pytest.mark.parametrize("period", ["9999-12", "0001-01"])
def test_months_at_the_ends_of_the_calendar_get_400(admin_client, period):
    response = _get(admin_client, "/api/v1/stages", unit="ZJ", period=period)
    assert response.status_code == 400
    assert response.get_json()["parameter"] == "period"


def test_the_last_accepted_days_still_answer(admin_client):
    for by in ("day", "week", "month"):
        response = _get(admin_client, "/api/v1/kpis", unit="ZJ", start="2999-12-01", end="2999-12-31",
                        kpi="visits", by=by)
        assert response.status_code == 200, by
    response = _get(admin_client, "/api/v1/kpis", unit="ZJ", start="1900-01-01", end="1900-01-31",
                    kpi="visits", by="week")
    assert response.status_code == 200


_dates = st.one_of(
    st.dates().map(str),
    st.sampled_from(["9999-12-31", "9999-12-25", "0001-01-01", "0001-01-07", "2026-06-30",
                     "2026-02-30", "1899-12-31", "2999-12-31", "1900-01-01", ""]),
    st.text(max_size=12),
)
_words = st.one_of(st.text(max_size=12), st.sampled_from(UNITS), st.sampled_from(
    ["visits", "binding_rate", "mau", "app", "wechat", "child", "week", "month", "day", "open",
     "visits,mau", "app,,hall", "2026-06"]))
_queries = st.fixed_dictionaries({}, optional={
    "unit": _words, "parent": _words, "start": _dates, "end": _dates, "kpi": _words,
    "carrier": _words, "by": st.one_of(st.sampled_from(["day", "week", "month", "child", "carrier",
                                                         "core", ""]), st.text(max_size=6)),
    "period": st.one_of(_dates.map(lambda d: d[:7]), st.text(max_size=8)), "state": _words})
_paths = st.sampled_from(["/api/v1/kpis", "/api/v1/matrix", "/api/v1/units", "/api/v1/freshness",
                          "/api/v1/stages", "/api/v1/risk-events", "/api/v1/catalog",
                          "/api/v1/live", "/api/v1/risk-handling"])


def test_generated_parameters_never_get_a_server_error(admin_client):
    @settings(max_examples=250, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(path=_paths, query=_queries)
    def check(path, query):
        response = _get(admin_client, path, **query)
        assert response.status_code < 500, (path, query, response.get_data(as_text=True)[:300])
        assert response.is_json, (path, query)
        if response.status_code == 400:
            assert response.get_json()["parameter"] in query or response.get_json()["parameter"] in (
                "unit", "start", "end", "period")

    check()
