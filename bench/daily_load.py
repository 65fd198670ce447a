"""Benchmark: import one day's national extract into a store, as the nightly cron job would.

    .venv/bin/python -m bench.daily_load --url URL [--day YYYY-MM-DD] [--keep] [--redis URL]
        [--profile DIR] [--only KIND,...]

For the day after the store's last day (or `--day`), generates the extract every outlet sends:
its channel rows per carrier, content and campaign rows, its user-stock row, and the work orders
created that day (values derived from the store's own rows: channel, content and work orders from
the same weekday a week before, campaigns from the outlet's last campaign day, stocks from its last
level plus a little growth). Each kind is one CSV in the import format (`jobs/ingest/spec.py`).

Each file is then imported in a child process of its own, as cron runs `flask --app app
import-data FILE` once per file: the child builds the app (`create_app`, so the result cache is
the app's: Redis with `--redis`) and invokes the `import-data` command. The child times the
phases of the import by wrapping the functions that do them (read, validate, stage and duplicate
check, upsert and data-load log, roll-up refresh, cache invalidation and version bump, risk scan,
the rest: start-up, lookups, import log, commit) and reports each phase's time and peak resident
memory (the high-water mark is reset at each phase's start through /proc/self/clear_refs), the
whole process's ru_maxrss and VmHWM, and the wall time of the process from the parent.

It proves that the roll-ups are refreshed for the changed day only: on PostgreSQL every roll-up
row written by the imports carries their transaction ids (`xmin`), so the rows written since the
first import began are counted per day; every one must be of the imported day.

Afterwards (unless `--keep`) it takes the day out again: `delete_range` of the top unit on that
day (facts, data-load log and their roll-ups), the risk events the scans opened on that day and
their steps, the extended events put back to their earlier last day and values, the scans' runs
and the import log's rows. What stays changed: the data version (bumped; caches keyed on it start
over), the id sequences, and dead rows until autovacuum.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

PHASES = ("startup", "read", "validate", "stage", "upsert", "rollups", "cache", "risk", "other",
          "locks")
PHASE_TITLES = {"startup": "start-up (imports, create_app)", "read": "read",
                "validate": "validate", "stage": "stage + duplicate check",
                "upsert": "upsert + data-load log", "rollups": "roll-up refresh",
                "cache": "cache invalidation + version", "risk": "risk scan",
                "other": "lookups, import log, audit, commit",
                "locks": "waiting for the import's and the scan's locks (held by others)"}
KINDS = ("channel_daily", "user_stocks", "content_daily", "campaign_daily", "work_orders")
ORDER_PREFIX = "DL"  # the bench's work orders: DL<yyyymmdd>-<n>


# -- the extract -----------------------------------------------------------------------------------

def _frame(conn: Connection, sql: str, **params) -> pd.DataFrame:
    result = conn.execute(text(sql), params)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def last_day(conn: Connection) -> dt.date:
    """The store's last day with channel facts."""
    return conn.execute(text("SELECT max(day) FROM channel_daily")).scalar()


def _scaled(frame: pd.DataFrame, ints: list[str], decimals: list[str],
            rng: np.random.Generator) -> pd.DataFrame:
    """Every row's values times one factor of its own (about 1 +- 5 %); rounding down (ints) and
    to cents (amounts) keep each row's a <= b rules."""
    factor = rng.lognormal(0, 0.05, len(frame))
    out = frame.copy()
    for c in ints:
        out[c] = np.floor(frame[c].astype(float).to_numpy() * factor).astype(np.int64)
    for c in decimals:
        out[c] = np.round(frame[c].astype(float).to_numpy() * factor, 2)
    return out


