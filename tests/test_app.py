"""The app factory, the home page (as a function and in a real browser) and the health route."""

from __future__ import annotations

import pytest

from app import create_app
from tests.browser import ARTIFACTS, browser_page, live_server


def test_factory_reads_config_over_defaults(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "TIMEZONE": "UTC"})
    assert app.config["TIMEZONE"] == "UTC"
    assert "dash" in app.extensions


def test_health(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def _texts(component) -> str:
    """Flatten a Dash component tree into its text."""
    if component is None:
        return ""
    if isinstance(component, (str, int, float)):
        return str(component)
    if isinstance(component, (list, tuple)):
        return " ".join(_texts(c) for c in component)
    return _texts(getattr(component, "children", None))


def test_home_lists_every_unit_and_the_date_range(app):
    from pages import home

    with app.test_request_context("/"):
        page = _texts(home.layout())
    assert "2026-01-02" in page and "2026-06-30" in page
    assert "杭州供电局" in page and "Ningbo Power Supply Bureau" in page
    assert "16 个单位" in page
    assert "演示数据 Demo data" in page


def test_home_on_an_empty_store_says_how_to_load_data(tmp_path):
    from data.schema import upgrade
    from pages import home

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}"})
    upgrade(app.extensions["engine"])
    with app.test_request_context("/"):
        page = _texts(home.layout())
    assert "seed-demo" in page and "Demo" not in page


@pytest.mark.browser
def test_home_in_a_browser(app):
    with live_server(app) as base, browser_page() as (page, errors):
        page.goto(base + "/")
        page.wait_for_selector("#unit-table")
        text = page.inner_text("body")
        page.screenshot(path=str(ARTIFACTS / "home.png"), full_page=False)
    assert "杭州供电局" in text and "Grid Company HQ" in text
    assert "2026-06-30" in text
    assert errors == []
