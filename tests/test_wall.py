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
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from auth.accounts import create_user
from components.format import number
from data.db import get_session
from data.models import Playlist, User
from data.units import children, unit_by_code
from display import playlists
from display.kiosk import render_view
from display.wall import WALLS
from display.wall.base import page_sizes, paginate
from jobs.demo import SCALES, Scale, Shape, seed_demo
from metrics.compute import compute
from metrics.risk import events
from tests.browser import ARTIFACTS, StoppableServer, browser_page
from tests.conftest import DEMO_END, PASSWORD, add_users, app_over, new_store
from tests.test_pages import texts

# Zhejiang's 11 cities (two counties each) and all 27 provinces (one city, county and outlet
# each), 120 days: a small store whose rankings hold more children than a wall page.
WALL_SCALE = Scale(Shape(cities=None, counties=2, outlets=1), days=120, provinces=27,
                   others=Shape(cities=1, counties=1, outlets=1))
# (url, screenshot name): each wall view; HQ ranks 27 provinces, ZJ 11 cities.
WALL_VIEWS = [("/?unit=ZJ&period=last30", "overview-zj"),
              ("/regions?unit=HQ&period=last30", "regions-hq"),
              ("/regions?unit=ZJ&period=last7&kpi=satisfaction", "regions-zj"),
              ("/risk?unit=ZJ&period=last30", "risk-zj"),
              ("/stages?unit=ZJ&period=last30", "stages-zj"),
              ("/cores?unit=ZJ-HZ&period=last30&core=service", "cores-zjhz"),
              ("/carriers?unit=ZJ&period=last30", "carriers-zj"),
              ("/targets?unit=HQ&period=last30", "targets-hq"),
              ("/live?unit=ZJ", "live-zj")]
# The live view is about today: the wall is drawn at this time of the demo's last day (the
# wall's clock, display.kiosk.local_now, is stopped there while it shows).
LIVE_NOW = dt.datetime.combine(DEMO_END, dt.time(15, 30))
SIZES = ((1920, 1080), (3840, 2160))


