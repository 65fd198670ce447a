"""Targets (cascade, fitting to a range, per carrier), attainment, status, league tables, the 6x6
matrix and period comparisons, on the tiny demo."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from data.demo import seed_demo
from data.models import Carrier, Target
from data.units import unit_by_code
from metrics import registry
from metrics.compare import compare, previous_period, year_earlier
from metrics.compute import compute
from metrics.league import league_table
from metrics.matrix import matrix
from metrics.targets import Bands, attainment, status, targets_for
from tests.conftest import DEMO_END

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


@pytest.mark.parametrize("better, value, target, expected", [
    ("higher", 0.8, 0.8, 1.0), ("higher", 0.4, 0.8, 0.5), ("higher", 1.0, 0.0, None),
    ("lower", 10.0, 20.0, 2.0), ("lower", 40.0, 20.0, 0.5), ("lower", 0.0, 20.0, None),
    ("higher", None, 0.5, None), ("higher", 0.5, None, None),
])
def test_attainment_is_direction_aware(better, value, target, expected):
    kpi = next(k for k in registry.KPIS if k.better == better)
    assert attainment(kpi, value, target) == (pytest.approx(expected) if expected else None)


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
