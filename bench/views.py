"""Benchmark: what a manager waits for, page by page, on a seeded store (cold and warm cache).

    .venv/bin/python -m bench.views --url sqlite:////tmp/bench-province.sqlite3 [--reps 3]
        [--units HQ,ZJ,ZJ-HZ] [--by-unit] [--profile N] [--read-url REPLICA_URL]

For a manager at several units (default: province, city, county, outlet; `--units` chooses, `HQ`
is signed in as an admin at HQ) and two periods (last 30 days, year to date), every analytical
page's layout function (what Dash's page callback runs, signed in,
inside a Flask request) is timed. Cold = the result cache emptied just before the render (the
database's own buffers stay warm); warm = the same render again. Prints a Markdown table of p50 and
p95 per page and overall (`--by-unit`: per unit and page). The accounts `bench-<unit>` (managers;
an admin for HQ) are created in the store if missing. `--profile N` prints cProfile's N costliest
functions over all cold renders. `--handling` times the risk page's handling-times read alone
(`metrics.risk_handling.handling_times`), cold and warm, per unit and period.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import json
import pstats
import statistics
import time

import plotly.utils
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
TOP = "HQ"  # the root; its account is an admin's (the HQ landing page)
PERIODS = ("last30", "ytd")
PAGES = ("overview", "regions", "carriers", "cores", "stages", "targets", "risk", "live")
BENCH_PASSWORD = "bench-password-2026"


def ensure_managers(engine, units=UNITS) -> None:
    """Create a manager account per benchmarked unit where missing (an admin at HQ)."""
    with Session(engine) as session:
        for code in units:
            name = f"bench-{code}"
            if session.scalar(select(User).where(User.username == name)) is None:
                create_user(session, name, "admin" if code == TOP else "manager", code,
                            BENCH_PASSWORD)
        session.commit()


def pct(values: list[float], q: float) -> float:
    """Return the q-quantile (0..1) of `values`, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def render(app, module: str, username: str, query: dict[str, str], plain: bool = False,
           profiler=None, sizes: dict | None = None) -> float:
    """Render one page for one user inside a request; return seconds. `plain`: from the facts,
    without roll-ups or cache (the un-optimised computation). `sizes`: records the layout's
    JSON size (what the page callback sends the browser) under (module, unit)."""
    page = importlib.import_module(f"pages.{module}")
    with app.test_request_context("/"):
        login_user(get_session().scalar(select(User).where(User.username == username)))
        if profiler is not None:
            profiler.enable()
        started = time.perf_counter()
        if plain:
            with facts_only():
                out = page.layout(**query)
        else:
            out = page.layout(**query)
        took = time.perf_counter() - started
        if profiler is not None:
            profiler.disable()
        if sizes is not None:
            sizes[(module, query["unit"])] = len(json.dumps(out, cls=plotly.utils.PlotlyJSONEncoder))
        return took


def run(url: str, reps: int, pages=PAGES, units=UNITS, periods=PERIODS,
        warm_reps: int = 2, plain: bool = False, profiler=None,
        sizes: dict | None = None, read_url: str | None = None
        ) -> dict[tuple[str, str], dict[str, list[float]]]:
    """Time every (page, unit, period) view cold and warm; return samples by (page, unit).
    `read_url`: a streaming replica of `url` the pages read from (DATABASE_READ_URL)."""
    config = {"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True}
    if read_url:
        config["DATABASE_READ_URL"] = read_url
    app = create_app(config)
    ensure_managers(app.extensions["engine"], units)
    samples: dict[tuple[str, str], dict[str, list[float]]] = {
        (p, u): {"cold": [], "warm": []} for p in pages for u in units}
    for _ in range(reps):
        for module in pages:
            for code in units:
                for period in periods:
                    query = {"unit": code, "period": period}
                    with app.app_context():
                        metrics_cache.clear()
                    user = f"bench-{code}"
                    s = samples[(module, code)]
                    s["cold"].append(render(app, module, user, query, plain, profiler, sizes))
                    for _w in range(warm_reps):
                        s["warm"].append(render(app, module, user, query, plain))
    app.extensions["engine"].dispose()
    return samples


def run_handling(url: str, reps: int, units=(TOP,), periods=PERIODS
                 ) -> dict[tuple[str, str], dict[str, list[float]]]:
    """Time the handling-times read (`metrics.risk_handling.handling_times`, the risk page's
    panel and `/api/v1/risk-handling`) on its own, cold (result cache emptied) and warm, per unit
    and period, inside an app context as the page runs it; return samples by (read, unit)."""
    from metrics.risk_handling import handling_times
    from views.resolve import View, resolve_view

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True})
    ensure_managers(app.extensions["engine"], units)
    samples: dict[tuple[str, str], dict[str, list[float]]] = {
        ("handling_times", u): {"cold": [], "warm": []} for u in units}
    for _ in range(reps):
        for code in units:
            for period in periods:
                with app.test_request_context("/"):
                    session = get_session()
                    user = session.scalar(select(User).where(User.username == f"bench-{code}"))
                    login_user(user)
                    found = resolve_view(session, user, "/risk", {"unit": code, "period": period})
                    assert isinstance(found, View), found
                    metrics_cache.clear()
                    s = samples[("handling_times", code)]
                    for kind in ("cold", "warm", "warm"):
                        started = time.perf_counter()
                        handling_times(session, found.unit, found.state.start, found.state.end,
                                       found.scope)
                        s[kind].append(time.perf_counter() - started)
    app.extensions["engine"].dispose()
    return samples


