"""Wall layouts (display/wall): every view drawn for a 1920x1080 and a 3840x2160 screen seen from
5 m. In the browser, at both sizes: no controls, no scroll bars, no text cut off, a clean console,
the numbers metrics/ gives (computed here independently of the layout), the ranking turning
through every child, the alarm when events are overdue. Screenshots go to tests/artifacts."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from flask import g
from flask_login import login_user
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from components.format import number, pct
from data.db import get_session
from data.models import OrgUnit, Playlist, RiskEvent, User
from data.units import children, unit_by_code
from display import playlists
from display.kiosk import render_view
from display.wall import WALLS
from display.wall.base import page_sizes, paginate
from jobs.demo import SCALES, Scale, Shape, seed_demo
from metrics.compute import compute
from metrics.league import league_table
from metrics.risk import events
from tests.browser import ARTIFACTS, StoppableServer, browser_page
from tests.conftest import DEMO_END, PASSWORD, add_users, app_over, new_store
from tests.test_pages import texts

# Zhejiang's 11 cities (two counties each) and all 27 provinces (one city, county and outlet
# each), 60 days: a small store whose rankings hold more children than a wall page.
WALL_SCALE = Scale(Shape(cities=None, counties=2, outlets=1), days=60, provinces=27,
                   others=Shape(cities=1, counties=1, outlets=1))
# (url, screenshot name): each wall view; HQ ranks 27 provinces, ZJ 11 cities.
WALL_VIEWS = [("/?unit=ZJ&period=last30", "overview-zj"),
              ("/regions?unit=HQ&period=last30", "regions-hq"),
              ("/regions?unit=ZJ&period=last7&kpi=satisfaction", "regions-zj"),
              ("/risk?unit=ZJ&period=last30", "risk-zj")]
SIZES = ((1920, 1080), (3840, 2160))


@pytest.fixture(scope="module")
def wall_store(tmp_path_factory):
    """WALL_SCALE on SQLite with the test accounts; a test that changes it restores it."""
    store = new_store("sqlite", tmp_path_factory.mktemp("wall"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(SCALES, "wall", WALL_SCALE)
        seed_demo(store.engine, "wall", 42, DEMO_END)
    add_users(store)
    yield store
    store.drop()


@pytest.fixture(scope="module")
def wall_app(wall_store):
    with app_over(wall_store) as flask_app:
        yield flask_app


def _save(store, items, name="Wall", refresh=60) -> int:
    with Session(store.engine) as session:
        admin = session.scalar(select(User).where(User.username == "admin"))
        pid = playlists.save(session, admin, None, name, refresh, items).id
        session.commit()
        return pid


# --- without a browser -----------------------------------------------------------------------

@pytest.mark.parametrize("total, sizes", [(0, []), (1, [1]), (8, [8]), (9, [5, 4]), (11, [6, 5]),
                                          (27, [7, 7, 7, 6]), (33, [7, 7, 7, 6, 6])])
def test_pages_are_as_few_as_fit_and_filled_evenly(total, sizes):
    assert page_sizes(total, 8) == sizes
    pages = paginate(list(range(total)), 8)
    assert [len(p) for p in pages] == sizes and sum(pages, []) == list(range(total))


def test_the_overview_regions_and_risk_views_have_wall_layouts():
    assert {"/", "/regions", "/risk"} <= set(WALLS)


def _render(app, url, username="display", dwell=40):
    from urllib.parse import parse_qsl, urlsplit

    parts = urlsplit(url)
    with app.test_request_context("/_dash-update-component"):
        login_user(get_session().scalar(select(User).where(User.username == username)))
        g.kiosk = True
        return render_view(playlists.View(parts.path, dict(parse_qsl(parts.query)), dwell))


def _ids(c, out=None):
    out = [] if out is None else out
    if isinstance(c, (list, tuple)):
        for x in c:
            _ids(x, out)
    elif c is not None and not isinstance(c, (str, int, float)):
        if getattr(c, "id", None) is not None:
            out.append(c.id)
        _ids(getattr(c, "children", None), out)
    return out


def test_the_ranking_holds_every_child_on_pages(wall_app, wall_store):
    body = _render(wall_app, "/regions?unit=HQ&period=last30", "admin")
    ranked = [i["unit"] for i in _ids(body) if isinstance(i, dict) and i.get("type") == "wall-rank"]
    with Session(wall_store.engine) as s:
        provinces = [u.code for u in children(s, unit_by_code(s, "HQ"))]
    assert len(provinces) == 27 and sorted(ranked) == sorted(provinces)
    pager = next(c for c in _walk(body) if getattr(c, "id", None) == "wall-ranking")
    assert [len(p.children) for p in pager.children] == [7, 7, 7, 6]
    assert pager.to_plotly_json()["props"]["data-seconds"] == "10"  # 40 s / 4 pages


def test_a_wall_view_outside_the_scope_is_refused(wall_app):
    assert "not-permitted" in texts(_render(wall_app, "/regions?unit=HQ", "display"))
    assert "wall-refused" in texts(_render(wall_app, "/risk?period=forever", "display"))


def _walk(c):
    if isinstance(c, (list, tuple)):
        for x in c:
            yield from _walk(x)
    elif c is not None and not isinstance(c, (str, int, float)):
        yield c
        yield from _walk(getattr(c, "children", None))
