"""The JSON API: shapes of every endpoint and a 400 naming the parameter for every bad input."""

from __future__ import annotations

import pytest

from metrics.registry import KPIS

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
