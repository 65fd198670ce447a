"""Benchmark: seconds per PDF snapshot on the small demo (median of 5).

    .venv/bin/python -m bench.pdf_snapshot [--runs 5] [--pages /,/regions,...] [--keep DIR]

Seeds the small demo into a temporary SQLite store, serves the app on a local port (as the
`snapshot` command does) and renders each page's default view for the HQ administrator the given
number of times, end to end: token, sign-in, page load, every callback and chart, print. The first
render of a process also starts Chromium; it is reported apart and not in the median.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import create_app
from auth.accounts import create_user
from data.db import get_session, make_engine
from data.models import User
from export.cli import local_server
from export.render import Paper
from export.service import close_renderer, prepare, render
from jobs.demo import seed_demo
from jobs.schema import upgrade

END = dt.date(2026, 10, 31)
PAGES = ("/", "/carriers", "/cores", "/regions", "/stages", "/targets", "/risk")


def main() -> None:
    """Seed, render, print a Markdown table of seconds per PDF."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pages", default=",".join(PAGES))
    parser.add_argument("--keep", default="", help="Also write the PDFs into this directory.")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    url = f"sqlite:///{tmp / 'bench-pdf.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    seed_demo(engine, "small", 42, END)
    with Session(engine) as session:
        create_user(session, "bench", "admin", "HQ", "bench-password-2026")
        session.commit()
    engine.dispose()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-only-secret"})
    print("| page | first (s, starts Chromium) | median of the next runs (s) | runs | pages |\n"
          "|---|---|---|---|---|")
    all_runs: list[float] = []
    try:
        with local_server(app) as base, app.app_context():
            first_done = False
            for page in args.pages.split(","):
                times: list[float] = []
                first = None
                pdf_pages = 0
                for run in range(args.runs + (0 if first_done else 1)):
                    session = get_session()
                    user = session.scalar(select(User).where(User.username == "bench"))
                    started = time.perf_counter()
                    prepared = prepare(app, session, user, page + "?period=last30", Paper(), base, "bench")
                    session.commit()  # the renderer redeems the token over its own connection
                    data = render(app, session, user, prepared)
                    seconds = time.perf_counter() - started
                    pdf_pages = data.count(b"/Type /Page") - data.count(b"/Type /Pages")
                    if args.keep and run == 0:
                        Path(args.keep).mkdir(parents=True, exist_ok=True)
                        name = (page.strip("/") or "overview") + ".pdf"
                        (Path(args.keep) / name).write_bytes(data)
                    if not first_done:
                        first, first_done = seconds, True
                        continue
                    times.append(seconds)
                all_runs.extend(times)
                print(f"| {page} | {f'{first:.2f}' if first is not None else '-'} | "
                      f"{statistics.median(times):.2f} | {len(times)} | {pdf_pages} |", flush=True)
    finally:
        close_renderer(app)
        app.extensions["engine"].dispose()
    print(f"\nAll pages: median {statistics.median(all_runs):.2f} s per PDF over {len(all_runs)} renders.")


if __name__ == "__main__":
    main()
