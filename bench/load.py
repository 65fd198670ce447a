"""Benchmark: wall displays and managers together against gunicorn, on an existing store.

    .venv/bin/python -m bench.load --url sqlite:////tmp/bench-province.sqlite3 \\
        [--displays 50] [--every 30] [--managers 10] [--think 3] [--seconds 180] \\
        [--workers 4] [--threads 4] [--redis redis://127.0.0.1:6379/0]

Serves the store with gunicorn on a free local port (with `--redis`, the result cache is shared by
the workers in Redis under its own key prefix, else each worker has its own). Then, for
`--seconds`:

- each of `--displays` wall displays (account `bench-display`, a playlist of the overview and the
  regions of the province) asks for its refresh callback every `--every` seconds, as
  `/display?playlist=ID` does; with `--demo-walls` the displays show the demo's playlists instead
  (jobs/demo_walls.py: the province wall and the city wall, half the displays each, their refresh
  set to `--every`) and ask as the browser does (assets/display.js): at every refresh tick and at
  every change of view after its dwell time (the pages of long rankings turn in the browser);
- each of `--managers` managers (accounts `bench-<unit>` at the province, a city, a county and an
  outlet, as `bench.views` makes them) opens a page every `--think` seconds on average (random
  page, own unit or a child, last 30 days or year to date), through Dash's page callback.

Every request is a real `/_dash-update-component` POST of a signed-in browser session. Prints a
Markdown row per kind of request: count, errors (and how many were sent again, as a browser does,
because gunicorn closed the idle keep-alive connection as it was reused), p50, p95 and max; with
`--demo-walls` also per view (`wall PATH UNIT`) and per manager page.
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
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from auth.accounts import create_user
from bench.display_load import free_port, percentile
from bench.views import BENCH_PASSWORD, UNITS, ensure_managers
from data.db import make_engine
from data.models import OrgUnit, User
from display import playlists
from display.wall import WALLS
from jobs.demo_walls import DEMO_PLAYLISTS, ensure_demo_playlists

ROOT = Path(__file__).resolve().parent.parent
RESENT: Counter[str] = Counter()  # requests sent again after a closed keep-alive connection
PAGES = ("/", "/regions", "/carriers", "/cores", "/stages", "/targets")
DISPLAY_VIEWS = [{"url": "/?unit=ZJ&period=last30", "dwell_seconds": 30},
                 {"url": "/regions?unit=ZJ&period=last30", "dwell_seconds": 30}]


@dataclass(frozen=True)
class Wall:
    """A playlist as a display shows it: its id, its views' labels and dwell seconds."""

    playlist_id: int
    labels: tuple[str, ...]
    dwell: tuple[int, ...]


