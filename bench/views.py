"""Benchmark: what a manager waits for, page by page, on a seeded store (cold and warm cache).

    .venv/bin/python -m bench.views --url sqlite:////tmp/bench-province.sqlite3 [--reps 3]

For a manager at several units (province, city, county, outlet) and two periods (last 30 days, year
to date), every analytical page's layout function (what Dash's page callback runs, signed in,
inside a Flask request) is timed. Cold = the result cache emptied just before the render (the
database's own buffers stay warm); warm = the same render again. Prints a Markdown table of p50 and
p95 per page and overall. The accounts `bench-<unit>` (managers) are created in the store if missing.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import time

from flask_login import login_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import create_app
from auth.accounts import create_user
from data.db import get_session
from data.models import User
from metrics import cache as metrics_cache
from metrics.compute import facts_only

UNITS = ("ZJ", "ZJ-HZ", "ZJ-HZ-01", "ZJ-HZ-01-01")  # province, city, county, outlet
PERIODS = ("last30", "ytd")
PAGES = ("overview", "regions", "carriers", "cores", "stages", "targets", "risk")
BENCH_PASSWORD = "bench-password-2026"


def ensure_managers(engine) -> None:
    """Create a manager account per benchmarked unit where missing."""
    with Session(engine) as session:
        for code in UNITS:
            name = f"bench-{code}"
            if session.scalar(select(User).where(User.username == name)) is None:
                create_user(session, name, "manager", code, BENCH_PASSWORD)
        session.commit()


def pct(values: list[float], q: float) -> float:
    """Return the q-quantile (0..1) of `values`, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def render(app, module: str, username: str, query: dict[str, str], plain: bool = False) -> float:
    """Render one page for one user inside a request; return seconds. `plain`: from the facts,
    without roll-ups or cache (the un-optimised computation)."""
    page = importlib.import_module(f"pages.{module}")
    with app.test_request_context("/"):
        login_user(get_session().scalar(select(User).where(User.username == username)))
        started = time.perf_counter()
        if plain:
            with facts_only():
                page.layout(**query)
        else:
            page.layout(**query)
        return time.perf_counter() - started


def run(url: str, reps: int, pages=PAGES, units=UNITS, periods=PERIODS,
        warm_reps: int = 2, plain: bool = False) -> dict[str, dict[str, list[float]]]:
    """Time every (page, unit, period) view cold and warm; return samples by page."""
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True})
    ensure_managers(app.extensions["engine"])
    samples: dict[str, dict[str, list[float]]] = {p: {"cold": [], "warm": []} for p in pages}
    for _ in range(reps):
        for module in pages:
            for code in units:
                for period in periods:
                    query = {"unit": code, "period": period}
                    with app.app_context():
                        metrics_cache.clear()
                    user = f"bench-{code}"
                    samples[module]["cold"].append(render(app, module, user, query, plain))
                    for _w in range(warm_reps):
                        samples[module]["warm"].append(render(app, module, user, query, plain))
    app.extensions["engine"].dispose()
    return samples


def table(samples: dict[str, dict[str, list[float]]], label: str) -> str:
    """Format samples as Markdown rows (milliseconds)."""
    lines = []
    every: dict[str, list[float]] = {"cold": [], "warm": []}
    for module, s in samples.items():
        every["cold"] += s["cold"]
        every["warm"] += s["warm"]
        lines.append(_row(label, module, s))
    lines.append(_row(label, "**all views**", every))
    return "\n".join(lines)


def _row(label: str, module: str, s: dict[str, list[float]]) -> str:
    ms = lambda v: f"{1000 * v:,.0f}"  # noqa: E731
    return (f"| {label} | {module} | {len(s['cold'])} | {ms(statistics.median(s['cold']))} | "
            f"{ms(pct(s['cold'], 0.95))} | {ms(statistics.median(s['warm']))} | "
            f"{ms(pct(s['warm'], 0.95))} |")


HEADER = ("| store | page | views | cold p50 ms | cold p95 ms | warm p50 ms | warm p95 ms |\n"
          "|---|---|---|---|---|---|---|")


def main() -> None:
    """Time the views on each store URL given and print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", action="append", required=True,
                        help="store URL (repeat for several); label=URL to name it")
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--pages", default=",".join(PAGES))
    parser.add_argument("--plain", action="store_true",
                        help="the un-optimised computation: facts only, no cache (warm = cold)")
    args = parser.parse_args()
    print(HEADER)
    for spec in args.url:
        label, _, url = spec.partition("=") if "=" in spec.split("://")[0] else ("", "", spec)
        samples = run(url, args.reps, tuple(args.pages.split(",")), warm_reps=0 if args.plain
                      else 2, plain=args.plain)
        if args.plain:
            for s in samples.values():
                s["warm"] = s["cold"]
        print(table(samples, label or url.split("://")[0]), flush=True)


if __name__ == "__main__":
    main()
