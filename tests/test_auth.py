"""Sign-in, the guard over every route, region scope, tokens, lock-out, CSRF and the audit log."""

from __future__ import annotations

import stat

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import create_app
from data.models import ApiToken, AuditEvent, User
from tests.conftest import PASSWORD, login

RANGE = "start=2026-06-01&end=2026-06-30"


def dash_of(app):
    return app.extensions["dash"]


@pytest.mark.writes
def test_every_dash_callback_refuses_anonymous_posts(app, client, anon):
    client.get("/")  # let Dash finish setting up its callback map
    callbacks = dash_of(app).callback_map
    assert callbacks, "no callbacks registered"
    prefix = dash_of(app).config.routes_pathname_prefix
    for output, spec in callbacks.items():
        body = {"output": output, "outputs": [], "inputs": [
            {"id": i["id"], "property": i["property"], "value": "/"} for i in spec["inputs"]],
            "changedPropIds": [], "state": []}
        response = anon.post(f"{prefix}_dash-update-component", json=body)
        assert response.status_code == 401, output
        assert response.get_json() == {"error": "sign-in required"}
    for path in ("_dash-layout", "_dash-dependencies"):
        assert anon.get(prefix + path).status_code == 401


@pytest.mark.parametrize("path", ["/api/v1/catalog", "/api/v1/units", f"/api/v1/kpis?unit=ZJ&{RANGE}",
                                  f"/api/v1/matrix?unit=ZJ&{RANGE}"])
def test_anonymous_api_calls_get_401_and_no_data(anon, path):
    response = anon.get(path)
    assert response.status_code == 401 and set(response.get_json()) == {"error"}


def test_anonymous_pages_redirect_to_login(anon):
    response = anon.get("/?unit=ZJ")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert anon.get("/login").status_code == 200


@pytest.mark.writes
def test_sign_in_and_out(app):
    c = app.test_client()
    response = login(c, "viewer")
    assert response.status_code == 302
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert c.get("/api/v1/units").status_code == 200
    token = c.get("/login").get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    assert c.post("/logout", data={"csrf_token": token}).status_code == 302
    assert c.get("/api/v1/units").status_code == 401


def test_remember_me_sets_a_long_lived_cookie(app):
    c = app.test_client()
    response = login(c, "display", remember=True)
    cookies = response.headers.getlist("Set-Cookie")
    remember = next(v for v in cookies if v.startswith("remember_token="))
    assert "HttpOnly" in remember and "Expires=" in remember


@pytest.mark.writes
def test_wrong_password_is_refused_and_audited(app, app_store):
    c = app.test_client()
    response = login(c, "viewer", "not the password")
    assert response.status_code == 401 and "Wrong username or password" in response.get_data(True)
    with Session(app_store.engine) as s:
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "login_failed",
                                                 AuditEvent.username == "viewer"))


@pytest.mark.writes
def test_lockout_after_five_failures(app, app_store):
    with Session(app_store.engine) as s:
        from auth.accounts import create_user
        create_user(s, "locked", "viewer", "ZJ-NB", PASSWORD)
        s.commit()
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = "10.9.9.9"
    for _ in range(5):
        assert login(c, "locked", "wrong password!").status_code == 401
    refused = login(c, "locked")  # the right password, too late
    assert refused.status_code == 401 and "Too many failed attempts" in refused.get_data(True)
    # The lock is per account and address (README): the same address may still sign in another
    # account, and the owner can still sign in from elsewhere.
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.9.9.9"
    assert login(other, "viewer").status_code == 302
    fresh = app.test_client()
    fresh.environ_base["REMOTE_ADDR"] = "10.1.1.1"
    assert login(fresh, "locked").status_code == 302


def test_csrf_is_required_on_forms(app):
    c = app.test_client()
    c.get("/login")
    response = c.post("/login", data={"username": "admin", "password": PASSWORD})
    assert response.status_code == 400
    login(c, "admin")
    assert c.post("/logout", data={}).status_code == 400
    assert c.post("/logout", data={"csrf_token": "forged"}).status_code == 400


# -- scope ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["ZJ-HZ-02", "ZJ-HZ", "ZJ", "HQ", "ZJ-NB-01-01"])
@pytest.mark.writes
def test_a_county_manager_cannot_read_outside_the_county(manager, app_store, code):
    for path in (f"/api/v1/kpis?unit={code}&{RANGE}", f"/api/v1/matrix?unit={code}&{RANGE}",
                 f"/api/v1/units?parent={code}", f"/api/v1/freshness?unit={code}"):
        response = manager.get(path)
        assert response.status_code == 403, path
        assert set(response.get_json()) == {"error", "parameter"}
    with Session(app_store.engine) as s:
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "forbidden",
                                                 AuditEvent.username == "manager",
                                                 AuditEvent.detail == f"unit {code}"))


