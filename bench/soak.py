"""Soak: wall displays and managers against gunicorn for a long time, with an import every few minutes.

    .venv/bin/python -m bench.soak --url postgresql+psycopg://postgres@127.0.0.1:5432/soak \\
        [--minutes 30] [--import-every 300] [--displays 50] [--every 30] [--managers 10] \\
        [--workers 4] [--threads 4] [--redis redis://127.0.0.1:6379/0] [--demo-walls [--wall-extra /live]]

The load is `bench.load`'s (display refreshes and managers' page callbacks, real signed-in
`/_dash-update-component` requests). On top of it, every `--import-every` seconds an operator's
import runs as cron would run it: `flask --app app import-data` in its own process, with a
channel-daily extract of every outlet for the store's last loaded day (the stored values, visits
nudged so each import really changes data, roll-ups, cache and risk scan included;
`--import-every 0`: none). With `--demo-walls` the displays show the demo's province and city walls
as the browser does (`bench.load.wall`). Once a minute the resident memory of gunicorn's workers
and the machine's load average are sampled.

Prints, per kind of request, the count, errors, p50, p95 and max (with `--demo-walls` also per view
and page), each import's seconds and exit status, and the workers' memory and the load average
minute by minute.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench.display_load import percentile
from bench.load import RESENT, demo_walls, people, prepare, print_detail, serve
from data.db import make_engine
from data.models import Carrier, ChannelDaily, OrgUnit

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = ("visits", "transactions", "minutes_scheduled", "minutes_available", "registrations",
           "applications_total", "applications_online", "applications_completed",
           "completion_days_sum", "payments_total", "payments_online", "payment_amount_total",
           "payment_amount_online")


def write_extract(url: str, path: Path) -> int:
    """Write the last loaded day's channel rows of every outlet, visits nudged; return the rows."""
    engine = make_engine(url)
    with Session(engine) as session:
        day = session.scalar(select(func.max(ChannelDaily.day)))
        rows = session.execute(
            select(OrgUnit.code, Carrier.code, *[getattr(ChannelDaily, c) for c in COLUMNS])
            .join(OrgUnit, OrgUnit.id == ChannelDaily.unit_id)
            .join(Carrier, Carrier.id == ChannelDaily.carrier_id)
            .where(ChannelDaily.day == day)).all()
    engine.dispose()
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(("unit", "day", "carrier", *COLUMNS))
        for unit, carrier, *values in rows:
            values[0] = int(values[0]) + 1  # visits: a real change each round
            out.writerow((unit, day.isoformat(), carrier, *values))  # type: ignore[union-attr]
    return len(rows)


def importer(url: str, env: dict, every: float, until: float, imports: list) -> None:
    """Run an import every `every` seconds until `until`, as a cron job would."""
    folder = Path(tempfile.mkdtemp(prefix="soak-"))
    n = 0
    while time.monotonic() + 30 < until:
        time.sleep(min(every, max(0.0, until - time.monotonic() - 30)))
        if time.monotonic() + 30 >= until:
            break
        n += 1
        path = folder / f"channel-{n}.csv"
        rows = write_extract(url, path)
        started = time.monotonic()
        done = subprocess.run([str(Path(sys.executable).parent / "flask"), "--app", "app",
                               "import-data", str(path), "--kind", "channel_daily"],
                              cwd=ROOT, env=env, capture_output=True, text=True)
        imports.append((rows, time.monotonic() - started, done.returncode,
                        (done.stderr or done.stdout).strip().splitlines()[-1:]))


def worker_rss_mb(master: int) -> list[float]:
    """Resident memory (MB) of each child process of gunicorn's master."""
    out = []
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return out
    for pid in children:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    out.append(int(line.split()[1]) / 1024)
        except OSError:
            continue
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--import-every", type=float, default=300)
    parser.add_argument("--displays", type=int, default=50)
    parser.add_argument("--every", type=float, default=30)
    parser.add_argument("--managers", type=int, default=10)
    parser.add_argument("--think", type=float, default=3)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--redis", default=None)
    parser.add_argument("--demo-walls", action="store_true",
                        help="the displays show the demo's province and city walls")
    parser.add_argument("--wall-extra", action="append", default=[], metavar="PATH",
                        help="with --demo-walls: add this page of the wall's unit to each wall")
    args = parser.parse_args()

    playlist_id = prepare(args.url)
    walls = (demo_walls(args.url, int(args.every), tuple(args.wall_extra)) if args.demo_walls
             else None)
    server, base, env = serve(args.url, args.workers, args.threads, args.redis, "bench-soak")
    results: dict[str, list[float]] = {"display refresh": [], "manager page": []}
    errors: dict[str, list[str]] = {"display refresh": [], "manager page": []}
    detail: dict[str, list[float]] = defaultdict(list)
    imports: list = []
    memory: list[tuple[float, list[float], float]] = []  # (minute, workers' RSS, load average)
    try:
        started = time.monotonic()
        until = started + args.minutes * 60
        threads = people(base, args.url, playlist_id, args.displays, args.every, args.managers,
                         args.think, until, results, errors, walls, detail)
        if args.import_every > 0:
            threads.append(threading.Thread(target=importer, args=(
                args.url, env, args.import_every, until, imports)))
        for t in threads:
            t.start()

        def sample() -> None:
            memory.append(((time.monotonic() - started) / 60, worker_rss_mb(server.pid),
                           os.getloadavg()[0]))

        while time.monotonic() < until:
            sample()
            time.sleep(min(60.0, max(0.0, until - time.monotonic())))
        sample()
        for t in threads:
            t.join()
    finally:
        server.terminate()
        server.wait(timeout=60)

    cache = "Redis" if args.redis else "in-process"
    print(f"| kind ({args.workers}x{args.threads}, {cache} cache, {args.minutes:g} min) | requests | "
          "errors | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|---|---|")
    for kind in results:
        ok, bad = results[kind], errors[kind]
        total = len(ok) + len(bad)
        if not ok:
            print(f"| {kind} | {total} | {len(bad)} | - | - | - |")
            continue
        print(f"| {kind} | {total} | {len(bad)}, {RESENT[kind]} resent | "
              f"{1000 * statistics.median(ok):,.0f} | {1000 * percentile(ok, 95):,.0f} | "
              f"{1000 * max(ok):,.0f} |")
        if bad:
            print(f"errors ({kind}): {sorted(set(bad))}", file=sys.stderr)
    print_detail(detail)
    if imports:
        print()
        print("| import | rows | seconds | exit | last line |")
        print("|---|---|---|---|---|")
        for i, (rows, seconds, code, last) in enumerate(imports, 1):
            print(f"| {i} | {rows} | {seconds:.1f} | {code} | {' '.join(last)[:100]} |")
    print()
    print("| minute | workers' RSS, MB (sum) | each worker, MB | load average (1 min) |")
    print("|---|---|---|---|")
    for minute, rss, load in memory:
        print(f"| {minute:.0f} | {sum(rss):.0f} | {' / '.join(f'{m:.0f}' for m in rss)} "
              f"| {load:.2f} |")


if __name__ == "__main__":
    main()
