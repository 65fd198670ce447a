"""Display accounts (wall screens) reach the wall display and nothing else, on the server.

Issue #16 item 8: a display account's session or API token read /api/v1/kpis, risk-event details
and targets. The guard now lets a display account reach /display, the callbacks the display page
needs, Dash's own routes, /logout and the public routes; everything else is 403 (JSON for the API
and callbacks, the display-only notice for pages), and each refusal is audited.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from auth.accounts import create_token
from data.models import OrgUnit, RiskEvent, User
from display import playlists
from tests.browser import StoppableServer, browser_page
from tests.conftest import PASSWORD, app_over, csrf_from, login, seeded_store
from tests.security.dash_posts import Raw, audited, outputs, post, text_of

RANGE = "start=2026-06-01&end=2026-06-30"
API = [f"/api/v1/kpis?unit=ZJ&{RANGE}", f"/api/v1/matrix?unit=ZJ&{RANGE}", "/api/v1/catalog",
       "/api/v1/units", "/api/v1/risk-events?unit=ZJ", "/api/v1/stages?unit=ZJ&period=2026-06",
       "/api/v1/freshness?unit=ZJ", "/api/v1/live?unit=ZJ"]
VIEWS = [{"url": "/?unit=ZJ&period=last30", "dwell_seconds": 5},
         {"url": "/regions?unit=ZJ-HZ&period=last7", "dwell_seconds": 5}]


@pytest.fixture
def store(tmp_path):
    """A writable tiny demo with the test accounts (the display account's home is ZJ)."""
    s = seeded_store("sqlite", tmp_path)
    yield s
    s.drop()


@pytest.fixture
def wall(store):
    with app_over(store) as flask_app:
        yield flask_app


def _signed_in(flask_app, username):
    c = flask_app.test_client()
    assert login(c, username).status_code == 302
    return c


def _playlist(store) -> int:
    with Session(store.engine) as s:
        admin = s.scalar(select(User).where(User.username == "admin"))
        pid = playlists.save(s, admin, None, "Wall", 60, VIEWS).id
        s.commit()
        return pid


def _zj_event(store) -> int:
    with Session(store.engine) as s:
        return s.scalars(select(RiskEvent.id).join(OrgUnit, OrgUnit.id == RiskEvent.unit_id)
                         .where(OrgUnit.code.like("ZJ-HZ-01%"))).first()  # the manager's county


def test_a_display_session_and_a_display_token_read_no_api(wall, store):
    display = _signed_in(wall, "display")
    manager = _signed_in(wall, "manager")
    assert manager.get(f"/api/v1/kpis?unit=ZJ-HZ-01&{RANGE}").status_code == 200  # the route works
    with Session(store.engine) as s:
        token = create_token(s, s.scalar(select(User).where(User.username == "display")))
        s.commit()
    bearer = {"Authorization": f"Bearer {token}"}
    for path in API:
        for response in (display.get(path), wall.test_client().get(path, headers=bearer)):
            assert response.status_code == 403, path
            assert set(response.get_json()) == {"error"}, path  # no data at all
            assert "Display accounts may open the wall display only" in response.get_json()["error"]
    refused = audited(store.engine, "forbidden", username="display")
    assert {e.target for e in refused} >= set(API)


def test_a_display_account_runs_no_callback_but_the_walls(wall, store):
    event_id = _zj_event(store)
    display = _signed_in(wall, "display")
    manager = _signed_in(wall, "manager")
    forged = [
        ("pages.risk", "show_event", [event_id], []),  # a risk event's details
        ("pages.targets", "change_target",
         [[{"rowId": "ZJ-HZ-01", "value": 0.5}]],
         [{"kpi": "online_payment", "year": 2026, "units": ["ZJ-HZ-01"]}]),  # setting a target
        ("pages.targets", "clear_own_target", [1],
         ["ZJ-HZ-01", {"kpi": "online_payment", "year": 2026, "units": ["ZJ-HZ-01"]}]),
        ("pages.admin", "show_users", [1], []),
        ("shell", "apply_filters", ["ZJ-HZ", "last30", None, None, "previous"], ["?unit=ZJ"]),
    ]
    for module, name, inputs, state in forged:
        response = post(display, wall, module, name, inputs, state)
        assert response.status_code == 403, name
        assert "response" not in response.get_json()
    # The same detail callback answers a manager (so the refusal above is the role's).
    shown = post(manager, wall, "pages.risk", "show_event", [event_id])
    assert shown.status_code == 200 and f"#{event_id}" in text_of(outputs(shown))
    # Dash's page router renders /display for a display account, nothing else.
    for path, status in (("/risk", 403), ("/", 403), ("/admin", 403), ("/display", 200)):
        response = post(display, wall, "dash.dash", "update", [path, "?unit=ZJ"])
        assert response.status_code == status, path
    assert len(audited(store.engine, "forbidden", username="display")) == len(forged) + 3


def test_the_wall_and_the_frame_callbacks_still_answer_a_display_account(wall, store):
    pid = _playlist(store)
    display = _signed_in(wall, "display")
    for path in (f"/display?playlist={pid}", "/_dash-layout", "/_dash-dependencies"):
        assert display.get(path).status_code == 200, path
    routed = post(display, wall, "dash.dash", "update", ["/display", f"?playlist={pid}"])
    assert routed.status_code == 200 and "display-playlist" in text_of(outputs(routed))
    refreshed = post(display, wall, "pages.display", "refresh", [0, 1], [pid, "zh"])
    assert refreshed.status_code == 200
    assert "浙江" in outputs(refreshed)[("display-title", "children")]
    nav = post(display, wall, "shell", "keep_view_across_pages", [f"?playlist={pid}", "/display"],
               [Raw([{"id": {"type": "nav", "path": "/"}, "property": "id",
                      "value": {"type": "nav", "path": "/"}}])],
               outs=[[{"id": {"type": "nav", "path": "/"}, "property": p}] for p in ("href",
                                                                                  "className")])
    assert nav.status_code == 200
    switched = post(display, wall, "shell", "switch_preference", [1, None])
    assert switched.status_code == 200
    assert audited(store.engine, "forbidden", username="display") == []
    token = csrf_from(display.get("/login").get_data(as_text=True))
    assert display.post("/logout", data={"csrf_token": token}).status_code == 302


def test_pages_show_a_display_account_the_notice_and_exports_are_refused(wall, store):
    display = _signed_in(wall, "display")
    for path in ("/", "/regions?unit=ZJ", "/admin", "/targets", "/admin/import"):
        response = display.get(path)
        assert response.status_code == 403, path
        page = response.get_data(as_text=True)
        assert 'id="display-only"' in page and 'href="/display"' in page
    token = csrf_from(display.get("/login").get_data(as_text=True))
    exported = display.post("/export/pdf", data={"path": "/?unit=ZJ", "paper": "A4"},
                            headers={"X-CSRF-Token": token})
    assert exported.status_code == 403 and set(exported.get_json()) == {"error"}
    # Signing in without a destination lands a display account on the wall display.
    c = wall.test_client()
    assert login(c, "display").headers["Location"] == "/display"
    assert login(wall.test_client(), "manager").headers["Location"] == "/"


def test_a_wall_in_the_browser_gets_no_refusal(wall, store):
    pid = _playlist(store)
    card = "[id='{\"kpi\":\"online_substitution\",\"type\":\"kpi-value\"}']"
    server = StoppableServer(wall)
    base = server.start()
    refused: list[str] = []
    try:
        with browser_page(1920, 1080) as (page, errors):
            page.on("response", lambda r: refused.append(f"{r.status} {r.url}")
                    if r.status >= 400 and "favicon" not in r.url else None)
            page.goto(f"{base}/display?playlist={pid}")
            page.fill("#username", "display")
            page.fill("#password", PASSWORD)
            page.click("#login-submit")
            page.wait_for_selector(card)
            # The second view comes round: the rotation and a refresh ran.
            page.wait_for_function("t => document.getElementById('display-title').innerText"
                                   ".startsWith(t)", arg="区域 · 杭州供电局", timeout=15_000)
            # Hidden on a wall, but the language switch must still work (it reloads the page).
            page.evaluate("document.getElementById('lang-switch').click()")
            page.wait_for_function("() => /^(Overview|Regions) · /.test((document.getElementById("
                                   "'display-title') || {innerText: ''}).innerText)",
                                   timeout=15_000)
        assert refused == []
        assert [e for e in errors if "favicon" not in e] == []
    finally:
        server.stop()
    assert audited(store.engine, "forbidden", username="display") == []
