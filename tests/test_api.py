"""The JSON API: shapes of every endpoint and a 400 naming the parameter for every bad input."""

from __future__ import annotations

import pytest

from metrics.registry import KPIS
from tests.conftest import DEMO_END

RANGE = "start=2026-06-01&end=2026-06-30"


def test_catalog_lists_every_kpi_core_and_carrier(client):
    body = client.get("/api/v1/catalog").get_json()
    assert [k["id"] for k in body["kpis"]] == [k.id for k in KPIS]
    assert {"id", "name_zh", "name_en", "core", "kind", "unit", "better", "carriers"} <= set(
        body["kpis"][0])
    assert [c["id"] for c in body["cores"]] == ["channel", "user", "business", "content",
                                                "campaign", "service"]
    assert [c["id"] for c in body["carriers"]] == ["app", "wechat", "alipay", "web", "hotline",
                                                   "hall"]


def test_units_top_and_children(client):
    assert client.get("/api/v1/units").get_json() == [
        {"code": "HQ", "name_zh": "电网公司总部", "name_en": "Grid Company HQ", "tier": 1,
         "parent": None}]
    kids = client.get("/api/v1/units?parent=ZJ").get_json()
    assert [k["code"] for k in kids] == ["ZJ-HZ", "ZJ-NB"]
    assert all(k["parent"] == "ZJ" and k["tier"] == 3 for k in kids)
    assert client.get("/api/v1/units?parent=ZJ-HZ-01-01").get_json() == []


def test_kpis_rows(client):
    rows = client.get(f"/api/v1/kpis?unit=ZJ&{RANGE}").get_json()
    assert [r["kpi"] for r in rows] == [k.id for k in KPIS]
    assert set(rows[0]) == {"kpi", "value", "numerator", "denominator"}
    ratio = next(r for r in rows if r["kpi"] == "online_substitution")
    assert ratio["value"] == pytest.approx(ratio["numerator"] / ratio["denominator"])


@pytest.mark.parametrize("by, key", [("child", "unit"), ("carrier", "carrier"), ("core", "core"),
                                     ("day", "period"), ("week", "period"), ("month", "period")])
def test_kpis_by(client, by, key):
    rows = client.get(f"/api/v1/kpis?unit=ZJ&{RANGE}&kpi=visits,binding_rate&by={by}").get_json()
    assert rows and all(key in r for r in rows)
    if by == "child":
        assert {r["unit"] for r in rows} == {"ZJ-HZ", "ZJ-NB"}
    if by == "day":
        assert {r["period"] for r in rows if r["kpi"] == "visits"} == {
            f"2026-06-{d:02d}" for d in range(1, 31)}


def test_kpis_with_carriers(client):
    rows = client.get(f"/api/v1/kpis?unit=ZJ&{RANGE}&kpi=visits&carrier=app,wechat").get_json()
    both = rows[0]["value"]
    app = client.get(f"/api/v1/kpis?unit=ZJ&{RANGE}&kpi=visits&carrier=app").get_json()[0]["value"]
    assert 0 < app < both


def test_matrix_has_36_cells_with_null_for_na(client):
    rows = client.get(f"/api/v1/matrix?unit=ZJ&{RANGE}").get_json()
    assert len(rows) == 36
    na = {(r["core"], r["carrier"]) for r in rows if r["status"] == "n/a"}
    assert ("content", "hotline") in na and ("channel", "app") not in na
    assert all(r["score"] is None for r in rows if r["status"] == "n/a")
    assert all(0 <= r["score"] <= 100 for r in rows if r["score"] is not None)


@pytest.mark.parametrize("path, parameter", [
    ("/api/v1/kpis?start=2026-06-01&end=2026-06-30", "unit"),
    ("/api/v1/kpis?unit=ZJ&end=2026-06-30", "start"),
    ("/api/v1/kpis?unit=ZJ&start=2026-13-01&end=2026-06-30", "start"),
    ("/api/v1/kpis?unit=ZJ&start=yesterday&end=2026-06-30", "start"),
    ("/api/v1/kpis?unit=ZJ&start=2026-06-01&end=2026-6-3", "end"),
    ("/api/v1/kpis?unit=ZJ&start=2026-06-30&end=2026-06-01", "end"),
    ("/api/v1/kpis?unit=ZJ&start=2020-01-01&end=2026-06-30", "start"),
    ("/api/v1/kpis?unit=ZJ&start=2026-06-01&end=2026-06-30&kpi=visits,nonsense", "kpi"),
    ("/api/v1/kpis?unit=ZJ&start=2026-06-01&end=2026-06-30&carrier=fax", "carrier"),
    ("/api/v1/kpis?unit=ZJ&start=2026-06-01&end=2026-06-30&by=year", "by"),
    ("/api/v1/matrix?unit=ZJ&start=2026-06-01", "end"),
    ("/api/v1/matrix?unit=ZJ&start=2026-06-01&end=2026-02-30", "end"),
])
def test_bad_parameters_get_400_naming_the_parameter(client, path, parameter):
    response = client.get(path)
    assert response.status_code == 400
    body = response.get_json()
    assert body["parameter"] == parameter and body["error"]


