"""Sessions end on sign-out, password change and deactivation; remember-me cookies expire and rotate.

Issue #16 item 3: a session cookie captured before sign-out, a password change or deactivation, and
a remember-me cookie captured before a password change, must stop working; remember-me values must
differ per sign-in and expire after REMEMBER_DAYS on the server, not only in the browser.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import secrets
import time

import pytest
from flask_login import login_user
from flask_login.utils import encode_cookie
from sqlalchemy import select
from sqlalchemy.orm import Session

from auth import admin
from data.db import get_session
from data.models import User
from tests.conftest import app_over, csrf_from, login
from tests.security.seeded import seeded_template_fixture, sqlite_copy_fixture  # noqa: F401

NEW_PASSWORD = "violet tram lantern 58"
UNITS = "/api/v1/units"
WALL = "/display"  # what a display account may open (it reads no API); signed out, it redirects


@pytest.fixture
def store(sqlite_copy):
    """A store of its own (these tests change accounts), on SQLite: nothing here is dialect-specific."""
    return sqlite_copy


@pytest.fixture
def app(store):
    with app_over(store) as flask_app:
        yield flask_app


def _replay(app, name: str, value: str):
    """A fresh browser that carries only this one cookie."""
    c = app.test_client()
    c.set_cookie(name, value)
    return c


def _signed_in(app, username: str, remember: bool = False):
    """Sign in; return the client and its session and remember-me cookie values."""
    c = app.test_client()
    assert login(c, username, remember=remember).status_code == 302
    session_cookie = c.get_cookie("session")
    remember_cookie = c.get_cookie("remember_token")
    assert session_cookie is not None
    assert (remember_cookie is not None) == remember
    return c, session_cookie.value, remember_cookie.value if remember_cookie else None


def _logout(c):
    token = csrf_from(c.get("/login").get_data(as_text=True))
    assert c.post("/logout", data={"csrf_token": token}).status_code == 302


def test_a_session_cookie_replayed_after_sign_out_is_refused(app):
    c, captured, _ = _signed_in(app, "viewer")
    assert _replay(app, "session", captured).get(UNITS).status_code == 200
    _logout(c)
    assert _replay(app, "session", captured).get(UNITS).status_code == 401


def test_sign_out_ends_the_users_sessions_on_every_device(app):
    laptop, _, _ = _signed_in(app, "viewer")
    phone, _, remembered = _signed_in(app, "viewer", remember=True)
    wall, _, _ = _signed_in(app, "display", remember=True)  # another account is not touched
    _logout(laptop)
    assert phone.get(UNITS).status_code == 401
    assert _replay(app, "remember_token", remembered).get(UNITS).status_code == 401
    assert wall.get(WALL).status_code == 200
    again, _, _ = _signed_in(app, "viewer")  # and signing in again works
    assert again.get(UNITS).status_code == 200


def _both_cookies_die(app, username: str, change) -> None:
    c, session_value, remember_value = _signed_in(app, username, remember=True)
    assert remember_value is not None
    assert _replay(app, "session", session_value).get(UNITS).status_code == 200
    assert _replay(app, "remember_token", remember_value).get(UNITS).status_code == 200
    change()
    assert c.get(UNITS).status_code == 401
    assert _replay(app, "session", session_value).get(UNITS).status_code == 401
    assert _replay(app, "remember_token", remember_value).get(UNITS).status_code == 401


def test_set_password_on_the_cli_ends_sessions_and_remember_me(app, store, runner_for):
    runner = runner_for(store.url)

    def change():
        out = runner.invoke(args=["set-password", "viewer", "--password-stdin"],
                            input=NEW_PASSWORD + "\n")
        assert out.exit_code == 0, out.output

    _both_cookies_die(app, "viewer", change)
    assert login(app.test_client(), "viewer", NEW_PASSWORD).status_code == 302


def _as_admin(app, action) -> None:
    with app.test_request_context("/"):
        session = get_session()
        root = session.scalar(select(User).where(User.username == "admin"))
        login_user(root)
        action(session, root)
        session.commit()


def test_an_admin_password_reset_ends_sessions_and_remember_me(app):
    _both_cookies_die(app, "viewer", lambda: _as_admin(
        app, lambda s, root: admin.reset_password(s, root, "viewer", NEW_PASSWORD)))


def test_deactivation_on_the_admin_page_ends_sessions_and_remember_me(app, store):
    def deactivate_and_reactivate():
        _as_admin(app, lambda s, root: admin.set_active(s, root, "manager", False))
        assert _replay(app, "session", captured).get(UNITS).status_code == 401
        _as_admin(app, lambda s, root: admin.set_active(s, root, "manager", True))

    _, captured, _ = _signed_in(app, "manager")
    # Re-activation does not bring the old sessions back.
    _both_cookies_die(app, "manager", deactivate_and_reactivate)
    with Session(store.engine) as s:
        assert s.scalar(select(User.active).where(User.username == "manager")) is True
    assert login(app.test_client(), "manager").status_code == 302


def test_deactivation_on_the_cli_ends_sessions_and_remember_me(app, store, runner_for):
    runner = runner_for(store.url)

    def deactivate_and_reactivate():
        out = runner.invoke(args=["deactivate-user", "manager"])
        assert out.exit_code == 0, out.output
        _as_admin(app, lambda s, root: admin.set_active(s, root, "manager", True))

    _both_cookies_die(app, "manager", deactivate_and_reactivate)


def test_deactivation_revokes_api_tokens(app, store, runner_for):
    runner = runner_for(store.url)
    token = runner.invoke(args=["create-token", "manager"]).output.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {token}"}
    assert app.test_client().get(UNITS, headers=headers).status_code == 200
    assert runner.invoke(args=["deactivate-user", "manager"]).exit_code == 0
    _as_admin(app, lambda s, root: admin.set_active(s, root, "manager", True))
    assert app.test_client().get(UNITS, headers=headers).status_code == 401


def test_remember_me_differs_per_sign_in_and_expires_after_remember_days(app):
    first = app.test_client()
    response = login(first, "display", remember=True)
    header = next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("remember_token="))
    expires = email.utils.parsedate_to_datetime(header.split("Expires=")[1].split(";")[0])
    expected = dt.datetime.now(dt.UTC) + dt.timedelta(days=180)
    assert abs((expires - expected).total_seconds()) < 120
    second = app.test_client()
    login(second, "display", remember=True)
    one, two = first.get_cookie("remember_token"), second.get_cookie("remember_token")
    assert one is not None and two is not None and one.value != two.value
    # A wall display keeps working from its remember-me cookie alone (a rebooted browser).
    assert _replay(app, "remember_token", one.value).get(WALL).status_code == 200
    assert _replay(app, "remember_token", two.value).get(WALL).status_code == 200


def _remember_cookie(app, username: str, age: dt.timedelta) -> str:
    """A remember-me cookie signed with the app's key, as if issued `age` ago (the server's format)."""
    with app.test_request_context("/"):
        user = get_session().scalar(select(User).where(User.username == username))
        issued = int(time.time() - age.total_seconds())
        return encode_cookie(f"{user.id}.{user.session_version}.{issued}.{secrets.token_hex(8)}")


def test_the_server_refuses_remember_me_older_than_remember_days(app):
    young = _remember_cookie(app, "display", dt.timedelta(days=179))
    old = _remember_cookie(app, "display", dt.timedelta(days=181))
    assert _replay(app, "remember_token", young).get(WALL).status_code == 200
    refused = _replay(app, "remember_token", old).get(WALL)
    assert refused.status_code == 302 and "/login" in refused.headers["Location"]


def test_a_cookie_from_before_session_versions_is_refused(app, store):
    with Session(store.engine) as s:
        uid = s.scalar(select(User.id).where(User.username == "viewer"))
    with app.test_request_context("/"):
        legacy = encode_cookie(str(uid))  # what the old code put in the cookie: the bare id
    assert _replay(app, "remember_token", legacy).get(UNITS).status_code == 401