def write_extract(url: str, day: dt.date, folder: Path, seed: int = 7) -> dict[str, int]:
    """Write the five CSVs of `day`'s extract into `folder`; return rows per kind."""
    from data.db import make_engine

    rng = np.random.default_rng(seed)
    week_before = day - dt.timedelta(days=7)
    engine = make_engine(url)
    rows: dict[str, int] = {}
    with engine.connect() as conn:
        codes = "JOIN org_unit u ON u.id = f.unit_id JOIN carrier c ON c.id = f.carrier_id"
        channel = _frame(conn, f"""
            SELECT u.code AS unit, c.code AS carrier, f.visits, f.transactions,
                   f.minutes_scheduled, f.minutes_available, f.registrations,
                   f.applications_total, f.applications_online, f.applications_completed,
                   f.completion_days_sum, f.payments_total, f.payments_online,
                   f.payment_amount_total, f.payment_amount_online
            FROM channel_daily f {codes} WHERE f.day = :d ORDER BY u.code, c.sort_order""",
                         d=week_before)
        channel = _scaled(channel, ["visits", "transactions", "registrations", "applications_total",
                                    "applications_online", "applications_completed",
                                    "payments_total", "payments_online"],
                          ["completion_days_sum", "payment_amount_total", "payment_amount_online"],
                          rng)
        channel["minutes_available"] = np.minimum(channel["minutes_available"],
                                                  channel["minutes_scheduled"])
        channel.insert(1, "day", day.isoformat())
        content = _frame(conn, f"""
            SELECT u.code AS unit, c.code AS carrier, f.pushes, f.delivered, f.opens, f.clicks
            FROM content_daily f {codes} WHERE f.day = :d ORDER BY u.code, c.sort_order""",
                         d=week_before)
        content = _scaled(content, ["pushes", "delivered", "opens", "clicks"], [], rng)
        content.insert(1, "day", day.isoformat())
        campaign = _frame(conn, f"""
            SELECT u.code AS unit, c.code AS carrier, f.participants, f.conversions, f.cost
            FROM campaign_daily f {codes}
            WHERE f.day = (SELECT max(day) FROM campaign_daily WHERE day < :d)
            ORDER BY u.code, c.sort_order""", d=day)
        campaign = _scaled(campaign, ["participants", "conversions"], ["cost"], rng)
        campaign.insert(1, "day", day.isoformat())
        stocks = _frame(conn, """
            SELECT u.code AS unit, s.customers, s.registered, s.bound, s.profiled, s.ebill
            FROM user_stock_daily s JOIN org_unit u ON u.id = s.unit_id
            WHERE s.day = (SELECT max(day) FROM user_stock_daily WHERE day < :d)
            ORDER BY u.code""", d=day)
        grow = rng.integers(0, 4, len(stocks))  # the same growth on each level keeps a <= b
        for c in ("customers", "registered", "bound", "profiled", "ebill"):
            stocks[c] = stocks[c].astype(np.int64) + grow
        stocks.insert(1, "day", day.isoformat())
        orders = _frame(conn, """
            SELECT u.code AS unit, c.code AS carrier, w.category, w.created_at,
                   w.first_response_at, w.sla_deadline, w.closed_at, w.first_contact_resolved,
                   w.rating
            FROM work_order w JOIN org_unit u ON u.id = w.unit_id
                 JOIN carrier c ON c.id = w.carrier_id
            WHERE w.created_day = :d ORDER BY w.created_at, u.code""", d=week_before)
    engine.dispose()
    week = pd.Timedelta(days=7)
    end_of_day = pd.Timestamp(day) + pd.Timedelta(days=1)  # the extract is taken at midnight

    def when(col: str) -> pd.Series:
        return pd.to_datetime(orders[col]) + week

    created, response, closed = when("created_at"), when("first_response_at"), when("closed_at")
    closed = closed.where(closed < end_of_day)  # closed after midnight: still open in the extract
    response = response.where(response < end_of_day)
    stamp = lambda s: s.dt.strftime("%Y-%m-%d %H:%M:%S").fillna("")  # noqa: E731
    fcr = orders["first_contact_resolved"].map({True: "1", False: "0"})
    work = pd.DataFrame({
        "order_no": [f"{ORDER_PREFIX}{day:%Y%m%d}-{n}" for n in range(len(orders))],
        "unit": orders["unit"], "carrier": orders["carrier"], "category": orders["category"],
        "created_at": stamp(created), "first_response_at": stamp(response),
        "sla_deadline": stamp(when("sla_deadline")), "closed_at": stamp(closed),
        "first_contact_resolved": fcr.where(closed.notna(), "").fillna(""),
        "rating": orders["rating"].astype("Int64").astype(str).replace("<NA>", "")
        .where(closed.notna(), ""),
    })
    for kind, frame in (("channel_daily", channel), ("user_stocks", stocks),
                        ("content_daily", content), ("campaign_daily", campaign),
                        ("work_orders", work)):
        frame.to_csv(folder / f"{kind}_{day:%Y%m%d}.csv", index=False)
        rows[kind] = len(frame)
    return rows