def table(samples: dict[tuple[str, str], dict[str, list[float]]], label: str,
          by_unit: bool = False) -> str:
    """Format samples as Markdown rows (milliseconds): by page, or by unit and page."""
    groups: dict[str, dict[str, list[float]]] = {}
    for (module, code), s in samples.items():
        key = f"{code} | {module}" if by_unit else module
        g = groups.setdefault(key, {"cold": [], "warm": []})
        g["cold"] += s["cold"]
        g["warm"] += s["warm"]
    lines = [_row(label, key, s) for key, s in groups.items()]
    if by_unit:
        for code in dict.fromkeys(c for _, c in samples):
            lines.append(_row(label, f"{code} | **all pages**", _merge(
                s for (_, c), s in samples.items() if c == code)))
    lines.append(_row(label, ("| " if by_unit else "") + "**all views**",
                      _merge(samples.values())))
    return "\n".join(lines)


def _merge(parts) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"cold": [], "warm": []}
    for s in parts:
        out["cold"] += s["cold"]
        out["warm"] += s["warm"]
    return out


def _row(label: str, module: str, s: dict[str, list[float]]) -> str:
    ms = lambda v: f"{1000 * v:,.0f}"  # noqa: E731
    warm = s["warm"] or s["cold"]
    return (f"| {label} | {module} | {len(s['cold'])} | {ms(statistics.median(s['cold']))} | "
            f"{ms(pct(s['cold'], 0.95))} | {ms(statistics.median(warm))} | "
            f"{ms(pct(warm, 0.95))} |")


HEADER = ("| store | page | views | cold p50 ms | cold p95 ms | warm p50 ms | warm p95 ms |\n"
          "|---|---|---|---|---|---|---|")
HEADER_BY_UNIT = ("| store | unit | page | views | cold p50 ms | cold p95 ms | warm p50 ms | "
                  "warm p95 ms |\n|---|---|---|---|---|---|---|---|")


def main() -> None:
    """Time the views on each store URL given and print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", action="append", required=True,
                        help="store URL (repeat for several); label=URL to name it")
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--pages", default=",".join(PAGES))
    parser.add_argument("--units", default=",".join(UNITS),
                        help="unit codes to sign in at (HQ: as an admin), comma-separated")
    parser.add_argument("--by-unit", action="store_true", help="a row per unit and page")
    parser.add_argument("--sizes", action="store_true",
                        help="also print each page's layout size (JSON bytes) per unit")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="print cProfile's N costliest functions (cumulative) of cold renders")
    parser.add_argument("--read-url", default=None,
                        help="a streaming replica of the store: pages read from it "
                             "(DATABASE_READ_URL), writes and sign-in go to --url")
    parser.add_argument("--plain", action="store_true",
                        help="the un-optimised computation: facts only, no cache (warm = cold)")
    parser.add_argument("--handling", action="store_true",
                        help="time the handling-times read alone (cold, warm) instead of pages")
    args = parser.parse_args()
    units = tuple(args.units.split(","))
    if args.handling:
        print(HEADER_BY_UNIT)
        for spec in args.url:
            label, _, url = spec.partition("=") if "=" in spec.split("://")[0] else ("", "", spec)
            print(table(run_handling(url, args.reps, units), label or url.split("://")[0], True),
                  flush=True)
        return
    profiler = cProfile.Profile() if args.profile else None
    sizes: dict | None = {} if args.sizes else None
    print(HEADER_BY_UNIT if args.by_unit else HEADER)
    for spec in args.url:
        label, _, url = spec.partition("=") if "=" in spec.split("://")[0] else ("", "", spec)
        samples = run(url, args.reps, tuple(args.pages.split(",")), units,
                      warm_reps=0 if args.plain else 2, plain=args.plain, profiler=profiler,
                      sizes=sizes, read_url=args.read_url)
        print(table(samples, label or url.split("://")[0], args.by_unit), flush=True)
    if sizes:
        print("\n| page | unit | layout JSON kB |\n|---|---|---|")
        for (module, code), size in sizes.items():
            print(f"| {module} | {code} | {size / 1000:,.1f} |")
    if profiler is not None:
        print()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.profile)


if __name__ == "__main__":
    main()
