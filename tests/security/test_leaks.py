""""Not found" and "not permitted" look the same (issue #16 item 10).

For units (API and pages), risk events (detail and workflow) and playlists (/display) outside the
caller's scope the answer is byte-identical to the one for something that does not exist; a
refused workflow step on another unit's event does not tell its state; the /display chooser lists
only the playlists the caller may open (every view's unit in the caller's scope).
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.models import RISK_STATES, OrgUnit, Playlist, RiskEvent, User
from display import playlists
from tests.conftest import app_over, login, seeded_store
from tests.security.dash_posts import Raw, outputs, post, stringify, text_of

RANGE = "start=2026-06-01&end=2026-06-30"
API = ["/api/v1/kpis?unit={}&" + RANGE, "/api/v1/matrix?unit={}&" + RANGE,
       "/api/v1/freshness?unit={}", "/api/v1/stages?unit={}&period=2026-06",
       "/api/v1/risk-events?unit={}", "/api/v1/units?parent={}", "/api/v1/live?unit={}"]
OUTSIDE, MISSING = "ZJ-NB", "ZJ-NOPE"  # for the manager of county ZJ-HZ-01


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A tiny demo for this module (its tests write only audit rows and playlists of their own)."""
    s = seeded_store("sqlite", tmp_path_factory.mktemp("leaks"))
    yield s
    s.drop()


@pytest.fixture(scope="module")
def leaks_app(store):
    with app_over(store) as flask_app:
        yield flask_app


def _client(flask_app, username):
    c = flask_app.test_client()
    assert login(c, username).status_code == 302
    return c


def _same(a, b):
    assert (a.status_code, a.get_data()) == (b.status_code, b.get_data())


@pytest.mark.parametrize("path", API)
def test_the_api_answers_an_unknown_and_an_outside_unit_alike(leaks_app, path):
    manager = _client(leaks_app, "manager")
    outside, missing = manager.get(path.format(OUTSIDE)), manager.get(path.format(MISSING))
    _same(outside, missing)
    assert outside.status_code == 403
    assert OUTSIDE not in outside.get_data(as_text=True)
    assert manager.get(path.format("ZJ-HZ-01")).status_code == 200


def _routed(c, flask_app, path, search):
    return post(c, flask_app, "dash.dash", "update", [path, search])


@pytest.mark.parametrize("page", ["/", "/regions", "/targets", "/risk", "/stages"])
def test_pages_answer_an_unknown_and_an_outside_unit_alike(leaks_app, page):
    manager = _client(leaks_app, "manager")
    outside = _routed(manager, leaks_app, page, f"?unit={OUTSIDE}")
    missing = _routed(manager, leaks_app, page, f"?unit={MISSING}")
    _same(outside, missing)
    assert "not-permitted" in outside.get_data(as_text=True)


def _event_outside(store) -> int:
    with Session(store.engine) as s:
        return s.scalars(select(RiskEvent.id).join(OrgUnit, OrgUnit.id == RiskEvent.unit_id)
                         .where(OrgUnit.code.like(f"{OUTSIDE}%"))).first()


def _no_event(store) -> int:
    with Session(store.engine) as s:
        return (s.scalar(select(func.max(RiskEvent.id))) or 0) + 1000


def _step(c, flask_app, event_id, to):
    step_id = {"type": "risk-step", "to": to}
    return post(c, flask_app, "pages.risk", "take_step",
                [Raw([{"id": step_id, "property": "n_clicks", "value": 1}])], [event_id, "", None, None],
                changed=[f"{stringify(step_id)}.n_clicks"])


def test_risk_events_outside_the_scope_look_like_missing_ones(leaks_app, store):
    manager = _client(leaks_app, "manager")
    outside, missing = _event_outside(store), _no_event(store)
    before = _state(store, outside)
    shown = [post(manager, leaks_app, "pages.risk", "show_event", [e]) for e in (outside, missing)]
    _same(*shown)
    for to in ("in_progress", "resolved", "closed", "reopened"):
        refused = [_step(manager, leaks_app, e, to) for e in (outside, missing)]
        _same(*refused)
        text = text_of(outputs(refused[0]))
        assert not any(state in text for state in RISK_STATES), text  # no state, no step
    assert _state(store, outside) == before  # and the event did not move


def _state(store, event_id):
    with Session(store.engine) as s:
        return s.get(RiskEvent, event_id).state


def test_a_refused_step_from_the_service_does_not_tell_the_state(store):
    from risk.workflow import StepRefused, step

    with Session(store.engine) as s:
        manager = s.scalar(select(User).where(User.username == "manager"))
        event = s.get(RiskEvent, _event_outside(store))
        with pytest.raises(StepRefused) as caught:
            step(s, event, manager, "resolved")
        s.rollback()
        assert str(caught.value) == f"risk event {event.id} is not found or not permitted"


def _save(store, name, urls) -> int:
    with Session(store.engine) as s:
        admin = s.scalar(select(User).where(User.username == "admin"))
        pid = playlists.save(s, admin, None, name, 60,
                             [{"url": u, "dwell_seconds": 10} for u in urls]).id
        s.commit()
        return pid


def test_display_lists_and_opens_only_playlists_in_the_callers_scope(leaks_app, store):
    mine = _save(store, "Zhejiang", ["/?unit=ZJ", "/regions?unit=ZJ-HZ", "/risk"])
    above = _save(store, "Headquarters", ["/?unit=HQ"])
    mixed = _save(store, "Mixed", ["/?unit=ZJ", "/?unit=HQ"])
    display, admin = _client(leaks_app, "display"), _client(leaks_app, "admin")  # ZJ, HQ
    chooser = _routed(display, leaks_app, "/display", "").get_data(as_text=True)
    assert "Zhejiang" in chooser and "Headquarters" not in chooser and "Mixed" not in chooser
    everything = _routed(admin, leaks_app, "/display", "").get_data(as_text=True)
    assert all(n in everything for n in ("Zhejiang", "Headquarters", "Mixed"))
    with Session(store.engine) as s:
        missing = (s.scalar(select(func.max(Playlist.id))) or 0) + 1000
    for refused in (above, mixed):
        _same(_routed(display, leaks_app, "/display", f"?playlist={refused}"),
              _routed(display, leaks_app, "/display", f"?playlist={missing}"))
        _same(post(display, leaks_app, "pages.display", "refresh", [0, 1], [refused, "zh"]),
              post(display, leaks_app, "pages.display", "refresh", [0, 1], [missing, "zh"]))
    opened = _routed(display, leaks_app, "/display", f"?playlist={mine}")
    assert "display-playlist" in opened.get_data(as_text=True)
    assert "display-playlist" in _routed(admin, leaks_app, "/display",
                                         f"?playlist={above}").get_data(as_text=True)
