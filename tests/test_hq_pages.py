"""HQ's pages compare its provinces (the multi store: ZJ, JS, AH under HQ): the regions ranking has
a bar per province, the targets heatmap and the risk heatmap a column or row per province, the
stages table a row per province, and drilling down from HQ offers the provinces."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dash import dcc
from flask_login import login_user
from sqlalchemy import select, text

from data.db import get_session
from data.models import User
from tests.conftest import app_over
from tests.test_pages import _flat

PERIOD = {"start": "2026-06-01", "end": "2026-06-30"}


@pytest.fixture
def multi_app(multi_store):
    with app_over(multi_store) as flask_app:
        yield flask_app


@pytest.fixture
def provinces(multi_store) -> dict[str, str]:
    """code -> Chinese name of HQ's children, in plain SQL."""
    with multi_store.engine.connect() as conn:
        return dict(conn.execute(text("""SELECT c.code, c.name_zh FROM org_unit c
            JOIN org_unit h ON c.parent_id = h.id WHERE h.code = 'HQ'""")).all())


def walk(component) -> Iterator:
    if isinstance(component, (list, tuple)):
        for c in component:
            yield from walk(c)
        return
    if component is None or isinstance(component, (str, int, float)):
        return
    yield component
    yield from walk(getattr(component, "children", None))


def layout_at_hq(app, module: str):
    import importlib

    page = importlib.import_module(f"pages.{module}")
    with app.test_request_context("/"):
        login_user(get_session().scalar(select(User).where(User.username == "admin")))
        return list(walk(page.layout(unit="HQ", **PERIOD)))


def named(parts, name: str):
    """The component with id `name`, or the CSV grid named `name`."""
    return next(c for c in parts if getattr(c, "id", None) in (
        name, {"type": "csv-grid", "name": name}))


def figures(components) -> list[dict]:
    return [c.figure.to_plotly_json() if hasattr(c.figure, "to_plotly_json") else dict(c.figure)
            for c in components if isinstance(c, dcc.Graph) and getattr(c, "figure", None)]


def labels(figure: dict, axis: str) -> set:
    return {str(v) for trace in figure["data"] for v in _flat(trace.get(axis)) if v is not None}


def test_regions_ranks_the_provinces(multi_app, provinces):
    parts = layout_at_hq(multi_app, "regions")
    assert labels(figures([named(parts, "regions-ranking")])[0], "y") == set(provinces.values())
    assert sorted(r["unit"] for r in named(parts, "regions-league").rowData) == sorted(provinces)
    drill = named(parts, "f-child")  # the filter bar's drill-down offers the provinces
    assert sorted(o["value"] for o in drill.data) == sorted(provinces)


def test_targets_heatmap_has_a_column_per_province(multi_app, provinces):
    parts = layout_at_hq(multi_app, "targets")
    heat = figures([named(parts, "targets-heatmap")])[0]
    assert labels(heat, "x") == set(provinces)
    assert set(heat["layout"]["xaxis"]["ticktext"]) == set(provinces.values())


def test_risk_heatmap_has_a_row_per_province(multi_app, provinces):
    heat = figures(layout_at_hq(multi_app, "risk"))[0]  # children x cores
    assert labels(heat, "y") == set(provinces.values())


def test_stages_lists_the_provinces(multi_app, provinces):
    table = named(layout_at_hq(multi_app, "stages"), "stages-children")
    assert sorted(r["unit"] for r in table.rowData) == sorted(provinces)
