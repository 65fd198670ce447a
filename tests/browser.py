"""Headless Chromium for browser tests: a live server in a thread and a playwright page."""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

from export.cli import local_server as live_server  # noqa: F401  (the app on a free local port)
from export.render import CHROMIUM_ARGS

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


@contextmanager
def browser_page(width: int = 1440, height: int = 900):
    """Yield a playwright page in headless Chromium and the list of console errors it logs."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        errors: list[str] = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            yield page, errors
        finally:
            browser.close()
