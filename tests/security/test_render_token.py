"""Login CSRF with a render token (issue 16, item 2).

A render token signs in only the server's own renderer (it needs the per-render secret the server
gives its Chromium), never replaces a browser's session, and the render session it creates reads
its one view: no API, no export, no other page or view, no callback of another page, no writes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import create_app
from data.models import AuditEvent, User
from export import tokens
from tests.conftest import login, seeded_store

SECRET = "test-only-secret"
QUERY = "unit=ZJ-HZ-01&start=2026-06-01&end=2026-06-30"
VIEW = "/?" + QUERY


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Iterator:
    """Its own tiny demo: these tests issue tokens and write audit rows."""

    own = seeded_store("sqlite", tmp_path_factory.mktemp("render-token"))
    yield own
    own.drop()


@pytest.fixture(scope="module")
def flask_app(store):
    flask_app = create_app({"TESTING": True, "DATABASE_URL": store.url, "SECRET_KEY": SECRET})
    flask_app.test_client().get("/login")  # Dash registers the pages' callbacks on a first request
    yield flask_app
    flask_app.extensions["engine"].dispose()


def _issue(store, username: str, path: str = VIEW) -> tokens.Issued:
    with Session(store.engine) as s:
        user = s.scalar(select(User).where(User.username == username))
        issued = tokens.issue(s, SECRET, user, path, 30)
        s.commit()
    return issued


def _user_id(store, username: str) -> int:
    with Session(store.engine) as s:
        return s.scalar(select(User.id).where(User.username == username))


def _signed_in_as(c) -> str | None:
    """The account id of the client's session (the sign-in id is "account.version.time.nonce")."""
    with c.session_transaction() as sess:
        signed = sess.get("_user_id")
    return None if signed is None else str(signed).split(".")[0]


def _last_audit(store, action: str) -> AuditEvent:
    with Session(store.engine) as s:
        return s.scalars(select(AuditEvent).where(AuditEvent.action == action)
                         .order_by(AuditEvent.id.desc())).first()


# --- redeeming ---------------------------------------------------------------------------------


def test_a_token_without_the_renderers_secret_is_refused(flask_app, store):
    issued = _issue(store, "manager")
    anon = flask_app.test_client()
    bare = anon.get(f"/auth/render?token={issued.token}")
    assert bare.status_code == 403 and "own renderer" in bare.get_data(as_text=True)
    wrong = anon.get(f"/auth/render?token={issued.token}", headers={tokens.SECRET_HEADER: "guess"})
    assert wrong.status_code == 403
    assert _signed_in_as(anon) is None
    assert _last_audit(store, "render_token").outcome == "refused"
    # The refusals did not use the token up: the renderer holding the secret still gets in.
    ok = anon.get(f"/auth/render?token={issued.token}", headers={tokens.SECRET_HEADER: issued.secret})
    assert ok.status_code == 302 and ok.headers["Location"] == VIEW


@pytest.mark.parametrize("with_secret", [False, True])
def test_a_signed_in_viewer_opening_a_token_keeps_their_own_session(flask_app, store, with_secret):
    viewer = flask_app.test_client()
    login(viewer, "viewer")
    assert _signed_in_as(viewer) == str(_user_id(store, "viewer"))
    issued = _issue(store, "manager")
    headers = {tokens.SECRET_HEADER: issued.secret} if with_secret else {}
    answer = viewer.get(f"/auth/render?token={issued.token}", headers=headers)
    assert answer.status_code == 403
    assert _signed_in_as(viewer) == str(_user_id(store, "viewer"))  # still the viewer
    with viewer.session_transaction() as sess:
        assert "render_view" not in sess
    assert viewer.get("/api/v1/units").status_code == 200  # and a full session, as before
    refused = _last_audit(store, "render_token")
    assert (refused.outcome, refused.username) == ("refused", "viewer")


# --- what a render session may do --------------------------------------------------------------


@pytest.fixture
def render(flask_app, store):
    """A client signed in as the renderer is (manager's token for VIEW), and its secret header."""
    issued = _issue(store, "manager")
    c = flask_app.test_client()
    headers = {tokens.SECRET_HEADER: issued.secret}
    assert c.get(f"/auth/render?token={issued.token}", headers=headers).status_code == 302
    assert _signed_in_as(c) == str(_user_id(store, "manager"))
    return c, headers


