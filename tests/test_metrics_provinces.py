"""HQ over three provinces (the multi store): for random KPIs, ranges and carriers, HQ's value is
the combination of its provinces' — flows the sum, ratios sum(numerators) / sum(denominators), stocks
the sum of the period-end levels, distinct actives the sum — and HQ "by child" lists exactly the
provinces, each with its own figures.

The provinces' figures are computed here in plain SQL (`sqlalchemy.text`, one aggregate query per
province and measure, the subtree found by its path), not with `metrics`; HQ's expected figures
are combined from them in Python.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session

from data.units import unit_by_code
from metrics.compute import compute
from metrics.registry import KPIS
from tests.conftest import DEMO_END

DATA_START = DEMO_END - dt.timedelta(days=179)
PROVINCES = ("ZJ", "JS", "AH")
ALL_CODES = ("app", "wechat", "alipay", "web", "hotline", "hall")
CARRIERS = [None, ("app",), ("hall",), ("wechat", "alipay"), ("web", "hotline", "hall"), ALL_CODES]
KPI_IDS = [k.id for k in KPIS]

# A measure: (source, SQL expression summed over its rows; f is the fact row, k its carrier).
# Flows sum over the range's rows (none: NULL); work orders are events (rows, not daily loads).
FLOW_TABLES = {"channel": ("channel_daily", "day"), "content": ("content_daily", "day"),
               "campaign": ("campaign_daily", "day"), "created": ("work_order", "created_day"),
               "closed": ("work_order", "closed_day"), "hotline": ("hotline_interval", "day")}
EVENTS = ("created", "closed")
ONE = "1"
ONLINE = "CASE WHEN k.kind = 'online' THEN {} ELSE 0 END"
WHEN = "CASE WHEN {} THEN 1 ELSE 0 END"
RATED = "f.rating IS NOT NULL"
RESPONDED = "f.response_minutes IS NOT NULL"


def ch(expr: str) -> tuple[str, str]:
    return ("channel", expr)


CUSTOMERS, REGISTERED = ("stock", "customers"), ("stock", "registered")
# kpi -> (kind, numerator, denominator, scale)
SQL_KPIS: dict[str, tuple[str, tuple[str, str], tuple[str, str] | None, float]] = {
    "channel_availability": ("ratio", ch("f.minutes_available"), ch("f.minutes_scheduled"), 1),
    "online_substitution": ("ratio", ch(ONLINE.format("f.transactions")), ch("f.transactions"), 1),
    "visits": ("sum", ch("f.visits"), None, 1),
    "transactions": ("sum", ch("f.transactions"), None, 1),
    "registered_users": ("stock", REGISTERED, None, 1),
    "new_registrations": ("sum", ch("f.registrations"), None, 1),
    "binding_rate": ("ratio", ("stock", "bound"), CUSTOMERS, 1),
    "mau": ("distinct", ("actives", "active_users"), None, 1),
    "activity_rate": ("ratio", ("actives", "active_users"), REGISTERED, 1),
    "profile_coverage": ("ratio", ("stock", "profiled"), REGISTERED, 1),
    "online_handling": ("ratio", ch("f.applications_online"), ch("f.applications_total"), 1),
    "online_payment": ("ratio", ch("f.payments_online"), ch("f.payments_total"), 1),
    "payment_amount": ("sum", ch("f.payment_amount_total"), None, 1),
    "ebill_rate": ("ratio", ("stock", "ebill"), CUSTOMERS, 1),
    "avg_handling_days": ("ratio", ch("f.completion_days_sum"), ch("f.applications_completed"), 1),
    "pushes": ("sum", ("content", "f.pushes"), None, 1),
    "open_rate": ("ratio", ("content", "f.opens"), ("content", "f.delivered"), 1),
    "click_rate": ("ratio", ("content", "f.clicks"), ("content", "f.opens"), 1),
    "participants": ("sum", ("campaign", "f.participants"), None, 1),
    "conversion_rate": ("ratio", ("campaign", "f.conversions"), ("campaign", "f.participants"), 1),
    "cost_per_conversion": ("ratio", ("campaign", "f.cost"), ("campaign", "f.conversions"), 1),
    "work_orders_per_10k": ("ratio", ("created", ONE), CUSTOMERS, 10_000),
    "complaints_per_10k": ("ratio", ("created", WHEN.format("f.category = 'complaint'")), CUSTOMERS,
                           10_000),
    "first_contact_resolution": ("ratio", ("closed", WHEN.format("f.first_contact_resolved")),
                                 ("closed", ONE), 1),
    "on_time_rate": ("ratio", ("closed", WHEN.format(
        "f.closed_at IS NOT NULL AND f.closed_at <= f.sla_deadline")), ("closed", ONE), 1),
    "avg_response_minutes": ("ratio", ("created", f"CASE WHEN {RESPONDED} THEN f.response_minutes "
                                                  "ELSE 0 END"),
                             ("created", WHEN.format(RESPONDED)), 1),
    "satisfaction": ("ratio", ("closed", WHEN.format(f"{RATED} AND f.rating >= 4")),
                     ("closed", WHEN.format(RATED)), 1),
    # the contact centres' intervals, at the cities
    "service_level": ("ratio", ("hotline", "f.answered_20s"), ("hotline", "f.offered"), 1),
    "abandonment_rate": ("ratio", ("hotline", "f.abandoned"), ("hotline", "f.offered"), 1),
    "avg_speed_of_answer": ("ratio", ("hotline", "f.wait_seconds"), ("hotline", "f.answered"), 1),
    "avg_handle_time": ("ratio", ("hotline", "f.handle_seconds"), ("hotline", "f.answered"), 1),
}

SUBTREE = "JOIN org_unit o ON o.id = f.unit_id JOIN org_unit p ON o.path LIKE p.path || '%'"

SETTINGS = settings(max_examples=30, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def number(v):
    return float(v) if isinstance(v, Decimal) else v


def carrier_ids(conn, carriers) -> list[int] | None:
    """The carriers' ids; None for every carrier (none chosen, or all of them)."""
    if not carriers or set(carriers) >= set(ALL_CODES):
        return None
    return list(conn.execute(text("SELECT id FROM carrier WHERE code IN ("
                                  + ", ".join(f"'{c}'" for c in carriers) + ")")).scalars())


