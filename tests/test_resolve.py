"""The one view resolver (issue #19 item 2): a table of paths and queries to a View or the right
Refusal, and the four callers (pages, exports, wall displays, playlists) answering one forged input
alike. Expected dates are hand-computed from DEMO_END (the tiny demo's last loaded day)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from components.view_state import ViewState
from data.models import Playlist, PlaylistItem, User
from display import playlists
from display.kiosk import describe
from export.render import Paper
from export.service import prepare
from export.views import ExportInvalid, ExportRefused, resolve
from tests.conftest import DEMO_END, app_over, login, seeded_store
from tests.security.dash_posts import audited, outputs, post, text_of
from views.resolve import Refusal, View, audit_refusal, resolve_view

D = dt.date


def _user(s: Session, username: str) -> User:
    return s.scalars(select(User).where(User.username == username)).one()


# (user, page, query or None for a query string in the page, expected)
# expected: ("view", unit, start, end, requested_end) or ("refusal", kind, parameter, unit)
TABLE = [
    ("viewer", "/regions", {}, ("view", "ZJ-HZ", D(2026, 6, 1), D(2026, 6, 30), None)),
    ("viewer", "/regions?period=last7", None, ("view", "ZJ-HZ", D(2026, 6, 24), D(2026, 6, 30), None)),
    ("viewer", "/?unit=ZJ-HZ-01&start=2026-05-01&end=2026-05-31", None,
     ("view", "ZJ-HZ-01", D(2026, 5, 1), D(2026, 5, 31), None)),
    # past the last loaded day: shown to that day, the asked end kept for the "as of" note
    ("viewer", "/cores?start=2026-06-15&end=2026-07-20", None,
     ("view", "ZJ-HZ", D(2026, 6, 15), D(2026, 6, 30), D(2026, 7, 20))),
    # starting after the last loaded day: not clipped (the page says "after")
    ("viewer", "/cores?start=2026-07-01&end=2026-07-20", None,
     ("view", "ZJ-HZ", D(2026, 7, 1), D(2026, 7, 20), None)),
    ("viewer", "/?unit=ZJ-HZ-01&unit=ZJ", None, ("refusal", "bad_parameter", "unit", None)),
    ("viewer", "/", {"kpi": ["mau", "visits"]}, ("refusal", "bad_parameter", "kpi", None)),
    ("viewer", "/?start=2026-02-30&end=2026-03-01", None, ("refusal", "bad_parameter", "start", None)),
    ("viewer", "/?start=2026-06-01", None, ("refusal", "bad_parameter", "start", None)),
    ("viewer", "/?start=yesterday&end=today", None, ("refusal", "bad_parameter", "start", None)),
    ("viewer", "/?start=2026-06-30&end=2026-06-01", None, ("refusal", "bad_parameter", "end", None)),
    ("viewer", "/?period=forever", None, ("refusal", "bad_parameter", "period", None)),
    ("viewer", "/?carrier=app,fax", None, ("refusal", "bad_parameter", "carrier", None)),
    ("viewer", "/?compare=tomorrow", None, ("refusal", "bad_parameter", "compare", None)),
    # out of scope and no such unit: the same refusal
    ("viewer", "/?unit=ZJ", None, ("refusal", "not_permitted", None, "ZJ")),
    ("viewer", "/?unit=NOPE-1", None, ("refusal", "not_permitted", None, "NOPE-1")),
    ("manager", "/regions?unit=ZJ-HZ", None, ("refusal", "not_permitted", None, "ZJ-HZ")),
    ("viewer", "/admin", None, ("refusal", "not_a_page", None, None)),
    ("viewer", "https://evil.example/?unit=ZJ-HZ", None, ("refusal", "not_a_page", None, None)),
    ("display", "/", None, ("refusal", "display_only", None, None)),
]


@pytest.mark.parametrize("username,page,query,expected", TABLE)
def test_resolve_view_gives_the_view_or_the_right_refusal(tiny_store, username, page, query, expected):
    with Session(tiny_store.engine) as s:
        found = resolve_view(s, _user(s, username), page, query)
        if expected[0] == "view":
            assert isinstance(found, View), found
            unit, start, end, requested_end = expected[1:]
            assert (found.unit.code, found.state.start, found.state.end, found.requested_end,
                    found.data_end) == (unit, start, end, requested_end, DEMO_END)
            assert found.asked.end == (requested_end or end)
        else:
            assert isinstance(found, Refusal), found
            kind, parameter, unit = expected[1:]
            assert (found.kind, found.parameter, found.unit) == (kind, parameter, unit)
            assert found.en and found.zh and found.en != found.zh


def test_an_unknown_and_an_out_of_scope_unit_are_refused_alike(tiny_store):
    with Session(tiny_store.engine) as s:
        viewer = _user(s, "viewer")
        outside = resolve_view(s, viewer, "/?unit=ZJ")
        missing = resolve_view(s, viewer, "/?unit=NOPE-1")
    assert isinstance(outside, Refusal) and isinstance(missing, Refusal)
    assert outside.text("en").replace("ZJ", "X") == missing.text("en").replace("NOPE-1", "X")
    assert outside.text("zh").replace("ZJ", "X") == missing.text("zh").replace("NOPE-1", "X")
    # only the audit trail says which it was
    assert (outside.detail, missing.detail) == ("unit ZJ", "unit NOPE-1 (no such unit)")


def test_a_display_account_resolves_on_the_wall_only(tiny_store):
    with Session(tiny_store.engine) as s:
        display = _user(s, "display")
        assert isinstance(resolve_view(s, display, "/", {}), Refusal)
        found = resolve_view(s, display, "/", {}, wall=True)
    assert isinstance(found, View) and found.unit.code == "ZJ"


def test_no_data_is_its_own_refusal(empty_store):
    with Session(empty_store.engine) as s:  # no units either: nothing past the data check runs
        found = resolve_view(s, User(username="someone", role="viewer"), "/")
    assert isinstance(found, Refusal) and found.kind == "no_data"


FORGED = "/regions?unit=ZJ&period=last7"  # outside the manager's scope (home ZJ-HZ-01)


def test_the_four_callers_refuse_a_forged_unit_alike(tmp_path):
    """Pages, exports, the wall display's title and playlists all refuse the same unit the same way,
    because they all ask resolve_view."""
    store = seeded_store("sqlite", tmp_path)
    try:
        with app_over(store) as flask_app:
            c = flask_app.test_client()
            assert login(c, "manager").status_code == 302
            response = post(c, flask_app, "dash.dash", "update", ["/regions", "?unit=ZJ&period=last7"])
            assert "not-permitted" in text_of(outputs(response)[("_pages_content", "children")])
            with flask_app.app_context(), Session(store.engine) as s:
                manager = _user(s, "manager")
                refusal = resolve_view(s, manager, FORGED)
                assert isinstance(refusal, Refusal) and refusal.kind == "not_permitted"
                with pytest.raises(ExportRefused) as exc:
                    prepare(flask_app, s, manager, FORGED, Paper(), None, "test")
                assert str(exc.value) == str(refusal) == "unit ZJ is outside your scope"
                view = playlists.View("/regions", {"unit": "ZJ", "period": "last7"}, 10)
                assert describe(s, view, manager, "en").split(" · ")[1] == "ZJ"  # the code, no name
                playlist = Playlist(name="forged", refresh_seconds=60, updated_by="admin",
                                    items=[PlaylistItem(position=1, url=FORGED, dwell_seconds=10)])
                assert not playlists.openable(s, playlist, manager)  # never stored: nothing written
        page = audited(store.engine, "forbidden", username="manager")
        assert [(e.target, e.outcome, e.detail) for e in page] == [
            ("/regions?unit=ZJ&period=last7", "refused", "unit ZJ")]
        export = audited(store.engine, "export", username="manager")
        assert [(e.target, e.outcome) for e in export] == [(FORGED, "refused")]
        assert export[0].detail.endswith(": unit ZJ is outside your scope")
    finally:
        store.drop()


def test_a_repeated_parameter_is_refused_by_pages_and_exports_alike(tmp_path):
    """Exports read `?unit=A&unit=B` as its last value before; now they name it, as pages do."""
    store = seeded_store("sqlite", tmp_path)
    try:
        with Session(store.engine) as s:
            manager = _user(s, "manager")
            refusal = resolve_view(s, manager, "/?unit=ZJ-HZ-01&unit=ZJ")
            assert isinstance(refusal, Refusal) and refusal.parameter == "unit"
            with pytest.raises(ExportInvalid, match="parameter unit is given more than once"):
                resolve(s, manager, "/?unit=ZJ-HZ-01&unit=ZJ")
            audit_refusal(s, manager, refusal)
        found = audited(store.engine, "bad_request", username="manager")
        assert [(e.target, e.detail) for e in found] == [("/", "repeated parameter unit")]
    finally:
        store.drop()


def test_exports_keep_the_end_they_were_asked_for(tiny_store):
    with Session(tiny_store.engine) as s:
        target = resolve(s, _user(s, "viewer"), "/cores?start=2026-06-15&end=2026-07-20")
    assert (target.view.start, target.view.end) == (D(2026, 6, 15), D(2026, 7, 20))
    assert isinstance(target.view, ViewState) and target.loaded == DEMO_END