def _callback(flask_app, name: str, inputs: list, state: list | None = None) -> str:
    """The request body of a Dash callback, found by its function's name (as the browser sends)."""
    callbacks = flask_app.extensions["dash"].callback_map
    output = next(k for k, v in callbacks.items()
                  if getattr(v.get("callback"), "__name__", None) == name)
    outputs = [{"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1]}
               for part in output.strip(".").split("...")]
    return json.dumps({"output": output, "outputs": outputs if len(outputs) > 1 else outputs[0],
                       "inputs": inputs, "state": state or [],
                       "changedPropIds": [f"{i['id']}.{i['property']}" for i in inputs[:1]]})


def _post(c, body: str, headers: dict):
    return c.post("/_dash-update-component", data=body, headers=headers,
                  content_type="application/json")


def _router(flask_app, pathname: str, search: str) -> str:
    return _callback(flask_app, "update", [
        {"id": "_pages_location", "property": "pathname", "value": pathname},
        {"id": "_pages_location", "property": "search", "value": search}])


def test_a_render_session_reads_its_one_view(flask_app, render):
    c, headers = render
    assert c.get(VIEW, headers=headers).status_code == 200
    assert c.get("/_dash-layout", headers=headers).status_code == 200
    assert c.get("/_dash-dependencies", headers=headers).status_code == 200
    answer = _post(c, _router(flask_app, "/", "?" + QUERY), headers)
    assert answer.status_code == 200 and "ZJ-HZ-01" in answer.get_data(as_text=True)


@pytest.mark.parametrize("method, path", [
    ("GET", "/api/v1/units"), ("POST", "/export/pdf"), ("GET", "/regions?" + QUERY),
    ("GET", "/?unit=ZJ-HZ-01&start=2026-01-01&end=2026-06-30"), ("GET", "/admin"),
    ("POST", "/logout"), ("GET", "/auth/render?token=x")])
def test_a_render_session_is_refused_everywhere_else(flask_app, store, render, method, path):
    c, headers = render
    answer = c.open(path, method=method, headers=headers, data={"path": VIEW})
    assert answer.status_code == 403, answer.get_data(as_text=True)[:200]
    assert _signed_in_as(c) == str(_user_id(store, "manager"))  # nothing signed it out or in


def test_a_render_session_without_the_secret_is_refused(flask_app, store, render):
    # A render session's cookie alone (e.g. lifted from the renderer) opens nothing.
    c, _headers = render
    assert c.get(VIEW).status_code == 403
    assert c.get(VIEW, headers={tokens.SECRET_HEADER: "guess"}).status_code == 403
    refused = _last_audit(store, "render_session")
    assert (refused.outcome, refused.username) == ("refused", "manager")


def test_a_render_session_cannot_call_another_pages_callbacks(flask_app, render):
    c, headers = render
    # Dash's page router for another page, and for another view of the same page.
    assert _post(c, _router(flask_app, "/admin", ""), headers).status_code == 403
    assert _post(c, _router(flask_app, "/", "?unit=ZJ-HZ-02"), headers).status_code == 403
    # The admin page's audit-log reader.
    body = _callback(flask_app, "show_audit", [
        {"id": "audit-action", "property": "value", "value": None},
        {"id": "audit-user", "property": "value", "value": None},
        {"id": "audit-dates", "property": "value", "value": [None, None]},
        {"id": "admin-changed", "property": "data", "value": 0}])
    assert _post(c, body, headers).status_code == 403


def _language(store, username: str) -> str:
    with Session(store.engine) as s:
        return s.scalar(select(User.language).where(User.username == username))


def test_a_render_session_cannot_call_a_callback_that_writes(flask_app, store, render):
    c, headers = render
    body = _callback(flask_app, "switch_preference", [
        {"id": "lang-switch", "property": "n_clicks", "value": 1},
        {"id": "theme-switch", "property": "n_clicks", "value": None}])
    before = _language(store, "manager")
    answer = _post(c, body, headers)
    assert answer.status_code == 403 and "writes" in answer.get_json()["error"]
    assert _language(store, "manager") == before
    # The same request from the manager's own session does write: the body is a real callback.
    own = flask_app.test_client()
    login(own, "manager")
    assert _post(own, body, {}).status_code == 200
    assert _language(store, "manager") != before
    assert _post(own, body, {}).status_code == 200  # switched back
    assert _language(store, "manager") == before


@pytest.mark.parametrize("name", ["change_target", "clear_own_target", "take_step",
                                  "switch_preference", "account_action",
                                  "edit_cell", "save_playlist", "run_import"])
def test_every_callback_that_writes_is_marked(flask_app, name):
    from auth.guard import WRITES

    found = [v["callback"] for v in flask_app.extensions["dash"].callback_map.values()
             if getattr(v.get("callback"), "__name__", None) == name]
    assert found and all(getattr(f, WRITES, False) for f in found)


def test_a_render_session_cannot_save_a_target_on_the_targets_page(flask_app, store):
    path = "/targets?" + QUERY
    issued = _issue(store, "admin", path)
    c = flask_app.test_client()
    headers = {tokens.SECRET_HEADER: issued.secret}
    assert c.get(f"/auth/render?token={issued.token}", headers=headers).status_code == 302
    assert c.get(path, headers=headers).status_code == 200
    body = _callback(flask_app, "change_target", [
        {"id": {"type": "csv-grid", "name": "targets-table"}, "property": "cellValueChanged",
         "value": [{"rowId": "ZJ-HZ-01", "value": 99}]}],
        [{"id": "targets-context", "property": "data",
          "value": {"kpi": "online_substitution", "year": 2026, "units": ["ZJ-HZ-01"]}}])
    answer = _post(c, body, headers)
    assert answer.status_code == 403 and "writes" in answer.get_json()["error"]
