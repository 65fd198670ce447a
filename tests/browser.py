"""Headless Chromium for browser tests: a live server in a thread and a playwright page."""

from __future__ import annotations

import os
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from export.cli import local_server as live_server  # noqa: F401  (the app on a free local port)
from export.render import CHROMIUM_ARGS
from tests.conftest import PASSWORD

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def chromium_path() -> str:
    """Return the Chromium to drive, or skip (fail under REQUIRE_BROWSER=1) when there is none."""
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which(
        "chromium-browser")
    if not path:
        message = "browser tests need Chromium (apt-get install -y chromium; `make test` does it)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


class StoppableServer:
    """A live server that can be stopped and started again on the same port (a server outage)."""

    def __init__(self, flask_app) -> None:
        self.app = flask_app
        self.port = 0
        self._server = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        """Serve (again, on the same port once one was chosen); return the base URL."""
        self._server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop serving and close the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = None


@contextmanager
def browser_page(width: int = 1440, height: int = 900, scale: float = 1):
    """Yield a playwright page in headless Chromium and the list of console errors it logs."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": height},
                                device_scale_factor=scale)
        errors: list[str] = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            yield page, errors
        finally:
            browser.close()


def choose(page, select: str, option: str, attempts: int = 3) -> None:
    """Open the select `select` and pick `option`, as a person would: if a callback re-renders the
    select while its list is open (the list closes), open it again and pick again."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(attempts):
        page.wait_for_function("() => !document.querySelector('[data-dash-is-loading]')")
        page.click(select)
        try:
            page.get_by_role("option", name=option).click(timeout=5000)
            return
        except PlaywrightTimeout:
            if attempt == attempts - 1:
                raise


def sign_in(page, base: str, username: str) -> None:
    """Sign in through the form as `username` (the demo password) and wait for the home page."""
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(base + "/")