# -- the child: one cron import, its phases timed ------------------------------------------------

class Phases:
    """Wall and CPU seconds and peak resident memory per file and phase; a phase is entered by
    a wrapped function, the file by `import_file`."""

    def __init__(self) -> None:
        self.file = "startup"
        self.seconds: dict[str, dict[str, float]] = {}
        self.cpu: dict[str, dict[str, float]] = {}
        self.peak_mb: dict[str, dict[str, float]] = {}
        self.stack: list[list[float]] = []

    @staticmethod
    def hwm_mb() -> float:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    @staticmethod
    def _reset_hwm() -> None:
        with contextlib.suppress(OSError):
            Path("/proc/self/clear_refs").write_text("5")

    def add(self, name: str, wall: float, cpu: float, peak: float) -> None:
        for book, v in ((self.seconds, wall), (self.cpu, cpu)):
            row = book.setdefault(self.file, dict.fromkeys(PHASES, 0.0))
            row[name] += v
        row = self.peak_mb.setdefault(self.file, dict.fromkeys(PHASES, 0.0))
        row[name] = max(row[name], peak)

    @contextlib.contextmanager
    def phase(self, name: str):
        """Time a phase; a phase inside another is its own, taken out of the outer one's time."""
        self.stack.append([0.0, 0.0])  # wall and CPU of the phases inside this one
        if len(self.stack) == 1:
            self._reset_hwm()
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            inner = self.stack.pop()
            self.add(name, wall - inner[0], cpu - inner[1], self.hwm_mb())
            if self.stack:
                self.stack[-1][0] += wall
                self.stack[-1][1] += cpu

    def timed(self, inner, name: str):
        def timed(*args, **kwargs):
            with self.phase(name):
                return inner(*args, **kwargs)

        return timed

    def wrap(self, owner, attr: str, name: str) -> None:
        setattr(owner, attr, self.timed(getattr(owner, attr), name))

    def wrap_generator(self, owner, attr: str, name: str) -> None:
        inner = getattr(owner, attr)

        def timed(*args, **kwargs):
            items = inner(*args, **kwargs)
            while True:
                with self.phase(name):
                    item = next(items, None)
                if item is None:
                    return
                yield item

        setattr(owner, attr, timed)

    def per_file(self, owner, attr: str) -> None:
        """Wrap `import_file`: what happens inside is the file's; the rest of it is 'other'."""
        inner = getattr(owner, attr)

        def timed(engine, path, *args, **kwargs):
            self.file = Path(path).name.rsplit("_", 1)[0]
            with self.phase("other"):
                return inner(engine, path, *args, **kwargs)

        setattr(owner, attr, timed)


