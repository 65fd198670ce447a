"""Benchmark: what `metrics.compute` costs against the same aggregate SQL run directly, against the
naive way (fact rows into pandas, grouped there), and how its cost grows with the store.

    .venv/bin/python -m bench.metrics --url province=sqlite:////tmp/bench-province.sqlite3 \\
        [--url small=...] [--reps 5] [--growth]

For each view (a unit, a period, a grouping) every way is timed `--reps` times in the same run,
alternating, and the median is kept:

- `direct SQL`: a hand-written aggregate over the fact table (text SQL, subtree by path range,
  grouped in the database) returning the same numerators and denominators;
- `compute (facts)`: `metrics.compute` reading the facts (roll-ups off, no cache);
- `compute`: `metrics.compute` as the app runs it (roll-ups on, no result cache);
- `naive pandas`: read the subtree's fact rows of the range into a DataFrame and group there.

The KPIs are online substitution, channel availability and transactions (one fact table,
`channel_daily`), so that one direct query is the same work. Ratios are per view.
`--growth` prints, per store, its fact rows and the median of the common views.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from collections.abc import Callable

import pandas as pd
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from data.db import make_engine
from data.models import FACT_TABLES, DataLoad
from data.units import subtree_bounds, unit_by_code
from metrics.compute import compute, facts_only
from metrics.registry import KPIS

KPI_IDS = ["online_substitution", "channel_availability", "transactions"]
DIRECT = {
    None: ("", ""),
    "carrier": ("c.carrier_id AS k,", "GROUP BY c.carrier_id"),
    "day": ("c.day AS k,", "GROUP BY c.day"),
}
DIRECT_SQL = """SELECT {key} SUM(c.transactions) AS tx,
    SUM(CASE WHEN c.carrier_id IN (SELECT id FROM carrier WHERE kind = 'online')
        THEN c.transactions ELSE 0 END) AS tx_online,
    SUM(c.minutes_available) AS available, SUM(c.minutes_scheduled) AS scheduled
