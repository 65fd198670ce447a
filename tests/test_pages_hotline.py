"""The hotline KPIs appear on the pages like every other KPI: the service core's cards and carrier
table, the regions league of cities, the 6x6 matrix's (service, hotline) cell; in both languages."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from components.format import number
from data.units import unit_by_code
from metrics.compute import compute
from metrics.registry import REGISTRY
from tests.test_pages import render

HOTLINE_KPIS = ["service_level", "abandonment_rate", "avg_speed_of_answer", "avg_handle_time"]
JUNE = dict(start="2026-06-01", end="2026-06-30")


def _values(store, unit: str) -> dict[str, float]:
    with Session(store.engine) as s:
        frame = compute(s, HOTLINE_KPIS, unit_by_code(s, unit), dt.date(2026, 6, 1),
                        dt.date(2026, 6, 30))
    return {r.kpi: r.value for r in frame.itertuples()}


def test_the_service_core_shows_the_hotline_kpis(app, tiny_store):
    page = render(app, "cores", "admin", unit="ZJ-NB", core="service", **JUNE)
    for kpi, value in _values(tiny_store, "ZJ-NB").items():
        assert REGISTRY[kpi].name_zh in page
        assert value is not None and number(value, REGISTRY[kpi].unit, "zh") in page, kpi
    assert " 秒" in page  # seconds in Chinese


def test_regions_ranks_the_cities_by_service_level(app, tiny_store):
    page = render(app, "regions", "admin", unit="ZJ", kpi="service_level", **JUNE)
    for city in ("ZJ-HZ", "ZJ-NB"):
        value = _values(tiny_store, city)["service_level"]
        assert number(value, "%", "zh") in page, city


def test_the_matrix_scores_the_hotline_cell_of_the_service_core(app, tiny_store):
    from metrics.matrix import matrix

    with Session(tiny_store.engine) as s:
        grid = matrix(s, unit_by_code(s, "ZJ"), dt.date(2026, 6, 1), dt.date(2026, 6, 30))
    cell = grid[(grid["core"] == "service") & (grid["carrier"] == "hotline")].iloc[0]
    # the six work-order KPIs and the four of the contact centre, each with a value and a target
    assert (cell["applicable"], cell["scored"]) == (10, 10) and cell["score"] is not None
    assert (grid[(grid["core"] == "service") & (grid["carrier"] == "app")].iloc[0]["applicable"]
            == 6)
    page = render(app, "overview", "admin", unit="ZJ", **JUNE)
    assert "95598" in page
