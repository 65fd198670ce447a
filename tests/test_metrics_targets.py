"""Targets (cascade, fitting to a range, per carrier), attainment, status, league tables, the 6x6
matrix and period comparisons, on the tiny demo."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from data.clock import month_end, months_between
from data.models import Carrier, OrgUnit, Target, WorkOrder
from data.units import unit_by_code
from jobs.demo import seed_demo
from metrics import registry
from metrics.compare import compare, previous_period, year_earlier
from metrics.compute import compute
from metrics.freshness import loaded_range
from metrics.league import league_table
from metrics.matrix import matrix
from metrics.stages import assess, assess_months
from metrics.targets import Bands, attainment, status, targets_for
from tests.conftest import DEMO_END, seeded_store

JUNE = (dt.date(2026, 6, 1), dt.date(2026, 6, 30))


@pytest.fixture
def session(tiny_store):
    with Session(tiny_store.engine) as s:
        yield s


def stored(session, kpi, code, carrier=None, year=2026):
    unit = unit_by_code(session, code)
    carrier_id = session.scalar(select(Carrier.id).where(Carrier.code == carrier)) if carrier else None
    return session.scalar(select(Target.value).where(
        Target.kpi == kpi, Target.unit_id == unit.id, Target.period_start == dt.date(year, 1, 1),
        Target.carrier_id.is_(None) if carrier_id is None else Target.carrier_id == carrier_id))


def test_a_unit_without_its_own_target_takes_its_nearest_ancestors(session):
    hz_outlet, nb_outlet = unit_by_code(session, "ZJ-HZ-01-01"), unit_by_code(session, "ZJ-NB-01-01")
    hz = targets_for(session, ["online_substitution"], hz_outlet, *JUNE)["online_substitution"]
    nb = targets_for(session, ["online_substitution"], nb_outlet, *JUNE)["online_substitution"]
    assert hz.set_at == "ZJ-HZ" and hz.inherited
    assert hz.value == pytest.approx(stored(session, "online_substitution", "ZJ-HZ"))
    assert nb.set_at == "HQ" and nb.value == pytest.approx(stored(session, "online_substitution", "HQ"))
    assert hz.value > nb.value  # the city's override is stricter than HQ's


def test_volume_plans_are_prorated_to_the_range(session):
    outlet = unit_by_code(session, "ZJ-HZ-01-01")
    got = targets_for(session, ["visits"], outlet, *JUNE)["visits"]
    assert got.set_at == "ZJ-HZ-01-01" and not got.inherited
    assert got.value == pytest.approx(stored(session, "visits", "ZJ-HZ-01-01") * 30 / 365)
    one_day = targets_for(session, ["visits"], outlet, JUNE[0], JUNE[0])["visits"]
    assert one_day.value == pytest.approx(got.value / 30)


def test_a_range_partly_without_targets(session):
    unit = unit_by_code(session, "ZJ")
    across = (dt.date(2025, 12, 20), dt.date(2026, 1, 10))  # the demo has no 2025 targets
    got = targets_for(session, ["visits", "satisfaction"], unit, *across)
    assert got["visits"] is None  # a plan covering part of the range would understate it
    assert got["satisfaction"].value == pytest.approx(stored(session, "satisfaction", "HQ"))


def test_per_carrier_targets(session):
    unit = unit_by_code(session, "ZJ-NB")
    app = targets_for(session, ["visits", "satisfaction", "registered_users"], unit, *JUNE, "app")
    assert app["visits"].value == pytest.approx(stored(session, "visits", "ZJ-NB", "app") * 30 / 365)
    total = targets_for(session, ["visits"], unit, *JUNE)["visits"]
    assert app["visits"].value < total.value
    assert app["satisfaction"].value == pytest.approx(stored(session, "satisfaction", "HQ"))
    assert app["registered_users"] is None  # no per-carrier plan, and a volume never falls back


def test_monthly_and_unit_overrides_mix_by_day(empty_store):
    seed_demo(empty_store.engine, "tiny", 42, DEMO_END)
    with Session(empty_store.engine) as s:
        county = unit_by_code(s, "ZJ-HZ-01")
        s.add(Target(kpi="satisfaction", unit_id=county.id, carrier_id=None,
                     period_start=dt.date(2026, 6, 1), period_end=dt.date(2026, 6, 30), value=0.99))
        s.commit()
        outlet = unit_by_code(s, "ZJ-HZ-01-01")
        hz = stored(s, "satisfaction", "ZJ-HZ")
        june = targets_for(s, ["satisfaction"], outlet, *JUNE)["satisfaction"]
        assert june.value == pytest.approx(0.99) and june.set_at == "ZJ-HZ-01"
        mixed = targets_for(s, ["satisfaction"], outlet, dt.date(2026, 5, 22),
                            dt.date(2026, 6, 8))["satisfaction"]
        assert mixed.value == pytest.approx((10 * hz + 8 * 0.99) / 18)
        sibling = unit_by_code(s, "ZJ-HZ-02-01")
        assert targets_for(s, ["satisfaction"], sibling, *JUNE)["satisfaction"].value == \
            pytest.approx(hz)


# Every edge case of attainment, decided once in metrics/targets.py (its docstring has this table).
# Expected values by hand: ratio value/target (higher) or target/value (lower), within 0..2.
ATTAINMENT_CASES = [
    # better, value, target, expected
    ("higher", 0.8, 0.8, 1.0), ("higher", 0.4, 0.8, 0.5), ("higher", 3.0, 1.0, 2.0),
    ("higher", 0.0, 0.8, 0.0),  # nothing against a positive target: missed entirely
    ("higher", 0.0, 0.0, 1.0),  # a target of nothing, met exactly
    ("higher", 1.0, 0.0, 2.0),  # anything above a target of nothing: the cap
    ("higher", -1.0, 0.5, 0.0), ("higher", -1.0, 0.0, 0.0),  # negative values miss
    ("higher", 0.5, -1.0, None),  # a negative target has no meaningful ratio
    ("higher", None, 0.5, None), ("higher", 0.5, None, None), ("higher", None, None, None),
    ("higher", float("nan"), 0.5, None), ("higher", 0.5, float("nan"), None),
    ("lower", 10.0, 20.0, 2.0), ("lower", 40.0, 20.0, 0.5), ("lower", 5.0, 20.0, 2.0),
    ("lower", 0.0, 20.0, 2.0),  # zero is the best value: fully attained, never "no value"
    ("lower", 0.0, 0.0, 1.0),  # a target of 0 is met by 0 ...
    ("lower", 3.0, 0.0, 0.0),  # ... and missed by anything above it
    ("lower", -2.0, 20.0, 2.0), ("lower", -2.0, 0.0, 2.0),  # below the target
    ("lower", 5.0, -1.0, None), ("lower", 0.0, -1.0, None),
    ("lower", None, 20.0, None), ("lower", 10.0, None, None), ("lower", float("nan"), 20.0, None),
]


@pytest.mark.parametrize("better, value, target, expected", ATTAINMENT_CASES)
def test_attainment_decides_every_edge_case(better, value, target, expected):
    kpi = next(k for k in registry.KPIS if k.better == better)
    got = attainment(kpi, value, target)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected)


@pytest.mark.parametrize("better, value, target", [("lower", 0.0, 20.0), ("lower", 0.0, 0.0),
                                                   ("higher", 0.0, 0.0), ("higher", 1.0, 0.0)])
def test_zero_on_target_is_green_and_counts_as_on_target(better, value, target):
    kpi = next(k for k in registry.KPIS if k.better == better)
    att = attainment(kpi, value, target)
    assert att is not None and att >= 1.0 and status(att) == "green"


def _present(value) -> bool:
    return value is not None and value == value  # not None, not NaN


def _on_target(kpi, value: float, target: float) -> bool:
    """By comparison, not by attainment: at or above a higher-is-better target, at or below a
    lower-is-better one."""
    return value >= target if kpi.better == "higher" else value <= target


def _part(kpi, value: float, target: float) -> float:
    """A KPI's share of a matrix score, by hand: 1 on target, else the ratio (never 0 / 0 here)."""
    if _on_target(kpi, value, target):
        return 1.0
    return value / target if kpi.better == "higher" else target / value