FROM channel_daily c JOIN org_unit o ON o.id = c.unit_id
WHERE o.path >= :low AND o.path < :high AND c.day >= :start AND c.day <= :end {group}"""
NAIVE_SQL = """SELECT c.* FROM channel_daily c JOIN org_unit o ON o.id = c.unit_id
WHERE o.path >= :low AND o.path < :high AND c.day >= :start AND c.day <= :end"""


def timed(fn: Callable[..., object], *args, **kwargs) -> float:
    started = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - started


def direct(session: Session, path: str, start: dt.date, end: dt.date, by: str | None) -> list:
    key, group = DIRECT[by]
    low, high = subtree_bounds(path)
    return session.execute(text(DIRECT_SQL.format(key=key, group=group)),
                           {"low": low, "high": high, "start": start, "end": end}).all()


def naive(session: Session, path: str, start: dt.date, end: dt.date, by: str | None
          ) -> pd.DataFrame:
    low, high = subtree_bounds(path)
    rows = pd.read_sql(text(NAIVE_SQL), session.connection(),
                       params={"low": low, "high": high, "start": start, "end": end})
    online = set(session.scalars(text("SELECT id FROM carrier WHERE kind = 'online'")))
    rows["tx_online"] = rows["transactions"].where(rows["carrier_id"].isin(online), 0)
    cols = ["transactions", "tx_online", "minutes_available", "minutes_scheduled"]
    summed = rows.groupby({"carrier": "carrier_id", "day": "day"}[by])[cols].sum() if by \
        else rows[cols].sum().to_frame().T
    return summed.assign(online_substitution=summed["tx_online"] / summed["transactions"],
                         channel_availability=summed["minutes_available"]
                         / summed["minutes_scheduled"])


def last_day(session: Session) -> dt.date:
    return session.scalar(select(func.max(DataLoad.day)))  # type: ignore[return-value]


def views(end: dt.date) -> list[tuple[str, str, dt.date, dt.date, str | None]]:
    ytd = dt.date(end.year, 1, 1)
    last30 = end - dt.timedelta(days=29)
    out = []
    for unit in ("ZJ", "ZJ-HZ"):
        for label, start in (("last30", last30), ("ytd", ytd)):
            for by in (None, "carrier", "day"):
                out.append((unit, label, start, end, by))
    return out


def overhead(url: str, reps: int, naive_too: bool = True) -> list[str]:
    """Rows of the overhead table for one store."""
    engine = make_engine(url)
    lines = []
    with Session(engine) as session:
        end = last_day(session)
        for code, label, start, stop, by in views(end):
            unit = unit_by_code(session, code)
            assert unit is not None
            times: dict[str, list[float]] = {"sql": [], "facts": [], "compute": [], "naive": []}
            for _ in range(reps):
                times["sql"].append(timed(direct, session, unit.path, start, stop, by))
                with facts_only():
                    times["facts"].append(timed(compute, session, KPI_IDS, unit, start, stop,
                                                by=by))
                times["compute"].append(timed(compute, session, KPI_IDS, unit, start, stop, by=by))
                if naive_too and not times["naive"]:  # once: it is 5-5000x slower
                    times["naive"].append(timed(naive, session, unit.path, start, stop, by))
            m = {k: statistics.median(v) if v else float("nan") for k, v in times.items()}
            ms = lambda s: f"{1000 * s:,.1f}"  # noqa: E731
            lines.append(
                f"| {code} | {label} | {by or 'total'} | {ms(m['sql'])} | {ms(m['facts'])} | "
                f"**{m['facts'] / m['sql']:.2f}** | {ms(m['compute'])} | "
                f"{m['compute'] / m['sql']:.2f} | {ms(m['naive'])} | "
                f"**{m['naive'] / m['compute']:.0f}x** |")
    engine.dispose()
    return lines


OVERHEAD_HEADER = (
    "| unit | period | by | direct SQL ms | compute (facts) ms | facts / SQL | compute ms | "
    "compute / SQL | naive pandas ms | naive / compute |\n|---|---|---|---|---|---|---|---|---|---|")


def growth(label: str, url: str, reps: int) -> str:
    """One row of the growth table: fact rows and the median of the common views."""
    engine = make_engine(url)
    all_kpis = [k.id for k in KPIS]
    with Session(engine) as session:
        rows = sum(session.scalar(select(func.count()).select_from(m)) or 0 for m in FACT_TABLES)
        end = last_day(session)
        top = unit_by_code(session, "ZJ")
        assert top is not None
        ytd = dt.date(end.year, 1, 1)
        last30 = end - dt.timedelta(days=29)
        cases = [(last30, None), (ytd, "child"), (ytd, "carrier"), (ytd, "day")]
        cells = []
        for start, by in cases:
            args = (session, all_kpis, top, start, end)
            fast = statistics.median(timed(compute, *args, by=by) for _ in range(reps))
            with facts_only():
                slow = statistics.median(timed(compute, *args, by=by)
                                         for _ in range(max(1, reps // 2)))
            cells.append(f"{1000 * fast:,.0f} / {1000 * slow:,.0f}")
    engine.dispose()
    return f"| {label} | {rows:,} | " + " | ".join(cells) + " |"


GROWTH_HEADER = (
    "| store | fact rows | all KPIs, last 30 d | all KPIs by child, YTD | all KPIs by carrier, YTD "
    "| all KPIs by day, YTD |\n|---|---|---|---|---|---|")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", action="append", required=True, help="label=URL, repeatable")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--growth", action="store_true", help="print the growth table instead")
    args = parser.parse_args()
    stores = [spec.split("=", 1) for spec in args.url]
    if args.growth:
        print("ms: roll-ups on / facts only (no result cache either way)\n")
        print(GROWTH_HEADER)
        for label, url in stores:
            print(growth(label, url, args.reps), flush=True)
        return
    for label, url in stores:
        print(f"\n{label}\n\n{OVERHEAD_HEADER}")
        for line in overhead(url, args.reps):
            print(line, flush=True)


if __name__ == "__main__":
    main()