def child(url: str, files: list[str], redis: str | None, profile: str | None) -> None:
    """Import `files` into `url` through one `import-data` command; print a JSON report."""
    started = time.perf_counter()
    phases = Phases()
    with phases.phase("startup"):
        import data.changes as changes
        import jobs.ingest.cli as cli
        import jobs.ingest.load as load
        import jobs.ingest.read as read
        import jobs.ingest.staging as staging
        import metrics.rollups as rollups
        import risk.scan as risk_scan
        from app import create_app

        config = {"DATABASE_URL": url}
        if redis:
            config.update(REDIS_URL=redis, CACHE_KEY_PREFIX="bench-daily-load:")
        app = create_app(config)
    phases.per_file(cli, "import_file")
    phases.wrap_generator(read.TableFile, "chunks", "read")
    phases.wrap(load, "check_chunk", "validate")
    phases.wrap(load, "bulk_insert", "stage")
    phases.wrap(staging, "duplicates", "stage")
    phases.wrap(staging, "upsert", "upsert")
    phases.wrap(staging, "update_then_insert", "upsert")
    phases.wrap(staging, "record_loads", "upsert")
    phases.wrap(rollups, "refresh", "rollups")
    phases.wrap(load, "_scan", "risk")
    phases.wrap(load, "_lock", "locks")
    phases.wrap(risk_scan, "_begin_run", "locks")
    phases.wrap(changes, "bump", "cache")
    changes._listeners[:] = [phases.timed(f, "cache") for f in changes._listeners]
    runner = app.test_cli_runner()
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    outcome = runner.invoke(args=["import-data", *files])
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    rest = time.perf_counter() - started - sum(sum(v.values()) for v in phases.seconds.values())
    phases.add("other", rest, 0.0, 0.0)  # the command around the imports (audit records)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"ok": outcome.exit_code == 0, "output": outcome.output[-4000:],
                      "seconds": phases.seconds, "cpu": phases.cpu, "peak_mb": phases.peak_mb,
                      "total": time.perf_counter() - started,
                      "ru_maxrss_mb": usage.ru_maxrss / 1024, "hwm_mb": phases.hwm_mb()}))


# -- the parent ----------------------------------------------------------------------------------

def _run(args: list[str]) -> dict:
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "bench.daily_load", *args], capture_output=True,
                         text=True)
    if out.returncode:
        raise SystemExit(f"child failed ({out.returncode}):\n{out.stdout[-3000:]}\n"
                         f"{out.stderr[-3000:]}")
    report = json.loads(out.stdout.strip().splitlines()[-1])
    report["wall"] = time.perf_counter() - started
    return report


def _xid(conn: Connection) -> int:
    return int(conn.execute(text("SELECT txid_current()")).scalar()) % 2**32


def rollups_written(conn: Connection, since: int) -> dict[str, dict[str, int]]:
    """Per roll-up table, the rows written by transactions from `since` on, per day (the gap
    roll-up's day is the day a gap began: the gaps touching the loaded day may begin before it)."""
    from data.models import DERIVED_TABLES

    out: dict[str, dict[str, int]] = {}
    for model in DERIVED_TABLES:
        t = model.__tablename__
        rows = conn.execute(text(
            f"SELECT day, count(*) FROM {t} WHERE xmin::text::bigint >= :x GROUP BY day"),
            {"x": since}).all()
        out[t] = {str(d): n for d, n in rows}
    return out


def _snapshot_events(conn: Connection, before: dt.date) -> list[dict]:
    """The risk events a scan of the next day may extend (their last day is `before`)."""
    rows = conn.execute(text(
        "SELECT id, last_day, value, threshold, worst_day, worst_value, worst_threshold "
        "FROM risk_event WHERE last_day = :d"), {"d": before}).mappings().all()
    return [dict(r) for r in rows]


