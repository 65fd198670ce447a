"""The app factory, the home page (as a function and in a real browser) and the health route."""

from __future__ import annotations

import pytest

from app import create_app
from tests.browser import ARTIFACTS, browser_page, live_server
from tests.conftest import PASSWORD


def test_factory_reads_config_over_defaults(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "TIMEZONE": "UTC"})
    assert app.config["TIMEZONE"] == "UTC"
    assert "dash" in app.extensions


def test_health(anon):
    response = anon.get("/healthz")
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


def _home_as(app, username: str) -> str:
    from flask_login import login_user
    from sqlalchemy import select

    from data.db import get_session
    from data.models import User
    from pages import home

    with app.test_request_context("/"):
        login_user(get_session().scalar(select(User).where(User.username == username)))
        return _texts(home.layout())


def test_home_lists_every_unit_and_the_date_range(app):
    page = _home_as(app, "admin")
    assert "2026-01-02" in page and "2026-06-30" in page
    assert "杭州供电局" in page and "Ningbo Power Supply Bureau" in page
    assert "16 个单位" in page
    assert "演示数据 Demo data" in page


def test_home_lists_only_the_users_scope(app):
    page = _home_as(app, "manager")  # county ZJ-HZ-01: itself and two outlets
    assert "3 个单位" in page and "上城区供电局" in page
    assert "宁波" not in page and "杭州供电局" not in page


def test_home_on_a_store_without_facts_says_how_to_load_data(tmp_path):
    from sqlalchemy.orm import Session

    from auth.accounts import create_user
    from data.models import OrgUnit
    from data.schema import upgrade

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
                      "SECRET_KEY": "x" * 32})
    engine = app.extensions["engine"]
    upgrade(engine)
    with Session(engine) as s:
        s.add(OrgUnit(id=1, code="HQ", name_zh="总部", name_en="HQ", tier=1, path="/000001/"))
        s.flush()
        create_user(s, "first", "admin", "HQ", "a long password")
        s.commit()
    page = _home_as(app, "first")
    assert "seed-demo" in page and "Demo" not in page
    engine.dispose()


@pytest.mark.browser
def test_home_in_a_browser(app):
    with live_server(app) as base, browser_page() as (page, errors):
        page.goto(base + "/")
        page.wait_for_selector("#login-submit")  # anonymous: sent to sign in first
        page.screenshot(path=str(ARTIFACTS / "login.png"))
        page.fill("#username", "admin")
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_selector("#unit-table")
        text = page.inner_text("body")
        page.screenshot(path=str(ARTIFACTS / "home.png"), full_page=False)
    assert "杭州供电局" in text and "Grid Company HQ" in text
    assert "2026-06-30" in text
    assert errors == []
