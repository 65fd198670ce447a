"""Properties of `metrics.compute.compute` over random units, ranges and carriers of the tiny demo:
parents add up over their children, flows add up over months and carriers, and a stock over a range
is the stock on the range's last day when every outlet has data on it."""

from __future__ import annotations

import datetime as dt

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
KPI_IDS = [k.id for k in KPIS]
KIND = {k.id: k.kind for k in KPIS}
SCALE = {"work_orders_per_10k": 10_000, "complaints_per_10k": 10_000}  # else 1
FLOW_SUMS = ["visits", "transactions", "new_registrations", "payment_amount", "pushes",
             "participants"]
FLOW_RATIOS = ["channel_availability", "online_handling", "open_rate", "cost_per_conversion",
               "first_contact_resolution", "avg_response_minutes", "satisfaction",
               "service_level", "avg_handle_time"]
STOCKS = ["registered_users", "binding_rate", "profile_coverage", "ebill_rate"]
HOTLINE_KPIS = ["service_level", "abandonment_rate", "avg_speed_of_answer", "avg_handle_time"]
CITIES = ["ZJ-HZ", "ZJ-NB"]  # the tiny demo's contact centres

PARENTS = ["HQ", "ZJ", "ZJ-HZ", "ZJ-NB", "ZJ-HZ-01", "ZJ-HZ-02", "ZJ-NB-01", "ZJ-NB-02"]
UNITS = PARENTS + ["ZJ-HZ-01-01", "ZJ-HZ-02-01", "ZJ-NB-01-02", "ZJ-NB-02-01"]
CARRIERS = [None, ("app",), ("hall",), ("app", "wechat"), ("web", "hotline", "hall")]

SETTINGS = settings(max_examples=25, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def ranges(draw) -> tuple[dt.date, dt.date]:
    first = draw(st.integers(0, 179))
    length = draw(st.integers(0, 179 - first))
    start = DATA_START + dt.timedelta(days=first)
    return start, start + dt.timedelta(days=length)


def same(got, want) -> bool:
    if got is None or want is None:
        return got is None and want is None
    return got == pytest.approx(want, rel=1e-9)


def total(values) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def run(store, kpis, unit, start, end, carriers=None, by=None):
    with Session(store.engine) as session:
        frame = compute(session, kpis, unit_by_code(session, unit), start, end,
                        list(carriers) if carriers else None, by)
    return frame.to_dict("records")


def check_value(row) -> None:
    """value = scale * numerator / denominator for ratios (None on 0 or missing); else numerator."""
    value, num, den = row["value"], row["numerator"], row["denominator"]
    if KIND[row["kpi"]] == "ratio":
        want = SCALE.get(row["kpi"], 1) * num / den if num is not None and den else None
        assert same(value, want), row
    else:
        assert den is None and same(value, num), row


@SETTINGS
@given(unit=st.sampled_from(PARENTS), rng=ranges(), carriers=st.sampled_from(CARRIERS))
def test_parents_add_up_over_their_children(tiny_store, unit, rng, carriers):
    whole = {r["kpi"]: r for r in run(tiny_store, KPI_IDS, unit, *rng, carriers)}
    children = run(tiny_store, KPI_IDS, unit, *rng, carriers, by="child")
    assert {r["unit"] for r in children}  # every child of a parent has some data
    # A city's contact centre is the city's own (hotline intervals sit at the answering unit):
    # above the cities the hotline adds up over children, at a city its counties have none.
    own = set(HOTLINE_KPIS) if unit in CITIES else set()
    for kpi in own:
        assert all(r["numerator"] is None for r in children if r["kpi"] == kpi)
        assert (carriers is not None and "hotline" not in carriers) \
            or whole[kpi]["denominator"], kpi
    for kpi in [k for k in KPI_IDS if k not in own]:
        rows = [r for r in children if r["kpi"] == kpi]
        for column in ("numerator", "denominator"):
            assert same(whole[kpi][column], total(r[column] for r in rows)), (kpi, column, rows)
        for row in [whole[kpi], *rows]:
            check_value(row)


@SETTINGS
@given(unit=st.sampled_from(UNITS), rng=ranges(), carriers=st.sampled_from(CARRIERS))
def test_flows_add_up_over_months_and_carriers(tiny_store, unit, rng, carriers):
    kpis = FLOW_SUMS + FLOW_RATIOS
    whole = {r["kpi"]: r for r in run(tiny_store, kpis, unit, *rng, carriers)}
    months = run(tiny_store, kpis, unit, *rng, carriers, by="month")
    per_carrier = run(tiny_store, kpis, unit, *rng, carriers, by="carrier")
    assert {r["carrier"] for r in per_carrier} <= set(carriers or ["app", "wechat", "alipay", "web",
                                                                    "hotline", "hall"])
    for kpi in kpis:
        for split in (months, per_carrier):
            rows = [r for r in split if r["kpi"] == kpi]
            for column in ("numerator", "denominator"):
                assert same(whole[kpi][column], total(r[column] for r in rows)), (kpi, column)
            for row in rows:
                check_value(row)


def outlets_with_stock(store, unit: str, day: dt.date) -> tuple[int, int]:
    """Return (outlets of the unit, those with a stock row on `day`), in plain SQL."""
    with store.engine.connect() as conn:
        return tuple(conn.execute(text("""
            SELECT count(*), count(s.unit_id) FROM org_unit o
            JOIN org_unit u ON o.path LIKE u.path || '%'
            LEFT JOIN user_stock_daily s ON s.unit_id = o.id AND s.day = :d
            WHERE u.code = :u AND o.tier = 5"""), {"u": unit, "d": day}).one())


@SETTINGS
@given(unit=st.sampled_from(UNITS), rng=ranges(), carriers=st.sampled_from(CARRIERS))
def test_a_stock_over_a_range_is_the_stock_on_its_last_day(tiny_store, unit, rng, carriers):
    start, end = rng
    kpis = [*STOCKS, "mau"]
    over = {r["kpi"]: r for r in run(tiny_store, kpis, unit, start, end, carriers)}
    last = {r["kpi"]: r for r in run(tiny_store, kpis, unit, end, end, carriers)}
    outlets, with_data = outlets_with_stock(tiny_store, unit, end)
    for kpi in STOCKS:
        if with_data == outlets:
            for column in ("value", "numerator", "denominator"):
                assert same(over[kpi][column], last[kpi][column]), (kpi, column)
        else:  # an outlet without data on the last day still counts with its last day before
            for column in ("numerator", "denominator"):
                assert (over[kpi][column] or 0) >= (last[kpi][column] or 0), (kpi, column)
    # every outlet has monthly actives for every month: the range's last month answers
    assert same(over["mau"]["value"], last["mau"]["value"])