def test_zero_of_a_lower_is_better_kpi_counts_over_the_whole_demo(session):
    """Every unit, every month: each KPI with a value and a target (zero included) is judged in
    "KPIs on target" and scored in the matrix; the expectation comes from compute()/targets_for()."""
    first, last = loaded_range(session)
    carriers = list(session.scalars(select(Carrier.code).order_by(Carrier.sort_order)))
    all_ids = [k.id for k in registry.KPIS]
    carrier_ids = [k.id for k in registry.KPIS if k.carriers]
    zeros = 0
    for unit in session.scalars(select(OrgUnit).order_by(OrgUnit.code)).all():
        stages = {a.month: a for a in assess_months(session, unit, first, last, last)}
        for month in months_between(first, last):
            end = min(month_end(month), last)
            values = compute(session, all_ids, unit, month, end).set_index("kpi")["value"]
            targets = targets_for(session, all_ids, unit, month, end)
            judged = [(k, values[k.id], targets[k.id].value) for k in registry.KPIS
                      if _present(values[k.id]) and targets[k.id] is not None]
            for k, v, t in judged:
                if k.better == "lower" and v == 0:
                    zeros += 1
                    assert attainment(k, v, t) is not None
            share = next(c.value for c in stages[month].criteria if c.id == "kpis_on_target")
            expected = sum(_on_target(*j) for j in judged) / len(judged) if judged else None
            assert share == (pytest.approx(expected) if judged else None), (unit.code, month)

            cells = matrix(session, unit, month, end).set_index(["core", "carrier"])
            by_carrier = compute(session, carrier_ids, unit, month, end, by="carrier")
            value_of = {(r.kpi, r.carrier): r.value for r in by_carrier.itertuples()}
            for carrier in carriers:
                carrier_targets = targets_for(session, carrier_ids, unit, month, end, carrier)
                for core in registry.CORES:
                    kpis = registry.applicable(core, carrier)
                    if not kpis:
                        continue
                    scored = [(k, value_of[(k.id, carrier)], carrier_targets[k.id].value)
                              for k in kpis if _present(value_of.get((k.id, carrier)))
                              and carrier_targets[k.id] is not None]
                    zeros += sum(k.better == "lower" and v == 0 for k, v, _ in scored)
                    cell = cells.loc[(core, carrier)]
                    where = (unit.code, month, core, carrier)
                    assert cell["scored"] == len(scored), where
                    if scored:
                        parts = [_part(*x) for x in scored]
                        assert cell["score"] == pytest.approx(100 * sum(parts) / len(parts)), where
                    else:
                        assert cell["status"] == "no_data", where
    assert zeros > 0  # the demo has such zeros, so the property was put to the test


