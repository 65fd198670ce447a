"""The /live page: the counters metrics/live computes, big and in either language, alarm red when
orders are overdue, on the wall as on the page; in Chromium its numbers equal the API's."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from flask import g
from flask_login import login_user
from sqlalchemy import select

from components.format import number
from components.i18n import t
from data import clock
from data.db import get_session
from data.models import User
from display.kiosk import describe, render_view
from display.playlists import View
from metrics.live import live_counters
from tests.browser import ARTIFACTS, browser_page, live_server, sign_in
from tests.test_pages import render, texts

NOW = dt.datetime(2026, 6, 30, 15, 30, 42)


@pytest.fixture
def fixed_clock(monkeypatch):
    """The company's clock stopped at NOW (the page and the API ask data.clock, the wall
    display.kiosk)."""
    import display.kiosk

    monkeypatch.setattr(clock, "local_now", lambda tz=None: NOW)
    monkeypatch.setattr(display.kiosk, "local_now", lambda: NOW)
    return NOW


def _counters(app_store, code):
    from sqlalchemy.orm import Session

    from data.units import unit_by_code

    with Session(app_store.engine) as s:
        return live_counters(s, unit_by_code(s, code), NOW.replace(second=0))


def _hotline(app_store, code):
    from sqlalchemy.orm import Session

    from data.units import unit_by_code
    from metrics.hotline import live_counters as hotline_counters

    with Session(app_store.engine) as s:
        return hotline_counters(s, unit_by_code(s, code), NOW.date(), NOW.replace(second=0))


@pytest.mark.writes  # sets the admin's language
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_shows_the_counters(app, app_store, fixed_clock, lang):
    with app.app_context():
        session = get_session()
        session.scalar(select(User).where(User.username == "admin")).language = lang
        session.commit()
    page = render(app, "live", "admin", unit="ZJ")
    c = _counters(app_store, "ZJ")
    assert t("live.orders_today", lang) in page and t("live.overdue", lang) in page
    for value in (c.orders_today, c.open, c.overdue, c.due_2h, c.complaints_today):
        assert number(value, "count", lang, 0) in page
    assert number(c.fcr, "%", lang) in page and number(c.satisfaction, "%", lang) in page
    assert "2026-06-30 15:30" in page
    h = _hotline(app_store, "ZJ")
    assert h["offered"] > 0 and t("live.hotline", lang) in page
    for label, shown in (("live.offered", number(h["offered"], "count", lang, 0)),
                         ("live.service_level", number(h["service_level"], "%", lang)),
                         ("live.abandonment", number(h["abandonment_rate"], "%", lang)),
                         ("live.asa", number(h["asa_seconds"], "seconds", lang))):
        assert t(label, lang) in page and shown in page, label


def test_overdue_is_red_and_no_data_is_a_dash(app, monkeypatch):
    import importlib

    live_page = importlib.import_module("pages.live")  # pages register after the app exists
    monkeypatch.setattr(clock, "local_now", lambda tz=None: NOW)
    with app.test_request_context("/"):
        login_user(get_session().scalar(select(User).where(User.username == "admin")))
        layout = live_page.layout(unit="ZJ")
        shown = json.dumps(layout.to_plotly_json(), default=str)
    assert "live-alarm" in shown  # the tiny demo has overdue orders on 2026-06-30
    monkeypatch.setattr(clock, "local_now", lambda tz=None: dt.datetime(2026, 9, 1, 10))
    with app.test_request_context("/"):
        login_user(get_session().scalar(select(User).where(User.username == "admin")))
        later = live_page.layout(unit="ZJ")
        tiles = [c.children[1] for c in later.children[0].children[2].children]
    # No work-order feed after the data: "-", never 0; the risk scan did run (no new events: 0).
    assert [tile.children for tile in tiles] == ["-"] * 7 + ["0"]
    assert all("live-alarm" not in tile.className for tile in tiles)
    hotline = [c.children[1].children for c in later.children[0].children[4].children]
    assert hotline == ["-"] * 4  # no interval loaded that day


def test_the_wall_renders_the_live_view(app, fixed_clock):
    """A playlist may show /live; the wall's render keeps the numbers and drops the controls."""
    with app.test_request_context("/"):
        login_user(get_session().scalar(select(User).where(User.username == "display")))
        g.kiosk = True
        body = texts(render_view(View("/live", {"unit": "ZJ"}, 30)))
        title = describe(get_session(), View("/live", {"unit": "ZJ"}, 30),
                         get_session().scalar(select(User).where(User.username == "display")), "zh")
    assert t("live.orders_today", "zh") in body and "wall-live-overdue" in body
    assert t("live.hotline", "zh") in body
    assert title == "今日实况 · 浙江省电力公司"  # today, not a period


