"""Security headers on every kind of response, a CSP under which every page still runs, and no
framing of the app from another origin (another port of the same host is another origin)."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from auth.accounts import create_token
from data.models import User
from display import playlists
from tests.browser import browser_page, chromium_path, live_server, sign_in
from tests.conftest import app_over, login, seeded_store

EXPECTED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _policy(response) -> dict[str, list[str]]:
    """The response's CSP as {directive: [sources]}."""
    header = response.headers.get("Content-Security-Policy", "")
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def _assert_secure(response, what: str) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, f"{what}: {name}"
    policy = _policy(response)
    assert policy.get("frame-ancestors") == ["'none'"], what
    assert policy.get("object-src") == ["'none'"], what
    assert "'self'" in policy.get("script-src", []), what
    assert not {"'unsafe-inline'", "'unsafe-eval'", "*"} & set(policy["script-src"]), what
    assert policy.get("default-src") == ["'self'"], what
    assert "Strict-Transport-Security" not in response.headers, what  # plain HTTP


def _read(response):
    """Read and close a streamed (file) response."""
    response.get_data()
    response.close()
    return response


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """The tiny demo on SQLite with the accounts, a playlist and an API token; for this module."""
    store = seeded_store("sqlite", tmp_path_factory.mktemp("headers"))
    with Session(store.engine) as s:
        admin = s.scalar(select(User).where(User.username == "admin"))
        store.playlist = playlists.save(s, admin, None, "Wall", 60, [
            {"url": "/?unit=ZJ&period=last30", "dwell_seconds": 30},
            {"url": "/regions?unit=ZJ-HZ&period=last30", "dwell_seconds": 30}]).id
        store.token = create_token(s, admin, "headers test")
        s.commit()
    yield store
    store.drop()


@pytest.fixture(scope="module")
def app(store):
    with app_over(store, PROPAGATE_EXCEPTIONS=False) as flask_app:
        flask_app.add_url_rule("/boom", "boom", lambda: 1 / 0)
        yield flask_app


def test_every_kind_of_response_carries_the_headers(app, store):
    anon = app.test_client()
    checks = {
        "login form": anon.get("/login"),
        "sign-in without CSRF token (400)": anon.post("/login", data={"username": "x", "password": "y"}),
        "page, signed out (redirect)": anon.get("/admin"),
        "Dash route, signed out (401)": anon.get("/_dash-layout"),
        "callback, signed out (401)": anon.post("/_dash-update-component", json={}),
        "API, no token (401)": anon.get("/api/v1/units"),
        "health": anon.get("/healthz"),
    }
    for what, response in checks.items():
        _assert_secure(response, what)
    c = app.test_client()
    login(c, "admin")
    index = c.get("/admin")
    assert index.status_code == 200 and "_dash-renderer" in index.get_data(as_text=True)
    script = re.search(r'src="(/_dash-component-suites/dash/dash-renderer/[^"]+)"',
                       index.get_data(as_text=True)).group(1)
    checks = {
        "Dash page": index,
        "Dash layout": c.get("/_dash-layout"),
        "Dash dependencies": c.get("/_dash-dependencies"),
        "asset": _read(c.get("/assets/app.css")),
        "component bundle": _read(c.get(script)),
        "not found": _read(c.get("/assets/no-such-file.css")),
        "server error": c.get("/boom"),
        "API with a token": app.test_client().get(
            "/api/v1/units", headers={"Authorization": f"Bearer {store.token}"}),
    }
    assert checks["asset"].status_code == 200 and checks["component bundle"].status_code == 200
    assert checks["not found"].status_code == 404 and checks["server error"].status_code == 500
    assert checks["API with a token"].status_code == 200
    for what, response in checks.items():
        _assert_secure(response, what)