def view_label(url: str) -> str:
    """`/regions?unit=ZJ&period=last30&kpi=satisfaction` -> `wall /regions ZJ kpi=satisfaction`."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    rest = " ".join(f"{k}={v}" for k, v in query.items() if k not in ("unit", "period"))
    return " ".join(filter(None, ("wall", parts.path, query.get("unit", ""), rest)))


def demo_walls(url: str, every: int, extra: tuple[str, ...] = ()) -> list[Wall]:
    """The demo's wall playlists as jobs/demo_walls.py makes them, their refresh set to `every`
    seconds and each `extra` page path (a view of the wall's unit, 30 s) added at the end;
    `prepare` first (the playlists are saved as bench-admin)."""
    engine = make_engine(url)
    with Session(engine) as session:
        ensure_demo_playlists(session)
        admin = session.scalar(select(User).where(User.username == "bench-admin"))
        stored = {p.name: p.id for p in playlists.playlists(session)}
        out = []
        for name, _refresh, views in DEMO_PLAYLISTS:
            unit = dict(parse_qsl(urlsplit(views[0][0]).query))["unit"]
            items = [{"url": u, "dwell_seconds": d} for u, d in views]
            items += [{"url": f"{path}?unit={unit}", "dwell_seconds": 30} for path in extra]
            saved = playlists.save(session, admin, stored[name], name, every, items)
            out.append(Wall(saved.id, tuple(view_label(i["url"]) for i in items),
                            tuple(i["dwell_seconds"] for i in items)))
        session.commit()
    engine.dispose()
    return out


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


def post(session, base, template, values, expect, results, errors, kind, label="",
         detail=None) -> float:
    """Send one callback request; its seconds go to results[kind] (and detail[label]) when the
    answer is 200 and holds `expect`, else an error to errors[kind]."""
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
            if detail is not None:
                detail[label].append(elapsed)
        else:
            errors[kind].append(f"HTTP {response.status_code} {label}".strip())
    except requests.RequestException as exc:
        elapsed = time.perf_counter() - started
        errors[kind].append(f"{type(exc).__name__}: {str(exc)[:160]} {label}".strip())
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


def wall(base, template, shown: Wall, every, until, results, errors, detail) -> None:
    """A wall display as assets/display.js drives it: the refresh callback at every tick of the
    refresh interval (`every` s) and whenever the view changes (after the view's dwell time)."""
    try:
        session = sign_in(base, "bench-display")
    except Exception as exc:  # noqa: BLE001 - counted, never stops the run
        errors["display refresh"].append(f"sign-in: {exc}")
        return
    time.sleep(random.uniform(0, every))  # walls were switched on at different moments,
    slide, ticks = random.randrange(len(shown.dwell)), 0  # so they show different views
    now = time.monotonic()
    next_tick, next_slide = now + every, now + shown.dwell[slide]
    changed = "display-refresh.n_intervals"  # the first render, as the page opens
    while time.monotonic() < until:
        values = {"display-slide": slide, "display-refresh": ticks,
                  "display-playlist": shown.playlist_id, "display-lang": "zh"}
        label = shown.labels[slide]  # a view without a wall layout is a page made static
        expect = '"wall wall-' if label.split()[1] in WALLS else '"display-body"'
        post(session, base, {**template, "changedPropIds": [changed]}, values, expect,
             results, errors, "display refresh", label, detail)
        now = time.monotonic()
        if next_slide <= next_tick:  # the browser's clock counts on while the server answers
            time.sleep(max(0.0, next_slide - now))
            slide = (slide + 1) % len(shown.dwell)
            next_slide = max(next_slide, now) + shown.dwell[slide]
            changed = "display-slide.data"
        else:
            time.sleep(max(0.0, next_tick - now))
            ticks += 1
            next_tick += every
            changed = "display-refresh.n_intervals"


def manager(base, template, home, kids, think, until, results, errors, detail=None) -> None:
    try:
        session = sign_in(base, f"bench-{home}")
    except Exception as exc:  # noqa: BLE001
        errors["manager page"].append(f"sign-in: {exc}")
        return
    time.sleep(random.uniform(0, think))
    while time.monotonic() < until:
        unit = random.choice([home, home, *kids])
        query = f"?unit={unit}&period={random.choice(['last30', 'ytd'])}"
        path = random.choice(PAGES)
        values = {("_pages_location", "pathname"): path, ("_pages_location", "search"): query}
        post(session, base, template, values, "_pages_content", results, errors, "manager page",
             f"page {path}", detail)
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
           think: float, until: float, results: dict, errors: dict,
           walls: list[Wall] | None = None, detail: dict | None = None) -> list[threading.Thread]:
    """The threads of `displays` wall displays and `managers` managers, until `until` (not started).
    With `walls` the displays show those playlists in turn (display i the i-th modulo their
    number) as the browser does (`wall`); `detail` collects the seconds per view and page."""
    kids = children_of(url)
    display_tpl = callback_request(sign_in(base, "bench-display"), base, "display-body.children",
                                   "display-refresh.n_intervals")
    page_tpl = callback_request(sign_in(base, "bench-ZJ"), base, "_pages_content.children",
                                "_pages_location.search")
    if walls:
        threads = [threading.Thread(target=wall, args=(base, display_tpl, walls[i % len(walls)],
                                                       every, until, results, errors, detail))
                   for i in range(displays)]
    else:
        threads = [threading.Thread(target=display, args=(base, display_tpl, playlist_id, every,
                                                          until, results, errors))
                   for _ in range(displays)]
    homes = [UNITS[i % len(UNITS)] for i in range(managers)]
    threads += [threading.Thread(target=manager, args=(base, page_tpl, home, kids[home], think,
                                                       until, results, errors, detail))
                for home in homes]
    return threads


def print_detail(detail: dict[str, list[float]]) -> None:
    """A Markdown table of the seconds per view and page: count, p50, p95, max."""
    if not detail:
        return
    print()
    print("| view or page | requests | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|---|")
    for label in sorted(detail):
        ok = detail[label]
        print(f"| {label} | {len(ok)} | {1000 * statistics.median(ok):,.0f} | "
              f"{1000 * percentile(ok, 95):,.0f} | {1000 * max(ok):,.0f} |")


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
    parser.add_argument("--demo-walls", action="store_true",
                        help="the displays show the demo's province and city walls")
    parser.add_argument("--wall-extra", action="append", default=[], metavar="PATH",
                        help="with --demo-walls: add this page of the wall's unit to each wall")
    args = parser.parse_args()

    playlist_id = prepare(args.url)
    walls = demo_walls(args.url, int(args.every), tuple(args.wall_extra)) if args.demo_walls else None
    server, base, _env = serve(args.url, args.workers, args.threads, args.redis, "bench-speed")
    results: dict[str, list[float]] = {"display refresh": [], "manager page": []}
    errors: dict[str, list[str]] = {"display refresh": [], "manager page": []}
    detail: dict[str, list[float]] = defaultdict(list)
    try:
        threads = people(base, args.url, playlist_id, args.displays, args.every, args.managers,
                         args.think, time.monotonic() + args.seconds, results, errors, walls,
                         detail)
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
    print_detail(detail)


if __name__ == "__main__":
    main()
