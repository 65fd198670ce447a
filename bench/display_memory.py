"""Benchmark: does a wall display's page memory stay flat over hours of refreshes?

    .venv/bin/python -m bench.display_memory [--minutes 20] [--refresh 10] [--dwell 5]
        [--scale tiny]

Seeds the demo into a temporary SQLite file, serves the app in this process, and opens
`/display` in headless Chromium (with `--js-flags=--expose-gc`) on a three-view playlist that
refreshes every `--refresh` seconds and changes view every `--dwell` seconds (both far more often
than a real wall, to pack hours of a real display into minutes). Once a minute it forces a garbage
collection in the page and records the JavaScript heap and the number of DOM nodes. Prints the
samples and the growth from the first full minute to the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import tempfile
import threading
import time
import uuid
from pathlib import Path

from playwright.sync_api import sync_playwright
from sqlalchemy import update
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from app import create_app
from bench.display_load import PASSWORD, VIEWS, prepare
from data.db import make_engine
from data.models import Playlist


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=20)
    parser.add_argument("--refresh", type=int, default=10)
    parser.add_argument("--dwell", type=int, default=5)
    parser.add_argument("--scale", default="tiny")
    args = parser.parse_args()
    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench-memory.sqlite3'}"
    playlist_id = prepare(url, args.scale)
    engine = make_engine(url)
    with Session(engine) as session:  # faster than the editor allows, on purpose
        session.execute(update(Playlist).values(refresh_seconds=args.refresh))
        session.commit()
        for item in session.get(Playlist, playlist_id).items:  # type: ignore[union-attr]
            item.dwell_seconds = args.dwell
        session.commit()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": uuid.uuid4().hex})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    samples = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--js-flags=--expose-gc"])
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.goto(f"{base}/display?playlist={playlist_id}")
        page.fill("#username", "bench-display")
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_selector("#display-body .js-plotly-plot")
        started = time.monotonic()
        while (elapsed := time.monotonic() - started) < args.minutes * 60 + 1:
            page.evaluate("window.gc()")
            heap, nodes, updated = page.evaluate(
                "[performance.memory.usedJSHeapSize, document.getElementsByTagName('*').length,"
                " document.getElementById('display-updated').innerText]")
            samples.append((elapsed / 60, heap / 2**20, nodes, updated))
            print(f"{elapsed / 60:5.1f} min  heap {heap / 2**20:6.1f} MB  nodes {nodes:5d}  {updated}",
                  flush=True)
            page.wait_for_timeout(60_000)
        browser.close()
    server.shutdown()
    refreshes = int(args.minutes * 60 / args.refresh)
    views = int(args.minutes * 60 / args.dwell)
    first = samples[1] if len(samples) > 2 else samples[0]
    last = samples[-1]
    print(f"\n{args.minutes:g} min, about {refreshes} refreshes and {views} view changes "
          f"({len(VIEWS)} views): heap {first[1]:.1f} MB at {first[0]:.0f} min -> {last[1]:.1f} MB "
          f"at {last[0]:.0f} min ({(last[1] / first[1] - 1) * 100:+.0f}%), "
          f"max {max(s[1] for s in samples):.1f} MB; DOM nodes {first[2]} -> {last[2]}. "
          f"Run on {dt.date.today()}.")


if __name__ == "__main__":
    main()