def test_an_outlet_without_complaints_has_them_on_target(tmp_path):
    """An outlet with no complaint in June: complaints per 10k (lower is better) is 0, which is on
    target and counts among the KPIs judged for its stage (it used to be left out)."""
    store = seeded_store("sqlite", tmp_path)
    try:
        with Session(store.engine) as s:
            outlet = unit_by_code(s, "ZJ-HZ-01-01")
            s.query(WorkOrder).filter(WorkOrder.unit_id == outlet.id,
                                      WorkOrder.category == "complaint",
                                      WorkOrder.created_day >= JUNE[0],
                                      WorkOrder.created_day <= JUNE[1]).delete()
            s.commit()
            ids = [k.id for k in registry.KPIS]
            values = compute(s, ids, outlet, *JUNE).set_index("kpi")["value"]
            assert values["complaints_per_10k"] == 0
            targets = targets_for(s, ids, outlet, *JUNE)
            judged = [k for k in registry.KPIS
                      if _present(values[k.id]) and targets[k.id] is not None]
            assert registry.REGISTRY["complaints_per_10k"] in judged
            on = sum(_on_target(k, values[k.id], targets[k.id].value) for k in judged)
            found = assess(s, outlet, JUNE[0], DEMO_END)
            share = next(c.value for c in found.criteria if c.id == "kpis_on_target")
            assert share == pytest.approx(on / len(judged))
    finally:
        store.drop()