def remove_day(url: str, day: dt.date, events: list[dict], first_log: int) -> str:
    """Take the bench's day out of the store again (see the module's docstring)."""
    import metrics  # noqa: F401  (registers the roll-ups that the deletion refreshes)
    from data.db import make_engine
    from jobs.ingest.correct import delete_range

    engine = make_engine(url)
    with engine.begin() as conn:
        top = conn.execute(text("SELECT code FROM org_unit WHERE parent_id IS NULL "
                                "ORDER BY id LIMIT 1")).scalar()
        done = delete_range(conn, top, day, day, None, username="bench")
        opened = [r[0] for r in conn.execute(text(
            "SELECT id FROM risk_event WHERE first_day >= :d"), {"d": day})]
        if opened:
            conn.execute(text("DELETE FROM risk_event_step WHERE event_id = ANY(:ids)"),
                         {"ids": opened})
            conn.execute(text("DELETE FROM risk_event WHERE id = ANY(:ids)"), {"ids": opened})
        for e in events:
            conn.execute(text(
                "UPDATE risk_event SET last_day = :last_day, value = :value, "
                "threshold = :threshold, worst_day = :worst_day, worst_value = :worst_value, "
                "worst_threshold = :worst_threshold WHERE id = :id"), e)
        conn.execute(text("DELETE FROM risk_scan_run WHERE last_day >= :d"), {"d": day})
        conn.execute(text("DELETE FROM import_log WHERE id >= :i"), {"i": first_log})
        conn.execute(text("DELETE FROM audit_event WHERE action = 'import' "
                          "AND username LIKE 'cli:%' AND target LIKE '%' || :f || '%'"),
                     {"f": f"{day:%Y%m%d}.csv"})
    engine.dispose()
    return f"{done.summary()}; {len(opened)} risk event(s) opened by the scans deleted, " \
           f"{len(events)} event(s) that could have been extended put back"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", help="the store (SQLAlchemy URL)")
    parser.add_argument("--day", type=dt.date.fromisoformat, default=None)
    parser.add_argument("--keep", action="store_true", help="leave the day in the store")
    parser.add_argument("--redis", default=None, help="REDIS_URL for the app's result cache")
    parser.add_argument("--profile", default=None, help="write each child's cProfile to DIR")
    parser.add_argument("--only", default=",".join(KINDS), help="kinds to import, in order")
    parser.add_argument("--per-file", action="store_true",
                        help="one import-data process per file (default: one for the day's files)")
    parser.add_argument("--child", nargs="+", metavar="URL FILE", help=argparse.SUPPRESS)
    parser.add_argument("--write", nargs=3, metavar=("URL", "DAY", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1:], args.redis, args.profile)
        return
    if args.write:
        print(json.dumps(write_extract(args.write[0], dt.date.fromisoformat(args.write[1]),
                                       Path(args.write[2]))))
        return
    if not args.url:
        parser.error("--url is required")

    import metrics  # noqa: F401
    from data.db import make_engine

    engine = make_engine(args.url)
    with engine.connect() as conn:
        last = last_day(conn)
        day = args.day or last + dt.timedelta(days=1)
        if conn.execute(text("SELECT 1 FROM channel_daily WHERE day = :d LIMIT 1"),
                        {"d": day}).first():
            raise SystemExit(f"{day} already has data in the store; choose another --day")
        units = dict(conn.execute(text("SELECT tier, count(*) FROM org_unit GROUP BY tier")).all())
        events = _snapshot_events(conn, day - dt.timedelta(days=1))
        first_log = int(conn.execute(text("SELECT coalesce(max(id), 0) + 1 FROM import_log"))
                        .scalar())
        postgres = conn.dialect.name == "postgresql"
    folder = Path(tempfile.mkdtemp(prefix="daily-load-"))
    started = time.perf_counter()
    written = _run(["--write", args.url, day.isoformat(), str(folder)])
    print(f"Store: {units.get(5, 0):,} outlets, {sum(units.values()):,} units; last day {last}. "
          f"Extract of {day}: " + ", ".join(f"{k} {written[k]:,}" for k in KINDS)
          + f" = {sum(written[k] for k in KINDS):,} rows, written in "
          f"{time.perf_counter() - started:.1f} s.", flush=True)
    since = None
    if postgres:
        with engine.connect() as conn:
            since = _xid(conn)
    files = [str(folder / f"{kind}_{day:%Y%m%d}.csv") for kind in args.only.split(",")]
    extra = (["--redis", args.redis] if args.redis else []) + (
        ["--profile", args.profile] if args.profile else [])
    try:
        if args.per_file:  # one cron command per file, the app started each time
            runs = [_run(["--child", args.url, f, *extra]) for f in files]
        else:
            runs = [_run(["--child", args.url, *files, *extra])]
        for r in runs:
            print(r["output"].strip())
            if not r["ok"]:
                raise SystemExit("an import failed")
        _table(runs, written)
        if since is not None:
            with engine.connect() as conn:
                touched = rollups_written(conn, since)
            other = {t: {d: n for d, n in days.items() if d != day.isoformat()}
                     for t, days in touched.items()}
            print("\nRoll-up rows written by the imports, by day (xmin since the first import):\n")
            print("| roll-up table | rows of " + day.isoformat() + " | rows of other days |")
            print("|---|---|---|")
            for t, days in touched.items():
                print(f"| {t} | {days.get(day.isoformat(), 0):,} | "
                      f"{sum(other[t].values()):,} {sorted(other[t]) if other[t] else ''} |")
    finally:
        if not args.keep:
            print("\nRemoved again: " + remove_day(args.url, day, events, first_log))
        for f in folder.iterdir():
            f.unlink()
        folder.rmdir()
        engine.dispose()


