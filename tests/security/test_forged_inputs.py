"""Forged inputs get a clear 4xx or in-page error, are audited, and never a 500 (issue #16 item 9).

Each of these answered 500 before: a repeated `unit` (pages), a non-integer event id in the risk
workflow callback, an unknown playlist id in the display's refresh, an unknown KPI in the targets
table's context, CR/LF in the sign-in page's `next=`. A repeated API parameter was silently read
as its first value; it is now refused too.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import OrgUnit, Playlist, RiskEvent, Target, User
from display import playlists
from tests.conftest import (
    DB_KINDS,
    PASSWORD,
    app_over,
    csrf_from,
    login,
    seeded_store,
)
from tests.security.dash_posts import Raw, audited, outputs, post, stringify, text_of

RANGE = "start=2026-06-01&end=2026-06-30"


def _store(kind, tmp_path):
    s = seeded_store(kind, tmp_path)
    return s


@pytest.fixture
def store(tmp_path):
    s = _store("sqlite", tmp_path)
    yield s
    s.drop()


@pytest.fixture(params=DB_KINDS)
def any_store(request, tmp_path):
    """On each database (a huge id overflows PostgreSQL's integer, not SQLite's)."""
    s = _store(request.param, tmp_path)
    yield s
    s.drop()


def _client(flask_app, username):
    c = flask_app.test_client()
    assert login(c, username).status_code == 302
    return c


def _routed(c, flask_app, path, search):
    response = post(c, flask_app, "dash.dash", "update", [path, search])
    assert response.status_code == 200, (path, search)
    return text_of(outputs(response)[("_pages_content", "children")])


def test_a_repeated_parameter_is_named_on_pages_and_refused_by_the_api(store):
    with app_over(store) as flask_app:
        manager = _client(flask_app, "manager")
        page = _routed(manager, flask_app, "/", "?unit=ZJ-HZ-01&unit=ZJ")
        assert "bad-view" in page and "参数 unit 出现了多次" in page
        assert "bad-view" in _routed(manager, flask_app, "/targets", "?kpi=mau&kpi=visits")
        response = manager.get(f"/api/v1/kpis?unit=ZJ-HZ-01&unit=ZJ&{RANGE}")
        assert response.status_code == 400
        assert response.get_json() == {"error": "'unit' is given more than once",
                                       "parameter": "unit"}
        assert manager.get(f"/api/v1/kpis?unit=ZJ-HZ-01&{RANGE}").status_code == 200
    found = audited(store.engine, "bad_request", username="manager")
    assert [e.detail for e in found] == ["repeated parameter unit", "repeated parameter kpi",
                                         "repeated parameter unit"]
    assert found[-1].target.startswith("/api/v1/kpis?unit=ZJ-HZ-01&unit=ZJ")


def _own_event(engine) -> int:
    with Session(engine) as s:
        return s.scalars(select(RiskEvent.id).join(OrgUnit, OrgUnit.id == RiskEvent.unit_id)
                         .where(OrgUnit.code.like("ZJ-HZ-01%"))).first()


def _step(c, flask_app, event_id, to="in_progress"):
    step_id = {"type": "risk-step", "to": to}
    return post(c, flask_app, "pages.risk", "take_step",
                [Raw([{"id": step_id, "property": "n_clicks", "value": 1}])], [event_id, "", None, None],
                changed=[f"{stringify(step_id)}.n_clicks"])


def test_a_forged_event_id_in_the_risk_workflow_is_a_clear_error(any_store):
    bad_ids = ["abc", "1 OR 1=1", 2**40, -1, 1.5, [1], {"id": 1}]
    with app_over(any_store) as flask_app:
        manager = _client(flask_app, "manager")
        for raw in bad_ids:
            for response in (_step(manager, flask_app, raw),
                             post(manager, flask_app, "pages.risk", "show_event", [raw])):
                assert response.status_code == 200, raw
                shown = text_of(outputs(response))
                assert "risk-bad-request" in shown and "请求有误" in shown, raw
        picked = post(manager, flask_app, "pages.risk", "pick_event",
                      [{"rowId": "abc"}, None],
                      changed=['{"name":"risk-events","type":"csv-grid"}.cellClicked'])
        assert picked.status_code == 200 and outputs(picked) == {}  # nothing changes
        # A real event still moves along the loop.
        event_id = _own_event(any_store.engine)
        moved = _step(manager, flask_app, event_id)
        assert moved.status_code == 200 and "risk-bad-request" not in text_of(outputs(moved))
    refusals = audited(any_store.engine, "bad_request", username="manager", target="/risk")
    assert len(refusals) == 2 * len(bad_ids) + 1


def test_an_unknown_or_forged_playlist_id_is_a_clear_error(any_store):
    with Session(any_store.engine) as s:
        admin = s.scalar(select(User).where(User.username == "admin"))
        pid = playlists.save(s, admin, None, "Wall", 60,
                             [{"url": "/?unit=ZJ", "dwell_seconds": 10}]).id
        s.commit()
    with app_over(any_store) as flask_app:
        display = _client(flask_app, "display")
        for raw in (pid + 1000, "abc", 2**40, None, [pid]):
            response = post(display, flask_app, "pages.display", "refresh", [0, 1], [raw, "zh"])
            assert response.status_code == 200, raw
            assert "display-error" in text_of(outputs(response)), raw
        for search in (f"?playlist={pid + 1000}", "?playlist=99999999999",
                       f"?playlist={pid}&playlist={pid}"):
            page = _routed(display, flask_app, "/display", search)
            assert "display-error" in page, search
        assert "参数 playlist 出现了多次" in _routed(display, flask_app, "/display",
                                               f"?playlist={pid}&playlist={pid}")
        fine = post(display, flask_app, "pages.display", "refresh", [0, 1], [pid, "zh"])
        assert "display-error" not in text_of(outputs(fine))
    assert len(audited(any_store.engine, "bad_request", username="display",
                       target="/display")) == 5 + 3 + 1
    with Session(any_store.engine) as s:
        assert s.get(Playlist, pid) is not None


def test_a_forged_targets_context_is_a_clear_error(store):
    good = {"kpi": "online_payment", "year": 2026, "units": ["ZJ-HZ-01", "ZJ-HZ-01-01"]}
    forged = [({**good, "kpi": "no_such_kpi"}, "unknown KPI"),
              ({**good, "kpi": ["mau"]}, "unknown KPI"),
              ({**good, "year": "2026"}, "the year must be"),
              ({**good, "year": 99999}, "the year must be"),
              ({**good, "units": ["NOWHERE"]}, "not found or not permitted"),
              ({**good, "units": ["ZJ-HZ-01", "ZJ"]}, "not found or not permitted"),
              ({**good, "units": "ZJ-HZ-01"}, "units are missing"),
              (None, "unknown KPI")]
    with app_over(store) as flask_app:
        manager = _client(flask_app, "manager")
        for context, reason in forged:
            response = post(manager, flask_app, "pages.targets", "change_target",
                            [[{"rowId": "ZJ-HZ-01", "value": 0.5}]], [context])
            assert response.status_code == 200, context
            shown = outputs(response)
            assert shown[("targets-message", "color")] == "red"
            assert "请求有误" in shown[("targets-message", "children")]
            assert reason in shown[("targets-message", "children")], context
        ok = post(manager, flask_app, "pages.targets", "change_target",
                  [[{"rowId": "ZJ-HZ-01", "value": 0.5}]], [good])
        assert outputs(ok)[("targets-message", "color")] == "green"
    assert len(audited(store.engine, "bad_request", username="manager",
                       target="targets")) == len(forged)
    with Session(store.engine) as s:  # only the good edit was written
        assert s.scalars(select(Target.kpi).where(Target.updated_at.is_not(None))).all() == [
            "online_payment"]


@pytest.mark.parametrize("forged", ["/%0d%0aSet-Cookie:%20evil=1", "/x%0aLocation:%20//evil",
                                    "/%09/evil.example", "/%00"])
def test_control_characters_in_next_are_refused_and_audited(store, forged):
    with app_over(store) as flask_app:
        c = flask_app.test_client()
        page = c.get(f"/login?next={forged}")
        assert page.status_code == 400 and "next=" in page.get_data(as_text=True)
        token = csrf_from(c.get("/login").get_data(as_text=True))
        sent = c.post(f"/login?next={forged}", data={"username": "viewer", "password": PASSWORD,
                                                     "csrf_token": token})
        assert sent.status_code == 400 and "Set-Cookie" not in str(sent.headers.get("Location"))
        assert "evil" not in (sent.headers.get("Set-Cookie") or "")
        assert c.get("/api/v1/units").status_code == 401  # not signed in either
    assert len(audited(store.engine, "bad_request", target="/login")) == 2


def test_a_backslash_next_does_not_leave_the_site(store):
    with app_over(store) as flask_app:
        c = flask_app.test_client()
        token = csrf_from(c.get("/login").get_data(as_text=True))
        sent = c.post("/login?next=/%5Cevil.example", data={
            "username": "viewer", "password": PASSWORD, "csrf_token": token})
        assert sent.status_code == 302 and sent.headers["Location"] == "/"
