"""Every answer under /api is JSON: unknown paths 404, writes to the read-only API 405, signed-out
callers 401 on every path (known or not), errors 500; the dashboard's own paths answer as before."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from auth.accounts import create_token
from data.models import User
from tests.conftest import app_over, login, seeded_store

RANGE = "start=2026-06-01&end=2026-06-30"


def _json(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:200]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert isinstance(body, dict) and body["error"]
    return body


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/kpis/extra", "/api/v1/", "/api/v1",
                                  "/api/v2/kpis", "/api"])
def test_an_unknown_api_path_is_a_json_404(client, path):
    body = _json(client.get(path), 404)
    assert body == {"error": "no such API path", "path": path}


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("path", [f"/api/v1/kpis?unit=ZJ&{RANGE}", "/api/v1/catalog",
                                  "/api/v1/nope"])
def test_a_write_to_the_read_only_api_is_a_json_405(client, method, path):
    # No CSRF token is sent: the request changes nothing either way, and it is the method that is
    # wrong (a CSRF "400" would send a token client looking for a token it cannot have).
    response = getattr(client, method)(path, json={})
    body = _json(response, 405)
    assert body["path"] == path.split("?")[0]
    assert "GET" in response.headers["Allow"] and "POST" not in response.headers["Allow"]


@pytest.mark.parametrize("path", ["/api/v1/nope", f"/api/v1/kpis?unit=ZJ&{RANGE}", "/api/v1/"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_signed_out_callers_get_one_json_401_for_every_api_path(anon, path, method):
    # The same answer whether the path exists or not: nothing tells a stranger which do.
    assert _json(getattr(anon, method)(path), 401) == {"error": "sign-in required"}


def test_a_bad_token_gets_a_json_401_on_an_unknown_path(anon):
    body = _json(anon.get("/api/v1/nope", headers={"Authorization": "Bearer cod_forged"}), 401)
    assert body == {"error": "invalid or revoked API token"}


@pytest.mark.writes
def test_display_accounts_get_a_json_403_on_unknown_api_paths(app):
    c = app.test_client()
    login(c, "display")
    _json(c.get("/api/v1/nope"), 403)


def test_an_api_token_gets_json_404_and_405(tmp_path):
    store = seeded_store("sqlite", tmp_path)
    try:
        with Session(store.engine) as s:
            token = create_token(s, s.scalar(select(User).where(User.username == "viewer")))
            s.commit()
        with app_over(store) as flask_app:
            c = flask_app.test_client()
            bearer = {"Authorization": f"Bearer {token}"}
            assert _json(c.get("/api/v1/nope", headers=bearer), 404)["path"] == "/api/v1/nope"
            _json(c.post(f"/api/v1/kpis?unit=ZJ-HZ&{RANGE}", headers=bearer), 405)
            assert c.get(f"/api/v1/kpis?unit=ZJ-HZ&{RANGE}", headers=bearer).status_code == 200
    finally:
        store.drop()


def test_an_unexpected_error_is_a_json_500_that_tells_nothing(tiny_store, monkeypatch):
    import api.v1

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(api.v1, "compute", broken)
    with app_over(tiny_store, TESTING=False, PROPAGATE_EXCEPTIONS=False) as flask_app:
        c = flask_app.test_client()
        login(c, "admin")
        response = c.get(f"/api/v1/kpis?unit=ZJ&{RANGE}&kpi=visits")
        body = _json(response, 500)
        assert body["path"] == "/api/v1/kpis"
        assert "secret" not in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/no-such-page", "/apiary", "/api-v1"])
def test_the_dashboards_unknown_paths_answer_as_before(client, anon, path):
    # Dash's page router answers any other path with its page (which shows "not found").
    page = client.get(path)
    assert page.status_code == 200 and page.mimetype == "text/html"
    signed_out = anon.get(path)
    assert signed_out.status_code == 302 and "/login" in signed_out.headers["Location"]


def test_a_form_post_without_csrf_token_is_still_refused(client):
    # Outside the API the CSRF check is unchanged.
    assert client.post("/logout").status_code == 400