@pytest.mark.parametrize("code", ["ZJ-HZ-01", "ZJ-HZ-01-01", "ZJ-HZ-01-02"])
def test_a_county_manager_reads_the_county_and_its_outlets(manager, code):
    rows = manager.get(f"/api/v1/kpis?unit={code}&{RANGE}&kpi=visits").get_json()
    assert rows[0]["value"] > 0


def test_units_never_lists_outside_the_scope(manager):
    assert [u["code"] for u in manager.get("/api/v1/units").get_json()] == ["ZJ-HZ-01"]
    kids = manager.get("/api/v1/units?parent=ZJ-HZ-01").get_json()
    assert [u["code"] for u in kids] == ["ZJ-HZ-01-01", "ZJ-HZ-01-02"]


def test_metrics_refuse_out_of_scope_units_themselves(tiny_store):
    import datetime as dt

    from data.units import unit_by_code
    from metrics.compute import compute
    from metrics.scope import OutOfScope, Scope

    with Session(tiny_store.engine) as s:
        scope = Scope.of(unit_by_code(s, "ZJ-HZ-01"))
        with pytest.raises(OutOfScope):
            compute(s, ["visits"], unit_by_code(s, "ZJ-HZ"), dt.date(2026, 6, 1),
                    dt.date(2026, 6, 30), scope=scope)


# -- accounts and tokens -------------------------------------------------------------------------


@pytest.mark.writes
def test_cli_accounts_tokens_revocation_and_deactivation(app, app_store, runner_for, anon):
    runner = runner_for(app_store.url)
    made = runner.invoke(args=["create-user", "ops1", "--role", "manager", "--unit", "ZJ-NB-01",
                               "--password-stdin"], input="a strong password\n")
    assert made.exit_code == 0, made.output
    short = runner.invoke(args=["create-user", "ops2", "--role", "viewer", "--unit", "ZJ",
                                "--password-stdin"], input="short\n")
    assert short.exit_code != 0 and "at least 10 characters" in short.output
    bad_unit = runner.invoke(args=["create-user", "ops3", "--role", "viewer", "--unit", "NOPE",
                                   "--password-stdin"], input="a strong password\n")
    assert bad_unit.exit_code != 0 and "unknown unit" in bad_unit.output

    out = runner.invoke(args=["create-token", "ops1", "--label", "bi"])
    assert out.exit_code == 0, out.output
    token = out.output.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {token}"}
    assert [u["code"] for u in anon.get("/api/v1/units", headers=headers).get_json()] == ["ZJ-NB-01"]
    assert anon.get(f"/api/v1/kpis?unit=ZJ-HZ-01&{RANGE}", headers=headers).status_code == 403
    assert "Set-Cookie" not in anon.get("/api/v1/units", headers=headers).headers
    with Session(app_store.engine) as s:
        user = s.scalar(select(User).where(User.username == "ops1"))
        assert user.password_hash.startswith("scrypt:") and "strong" not in user.password_hash
        stored = s.scalars(select(ApiToken.token_hash).where(ApiToken.user_id == user.id)).all()
        assert token not in stored and len(stored[0]) == 64

    assert runner.invoke(args=["revoke-tokens", "ops1"]).exit_code == 0
    assert anon.get("/api/v1/units", headers=headers).status_code == 401

    c = app.test_client()
    login(c, "ops1", "a strong password")
    assert c.get("/api/v1/units").status_code == 200
    assert runner.invoke(args=["deactivate-user", "ops1"]).exit_code == 0
    assert c.get("/api/v1/units").status_code == 401  # the next request, same session

    changed = runner.invoke(args=["set-password", "viewer", "--password-stdin"],
                            input=PASSWORD + "\n")
    assert changed.exit_code == 0


def test_secret_key_is_generated_once_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    config = {"INSTANCE_PATH": str(tmp_path / "inst"), "DATABASE_URL": "sqlite://"}
    first = create_app(dict(config)).config["SECRET_KEY"]
    second = create_app(dict(config)).config["SECRET_KEY"]
    key_file = tmp_path / "inst" / "secret_key"
    assert first == second and len(first) == 64
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_demo_users_are_created_once(tmp_path, runner_for):
    from tests.conftest import new_store

    store = new_store("sqlite", tmp_path)
    runner = runner_for(store.url)
    args = ["seed-demo", "--scale", "tiny", "--end", "2026-06-30", "--demo-users"]
    first = runner.invoke(args=args)
    assert first.exit_code == 0 and first.output.count("Demo account") == 4
    again = runner.invoke(args=args + ["--if-empty"])
    assert again.exit_code == 0 and "Demo account" not in again.output
    with Session(store.engine) as s:
        assert {u.role for u in s.scalars(select(User))} == {"admin", "manager", "viewer",
                                                              "display"}
    store.drop()
