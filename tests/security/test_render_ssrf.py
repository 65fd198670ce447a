"""Server-side request forgery through the PDF export (issue 16, item 1).

The renderer loads the app from an address fixed when the server starts (RENDER_BASE_URL, checked
then, or the address gunicorn bound), never from the request's Host header; its Chromium reaches
the app's origin only; an error never echoes a response body.
"""

from __future__ import annotations

import http.server
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from app import create_app
from export.origin import check_base_url
from export.render import Paper, Renderer, RenderError
from settings import BadSetting
from tests.browser import chromium_path
from tests.conftest import DEMO_END, PASSWORD, add_users, new_store

ROOT = Path(__file__).resolve().parents[2]
SECRET = "test-only-secret"
BODY = "INTERNAL-ONLY-a7c1e9"  # what the internal service answers; must never reach the user
VIEW = "/regions?unit=ZJ-HZ&start=2026-06-01&end=2026-06-30"


class Recorder:
    """An HTTP server on its own port that records every request it gets (an internal service)."""

    def __init__(self, status: int = 404, page: str | None = None) -> None:
        self.requests: list[str] = []
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the standard library's name
                recorder.requests.append(self.path)
                body = (page or BODY).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args) -> None:
                """Quiet."""

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def recorder(status: int = 404, page: str | None = None) -> Iterator[Recorder]:
    """Yield a recording HTTP server, closed afterwards."""
    server = Recorder(status, page)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def gunicorn_app(tmp_path_factory) -> Iterator[str]:
    """The app served by gunicorn as `make serve` does (this repository's gunicorn.conf.py, no
    RENDER_BASE_URL) over its own tiny demo; yield its base URL."""
    chromium = chromium_path()
    store = new_store("sqlite", tmp_path_factory.mktemp("ssrf"))
    from jobs.demo import seed_demo

    seed_demo(store.engine, "tiny", 42, DEMO_END)
    add_users(store)
    env = {k: v for k, v in os.environ.items() if k != "RENDER_BASE_URL"}
    env.update(DATABASE_URL=store.url, SECRET_KEY=SECRET, CHROMIUM_PATH=chromium,
               PDF_TIMEOUT_SECONDS="45", PYTHONPATH=str(ROOT))
    log = tmp_path_factory.mktemp("gunicorn") / "stderr.log"
    with open(log, "w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "1", "--threads", "4",
             "--bind", "127.0.0.1:0", "app:create_app()"], cwd=ROOT, env=env, stderr=err)
    try:
        base = None
        for _ in range(600):
            found = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", log.read_text())
            if found:
                base = found.group(1)
                try:
                    if requests.get(base + "/healthz", timeout=10).ok:
                        break
                except (requests.ConnectionError, requests.Timeout):
                    pass
            if proc.poll() is not None:
                pytest.fail(f"gunicorn did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        else:
            pytest.fail(f"gunicorn did not answer: {log.read_text()[-2000:]}")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        store.drop()


def _signed_in(base: str, username: str = "viewer") -> tuple[requests.Session, str]:
    """Sign in through the form; return the HTTP session and its CSRF token."""
    http_session = requests.Session()
    form = http_session.get(base + "/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    answer = http_session.post(base + "/login", data={"username": username, "password": PASSWORD,
                                                      "csrf_token": token}, timeout=10)
    assert answer.ok and "login-submit" not in answer.text
    layout = http_session.get(base + "/_dash-layout", timeout=10).json()
    return http_session, _csrf_in(layout)


def _csrf_in(node) -> str:
    if isinstance(node, dict):
        props = node.get("props") or {}
        if isinstance(props, dict) and props.get("name") == "csrf_token":
            return props["value"]
        for value in node.values():
            found = _csrf_in(value)
            if found:
                return found
    if isinstance(node, list):
        for value in node:
            found = _csrf_in(value)
            if found:
                return found
    return ""


@pytest.mark.browser
def test_a_forged_host_header_never_points_the_renderer_elsewhere(gunicorn_app):
    with recorder() as internal:
        http_session, csrf = _signed_in(gunicorn_app)
        answer = http_session.post(
            gunicorn_app + "/export/pdf", data={"path": VIEW},
            headers={"X-CSRF-Token": csrf, "Host": f"127.0.0.1:{internal.port}"}, timeout=120)
        assert internal.requests == []  # the server's Chromium never asked the other port
        assert BODY not in answer.text
        # The renderer loaded the app from the address gunicorn bound: the export worked.
        assert answer.status_code == 200, answer.text[:300]
        assert answer.content.startswith(b"%PDF")