@pytest.mark.browser
def test_the_page_in_chromium_equals_the_api(app, app_store, fixed_clock):
    if app_store.kind != "sqlite":
        pytest.skip("the browser test runs once, on SQLite")
    with live_server(app) as base, browser_page(1920, 1080) as (page, errors):
        failures: list[str] = []
        page.on("response", lambda r: failures.append(f"{r.status} {r.url}")
                if r.status >= 500 else None)
        sign_in(page, base, "admin")
        page.goto(base + "/live?unit=ZJ-HZ")
        page.wait_for_selector("#live-orders_today")
        page.wait_for_selector("#live-hourly .main-svg")
        page.screenshot(path=str(ARTIFACTS / "page-live.png"))
        api = json.loads(page.evaluate(
            "async () => JSON.stringify(await (await fetch('/api/v1/live?unit=ZJ-HZ')).json())"))
        for key in ("orders_today", "open", "due_2h", "overdue", "complaints_today",
                    "risk_events_today"):
            assert page.inner_text(f"#live-{key}") == number(api[key], "count", "zh", 0), key
        for key in ("fcr", "satisfaction"):
            assert page.inner_text(f"#live-{key}") == number(api[key], "%", "zh"), key
        assert api["overdue"] > 0
        colour = page.eval_on_selector("#live-overdue", "e => getComputedStyle(e).color")
        assert colour == "rgb(201, 42, 42)"  # the alarm red
        assert page.is_visible("#nav >> text=今日实况")
    assert failures == [] and errors == []


@pytest.mark.writes  # a refused unit is audited
def test_the_refresh_renders_afresh_within_the_callers_scope(app, fixed_clock):
    import importlib

    live_page = importlib.import_module("pages.live")
    with app.test_request_context("/"):
        login_user(get_session().scalar(select(User).where(User.username == "manager")))
        own = texts(live_page.refresh(3, "ZJ-HZ-01"))
        outside = texts(live_page.refresh(3, "ZJ-NB"))  # the manager's home is ZJ-HZ-01
        forged = texts(live_page.refresh(3, ["ZJ-HZ-01", "ZJ-NB"]))
    assert "live-orders_today" in own and "2026-06-30 15:30" in own
    assert "live-orders_today" not in outside and "live-orders_today" not in forged


@pytest.mark.browser
@pytest.mark.writes  # saves a playlist
def test_a_playlist_shows_the_live_view_on_the_wall(app, app_store, fixed_clock):
    """An admin's playlist may hold /live; the display account's wall shows its numbers, the
    overdue one red, with no links or refresh of its own (the wall refreshes it)."""
    if app_store.kind != "sqlite":
        pytest.skip("the browser test runs once, on SQLite")
    from sqlalchemy.orm import Session

    from display import playlists
    from tests.test_display import _sign_in

    with Session(app_store.engine) as session:
        admin = session.scalar(select(User).where(User.username == "admin"))
        pid = playlists.save(session, admin, None, "Live wall", 60,
                             [{"url": "/live?unit=ZJ", "dwell_seconds": 30}]).id
        session.commit()
    c = _counters(app_store, "ZJ")
    with live_server(app) as base, browser_page(1920, 1080) as (page, errors):
        _sign_in(page, base, f"/display?playlist={pid}")
        page.wait_for_selector("#display-body #wall-live-overdue")  # its wall layout
        page.wait_for_timeout(1000)
        page.screenshot(path=str(ARTIFACTS / "display-live-1920x1080.png"))
        assert page.inner_text("#wall-live-overdue") == number(c.overdue, "count", "zh", 0)
        assert page.inner_text("#wall-live-orders_today") == number(c.orders_today, "count", "zh",
                                                                    0)
        assert page.evaluate("document.querySelector('#wall-live-overdue')"
                             ".closest('.wall-alarm') !== null")  # overdue: the alarm
        assert page.inner_text("#display-title") == "今日实况 · 浙江省电力公司"
        assert page.locator("#display-body .live-link").count() == 0  # no links on a wall
        size = page.evaluate("[document.documentElement.scrollHeight, window.innerHeight]")
        assert size[0] <= size[1]  # nothing needs scrolling
    assert errors == []