def test_the_csp_allows_exactly_the_inline_scripts_of_the_page(store):
    # A fresh app whose first request is turned away by the sign-in guard, before Dash has set
    # itself up (Dash adds a clientside callback of its own then): the policy must still be whole.
    with app_over(store) as fresh:
        assert fresh.test_client().get("/admin").status_code == 302
        c = fresh.test_client()
        login(c, "admin")
        page = c.get("/")
    html = re.sub(r"<!--.*?-->", "", page.get_data(as_text=True), flags=re.S)  # IE-only alert
    inline = [body for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
              if "src=" not in attrs and "application/json" not in attrs]
    assert len(inline) >= 2  # the renderer start-up and at least one clientside callback
    wanted = {"'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
              for body in inline}
    allowed = {s for s in _policy(page)["script-src"] if s.startswith("'sha256-")}
    assert allowed == wanted


def test_hsts_only_behind_https(store):
    with app_over(store, BEHIND_HTTPS=True) as flask_app:
        response = flask_app.test_client().get("/login")
        assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


# --- in the browser -------------------------------------------------------------------------

VIEW = "unit=ZJ-HZ&start=2026-06-01&end=2026-06-30"
# Pages, and what shows that their callbacks ran (a chart drawn, a grid filled).
PAGES = {
    "/": ".js-plotly-plot .main-svg",
    "/carriers": ".js-plotly-plot .main-svg",
    "/cores": ".js-plotly-plot .main-svg",
    "/regions": ".js-plotly-plot .main-svg",
    "/stages": ".js-plotly-plot .main-svg",
    "/targets": ".js-plotly-plot .main-svg",
    "/risk": ".js-plotly-plot .main-svg",
    "/live": ".js-plotly-plot .main-svg",
    "/admin": "#admin-users .ag-cell",
    "/admin/import": "#import-drop, .import-drop",
}
WATCH = """document.addEventListener('securitypolicyviolation', e =>
  (window.__csp = window.__csp || []).push(e.violatedDirective + ' ' + e.blockedURI));"""


@pytest.fixture(scope="module")
def live(app):
    chromium_path()
    with live_server(app) as base:
        yield base


@pytest.mark.browser
def test_every_page_runs_under_the_csp_with_a_clean_console(live, store):
    violations: dict[str, list[str]] = {}
    with browser_page() as (page, errors):
        page.add_init_script(WATCH)
        sign_in(page, live, "admin")
        for path, drawn in [*PAGES.items(),
                            (f"/display?playlist={store.playlist}",
                             "#display-body .wall")]:  # a wall layout: no plotly charts
            page.goto(f"{live}{path}{'&' if '?' in path else '?'}{VIEW}")
            page.wait_for_selector(drawn, timeout=30_000)
            page.wait_for_function("() => !document.querySelector('[data-dash-is-loading]')")
            page.wait_for_timeout(300)
            violations[path] = page.evaluate("window.__csp || []")
            assert page.evaluate("document.querySelectorAll('#_dash-renderer').length") == 1
        # A script injected into the page is refused: the policy is in force.
        page.evaluate("""() => { const s = document.createElement('script');
                                 s.textContent = 'window.__ran = 1'; document.body.appendChild(s); }""")
        page.wait_for_timeout(300)
        assert page.evaluate("window.__ran") is None
        assert len(page.evaluate("window.__csp")) == 1
        errors[:] = [e for e in errors if "Content Security Policy" not in e
                     or "script-src" not in e or "unsafe-inline" not in e]  # the one injected
    assert {p: v for p, v in violations.items() if v} == {}
    assert [e for e in errors if "favicon" not in e] == []


def _framing_site(target: str) -> Flask:
    """Another origin (another port) that frames `target`."""
    site = Flask("framer")
    site.add_url_rule("/", "frame", lambda: f'<iframe id="victim" src="{target}" width="900" '
                                            f'height="600"></iframe>')
    return site


@pytest.mark.browser
def test_another_origin_cannot_frame_the_admin_page(live):
    with live_server(_framing_site(live + "/admin")) as other, browser_page() as (page, errors):
        sign_in(page, live, "admin")  # the frame would carry this session (same site)
        assert other.rsplit(":", 1)[1] != live.rsplit(":", 1)[1]
        page.goto(other)
        page.wait_for_timeout(3000)
        frame = page.frame_locator("#victim")
        assert frame.locator("text=管理 Admin").count() == 0
        assert frame.locator("#_dash-app-content, #react-entry-point").count() == 0
        assert any("frame-ancestors" in e or "X-Frame-Options" in e for e in errors), errors