@pytest.mark.browser
def test_the_renderer_loads_nothing_outside_the_apps_origin(tmp_path):
    # A page of "the app" that redirects, frames, fetches and links to another local service:
    # Chromium must not send it a single request (interception, and the proxy for redirects).
    with recorder(200) as internal:
        page = (f'<html><body><iframe src="{internal.url}/frame"></iframe>'
                f'<img src="{internal.url}/img.png"><script>fetch("{internal.url}/fetch")'
                f'.catch(() => 0)</script><div id="as-of">ok</div></body></html>')
        with recorder(200, page) as app_like:
            renderer = Renderer(chromium_path(), 1, timeout=8)
            try:
                pdf = renderer.render(app_like.url + "/auth/render?token=x", Paper(), "", "", "s3cret")
            finally:
                renderer.close()
        assert app_like.requests[:1] == ["/auth/render?token=x"]
        assert internal.requests == []
        assert pdf.startswith(b"%PDF")  # printed without the blocked parts


@pytest.mark.browser
def test_a_redirect_to_another_origin_is_not_followed():
    with recorder(200) as internal:
        class Redirect(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                self.send_response(302)
                self.send_header("Location", internal.url + "/secret")
                self.end_headers()

            def log_message(self, *_args) -> None:
                """Quiet."""

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        renderer = Renderer(chromium_path(), 1, timeout=8)
        try:
            with pytest.raises(RenderError) as caught:
                renderer.render(f"http://127.0.0.1:{server.server_port}/auth/render?token=x", Paper(),
                                "", "", "s3cret")
        finally:
            renderer.close()
            server.shutdown()
            server.server_close()
        assert internal.requests == []
        assert BODY not in str(caught.value)


@pytest.mark.browser
def test_an_error_never_echoes_the_response_body():
    with recorder(404) as internal:
        renderer = Renderer(chromium_path(), 1, timeout=8)
        try:
            with pytest.raises(RenderError) as caught:
                renderer.render(internal.url + "/auth/render?token=x", Paper(), "", "", "s3cret")
        finally:
            renderer.close()
    assert BODY not in str(caught.value)
    assert str(caught.value) == "the render page was refused (HTTP 404)"


@pytest.mark.parametrize("value, why", [
    ("http://127.0.0.1:8050/app", "path"), ("http://127.0.0.1:8050/?x=1", "query"),
    ("ftp://127.0.0.1:8050", "http"), ("http://user:pw@127.0.0.1:8050", "password"),
    ("127.0.0.1:8050", "http"), ("http://:8050", "host"), ("http://127.0.0.1:99999", "port"),
    ("http://127.0.0.1:8050#top", "fragment")])
def test_a_bad_render_base_url_stops_the_server_at_start_up(tmp_path, value, why):
    with pytest.raises(BadSetting, match=f"RENDER_BASE_URL=.*{why}"):
        create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
                    "SECRET_KEY": SECRET, "RENDER_BASE_URL": value})


@pytest.mark.parametrize("value, origin", [
    ("http://127.0.0.1:8050", "http://127.0.0.1:8050"), ("http://127.0.0.1:8050/", "http://127.0.0.1:8050"),
    ("https://Dash.Example.com", "https://dash.example.com:443"), ("http://[::1]:8050", "http://[::1]:8050")])
def test_a_good_render_base_url_is_kept_as_an_origin(value, origin):
    assert check_base_url(value) == origin


def test_without_a_known_address_the_web_export_says_what_to_set(tmp_path):
    from tests.conftest import login

    store = new_store("sqlite", tmp_path)
    from jobs.demo import seed_demo

    seed_demo(store.engine, "tiny", 42, DEMO_END)
    add_users(store)
    flask_app = create_app({"TESTING": True, "DATABASE_URL": store.url, "SECRET_KEY": SECRET})
    try:
        c = flask_app.test_client()
        login(c, "viewer")
        with c.session_transaction() as sess:
            csrf = sess["csrf"]
        answer = c.post("/export/pdf", data={"path": VIEW}, headers={"X-CSRF-Token": csrf})
        assert answer.status_code == 500
        assert "RENDER_BASE_URL" in answer.get_json()["error"]
    finally:
        flask_app.extensions["engine"].dispose()
        store.drop()