def measure(conn, measure_: tuple[str, str], province: str, start: dt.date, end: dt.date,
            carriers: list[int] | None):
    """One province's figure for a measure, in one SQL query; None when no row is behind it."""
    source, expr = measure_
    params = {"p": province, "a": start, "b": end}
    if source in FLOW_TABLES:
        table, day = FLOW_TABLES[source]
        only = f" AND f.carrier_id IN ({', '.join(map(str, carriers))})" if carriers else ""
        return number(conn.execute(text(f"""SELECT sum({expr}) FROM {table} f
            JOIN carrier k ON k.id = f.carrier_id {SUBTREE}
            WHERE p.code = :p AND f.{day} BETWEEN :a AND :b{only}"""), params).scalar())
    if source == "stock":  # each outlet's row on its last day with data in the range
        return number(conn.execute(text(f"""SELECT sum(f.{expr}) FROM user_stock_daily f {SUBTREE}
            WHERE p.code = :p AND f.day = (SELECT max(l.day) FROM user_stock_daily l
              WHERE l.unit_id = f.unit_id AND l.day BETWEEN :a AND :b)"""), params).scalar())
    # distinct actives: each outlet's latest month from the start's month; one carrier's own
    # table for one carrier, none for several (they cannot be added up)
    params["a"] = start.replace(day=1)
    if carriers is None:
        return number(conn.execute(text(f"""SELECT sum(f.{expr}) FROM monthly_active_total f
            {SUBTREE} WHERE p.code = :p AND f.month = (SELECT max(l.month)
              FROM monthly_active_total l WHERE l.unit_id = f.unit_id
              AND l.month BETWEEN :a AND :b)"""), params).scalar())
    if len(carriers) > 1:
        return None
    return number(conn.execute(text(f"""SELECT sum(f.{expr}) FROM monthly_active f {SUBTREE}
        WHERE p.code = :p AND f.carrier_id = :c AND f.month = (SELECT max(l.month)
          FROM monthly_active l WHERE l.unit_id = f.unit_id AND l.carrier_id = f.carrier_id
          AND l.month BETWEEN :a AND :b)"""), {**params, "c": carriers[0]}).scalar())


Cell = tuple[float | None, float | None, float | None]


def combine(kpi: str, num, den) -> Cell:
    """(value, numerator, denominator) from a numerator and denominator, as every KPI's kind says."""
    kind, num_m, _, scale = SQL_KPIS[kpi]
    if kind != "ratio":
        return num, num, None
    if num is None and den and num_m[0] in EVENTS:
        num = 0  # no work order over a period with customers: zero, not a gap
    return (scale * num / den if num is not None and den else None), num, den


def total(values) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def provinces_in_sql(store, kpis, start, end, carriers) -> dict[str, dict[str, Cell]]:
    """Every province's (value, numerator, denominator) per KPI, from plain SQL."""
    out: dict[str, dict[str, Cell]] = {}
    with store.engine.connect() as conn:
        ids = carrier_ids(conn, carriers)
        for province in PROVINCES:
            out[province] = {}
            for kpi in kpis:
                _, num_m, den_m, _ = SQL_KPIS[kpi]
                num = measure(conn, num_m, province, start, end, ids)
                den = measure(conn, den_m, province, start, end, ids) if den_m else None
                out[province][kpi] = combine(kpi, num, den)
    return out


