"""Benchmark: seconds per monthly operations report, a province's and every county's under it.

    .venv/bin/python -m bench.reports --url URL [--unit ZJ] [--month 2026-10] [--lang zh]
        [--limit N] [--out DIR]

One app (as one `flask --app app report` process would be) builds the report of `--unit`, then one
report per county (tier 4) of its subtree in path order (`--limit`: only the first N), each through
`report.build.build_report` as the operator, exactly as the CLI does, timed in its phases by
wrapping the functions it calls: the content (`report_content`: the checks and every figure from
`metrics/`), the HTML layout (`report_html`) and the print (the rest: headless Chromium). Chromium
is started before the first report (reported apart). Each PDF must start with %PDF, and
`pdftotext` must find the unit's name in it; pages are counted with `pdfinfo`. Prints a row per
report as it goes, then a Markdown table: count, total minutes, p50/p95/max seconds per report,
the province report's seconds, peak RSS of this process (`VmHWM`) and the largest proportional
set size (PSS) of the playwright driver and Chromium after a report.

The store is left unchanged: on PostgreSQL every connection is opened read-only
(`default_transaction_read_only`), the builder's audit rows (one "report ... via bench" per report,
which `auth.audit.record` would write at once on a connection of its own) are kept in memory and
counted instead, and the session is rolled back at the end. PDFs go to a temporary directory,
deleted afterwards unless `--out DIR`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url

import report.build as build
from app import create_app
from data.db import get_session
from data.models import OrgUnit
from data.units import subtree_filter, unit_by_code
from export.service import close_renderer, renderer_for

COUNTY_TIER = 4


@dataclass
class Row:
    code: str
    name: str
    content: float = 0.0
    layout: float = 0.0
    total: float = 0.0
    pages: int = 0
    size: int = 0
    ok: bool = False
    problem: str = ""
    chromium_mb: float = 0.0  # PSS of the processes below this one, after the report

    @property
    def print_seconds(self) -> float:
        return self.total - self.content - self.layout


class _Phases:
    """Wraps `report.build`'s content and layout functions to time them, and stands in for its
    audit module (rows kept in memory, nothing written)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.audits: list[tuple[str, str, str]] = []
        self._saved: dict[str, Any] = {}

    def install(self) -> None:
        for attr in ("report_content", "report_html", "audit"):
            self._saved[attr] = getattr(build, attr)
        build.report_content = self._timed("content", build.report_content)  # type: ignore[assignment]
        build.report_html = self._timed("layout", build.report_html)  # type: ignore[assignment]
        build.audit = self  # type: ignore[assignment]

    def restore(self) -> None:
        for attr, value in self._saved.items():
            setattr(build, attr, value)

    def record(self, _session: Any, action: str, username: str | None, target: str = "",
               outcome: str = "ok", detail: str = "") -> None:
        """`auth.audit.record`'s signature; keeps the row instead of writing it."""
        self.audits.append((target, outcome, detail))

    def _timed(self, phase: str, func: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.seconds[phase] = self.seconds.get(phase, 0.0) + time.perf_counter() - started
        return wrapper


def read_only(url: str) -> str:
    """On PostgreSQL, `url` with every transaction read-only (the server refuses any write)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        return url
    given = parsed.query.get("options") or ""
    given = " ".join(given) if isinstance(given, tuple) else given
    options = f"{given} -c default_transaction_read_only=on".strip()
    return parsed.update_query_dict({"options": options}).render_as_string(hide_password=False)


def status_kb(field: str) -> int:
    """A `VmRSS`/`VmHWM` line of /proc/self/status in kB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def descendants_pss_mb() -> float:
    """Proportional set size in MB of every process below this one (the playwright driver and
    Chromium's processes; shared pages divided among them, so the sum is not inflated)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat[stat.rindex(")") + 2:].split()[1])
            except (OSError, ValueError):
                continue
    below: set[int] = set()
    frontier = {os.getpid()}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - below
        below |= frontier
    total = 0
    for pid in below:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except (OSError, ValueError):
            continue
    return total / 1024


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of `values`, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def check_pdf(path: Path, unit_name: str) -> tuple[int, str]:
    """Pages of the PDF at `path` and a problem ('' when it starts with %PDF and its text, as
    pdftotext reads it, names the unit)."""
    if not path.read_bytes().startswith(b"%PDF"):
        return 0, "not a PDF"
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=False)
    pages = next((int(line.split()[1]) for line in info.stdout.splitlines()
                  if line.startswith("Pages:")), 0)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True,
                          text=True, check=False).stdout
    squeezed = "".join(text.split())
    return pages, "" if "".join(unit_name.split()) in squeezed else f"name {unit_name!r} not in text"


def run(url: str, unit: str, month: str, lang: str, limit: int | None, out: Path) -> list[Row]:
    """Build the reports; print a line per report; return the rows (the unit's first)."""
    started = time.perf_counter()
    app = create_app({"DATABASE_URL": read_only(url), "SECRET_KEY": "bench", "TESTING": True})
    print(f"create_app: {time.perf_counter() - started:.1f} s", flush=True)
    phases = _Phases()
    phases.install()
    rows: list[Row] = []
    try:
        with app.app_context():
            session = get_session()
            top = unit_by_code(session, unit)
            if top is None:
                raise SystemExit(f"unknown unit {unit!r}")
            counties = list(session.scalars(
                select(OrgUnit).where(subtree_filter(top.path), OrgUnit.tier == COUNTY_TIER)
                .order_by(OrgUnit.path)))
            if limit is not None:
                counties = counties[:limit]
            codes = [top.code, *(c.code for c in counties)]
            started = time.perf_counter()
            renderer_for(app).print_html("<p>warm up</p>", "<span></span>")
            print(f"Chromium started and printed a blank page in {time.perf_counter() - started:.1f} s; "
                  f"{len(codes)} reports ({unit} and {len(counties)} counties), {month}, {lang}",
                  flush=True)
            for code in codes:
                phases.seconds.clear()
                row = Row(code, "")
                started = time.perf_counter()
                try:
                    content, data = build.build_report_with_content(session, None, code, month,
                                                                    lang, "bench")
                except Exception as exc:  # noqa: BLE001 - a failed report is a row of the table
                    row.total = time.perf_counter() - started
                    row.problem = f"{type(exc).__name__}: {exc}"
                else:
                    row.total = time.perf_counter() - started
                    row.name, row.size = content.unit_name, len(data)
                    path = out / content.file_name()
                    path.write_bytes(data)
                    row.pages, row.problem = check_pdf(path, content.unit_name)
                    row.ok = not row.problem
                row.content = phases.seconds.get("content", 0.0)
                row.layout = phases.seconds.get("layout", 0.0)
                row.chromium_mb = descendants_pss_mb()
                rows.append(row)
                print(f"{len(rows):3d} {code:14s} {row.total:6.1f} s (content {row.content:5.1f}, "
                      f"layout {row.layout:4.2f}, print {row.print_seconds:5.1f})  "
                      f"{row.pages:3d} pages {row.size // 1024:5d} KB  "
                      f"RSS {status_kb('VmRSS') / 1024:.0f} MB, Chromium PSS "
                      f"{row.chromium_mb:.0f} MB  {row.problem or 'ok'}", flush=True)
            pending = bool(session.new or session.dirty or session.deleted)
            session.rollback()
    finally:
        phases.restore()
        close_renderer(app)
        app.extensions["engine"].dispose()
    print(f"\nAudit rows the builder made (kept in memory, not written): {len(phases.audits)}; "
          f"pending ORM changes rolled back: {pending}")
    return rows


def table(rows: list[Row]) -> str:
    """The Markdown summary of a run."""
    top, counties = rows[0], rows[1:]
    times = [r.total for r in counties]
    lines = ["| reports | total (min) | p50 (s) | p95 (s) | max (s) | content p50 (s) | "
             "print p50 (s) | pages p50 | KB p50 | province report (s: content + layout + print) | "
             "failed | peak MB: bench RSS / Chromium PSS |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    if counties:
        lines.append(
            f"| {len(counties)} counties + 1 province | {sum(r.total for r in rows) / 60:.1f} | "
            f"{statistics.median(times):.1f} | {pct(times, 0.95):.1f} | {max(times):.1f} | "
            f"{statistics.median(r.content for r in counties):.1f} | "
            f"{statistics.median(r.print_seconds for r in counties):.1f} | "
            f"{statistics.median(r.pages for r in counties):.0f} | "
            f"{statistics.median(r.size for r in counties) / 1024:.0f} | "
            f"{top.total:.1f} ({top.content:.1f} + {top.layout:.2f} + {top.print_seconds:.1f}), "
            f"{top.pages} pages | {sum(not r.ok for r in rows)} | "
            f"{status_kb('VmHWM') / 1024:.0f} / {max(r.chromium_mb for r in rows):.0f} |")
    return "\n".join(lines)


def main() -> None:
    """Parse the arguments, build the reports, print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True, help="The store (read only).")
    parser.add_argument("--unit", default="ZJ")
    parser.add_argument("--month", default="2026-10")
    parser.add_argument("--lang", default="zh", choices=("zh", "en"))
    parser.add_argument("--limit", type=int, default=None, help="Only the first N counties.")
    parser.add_argument("--out", default="", help="Keep the PDFs in this directory.")
    args = parser.parse_args()
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="bench-reports-"))
    out.mkdir(parents=True, exist_ok=True)
    print(f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    try:
        rows = run(args.url, args.unit, args.month, args.lang, args.limit, out)
    finally:
        if not args.out:
            shutil.rmtree(out, ignore_errors=True)
    print(f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    for row in rows:
        if not row.ok:
            print(f"FAILED {row.code}: {row.problem}")
    print(table(rows))


if __name__ == "__main__":
    main()
