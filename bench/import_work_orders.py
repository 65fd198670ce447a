"""Benchmark: import a 1,000,000-row work-order CSV through `import-data`'s code path.

    .venv/bin/python -m bench.import_work_orders [--rows 1000000] [--pg URL] [--scale tiny]

Seeds the demo into a throw-away PostgreSQL schema, writes a CSV of generated work orders for the
demo's outlets (spread over the demo's days, every value valid), then imports it in a child process
twice: the first run inserts every row, the second
finds them unchanged. Prints rows, seconds (validation + load + risk scan) and peak RSS per run.

Peak RSS: Linux keeps ru_maxrss across fork and exec, so a child of a big parent reports the
parent's size. The file is therefore generated in a child of its own, the parent stays small, and
the import child reports both ru_maxrss and its own high-water mark (VmHWM, reset by exec).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import create_engine, make_url, select, text

import metrics  # noqa: F401  (registers the roll-ups that seeding and upgrades build)
from data.catalog import CARRIER_CODES
from data.db import make_engine
from data.models import OrgUnit
from jobs.demo import seed_demo
from jobs.schema import upgrade

END = dt.date(2026, 6, 30)
CATEGORIES = np.array(["consultation", "repair", "business", "complaint", "opinion"])
CARRIERS = np.array(CARRIER_CODES)


def write_work_orders(path: Path, outlets: list[str], rows: int, first: dt.date, days: int,
                      seed: int = 7) -> None:
    """Write `rows` valid work orders for `outlets` created over `days` days from `first`."""
    rng = np.random.default_rng(seed)
    start = np.datetime64(first, "s")
    created = start + rng.integers(0, days * 86400, rows).astype("timedelta64[s]")
    response = created + rng.integers(60, 3600, rows).astype("timedelta64[s]")
    sla = created + np.timedelta64(24, "h")
    closed_mask = rng.random(rows) < 0.9
    closed = created + rng.integers(1800, 40 * 3600, rows).astype("timedelta64[s]")

    def fmt(values: np.ndarray) -> np.ndarray:
        return np.char.replace(np.datetime_as_string(values, unit="s"), "T", " ")

    frame = pd.DataFrame({
        "order_no": np.char.add("BENCH", np.char.zfill(np.arange(rows).astype(str), 9)),
        "unit": np.array(outlets)[rng.integers(0, len(outlets), rows)],
        "carrier": CARRIERS[rng.integers(0, len(CARRIERS), rows)],
        "category": CATEGORIES[rng.integers(0, len(CATEGORIES), rows)],
        "created_at": fmt(created),
        "first_response_at": fmt(response),
        "sla_deadline": fmt(sla),
        "closed_at": np.where(closed_mask, fmt(closed), ""),
        "first_contact_resolved": np.where(closed_mask, rng.integers(0, 2, rows).astype(str), ""),
        "rating": np.where(closed_mask, rng.integers(1, 6, rows).astype(str), ""),
    })
    frame.to_csv(path, index=False)


def child(url: str, file: str) -> None:
    """Import `file` into `url` and print the report as JSON (run in a subprocess)."""
    from jobs.ingest import import_file

    engine = make_engine(url)
    report = import_file(engine, file, "work_orders", username="bench")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    hwm = next((int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines()
                if line.startswith("VmHWM:")), 0)
    print(json.dumps({"ok": report.ok, "rows": report.rows_read, "inserted": report.inserted,
                      "updated": report.updated, "unchanged": report.unchanged,
                      "seconds": round(report.seconds, 1),
                      "scan_seconds": round(report.scan_seconds, 1),
                      "peak_rss_mb": round(usage.ru_maxrss / 1024), "hwm_mb": round(hwm / 1024),
                      "risk": report.risk,
                      "problems": report.problem_lines()[:5]}))


def main() -> None:
    """Seed, generate, import twice, print a Markdown table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--scale", default="tiny")
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--child", nargs=2, metavar=("URL", "FILE"), help=argparse.SUPPRESS)
    parser.add_argument("--write", nargs=2, metavar=("FILE", "OUTLETS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.write:
        write_work_orders(Path(args.write[0]), args.write[1].split(","), args.rows,
                          END - dt.timedelta(days=179), 180)
        return
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(args.pg).update_query_dict({"options": f"-csearch_path={schema}"})
    url_text = url.render_as_string(hide_password=False)
    try:
        engine = make_engine(url_text)
        upgrade(engine)
        counts = seed_demo(engine, args.scale, 42, END)
        with engine.connect() as conn:
            outlets = list(conn.execute(select(OrgUnit.code).where(OrgUnit.tier == 5)).scalars())
        engine.dispose()
        file = Path(tempfile.mkdtemp()) / "work_orders.csv"
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "bench.import_work_orders", "--rows", str(args.rows),
                        "--write", str(file), ",".join(outlets)], check=True)
        print(f"{args.scale} demo ({counts['work_order']:,.0f} work orders); generated "
              f"{args.rows:,} rows ({file.stat().st_size / 2**20:.0f} MB) in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        print(f"parent process: peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")
        print("| run | rows | inserted | unchanged | seconds (of which risk scan) | peak RSS "
              "(ru_maxrss / VmHWM) |\n|---|---|---|---|---|---|")
        for run in ("first import", "same file again"):
            out = subprocess.run([sys.executable, "-m", "bench.import_work_orders", "--child",
                                  url_text, str(file)], capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            if not r["ok"]:
                raise SystemExit(f"import rejected: {r['problems']}")
            print(f"| {run} | {r['rows']:,} | {r['inserted']:,} | {r['unchanged']:,} | "
                  f"{r['seconds']} ({r['scan_seconds']}) | {r['peak_rss_mb']} / {r['hwm_mb']} MB |",
                  flush=True)
        file.unlink()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


if __name__ == "__main__":
    main()