def hq_from_provinces(parts: dict[str, dict[str, Cell]], kpi: str) -> Cell:
    """HQ's figures combined from the provinces': numerators and denominators add up (flows,
    period-end levels and actives alike), and a ratio is their quotient."""
    num = total(parts[p][kpi][1] for p in PROVINCES)
    den = total(parts[p][kpi][2] for p in PROVINCES)
    return combine(kpi, num, den)


def same(got, want) -> bool:
    if got is None or want is None:
        return got is None and want is None
    return got == pytest.approx(want, rel=1e-9)


def rows(store, kpis, unit, start, end, carriers, by=None) -> list[dict]:
    with Session(store.engine) as session:
        frame = compute(session, kpis, unit_by_code(session, unit), start, end,
                        list(carriers) if carriers else None, by)
    return frame.to_dict("records")


def figures(row: dict | None) -> Cell:
    return (None, None, None) if row is None else (row["value"], row["numerator"],
                                                   row["denominator"])


@st.composite
def ranges(draw) -> tuple[dt.date, dt.date]:
    first = draw(st.integers(0, 179))
    length = draw(st.integers(0, 179 - first))
    start = DATA_START + dt.timedelta(days=first)
    return start, start + dt.timedelta(days=length)


def test_sql_restates_every_kpi():
    assert set(SQL_KPIS) == set(KPI_IDS)
    for k in KPIS:
        kind, _, den, scale = SQL_KPIS[k.id]
        assert (k.kind, k.scale, k.kind == "ratio") == (kind, scale, den is not None), k.id


@SETTINGS
@given(kpis=st.lists(st.sampled_from(KPI_IDS), min_size=1, max_size=8, unique=True),
       rng=ranges(), carriers=st.sampled_from(CARRIERS))
def test_hq_is_the_combination_of_its_provinces(multi_store, kpis, rng, carriers):
    start, end = rng
    parts = provinces_in_sql(multi_store, kpis, start, end, carriers)
    hq = {r["kpi"]: r for r in rows(multi_store, kpis, "HQ", start, end, carriers)}
    by_child = rows(multi_store, kpis, "HQ", start, end, carriers, by="child")
    problems = []
    for kpi in kpis:
        want = hq_from_provinces(parts, kpi)
        if not all(same(g, w) for g, w in zip(figures(hq.get(kpi)), want, strict=True)):
            problems.append(f"HQ {kpi}: got {figures(hq.get(kpi))}, want {want}")
    # by child at HQ: exactly the provinces with something behind the KPIs, each its own figures
    with_data = {p for p in PROVINCES if any(c[1] is not None or c[2] is not None
                                             for c in parts[p].values())}
    listed = {r["unit"] for r in by_child}
    if listed != with_data:
        problems.append(f"by child lists {sorted(listed)}, want {sorted(with_data)}")
    got = {(r["unit"], r["kpi"]) for r in by_child}
    for p in with_data:
        missing = [k for k, c in parts[p].items() if (c[1] is not None or c[2] is not None)
                   and (p, k) not in got]
        if missing:
            problems.append(f"{p}: no row for {missing}")
    for r in by_child:
        if r["unit"] in parts and not all(same(g, w) for g, w in zip(
                figures(r), parts[r["unit"]][r["kpi"]], strict=True)):
            problems.append(f"{r['unit']} {r['kpi']}: got {figures(r)}, "
                            f"want {parts[r['unit']][r['kpi']]}")
    assert not problems, (f"{multi_store.kind} {start}..{end} carriers={carriers}:\n  "
                          + "\n  ".join(problems[:30]))


def test_hq_by_child_lists_exactly_the_provinces(multi_store):
    """Over the whole demo, every KPI: one row per province and KPI, and no other unit."""
    found = rows(multi_store, KPI_IDS, "HQ", DATA_START, DEMO_END, None, by="child")
    assert sorted({r["unit"] for r in found}) == sorted(PROVINCES)
    assert sorted((r["unit"], r["kpi"]) for r in found) == sorted(
        (p, k) for p in PROVINCES for k in KPI_IDS)
    parts = provinces_in_sql(multi_store, KPI_IDS, DATA_START, DEMO_END, None)
    for r in found:
        assert all(same(g, w) for g, w in zip(figures(r), parts[r["unit"]][r["kpi"]],
                                              strict=True)), r
        assert r["value"] is not None, r  # every province has data for every KPI here