@pytest.fixture(scope="module")
def wall_store(tmp_path_factory):
    """WALL_SCALE on SQLite with the test accounts; a test that changes it restores it."""
    store = new_store("sqlite", tmp_path_factory.mktemp("wall"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(SCALES, "wall", WALL_SCALE)
        seed_demo(store.engine, "wall", 42, DEMO_END)
    add_users(store)
    with Session(store.engine) as session:  # an admin who reads English: longer words to fit
        create_user(session, "admin_en", "admin", "HQ", PASSWORD, language="en")
        session.commit()
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


def test_every_page_a_playlist_may_show_has_a_wall_layout():
    from components.view_state import PAGES

    assert set(WALLS) == set(PAGES)  # every view a playlist may hold


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


def _classes(body) -> set[str]:
    return {w for c in _walk(body) for w in (getattr(c, "className", None) or "").split()}


def test_overdue_events_raise_the_alarm_and_none_overdue_do_not(wall_app, wall_store, monkeypatch):
    with Session(wall_store.engine) as s:
        zj = unit_by_code(s, "ZJ")
        now = dt.datetime.now()
        overdue = events(s, zj, now, states=["open", "dispatched", "in_progress", "reopened"])
    assert overdue["overdue"].any()  # the demo's open events are past their deadlines by now
    for url in ("/risk?unit=ZJ", "/?unit=ZJ"):
        assert "wall-alarm" in _classes(_render(wall_app, url))
    import display.kiosk

    monkeypatch.setattr(display.kiosk, "local_now", lambda: dt.datetime(2000, 1, 1))
    for url in ("/risk?unit=ZJ", "/?unit=ZJ"):
        assert "wall-alarm" not in _classes(_render(wall_app, url))


# --- in the browser ----------------------------------------------------------------------------

# Every element of the wall that is cut off: its text wider or taller than its box, or the box
# outside the screen (the canvas hides overflow, so that would be cut without a scroll bar).
CUT_OFF = """() => {
  const out = [];
  const W = window.innerWidth, H = window.innerHeight;
  for (const el of document.querySelectorAll('#display-body .wall *')) {
    if (!el.offsetParent && getComputedStyle(el).position !== 'fixed') continue;  // hidden page
    const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
    const r = el.getBoundingClientRect();
    if (r.right > W + 1 || r.bottom > H + 1 || r.left < -1 || r.top < -1) {
      out.push(['off-screen', el.className, el.textContent.slice(0, 40)]);
    }
    if (own && (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1)) {
      out.push(['truncated', el.className, el.textContent.slice(0, 40)]);
    }
  }
  return out;
}"""

VISIBLE_VALUES = """sel => Array.from(document.querySelectorAll(sel)).filter(el => el.offsetParent)
  .map(el => [el.id, el.innerText])"""


def _expected(store, url, lang) -> dict[str, str]:
    """The numbers a wall view must show, from metrics (and SQL for risk), keyed by element id."""
    from urllib.parse import parse_qsl, urlsplit

    from components.view_state import parse
    from metrics.freshness import loaded_range
    from metrics.views import OVERVIEW_KPIS

    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    out: dict[str, str] = {}
    with Session(store.engine) as s:
        state = parse(query, "HQ", loaded_range(s)[1])
        unit = unit_by_code(s, state.unit)
        if parts.path == "/":
            values = compute(s, list(OVERVIEW_KPIS), unit, state.start, state.end)
            from metrics.registry import REGISTRY

            for r in values.itertuples():
                out[f'{{"kpi":"{r.kpi}","type":"kpi-value"}}'] = number(
                    r.value, REGISTRY[r.kpi].unit, lang)
        if parts.path in ("/", "/risk"):
            low = unit.path
            rows = s.execute(text(
                "SELECT e.state, e.deadline, e.incident_id FROM risk_event e "
                "JOIN org_unit u ON u.id = e.unit_id "
                "WHERE substr(u.path, 1, length(:p)) = :p"), {"p": low}).all()
            now = dt.datetime.now()
            # incidents: the events of one count once
            live = [(d, i) for state_, d, i in rows if state_ not in ("resolved", "closed")]
            out["wall-open"] = f"{len({i for _, i in live}):,}"
            out["wall-overdue"] = f"{len({i for d, i in live if _naive(d) < now}):,}"
        if parts.path == "/cores":
            from metrics.registry import REGISTRY, for_core

            kpis = [k.id for k in for_core(state.core)]
            for r in compute(s, kpis, unit, state.start, state.end).itertuples():
                out[f'{{"kpi":"{r.kpi}","type":"kpi-value"}}'] = number(
                    r.value, REGISTRY[r.kpi].unit, lang)
        if parts.path == "/carriers":
            from components.format import pct

            frame = compute(s, ["transactions"], unit, state.start, state.end, by="carrier")
            total = sum(v for v in frame["value"] if v is not None)
            for r in frame.itertuples():
                out[f'{{"carrier":"{r.carrier}","type":"wall-share"}}'] = pct(r.value / total)
            value = compute(s, ["online_substitution"], unit, state.start, state.end)["value"][0]
            out["wall-substitution"] = number(value, "%", lang)
        if parts.path == "/targets":
            from metrics.attainment import attainment_by_child
            from metrics.targets import DEFAULT_BANDS  # the test app's settings keep the defaults

            frame = attainment_by_child(s, unit, state.start, state.end, bands=DEFAULT_BANDS)
            for status in ("green", "amber", "red"):
                out[f"wall-count-{status}"] = f"{int((frame['status'] == status).sum()):,}"
        if parts.path == "/stages":
            from data.clock import month_start
            from data.rubric import stage_label
            from metrics.stages import assess

            month = month_start(state.end)
            out["wall-stage"] = stage_label(assess(s, unit, month, state.end).stage, lang)
        if parts.path == "/live":
            from metrics.hotline import live_counters as hotline_counters
            from metrics.live import live_counters

            c = live_counters(s, unit, LIVE_NOW)
            h = hotline_counters(s, unit, LIVE_NOW.date(), LIVE_NOW)
            assert c.orders_today and c.overdue and h["offered"]  # something to show
            for key in ("orders_today", "open", "due_2h", "overdue", "complaints_today",
                        "risk_events_today"):
                out[f"wall-live-{key}"] = number(getattr(c, key), "count", lang, 0)
            out["wall-live-fcr"] = number(c.fcr, "%", lang)
            out["wall-live-satisfaction"] = number(c.satisfaction, "%", lang)
            out["wall-live-service_level"] = number(h["service_level"], "%", lang)
            out["wall-live-abandonment_rate"] = number(h["abandonment_rate"], "%", lang)
            out["wall-live-asa"] = number(h["asa_seconds"], "seconds", lang)
            out["wall-live-offered"] = number(h["offered"], "count", lang, 0)
        if parts.path == "/regions":
            from metrics.registry import REGISTRY

            kpi = REGISTRY[state.kpi or "online_substitution"]
            by_child = compute(s, [kpi.id], unit, state.start, state.end, by="child")
            for r in by_child.itertuples():
                out[f'{{"type":"wall-rank","unit":"{r.unit}"}}'] = number(r.value, kpi.unit, lang)
            own = compute(s, [kpi.id], unit, state.start, state.end)["value"][0]
            out["wall-unit-value"] = number(own, kpi.unit, lang)
    return out


def _naive(value):
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


def _sign_in(page, base, username):
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(base + "/")


def _shown_numbers(page) -> dict[str, str]:
    """Every number on the wall by element id, from all pages of a list (hidden ones too)."""
    return page.evaluate("""() => {
      const out = {};
      for (const el of document.querySelectorAll('#display-body [id]')) {
        const value = el.querySelector('.wall-c-value');
        if (el.classList.contains('wall-rank-row') && value) {
          out[el.id] = value.textContent;
        } else if (el.classList.contains('wall-value')) {
          out[el.id] = el.textContent;
        }
      }
      return out;
    }""")


@pytest.mark.parametrize("width, height, lang", [(*size, "zh") for size in SIZES]
                         + [(1920, 1080, "en")])
def test_each_wall_view_fits_the_screen_with_the_numbers_metrics_gives(wall_app, wall_store, width,
                                                                        height, lang, monkeypatch):
    import display.kiosk

    pids = {url: _save(wall_store, [{"url": url, "dwell_seconds": 40}], name=f"{shot}-{width}")
            for url, shot in WALL_VIEWS}
    suffix = "" if lang == "zh" else f"-{lang}"
    server = StoppableServer(wall_app)
    base = server.start()
    try:
        with browser_page(width, height) as (page, errors):
            _sign_in(page, base, "admin" if lang == "zh" else "admin_en")
            for url, shot in WALL_VIEWS:
                monkeypatch.undo()
                if url.startswith("/live"):  # today: the demo's last day, mid-afternoon
                    monkeypatch.setattr(display.kiosk, "local_now", lambda: LIVE_NOW)
                page.goto(f"{base}/display?playlist={pids[url]}")
                page.wait_for_selector("#display-body .wall")
                page.wait_for_timeout(1500)  # the first tick sizes the body
                page.screenshot(path=str(ARTIFACTS / f"wall-{shot}-{width}x{height}{suffix}.png"))
                assert page.locator("#display-body input, #display-body button, "
                                    "#display-body a, #display-body select").count() == 0, shot
                size = page.evaluate("[document.scrollingElement.scrollHeight, innerHeight, "
                                     "document.scrollingElement.scrollWidth, innerWidth]")
                assert size[0] <= size[1] and size[2] <= size[3], (shot, size)
                cut = page.evaluate(CUT_OFF)
                assert cut == [], (shot, cut)
                shown = _shown_numbers(page)
                expected = _expected(wall_store, url, lang)
                assert expected and {k: shown.get(k) for k in expected} == expected, shot
                # the wall's big numbers grow with the screen (viewport units, not a zoom)
                if shot.startswith(("overview", "regions", "risk")):
                    px = page.evaluate("parseFloat(getComputedStyle(document.querySelector("
                                       "'#wall-open, #wall-unit-value')).fontSize)")
                    assert px == pytest.approx(1.25 * 2.6 * width / 100, rel=0.05), shot
                if shot.startswith("live"):
                    _check_live(page, wall_store, url, shot)
        assert errors == []
    finally:
        server.stop()
        with Session(wall_store.engine) as s:
            s.execute(text("DELETE FROM playlist_item"))
            s.execute(text("DELETE FROM playlist"))
            s.commit()


def _check_live(page, store, url, shot):
    """The live wall's alarm is up (the demo has overdue orders at LIVE_NOW) and its bars are
    today's and last week's orders by hour as metrics/live counts them."""
    from urllib.parse import parse_qsl, urlsplit

    from metrics.live import live_counters

    assert "wall-alarm" in page.get_attribute("#wall-live-overdue", "class") or page.evaluate(
        "document.querySelector('#wall-live-overdue').closest('.wall-alarm') !== null"), shot
    with Session(store.engine) as s:
        code = dict(parse_qsl(urlsplit(url).query))["unit"]
        by_hour = live_counters(s, unit_by_code(s, code), LIVE_NOW).by_hour
    shown = page.evaluate("""() => Array.from(document.querySelectorAll('.wall-hslot'))
      .map(e => [e.dataset.today, e.dataset.lastWeek])""")
    assert len(shown) == 24 and shown[16:] == [["", ""]] * 8, shot  # hours to come: empty
    assert shown[:16] == [[str(h.today), "" if h.last_week is None else str(h.last_week)]
                          for h in by_hour], shot
    assert page.locator("#display-body .js-plotly-plot").count() == 0  # plain bars


def test_the_live_wall_raises_the_alarm_only_when_orders_are_overdue(wall_app, monkeypatch):
    import display.kiosk

    monkeypatch.setattr(display.kiosk, "local_now", lambda: LIVE_NOW)
    body = _render(wall_app, "/live?unit=ZJ", "admin")
    assert "wall-alarm" in _classes(body) and "wall-live" in _classes(body)
    monkeypatch.setattr(display.kiosk, "local_now", lambda: dt.datetime(2000, 1, 1, 9))
    quiet = _render(wall_app, "/live?unit=ZJ", "admin")
    assert "wall-alarm" not in _classes(quiet)  # no data that day: "-", no alarm


def test_the_ranking_turns_through_every_child(wall_app, wall_store):
    pid = _save(wall_store, [{"url": "/regions?unit=HQ&period=last30", "dwell_seconds": 20}],
                name="rotation")
    server = StoppableServer(wall_app)
    base = server.start()
    try:
        with browser_page(1920, 1080) as (page, errors):
            _sign_in(page, base, "admin")
            page.goto(f"{base}/display?playlist={pid}")
            page.wait_for_selector("#display-body .wall-rank-row")
            seen: dict[str, set[str]] = {}
            markers = set()
            for _ in range(26):  # 4 pages of 5 s
                visible = page.evaluate(VISIBLE_VALUES, ".wall-page .wall-rank-row")
                assert 0 < len(visible) <= 8
                markers.add(page.inner_text(".wall-page-marker"))
                key = ",".join(sorted(i for i, _ in visible))
                if key not in seen:
                    seen[key] = {i for i, _ in visible}
                    page.screenshot(path=str(
                        ARTIFACTS / f"wall-regions-hq-page{len(seen)}-1920x1080.png"))
                page.wait_for_timeout(1000)
        with Session(wall_store.engine) as s:
            provinces = {f'{{"type":"wall-rank","unit":"{u.code}"}}'
                         for u in children(s, unit_by_code(s, "HQ"))}
        assert len(seen) == 4 and set().union(*seen.values()) == provinces
        assert markers == {f"第 {n}/4 页" for n in range(1, 5)}
        assert errors == []
    finally:
        server.stop()
        with Session(wall_store.engine) as s:
            s.execute(text("DELETE FROM playlist_item"))
            s.execute(text("DELETE FROM playlist"))
            s.commit()


# --- ready on first start: the demo's playlists and the display account's home playlist ---------

def test_the_demo_creates_wall_playlists_the_editor_accepts(tmp_path):
    from click.testing import CliRunner

    from auth.demo_users import DEMO_USERS
    from jobs.demo import seed_demo_command
    from jobs.demo_walls import DEMO_PLAYLISTS

    store = new_store("sqlite", tmp_path)
    seed_demo(store.engine, "tiny", 42, DEMO_END)
    try:
        with app_over(store) as flask_app:
            runner = CliRunner()
            with flask_app.app_context():
                for _ in range(2):  # the second run finds everything made
                    result = runner.invoke(seed_demo_command, ["--if-empty", "--demo-users"])
                    assert result.exit_code == 0, result.output
            with Session(store.engine) as s:
                made = s.scalars(select(Playlist).order_by(Playlist.id)).all()
                assert [p.name for p in made] == [name for name, _r, _v in DEMO_PLAYLISTS]
                for playlist in made:  # what the admin's editor would have saved
                    unit = playlist.items[0].url.split("unit=")[1].split("&")[0]
                    assert [i.url for i in playlist.items if i.url.startswith("/live")] == [
                        f"/live?unit={unit}"], playlist.name  # today, live, of the wall's unit
                    assert {i.url.split("unit=")[1].split("&")[0] for i in playlist.items} == {unit}
                    for item in playlist.items:
                        assert playlists.normalise_url(s, item.url, DEMO_END) == item.url
                        assert 5 <= item.dwell_seconds <= 3600
                display = s.scalar(select(User).where(User.username == "display"))
                home = playlists.home_playlist(s, display)
                assert display.unit.code == next(u[3] for u in DEMO_USERS if u[0] == "display")
                assert home is not None and home.name.endswith("Zhejiang province wall")
                assert {p.name for p in playlists.playlists_for(s, display)} == {
                    p.name for p in made}  # the city wall is in its scope too
                # only display accounts are sent to a home playlist
                admin = s.scalar(select(User).where(User.username == "admin"))
                assert playlists.home_playlist(s, admin) is None
            page = importlib.import_module("pages.display")
            with flask_app.test_request_context("/display"):
                login_user(get_session().scalar(select(User).where(User.username == "display")))
                shown = texts(page.layout())
            assert "display-body" in shown and "Zhejiang province wall" in shown
            with flask_app.test_request_context("/display"):
                login_user(get_session().scalar(select(User).where(User.username == "admin")))
                assert "display-chooser" in texts(page.layout())
    finally:
        store.drop()


def test_a_display_account_without_a_playlist_of_its_unit_chooses(wall_app, wall_store):
    pid = _save(wall_store, [{"url": "/regions?unit=ZJ-HZ", "dwell_seconds": 10}], name="city")
    try:
        with Session(wall_store.engine) as s:
            display = s.scalar(select(User).where(User.username == "display"))
            assert playlists.home_playlist(s, display) is None
        own = _save(wall_store, [{"url": "/?unit=ZJ", "dwell_seconds": 10},
                                 {"url": "/risk", "dwell_seconds": 10}], name="province")
        with Session(wall_store.engine) as s:
            display = s.scalar(select(User).where(User.username == "display"))
            assert playlists.home_playlist(s, display).id == own != pid
    finally:
        with Session(wall_store.engine) as s:
            s.execute(text("DELETE FROM playlist_item"))
            s.execute(text("DELETE FROM playlist"))
            s.commit()
