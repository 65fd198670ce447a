"""Benchmark: wall displays and managers together against gunicorn, on an existing store.

    .venv/bin/python -m bench.load --url sqlite:////tmp/bench-province.sqlite3 \\
        [--displays 50] [--every 30] [--managers 10] [--think 3] [--seconds 180] \\
        [--workers 4] [--threads 4] [--redis redis://127.0.0.1:6379/0]

Serves the store with gunicorn on a free local port (with `--redis`, the result cache is shared by
the workers in Redis under its own key prefix, else each worker has its own). Then, for
`--seconds`:

- each of `--displays` wall displays (account `bench-display`, a playlist of the overview and the
  regions of the province) asks for its refresh callback every `--every` seconds, as
  `/display?playlist=ID` does;
- each of `--managers` managers (accounts `bench-<unit>` at the province, a city, a county and an
  outlet, as `bench.views` makes them) opens a page every `--think` seconds on average (random
  page, own unit or a child, last 30 days or year to date), through Dash's page callback.

Every request is a real `/_dash-update-component` POST of a signed-in browser session. Prints a
Markdown row per kind of request: count, errors (and how many were sent again, as a browser does,
because gunicorn closed the idle keep-alive connection as it was reused), p50, p95 and max.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from auth.accounts import create_user
from bench.display_load import free_port, percentile
from bench.views import BENCH_PASSWORD, UNITS, ensure_managers
from data.db import make_engine
from data.models import OrgUnit, User
from display import playlists

ROOT = Path(__file__).resolve().parent.parent
RESENT: Counter[str] = Counter()  # requests sent again after a closed keep-alive connection
PAGES = ("/", "/regions", "/carriers", "/cores", "/stages", "/targets")
DISPLAY_VIEWS = [{"url": "/?unit=ZJ&period=last30", "dwell_seconds": 30},
                 {"url": "/regions?unit=ZJ&period=last30", "dwell_seconds": 30}]


def prepare(url: str) -> int:
    """Add the display account, the managers and the playlist where missing; the playlist id."""
    engine = make_engine(url)
    ensure_managers(engine)
    with Session(engine) as session:
        for name, role, unit in (("bench-admin", "admin", "HQ"), ("bench-display", "display", "ZJ")):
            if session.scalar(select(User).where(User.username == name)) is None:
                create_user(session, name, role, unit, BENCH_PASSWORD)
        session.commit()
        admin = session.scalar(select(User).where(User.username == "bench-admin"))
        found = [p for p in playlists.playlists(session) if p.name == "bench-speed"]
        playlist_id = found[0].id if found else playlists.save(
            session, admin, None, "bench-speed", 30, DISPLAY_VIEWS).id
        session.commit()
    engine.dispose()
    return playlist_id


def children_of(url: str) -> dict[str, list[str]]:
    """Each benchmarked unit's children (where a manager may drill)."""
    engine = make_engine(url)
    with Session(engine) as session:
        out = {}
        for code in UNITS:
            unit = session.scalar(select(OrgUnit).where(OrgUnit.code == code))
            out[code] = list(session.scalars(select(OrgUnit.code).where(
                OrgUnit.parent_id == unit.id)))  # type: ignore[union-attr]
    engine.dispose()
    return out


# People sign in one at a time; the sign-in throttle counts an attempt before its password is
# checked, so dozens of simultaneous sign-ins of one account from one address would lock it.
_SIGN_IN = threading.Lock()


def sign_in(base: str, username: str) -> requests.Session:
    with _SIGN_IN:
        return _sign_in(base, username)


