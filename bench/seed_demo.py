"""Benchmark: how long `seed-demo` takes per scale on SQLite and PostgreSQL.

    .venv/bin/python -m bench.seed_demo [--scales tiny,small,province] [--pg URL]

Each run seeds a fresh store (a temporary SQLite file; a throw-away PostgreSQL schema) and prints a
Markdown table of rows and wall-clock seconds (generation and loading, migrations excluded).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

import metrics  # noqa: F401  (registers the roll-ups that seeding and upgrades build)
from data.db import make_engine
from jobs.demo import seed_demo
from jobs.schema import upgrade

END = dt.date(2026, 10, 31)


def _stores(pg_url: str | None):
    tmp = Path(tempfile.mkdtemp())
    yield "sqlite", f"sqlite:///{tmp / f'bench-{uuid.uuid4().hex[:6]}.sqlite3'}", None
    if pg_url:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        url = make_url(pg_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield "postgresql", url.render_as_string(hide_password=False), (admin, schema)


def main() -> None:
    """Seed each scale on each database and print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--scales", default="tiny,small,province")
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    print("| scale | database | rows | seconds |\n|---|---|---|---|")
    for scale in args.scales.split(","):
        for kind, url, cleanup in _stores(args.pg or None):
            engine = make_engine(url)
            upgrade(engine)
            started = time.perf_counter()
            counts = seed_demo(engine, scale, 42, END)
            seconds = time.perf_counter() - started
            rows = sum(v for k, v in counts.items() if k not in ("seconds", "units"))
            print(f"| {scale} | {kind} | {rows:,.0f} | {seconds:.1f} |", flush=True)
            engine.dispose()
            if cleanup:
                admin, schema = cleanup
                with admin.connect() as conn:
                    conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
                admin.dispose()
            elif url.startswith("sqlite:///"):
                for f in Path(url[len("sqlite:///"):]).parent.glob("bench-*"):
                    f.unlink()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