def _table(runs: list[dict], written: dict[str, int]) -> None:
    seconds: dict[str, dict[str, float]] = {}
    cpu: dict[str, dict[str, float]] = {}
    peak: dict[str, dict[str, float]] = {}
    for r in runs:  # start-up goes to the file the process was started for
        first = next((k for k in r["seconds"] if k != "startup"), "startup")
        for book, got, merge in ((seconds, r["seconds"], sum), (cpu, r["cpu"], sum),
                                 (peak, r["peak_mb"], max)):
            for k, phases in got.items():
                row = book.setdefault(first if k == "startup" else k, dict.fromkeys(PHASES, 0.0))
                for p, v in phases.items():
                    row[p] = merge([row[p], v])
    kinds = [k for k in KINDS if k in seconds]
    print("\nSeconds wall (CPU of the import process) / peak resident memory of the phase:\n")
    print("| phase | " + " | ".join(kinds) + " | all files |")
    print("|---|" + "---|" * (len(kinds) + 1))
    for p in PHASES:
        cells = [f"{seconds[k][p]:.1f} ({cpu[k][p]:.1f}) / {peak[k][p]:.0f} MB" for k in kinds]
        print(f"| {PHASE_TITLES[p]} | " + " | ".join(cells)
              + f" | {sum(seconds[k][p] for k in kinds):.1f} ({sum(cpu[k][p] for k in kinds):.1f})"
              f" / {max(peak[k][p] for k in kinds):.0f} MB |")
    print("| **total** | " + " | ".join(
        f"**{sum(seconds[k].values()):.1f}** ({sum(cpu[k].values()):.1f})" for k in kinds)
        + f" | **{sum(sum(seconds[k].values()) for k in kinds):.1f}** "
        f"({sum(sum(cpu[k].values()) for k in kinds):.1f}) |")
    print("| rows | " + " | ".join(f"{written[k]:,}" for k in kinds)
          + f" | {sum(written[k] for k in kinds):,} |")
    print(f"\n{len(runs)} process(es): wall {sum(r['wall'] for r in runs):.1f} s from the parent; "
          f"peak RSS (ru_maxrss / VmHWM) "
          + ", ".join(f"{r['ru_maxrss_mb']:.0f} / {r['hwm_mb']:.0f} MB" for r in runs) + ".")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
