"""A sample of HQ and provincial numbers against plain SQL on the facts, on a big store.

    .venv/bin/python -m bench.national_check --url URL [--units HQ,ZJ,JS,XZ] [--seed 7]

For each unit and period (the last 30 days and the year to date, ending on the store's last loaded
day), `metrics.compute` as the app runs it (roll-ups on) is compared with hand-written aggregate SQL
over the fact tables that knows nothing of `metrics`, the roll-ups or `data.units`: the subtree is
found by a recursive walk of `parent_id`, each KPI's formula is restated. Prints a Markdown table
and exits 1 on any difference; also prints how long each side took (the SQL side reads the facts:
at national scale a year to date is about 20 M rows of `channel_daily` alone).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import random
import sys
import time

from sqlalchemy import text
from sqlalchemy.orm import Session

import metrics.rollups  # noqa: F401  (registers the roll-ups compute reads)
from data.db import make_engine
from data.models import OrgUnit
from metrics.compute import compute

# The subtree by walking parent_id (not the materialised path the app uses).
SUBTREE = """WITH RECURSIVE sub(id) AS (
    SELECT id FROM org_unit WHERE code = :unit
    UNION ALL SELECT o.id FROM org_unit o JOIN sub ON o.parent_id = sub.id)"""

# Each outlet's user-stock row on its last day with data in the range.
LAST_STOCK = """SELECT s.* FROM user_stock_daily s JOIN (
        SELECT unit_id, max(day) AS last FROM user_stock_daily
        WHERE unit_id IN (SELECT id FROM sub) AND day BETWEEN :start AND :end GROUP BY unit_id
    ) l ON l.unit_id = s.unit_id AND l.last = s.day"""

CHANNEL = f"""{SUBTREE} SELECT
    sum(c.transactions) AS transactions,
    sum(c.visits) AS visits,
    sum(CASE WHEN k.kind = 'online' THEN c.transactions ELSE 0 END) AS online_transactions,
    sum(c.minutes_available) AS minutes_available,
    sum(c.minutes_scheduled) AS minutes_scheduled,
    sum(c.payments_online) AS payments_online,
    sum(c.payments_total) AS payments_total
  FROM channel_daily c JOIN carrier k ON k.id = c.carrier_id
  WHERE c.unit_id IN (SELECT id FROM sub) AND c.day BETWEEN :start AND :end"""

STOCK = f"""{SUBTREE}, last AS ({LAST_STOCK})
  SELECT sum(registered) AS registered, sum(customers) AS customers, sum(bound) AS bound FROM last"""

ORDERS = f"""{SUBTREE} SELECT
    sum(CASE WHEN category = 'complaint' AND created_day BETWEEN :start AND :end THEN 1 ELSE 0 END)
        AS complaints,
    sum(CASE WHEN closed_day BETWEEN :start AND :end THEN 1 ELSE 0 END) AS closed,
    sum(CASE WHEN closed_day BETWEEN :start AND :end AND closed_at <= sla_deadline THEN 1 ELSE 0 END)
        AS closed_on_time
  FROM work_order WHERE unit_id IN (SELECT id FROM sub)
  AND (created_day BETWEEN :start AND :end OR closed_day BETWEEN :start AND :end)"""


def ratio(num, den, scale=1.0):
    return None if not den else scale * float(num) / float(den)


def expected(conn, unit: str, start: dt.date, end: dt.date) -> dict[str, float | None]:
    """The sample's KPIs for `unit` from plain SQL over the facts."""
    p = {"unit": unit, "start": start, "end": end}
    ch = conn.execute(text(CHANNEL), p).mappings().one()
    st = conn.execute(text(STOCK), p).mappings().one()
    wo = conn.execute(text(ORDERS), p).mappings().one()
    return {
        "transactions": ch["transactions"],
        "visits": ch["visits"],
        "online_substitution": ratio(ch["online_transactions"], ch["transactions"]),
        "channel_availability": ratio(ch["minutes_available"], ch["minutes_scheduled"]),
        "online_payment": ratio(ch["payments_online"], ch["payments_total"]),
        "registered_users": st["registered"],
        "binding_rate": ratio(st["bound"], st["customers"]),
        "complaints_per_10k": ratio(wo["complaints"], st["customers"], 10_000),
        "on_time_rate": ratio(wo["closed_on_time"], wo["closed"]),
    }


def same(got, want) -> bool:
    if got is None or want is None:
        return got is None and want is None
    return math.isclose(float(got), float(want), rel_tol=1e-9, abs_tol=1e-9)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--units", default="HQ,ZJ",
                        help="unit codes; one more province is drawn at random (--seed)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    engine = make_engine(args.url)
    with engine.connect() as conn:
        last = conn.execute(text("SELECT max(day) FROM channel_daily")).scalar()
        provinces = conn.execute(text(
            "SELECT code FROM org_unit WHERE tier = 2 ORDER BY code")).scalars().all()
    last = last if isinstance(last, dt.date) else dt.date.fromisoformat(str(last))
    units = [u for u in args.units.split(",") if u]
    extra = [p for p in provinces if p not in units]
    if extra:
        units.append(random.Random(args.seed).choice(extra))
    periods = {"last 30 days": (last - dt.timedelta(days=29), last),
               "year to date": (dt.date(last.year, 1, 1), last)}
    print(f"Store's last day {last}; {len(provinces)} provinces; units {', '.join(units)}\n")
    print("| unit | period | KPI | compute | plain SQL | equal | compute ms | SQL ms |")
    print("|---|---|---|---|---|---|---|---|")
    failures = 0
    for code in units:
        for label, (start, end) in periods.items():
            with engine.connect() as conn:
                t0 = time.perf_counter()
                want = expected(conn, code, start, end)
                sql_ms = (time.perf_counter() - t0) * 1000
            with Session(engine) as session:
                unit = session.query(OrgUnit).filter_by(code=code).one()
                t0 = time.perf_counter()
                frame = compute(session, list(want), unit, start, end)
                compute_ms = (time.perf_counter() - t0) * 1000
            got = {r["kpi"]: r["value"] for r in frame.to_dict("records")}
            for i, (kpi, value) in enumerate(want.items()):
                ok = same(got[kpi], value)
                failures += not ok
                timing = (f"{compute_ms:,.0f} | {sql_ms:,.0f}" if i == 0 else " | ")
                print(f"| {code} | {label} | {kpi} | {got[kpi]} | {value} | "
                      f"{'yes' if ok else '**NO**'} | {timing} |")
    print(f"\n{failures} difference(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