@pytest.mark.parametrize("att, bands, expected", [
    (1.0, Bands(), "green"), (0.97, Bands(), "amber"), (0.949, Bands(), "red"), (None, Bands(), None),
    (0.92, Bands(green=0.9, amber=0.8), "green"), (0.85, Bands(green=0.9, amber=0.8), "amber"),
])
def test_status_bands_are_configurable(att, bands, expected):
    assert status(att, bands) == expected


def test_league_table_ranks_siblings_by_attainment(session):
    province = unit_by_code(session, "ZJ")
    table = league_table(session, "online_substitution", province, *JUNE)
    assert list(table["unit"]) and set(table["unit"]) == {"ZJ-HZ", "ZJ-NB"}
    assert list(table["rank"]) == [1, 2] and set(table["ranked_by"]) == {"attainment"}
    atts = list(table["attainment"])
    assert atts[0] >= atts[1]
    direct = compute(session, ["online_substitution"], province, *JUNE, by="child")
    for row in table.itertuples():
        assert row.value == pytest.approx(direct.set_index("unit").loc[row.unit, "value"])
        assert row.attainment == pytest.approx(row.value / row.target)


def test_league_table_for_a_lower_is_better_kpi(session):
    table = league_table(session, "avg_response_minutes", unit_by_code(session, "ZJ-HZ"), *JUNE)
    first, second = table.iloc[0], table.iloc[1]
    assert first["attainment"] >= second["attainment"]
    assert first["value"] <= second["value"]  # the same target, so lower response time ranks first


def test_matrix_cells_na_exactly_where_no_kpi_applies(session):
    cells = matrix(session, unit_by_code(session, "ZJ"), *JUNE)
    assert len(cells) == 36
    na = {(r.core, r.carrier) for r in cells.itertuples() if r.status == "n/a"}
    assert na == {("content", "web"), ("content", "hotline"), ("content", "hall"),
                  ("campaign", "web"), ("campaign", "hotline"), ("user", "hotline")}
    assert cells[cells.status != "n/a"].score.notna().all()


def test_matrix_score_follows_the_documented_formula(session):
    unit = unit_by_code(session, "ZJ-NB")
    cells = matrix(session, unit, *JUNE).set_index(["core", "carrier"])
    for core, carrier in (("channel", "hall"), ("service", "hotline"), ("campaign", "app")):
        kpis = [k.id for k in registry.applicable(core, carrier)]
        values = compute(session, kpis, unit, *JUNE, carriers=[carrier]).set_index("kpi")["value"]
        targets = targets_for(session, kpis, unit, *JUNE, carrier)
        parts = [min(attainment(registry.get(k), values[k], targets[k].value), 1.0)
                 for k in kpis if targets[k] is not None and values[k] is not None]
        assert cells.loc[(core, carrier), "score"] == pytest.approx(100 * sum(parts) / len(parts))
        assert cells.loc[(core, carrier), "scored"] == len(parts)


def test_compare_with_previous_period_and_last_year(session):
    unit = unit_by_code(session, "ZJ-HZ")
    kpis = ["visits", "online_substitution", "registered_users"]
    table = compare(session, kpis, unit, *JUNE).set_index("kpi")
    before = compute(session, kpis, unit, *previous_period(*JUNE)).set_index("kpi")["value"]
    assert previous_period(*JUNE) == (dt.date(2026, 5, 2), dt.date(2026, 5, 31))
    for k in kpis:
        assert table.loc[k, "previous"] == pytest.approx(before[k])
        assert table.loc[k, "previous_change"] == pytest.approx(table.loc[k, "value"] - before[k])
        assert table.loc[k, "last_year"] is None and table.loc[k, "last_year_change"] is None


def test_year_earlier_handles_leap_days():
    assert year_earlier(dt.date(2028, 2, 1), dt.date(2028, 2, 29)) == (dt.date(2027, 2, 1),
                                                                       dt.date(2027, 2, 28))