@pytest.mark.parametrize("path, parameter", [
    ("/api/v1/kpis?unit=NOPE&start=2026-06-01&end=2026-06-30", "unit"),
    ("/api/v1/units?parent=NOPE", "parent"),
])
@pytest.mark.writes
def test_an_unknown_unit_gets_the_answer_of_one_outside_the_scope(client, path, parameter):
    # Not found and not permitted look the same (tests/security/test_leaks.py).
    response = client.get(path)
    assert response.status_code == 403
    assert response.get_json() == {"error": "unit not found or not permitted",
                                   "parameter": parameter}


def test_a_range_without_data_gives_nulls_not_zeros(client):
    rows = client.get("/api/v1/kpis?unit=ZJ&start=2025-01-01&end=2025-01-31").get_json()
    assert all(r["value"] is None for r in rows)
    cells = client.get("/api/v1/matrix?unit=ZJ&start=2025-01-01&end=2025-01-31").get_json()
    assert {c["status"] for c in cells} <= {"n/a", "no_data"}


def test_freshness(client):
    assert client.get("/api/v1/freshness?unit=ZJ").get_json() == [
        {"unit": "ZJ", "last_loaded": "2026-06-30"}]
    rows = client.get("/api/v1/freshness?unit=ZJ&by=child").get_json()
    assert [r["unit"] for r in rows] == ["ZJ-HZ", "ZJ-NB"]
    assert all(r["last_loaded"] <= "2026-06-30" for r in rows)
    assert client.get("/api/v1/freshness?unit=ZJ&by=carrier").status_code == 400


def test_a_range_past_the_last_loaded_day_says_so_and_stops_there(client):
    # The tiny demo ends on DEMO_END (2026-06-30): a range to the end of July is answered to June 30,
    # every row says so, and the numbers are those of the range that ends there.
    past = client.get("/api/v1/kpis?unit=ZJ&start=2026-06-01&end=2026-07-31&kpi=visits,satisfaction")
    june = client.get(f"/api/v1/kpis?unit=ZJ&{RANGE}&kpi=visits,satisfaction").get_json()
    rows = past.get_json()
    assert past.headers["X-Data-End"] == DEMO_END.isoformat()
    assert [r["kpi"] for r in rows] == [r["kpi"] for r in june]
    for row, same in zip(rows, june, strict=True):
        assert row["end"] == "2026-06-30" and row["requested_end"] == "2026-07-31"
        assert row["data_end"] == "2026-06-30" and "last loaded day" in row["note"]
        assert {k: row[k] for k in same} == same  # the existing fields are untouched
    cells = client.get("/api/v1/matrix?unit=ZJ&start=2026-06-01&end=2026-07-31").get_json()
    june_cells = client.get(f"/api/v1/matrix?unit=ZJ&{RANGE}").get_json()
    # Pro-rated targets fit the loaded days too, so the scores are June's.
    assert [(c["score"], c["status"]) for c in cells] == [(c["score"], c["status"])
                                                          for c in june_cells]
    assert all(c["end"] == "2026-06-30" and c["note"] for c in cells)


def test_a_range_after_the_last_loaded_day_says_there_is_no_data(client):
    response = client.get("/api/v1/kpis?unit=ZJ&start=2026-08-01&end=2026-08-31&kpi=visits")
    rows = response.get_json()
    assert rows and all(r["value"] is None and r["data_end"] == "2026-06-30" for r in rows)
    assert "no data" in rows[0]["note"] and "end" not in rows[0]
    assert response.headers["X-Data-End"] == "2026-06-30"


def test_a_range_within_the_data_answers_as_before(client):
    response = client.get(f"/api/v1/kpis?unit=ZJ&{RANGE}&kpi=visits")
    assert set(response.get_json()[0]) == {"kpi", "value", "numerator", "denominator"}
    assert "X-Data-End" not in response.headers