def _sign_in(base: str, username: str) -> requests.Session:
    session = requests.Session()
    page = session.get(base + "/login", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    response = session.post(base + "/login", timeout=30, allow_redirects=False, data={
        "username": username, "password": BENCH_PASSWORD, "csrf_token": token, "remember": "1"})
    if response.status_code != 302:
        raise RuntimeError(f"sign-in of {username} failed: {response.status_code}")
    return session


def callback_request(session: requests.Session, base: str, output_part: str,
                     changed: str) -> dict:
    """The body of the callback whose output names `output_part`, without values."""
    deps = session.get(base + "/_dash-dependencies", timeout=30).json()
    spec = next(d for d in deps if output_part in d["output"])
    outputs = [dict(zip(("id", "property"), o.split("."), strict=True))
               for o in spec["output"].strip(".").split("...")]
    return {"output": spec["output"], "outputs": outputs, "inputs": spec["inputs"],
            "state": spec["state"], "changedPropIds": [changed]}


def post(session, base, template, values, expect, results, errors, kind) -> float:
    body = json.loads(json.dumps(template))
    for item in body["inputs"] + body["state"]:
        item["value"] = values.get((item["id"], item["property"]), values.get(item["id"]))
    started = time.perf_counter()
    try:
        try:
            response = session.post(base + "/_dash-update-component", json=body, timeout=120)
        except requests.ConnectionError as exc:
            # gunicorn closes a keep-alive connection idle for 2 s; if it does so just as the
            # client reuses it (closed or reset before any response), browsers send it again.
            if not any(cause in repr(exc) for cause in ("RemoteDisconnected", "ConnectionReset")):
                raise
            RESENT[kind] += 1
            response = session.post(base + "/_dash-update-component", json=body, timeout=120)
        elapsed = time.perf_counter() - started
        if response.status_code == 200 and expect in response.text:
            results[kind].append(elapsed)
        else:
            errors[kind].append(f"HTTP {response.status_code}")
    except requests.RequestException as exc:
        elapsed = time.perf_counter() - started
        errors[kind].append(f"{type(exc).__name__}: {str(exc)[:160]}")
    return elapsed


def display(base, template, playlist_id, every, until, results, errors) -> None:
    try:
        session = sign_in(base, "bench-display")
    except Exception as exc:  # noqa: BLE001 - counted, never stops the run
        errors["display refresh"].append(f"sign-in: {exc}")
        return
    time.sleep(random.uniform(0, every))
    n = 0
    while time.monotonic() < until:
        values = {"display-slide": n % len(DISPLAY_VIEWS), "display-refresh": n,
                  "display-playlist": playlist_id, "display-lang": "zh"}
        elapsed = post(session, base, template, values, "display-body", results, errors,
                       "display refresh")
        n += 1
        time.sleep(max(0.0, every - elapsed))


def manager(base, template, home, kids, think, until, results, errors) -> None:
    try:
        session = sign_in(base, f"bench-{home}")
    except Exception as exc:  # noqa: BLE001
        errors["manager page"].append(f"sign-in: {exc}")
        return
    time.sleep(random.uniform(0, think))
    while time.monotonic() < until:
        unit = random.choice([home, home, *kids])
        query = f"?unit={unit}&period={random.choice(['last30', 'ytd'])}"
        values = {("_pages_location", "pathname"): random.choice(PAGES),
                  ("_pages_location", "search"): query}
        post(session, base, template, values, "_pages_content", results, errors, "manager page")
        time.sleep(random.expovariate(1 / think))


def serve(url: str, workers: int, threads: int, redis: str | None,
          prefix: str) -> tuple[subprocess.Popen, str, dict]:
    """Start gunicorn over `url` on a free local port and wait until it answers; return the
    process, its base URL and the environment it runs with."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": uuid.uuid4().hex,
           "CACHE_KEY_PREFIX": f"{prefix}-{uuid.uuid4().hex[:6]}:"}
    env.pop("REDIS_URL", None)
    if redis:
        env["REDIS_URL"] = redis
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-w", str(workers), "--threads",
         str(threads), "-b", f"127.0.0.1:{port}", "--timeout", "300", "--log-level",
         "warning", "app:create_app()"], cwd=ROOT, env=env)
    for _ in range(240):
        try:
            if requests.get(base + "/healthz", timeout=2).ok:
                break
        except requests.RequestException:
            time.sleep(0.5)
    return server, base, env


def people(base: str, url: str, playlist_id: int, displays: int, every: float, managers: int,
           think: float, until: float, results: dict, errors: dict) -> list[threading.Thread]:
    """The threads of `displays` wall displays and `managers` managers, until `until` (not started)."""
    kids = children_of(url)
    display_tpl = callback_request(sign_in(base, "bench-display"), base, "display-body.children",
                                   "display-refresh.n_intervals")
    page_tpl = callback_request(sign_in(base, "bench-ZJ"), base, "_pages_content.children",
                                "_pages_location.search")
    threads = [threading.Thread(target=display, args=(base, display_tpl, playlist_id, every, until,
                                                      results, errors))
               for _ in range(displays)]
    homes = [UNITS[i % len(UNITS)] for i in range(managers)]
    threads += [threading.Thread(target=manager, args=(base, page_tpl, home, kids[home], think,
                                                       until, results, errors))
                for home in homes]
    return threads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--label", default="")
    parser.add_argument("--displays", type=int, default=50)
    parser.add_argument("--every", type=float, default=30)
    parser.add_argument("--managers", type=int, default=10)
    parser.add_argument("--think", type=float, default=3)
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--redis", default=None)
    args = parser.parse_args()

    playlist_id = prepare(args.url)
    server, base, _env = serve(args.url, args.workers, args.threads, args.redis, "bench-speed")
    results: dict[str, list[float]] = {"display refresh": [], "manager page": []}
    errors: dict[str, list[str]] = {"display refresh": [], "manager page": []}
    try:
        threads = people(base, args.url, playlist_id, args.displays, args.every, args.managers,
                         args.think, time.monotonic() + args.seconds, results, errors)
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        server.terminate()
        server.wait(timeout=60)

    label = args.label
    cache = "Redis" if args.redis else "in-process"
    for kind in results:
        ok, bad = results[kind], errors[kind]
        total = len(ok) + len(bad)
        if not ok:
            print(f"| {label or args.url} | {kind} | {total} | {len(bad)} | - | - | - |")
            continue
        print(f"| {label or args.url.split('://')[0]} ({args.workers}x{args.threads}, {cache} cache) "
              f"| {kind} | {total} | "
              f"{len(bad)} ({100 * len(bad) / total:.1f} %), {RESENT[kind]} resent | "
              f"{1000 * statistics.median(ok):,.0f} | "
              f"{1000 * percentile(ok, 95):,.0f} | {1000 * max(ok):,.0f} |")
        if bad:
            print(f"errors ({kind}): {sorted(set(bad))}", file=sys.stderr)


if __name__ == "__main__":
    main()
