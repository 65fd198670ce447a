"""Benchmark: many wall displays refreshing against gunicorn.

    .venv/bin/python -m bench.display_load [--displays 50] [--every 30] [--seconds 180]
        [--workers 4] [--threads 4] [--scale small] [--pg URL]

Seeds the demo (`--scale`, default small) into a temporary SQLite file, or a throw-away
PostgreSQL schema with `--pg`, adds a three-view playlist and a display account, and serves the
app with gunicorn (`--workers` x `--threads`) on a free local port. Each simulated display signs in
through the login form like a browser, then asks for its refresh callback (the same
`/_dash-update-component` request the page makes) every `--every` seconds, starting at a random
offset and moving to the next view each time, for `--seconds`. Prints requests, errors and
latency percentiles of the refreshes, and the workers' memory at the start and the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests
from sqlalchemy import create_engine, make_url, select, text
from sqlalchemy.orm import Session

from auth.accounts import create_user
from data.db import make_engine
from data.models import User
from display import playlists
from jobs.demo import seed_demo
from jobs.schema import upgrade

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench wall lantern 2026"  # passes the password policy (auth/password_policy.py)
VIEWS = [{"url": "/?unit=ZJ&period=last30", "dwell_seconds": 30},
         {"url": "/regions?unit=ZJ&period=last30", "dwell_seconds": 30},
         {"url": "/risk?unit=ZJ&period=last30", "dwell_seconds": 30}]


def prepare(url: str, scale: str) -> int:
    """Seed the store and add the playlist and the display account; return the playlist id."""
    engine = make_engine(url)
    upgrade(engine)
    seed_demo(engine, scale, 42, dt.date.today() - dt.timedelta(days=1))
    with Session(engine) as session:
        create_user(session, "bench-admin", "admin", "HQ", PASSWORD)
        create_user(session, "bench-display", "display", "ZJ", PASSWORD)
        session.commit()
        admin = session.scalar(select(User).where(User.username == "bench-admin"))
        playlist_id = playlists.save(session, admin, None, "bench", 30, VIEWS).id
    engine.dispose()
    return playlist_id


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sign_in(base: str) -> requests.Session:
    session = requests.Session()
    page = session.get(base + "/login", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    response = session.post(base + "/login", timeout=30, allow_redirects=False, data={
        "username": "bench-display", "password": PASSWORD, "csrf_token": token, "remember": "1"})
    if response.status_code != 302:
        raise RuntimeError(f"sign-in failed: {response.status_code}")
    return session


def display(base: str, template: dict, playlist_id: int, every: float, until: float,
            results: list, errors: list) -> None:
    """One wall display: refresh every `every` seconds until `until`, moving through the views."""
    try:
        session = sign_in(base)
    except Exception as exc:  # noqa: BLE001 - every failure is counted, none stops the run
        errors.append(f"sign-in: {exc}")
        return
    time.sleep(random.uniform(0, every))
    n = 0
    while time.monotonic() < until:
        body = json.loads(json.dumps(template))
        values = {"display-slide": n % len(VIEWS), "display-refresh": n,
                  "display-playlist": playlist_id, "display-lang": "zh"}
        for item in body["inputs"] + body["state"]:
            item["value"] = values.get(item["id"])
        started = time.perf_counter()
        try:
            response = session.post(base + "/_dash-update-component", json=body, timeout=60)
            elapsed = time.perf_counter() - started
            if response.status_code == 200 and "display-body" in response.text:
                results.append(elapsed)
            else:
                errors.append(f"HTTP {response.status_code}")
        except requests.RequestException as exc:
            errors.append(type(exc).__name__)
        n += 1
        time.sleep(max(0.0, every - (time.perf_counter() - started)))


def worker_rss(master_pid: int) -> list[int]:
    """Resident memory (MB) of gunicorn's workers."""
    out = subprocess.run(["ps", "--ppid", str(master_pid), "-o", "rss="], capture_output=True,
                         text=True, check=False).stdout.split()
    return [int(kb) // 1024 for kb in out]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--displays", type=int, default=50)
    parser.add_argument("--every", type=float, default=30)
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--scale", default="small")
    parser.add_argument("--pg", help="PostgreSQL URL; a throw-away schema is used")
    args = parser.parse_args()

    schema = None
    if args.pg:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        url = make_url(args.pg).update_query_dict(
            {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench-display.sqlite3'}"
    started = time.perf_counter()
    playlist_id = prepare(url, args.scale)
    print(f"seeded {args.scale} in {time.perf_counter() - started:.0f} s", file=sys.stderr)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": uuid.uuid4().hex}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-w", str(args.workers), "--threads",
         str(args.threads), "-b", f"127.0.0.1:{port}", "--log-level", "warning", "app:create_app()"],
        cwd=ROOT, env=env)
    try:
        for _ in range(120):
            try:
                if requests.get(base + "/healthz", timeout=2).ok:
                    break
            except requests.RequestException:
                time.sleep(0.5)
        probe = sign_in(base)
        template = json.loads(json.dumps(refresh_request_with(probe, base)))
        rss_start = worker_rss(server.pid)
        results: list[float] = []
        errors: list[str] = []
        until = time.monotonic() + args.seconds
        threads = [threading.Thread(target=display, args=(base, template, playlist_id, args.every,
                                                          until, results, errors))
                   for _ in range(args.displays)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        rss_end = worker_rss(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
        if schema:
            with admin.connect() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))

    total = len(results) + len(errors)
    print("| displays | every | seconds | workers x threads | store | refreshes | errors | p50 | p95 "
          "| max | worker RSS start -> end (MB) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print(f"| {args.displays} | {args.every:g} s | {args.seconds:g} | {args.workers} x {args.threads} "
          f"| {'PostgreSQL' if args.pg else 'SQLite'} ({args.scale}) | {total} | {len(errors)} "
          f"| {statistics.median(results) * 1000:.0f} ms | {percentile(results, 95) * 1000:.0f} ms "
          f"| {max(results) * 1000:.0f} ms | {sum(rss_start)} -> {sum(rss_end)} |")
    if errors:
        print("errors:", sorted(set(errors)), file=sys.stderr)


def refresh_request_with(session: requests.Session, base: str) -> dict:
    """Like `refresh_request`, asked with a signed-in session (the guard covers every route)."""
    deps = session.get(base + "/_dash-dependencies", timeout=30).json()
    spec = next(d for d in deps if "display-body.children" in d["output"])
    outputs = [dict(zip(("id", "property"), o.split("."), strict=True))
               for o in spec["output"].strip(".").split("...")]
    return {"output": spec["output"], "outputs": outputs, "inputs": spec["inputs"],
            "state": spec["state"], "changedPropIds": ["display-refresh.n_intervals"]}


if __name__ == "__main__":
    main()
