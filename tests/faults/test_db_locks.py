"""Another process holds the store's write lock (a long import, seed or roll-up rebuild): token API
calls, page loads and callbacks still answer 200 quickly, and a sign-in answers a clear 503 with
Retry-After within the short web wait instead of a 500 after 30 s."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from contextlib import contextmanager

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from auth.accounts import create_token, find_user
from data.db import get_session
from data.models import ApiToken
from tests.conftest import app_over, csrf_from, login, new_store, seeded_store

LOCK_WAIT = 2  # DB_LOCK_WAIT_SECONDS of the app under test
QUICK = 2.0  # a read must answer within this while the lock is held
RANGE = "start=2026-06-01&end=2026-06-30"

# Holds the write lock the way an import does: SQLite BEGIN IMMEDIATE; on PostgreSQL EXCLUSIVE
# locks on the tables a sign-in and a token's use write (reads still pass; writes must wait).
HOLDER = r"""
import sys, time
kind, url = sys.argv[1], sys.argv[2]
if kind == "sqlite":
    import sqlite3
    conn = sqlite3.connect(url, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
else:
    import psycopg
    conn = psycopg.connect(url)
    conn.execute("SET search_path = " + sys.argv[3])
    conn.execute("LOCK TABLE api_token, audit_event, app_user IN EXCLUSIVE MODE")
print("locked", flush=True)
time.sleep(120)
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """A tiny demo store of its own (this test writes) with a token for the viewer."""
    store = seeded_store(request.param, tmp_path)
    with Session(store.engine) as session:
        store.token = create_token(session, find_user(session, "viewer"), "fault test")
        session.commit()
    yield store
    store.drop()


def _holder_url(store) -> str:
    if store.kind == "sqlite":
        return store.url.removeprefix("sqlite:///")
    url = store.engine.url.set(drivername="postgresql").difference_update_query(["options"])
    return url.render_as_string(hide_password=False)


@contextmanager
def write_lock_held(store):
    """Hold the store's write lock from another process until the block ends."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, store.kind, _holder_url(store),
                             store.schema or ""],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        yield
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _timed(call):
    started = time.perf_counter()
    response = call()
    return response, time.perf_counter() - started


def _last_used(store):
    with Session(store.engine) as session:
        return session.scalar(select(ApiToken.last_used_at))


def _pages_render(flask_app, client, search: str):
    dash_app = flask_app.extensions["dash"]
    key = next(k for k in dash_app.callback_map if "_pages_content.children" in k)
    body = {"output": key,
            "outputs": [{"id": "_pages_content", "property": "children"},
                        {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/"},
                       {"id": "_pages_location", "property": "search", "value": search}],
            "changedPropIds": ["_pages_location.pathname"], "state": []}
    return client.post(dash_app.config.routes_pathname_prefix + "_dash-update-component", json=body)


def test_reads_answer_quickly_and_sign_in_gets_503_while_the_write_lock_is_held(store):
    bearer = {"Authorization": f"Bearer {store.token}"}
    with app_over(store, DB_LOCK_WAIT_SECONDS=LOCK_WAIT, CACHE_TYPE="NullCache",
                  CACHE_NO_NULL_WARNING=True) as flask_app:
        viewer = flask_app.test_client()
        assert login(viewer, "viewer").status_code == 302
        assert viewer.get("/").status_code == 200  # Dash sets up its callback map
        newcomer = flask_app.test_client()
        form = {"username": "manager", "password": "correct horse battery",
                "csrf_token": csrf_from(newcomer.get("/login").get_data(as_text=True))}
        assert _last_used(store) is None

        with write_lock_held(store):
            for _ in range(3):
                response, took = _timed(lambda: flask_app.test_client().get(
                    f"/api/v1/kpis?unit=ZJ-HZ&{RANGE}&kpi=visits", headers=bearer))
                assert response.status_code == 200 and took < QUICK, (response.status_code, took)
            response, took = _timed(lambda: viewer.get("/"))
            assert response.status_code == 200 and took < QUICK, (response.status_code, took)
            response, took = _timed(lambda: _pages_render(flask_app, viewer, "?unit=ZJ-HZ"))
            assert response.status_code == 200 and took < QUICK, (response.status_code, took)
            assert "as-of" in response.get_data(as_text=True)

            response, took = _timed(lambda: newcomer.post("/login", data=form))
            assert response.status_code == 503 and took < LOCK_WAIT + 1.5, (response.status_code, took)
            assert response.headers["Retry-After"] == "5"
            page = response.get_data(as_text=True)
            assert "请" in page and "try again" in page and response.mimetype == "text/html"
            assert newcomer.get("/").status_code == 302  # not signed in by the refused attempt
            assert _last_used(store) is None  # the token's use was skipped, not waited for

        # The lock is free again: sign-in works and the token's use is recorded, once a minute.
        assert newcomer.post("/login", data=form).status_code == 302
        assert newcomer.get("/").status_code == 200
        started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        assert flask_app.test_client().get("/api/v1/units", headers=bearer).status_code == 200
        first = _last_used(store)
        assert first is not None and abs((first - started).total_seconds()) < 5
        assert flask_app.test_client().get("/api/v1/units", headers=bearer).status_code == 200
        assert _last_used(store) == first


def test_an_api_request_that_must_write_gets_json_503(store):
    """An out-of-scope API call is audited (a write): while the lock is held it gets JSON 503."""
    bearer = {"Authorization": f"Bearer {store.token}"}
    with app_over(store, DB_LOCK_WAIT_SECONDS=LOCK_WAIT) as flask_app:
        path = f"/api/v1/kpis?unit=ZJ&{RANGE}&kpi=visits"  # the viewer's home is ZJ-HZ
        with write_lock_held(store):
            response, took = _timed(lambda: flask_app.test_client().get(path, headers=bearer))
            assert response.status_code == 503 and took < LOCK_WAIT + 1.5, (response.status_code, took)
            assert response.headers["Retry-After"] == "5"
            assert response.get_json()["retry_after"] == 5 and "try again" in response.get_json()["error"]
        assert flask_app.test_client().get(path, headers=bearer).status_code == 403


def _waits(session) -> tuple:
    if session.get_bind().dialect.name == "sqlite":
        return (session.execute(text("PRAGMA busy_timeout")).scalar_one(),)
    return tuple(session.execute(text(f"SHOW {name}")).scalar_one()
                 for name in ("lock_timeout", "statement_timeout"))


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_web_requests_wait_briefly_and_cli_jobs_long(kind, tmp_path):
    store = new_store(kind, tmp_path, migrate=False)
    try:
        with app_over(store, DB_LOCK_WAIT_SECONDS=2, DB_STATEMENT_TIMEOUT_SECONDS=30,
                      SQLITE_JOB_BUSY_SECONDS=60) as flask_app:
            for _ in range(2):  # and again on the pooled connections the first round used
                with flask_app.test_request_context("/"):
                    web = _waits(get_session())
                with flask_app.app_context():  # what a CLI command's session gets
                    job = _waits(get_session())
                with flask_app.extensions["engine"].connect() as conn:  # seeding, imports
                    engine = _waits(Session(conn))
                expected = ({"web": (2000,), "job": (60000,), "engine": (60000,)} if kind == "sqlite"
                            else {"web": ("2s", "30s"), "job": ("0", "0"), "engine": ("0", "0")})
                assert {"web": web, "job": job, "engine": engine} == expected
    finally:
        store.drop()
