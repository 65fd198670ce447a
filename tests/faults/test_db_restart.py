"""The PostgreSQL server stops for a few seconds under a running app (a restart, a fail-over):
requests answer a clean 503 with Retry-After quickly (JSON for the API and Dash, a short bilingual
page otherwise), never a 500 or a hang, and the app recovers by itself when the server is back."""

from __future__ import annotations

import http.cookiejar
import json
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from auth.accounts import create_token, create_user, find_user
from data.db import make_engine
from jobs.demo import seed_demo
from jobs.schema import upgrade
from tests.conftest import DEMO_END, PASSWORD, USERS, app_over

PG_BIN = Path("/usr/lib/postgresql/15/bin")
BOUND = 5.0  # seconds a request may take while the server is down
RANGE = "start=2026-06-01&end=2026-06-30"

pytestmark = pytest.mark.skipif(not (PG_BIN / "initdb").exists(),
                                reason=f"needs PostgreSQL's initdb and pg_ctl in {PG_BIN} to run a private "
                                       "server it can stop (apt-get install postgresql-15)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A private PostgreSQL server in a temporary directory, run as the postgres user."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="pgfault-", dir="/tmp"))
        shutil.chown(self.dir, "postgres", "postgres")
        self.port = _free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self._run("initdb", "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres",
                  "--no-sync", "-E", "UTF8")

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / tool), *args], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/tmp", timeout=60)

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "start", "-w", "-D", str(self.dir / "data"), "-l", str(self.dir / "log"),
                  "-o", opts)

    def stop(self) -> None:
        self._run("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.dir / "data"))

    def remove(self) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "stop", "-m",
                        "immediate", "-D", str(self.dir / "data")], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, cwd="/tmp", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


class Store:
    """What app_over needs: the private server's URL."""

    def __init__(self, url: str) -> None:
        self.url = url


@pytest.fixture(scope="module")
def cluster():
    cluster = Cluster()
    try:
        cluster.start()
        engine = make_engine(cluster.url)
        upgrade(engine)
        seed_demo(engine, "tiny", 42, DEMO_END)
        with Session(engine) as session:
            for username, (role, unit) in USERS.items():
                create_user(session, username, role, unit, PASSWORD)
            cluster.token = create_token(session, find_user(session, "viewer"), "restart test")
            session.commit()
        engine.dispose()
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture(scope="module")
def served(cluster):
    """The app served over HTTP by a threaded werkzeug server, as gunicorn would."""
    with app_over(Store(cluster.url)) as flask_app:
        server = make_server("127.0.0.1", 0, flask_app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()
            thread.join(5)


class Browser:
    """A cookie-keeping HTTP client that does not follow redirects."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect())

    def request(self, path: str, data: dict | None = None, headers: dict | None = None,
                body: bytes | None = None):
        """Return (status, headers, text, seconds)."""
        payload = body if body is not None else (
            urllib.parse.urlencode(data).encode() if data is not None else None)
        req = urllib.request.Request(self.base + path, data=payload, headers=headers or {})
        started = time.perf_counter()
        try:
            with self.opener.open(req, timeout=60) as response:
                status, head, text = response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as err:
            status, head, text = err.code, err.headers, err.read().decode()
        return status, head, text, time.perf_counter() - started

    def sign_in(self, username: str) -> int:
        page = self.request("/login")[2]
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        return self.request("/login", {"username": username, "password": PASSWORD, "csrf_token": csrf})[0]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _calls(served: str, cluster: Cluster, viewer: Browser) -> dict:
    """Make the same five kinds of request; return what each answered."""
    bearer = {"Authorization": f"Bearer {cluster.token}"}
    api = Browser(served).request(f"/api/v1/kpis?unit=ZJ-HZ&{RANGE}&kpi=visits", headers=bearer)
    page = viewer.request("/regions?unit=ZJ-HZ")
    callback = viewer.request("/_dash-update-component", body=json.dumps({
        "output": cluster.pages_key,
        "outputs": [{"id": "_pages_content", "property": "children"},
                    {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/regions"},
                   {"id": "_pages_location", "property": "search", "value": "?unit=ZJ-HZ"}],
        "changedPropIds": ["_pages_location.pathname"], "state": []}).encode(),
        headers={"Content-Type": "application/json"})
    newcomer = Browser(served)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', newcomer.request("/login")[2]).group(1)
    sign_in = newcomer.request("/login", {"username": "manager", "password": PASSWORD, "csrf_token": csrf})
    return {"api": api, "page": page, "callback": callback, "sign_in": sign_in}


def test_requests_get_503_while_the_server_is_down_and_recover_after(served, cluster):
    viewer = Browser(served)
    assert viewer.sign_in("viewer") == 302
    assert viewer.request("/")[0] == 200  # Dash sets up its callbacks on the first page
    dependencies = json.loads(viewer.request("/_dash-dependencies")[2])
    cluster.pages_key = next(d["output"] for d in dependencies if "_pages_content.children" in d["output"])
    healthy = _calls(served, cluster, viewer)
    assert {name: call[0] for name, call in healthy.items()} == {
        "api": 200, "page": 200, "callback": 200, "sign_in": 302}

    cluster.stop()
    try:
        down = _calls(served, cluster, viewer)
        for name, (status, head, text, took) in down.items():
            assert status == 503, (name, status, text[:300])
            assert took < BOUND, (name, took)
            assert head["Retry-After"] == "5", name
        assert json.loads(down["api"][2])["retry_after"] == 5
        assert json.loads(down["callback"][2])["retry_after"] == 5
        assert "请" in down["page"][2] and "try again" in down["page"][2]
        assert down["page"][1].get_content_type() == "text/html"
        time.sleep(2)  # a few seconds of outage
        assert _calls(served, cluster, viewer)["api"][0] == 503
    finally:
        cluster.start()

    # No restart of the app: the very next requests work again.
    back = _calls(served, cluster, viewer)
    assert {name: call[0] for name, call in back.items()} == {
        "api": 200, "page": 200, "callback": 200, "sign_in": 302}
    print({name: round(call[3], 2) for name, call in down.items()})
