"""Migrations and the catalogue, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select

from data.catalog import CARRIERS, CORES
from data.models import Base, Carrier, Core
from jobs.schema import downgrade, is_current, upgrade
from tests.conftest import DB_KINDS, new_store


@pytest.mark.parametrize("kind", DB_KINDS)
def test_migrations_go_up_and_down(kind, tmp_path):
    store = new_store(kind, tmp_path, migrate=False)
    try:
        assert not is_current(store.engine)
        upgrade(store.engine)
        assert is_current(store.engine)
        tables = set(inspect(store.engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        downgrade(store.engine)
        assert set(inspect(store.engine).get_table_names()) <= {"alembic_version"}
        upgrade(store.engine)
        assert is_current(store.engine)
    finally:
        store.drop()


def test_migrated_schema_matches_the_models(empty_store):
    # Autogenerate against the migrated store must find nothing to do.
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with empty_store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_catalogue_is_seeded_once_and_edits_survive(empty_store):
    from sqlalchemy.orm import Session

    with Session(empty_store.engine) as s:
        assert [c.code for c in s.scalars(select(Core).order_by(Core.sort_order))] == [
            c[1] for c in CORES]
        assert [c.code for c in s.scalars(select(Carrier).order_by(Carrier.sort_order))] == [
            c[1] for c in CARRIERS]
        s.get(Carrier, 1).name_en = "State Grid app"
        s.commit()
    upgrade(empty_store.engine)  # runs ensure_catalog again
    with Session(empty_store.engine) as s:
        assert s.get(Carrier, 1).name_en == "State Grid app"
        assert len(s.scalars(select(Carrier)).all()) == 6


def test_init_db_command_is_repeatable(empty_store, runner_for):
    runner = runner_for(empty_store.url)
    for _ in range(2):
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        assert "newest schema" in result.output
    assert is_current(empty_store.engine)


def test_upgrading_past_0011_rebuilds_the_rollups(empty_store):
    """A store with facts and roll-ups at 0010 goes to head: the load roll-up is built and the
    stages' data criteria read from it equal the facts (until then the metrics read the facts)."""
    import datetime as dt

    from sqlalchemy.orm import Session

    from data.models import RollupLoad
    from data.units import unit_by_code
    from jobs.demo import seed_demo
    from metrics import rollups
    from metrics.compute import facts_only
    from metrics.quality import monthly_quality

    end = dt.date(2026, 6, 30)
    seed_demo(empty_store.engine, "tiny", 42, end)
    downgrade(empty_store.engine, "0010")
    with Session(empty_store.engine) as s:
        assert not rollups.built(s)
    upgrade(empty_store.engine)
    with Session(empty_store.engine) as s:
        assert rollups.built(s) and s.scalar(select(RollupLoad.day).limit(1)) is not None
        zj = unit_by_code(s, "ZJ")
        got = monthly_quality(s, zj, dt.date(2026, 1, 1), end)
        with facts_only():
            assert got == monthly_quality(s, zj, dt.date(2026, 1, 1), end)
        assert got[dt.date(2026, 6, 1)]["data_completeness"] > 0.9


def test_upgrading_past_0016_drops_the_scanned_through_mark(empty_store):
    """A store at 0015 whose scan only left a "scanned through" day: that day says nothing about
    which days were scanned, so after the upgrade no month counts as covered (closure unknown)
    until the history is rescanned, and the cached stage results are invalidated."""
    import datetime as dt

    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from data.changes import versions
    from data.units import unit_by_code
    from jobs.demo import seed_demo
    from metrics.stages import NOT_SCANNED, assess
    from risk.scan import scan

    end = dt.date(2026, 6, 30)
    seed_demo(empty_store.engine, "tiny", 42, end)
    downgrade(empty_store.engine, "0015")
    with empty_store.engine.begin() as conn:
        assert conn.execute(text("SELECT value FROM meta WHERE key = 'risk_scanned_through'")
                            ).scalar() == end.isoformat()  # the downgrade restores the old mark
        risk = versions(conn)["risk"]
    upgrade(empty_store.engine)
    with Session(empty_store.engine) as s:
        assert s.execute(text("SELECT count(*) FROM meta WHERE key = 'risk_scanned_through'")
                         ).scalar() == 0
        assert s.execute(text("SELECT count(*) FROM risk_scan_run")).scalar() == 0
        assert versions(s)["risk"] > risk
        may = assess(s, unit_by_code(s, "ZJ-HZ-01-01"), dt.date(2026, 5, 1), end)
        closure = next(c for c in may.criteria if c.id == "risk_closed_on_time")
        assert (closure.value, closure.reason) == (None, NOT_SCANNED) and may.stage < 4
        scan(s, dt.date(2026, 5, 1), dt.date(2026, 5, 31))  # the rescan README describes
        s.commit()
        may = assess(s, unit_by_code(s, "ZJ-HZ-01-01"), dt.date(2026, 5, 1), end)
        assert next(c for c in may.criteria if c.id == "risk_closed_on_time").value == 1.0


@pytest.mark.parametrize("kind", DB_KINDS)
def test_0017_keeps_each_events_pair_as_its_worst_and_lets_complaint_surge_fire_from_zero(
        kind, tmp_path):
    """Events stored before 0017 get their stored value, threshold and last day as the worst
    pair; the starter complaint surge, unedited, gains min_count; an edited one is left alone."""
    import json

    from sqlalchemy import text

    store = new_store(kind, tmp_path, migrate=False)
    try:
        upgrade(store.engine, "0015")
        rule = ("INSERT INTO risk_rule (id, code, name_zh, name_en, type, core, kpi, params, "
                "tiers, severity, owner_tier, deadline_hours, active) VALUES (:id, :code, 'x', "
                "'x', 'change', 'service', 'complaints_per_10k', :params, '3,4', 'high', 3, 48, "
                ":active)")
        with store.engine.begin() as conn:
            conn.execute(text("INSERT INTO org_unit (id, code, name_zh, name_en, tier, path) "
                              "VALUES (1, 'HQ', '总部', 'HQ', 1, '/000001/')"))
            conn.execute(text(rule), {"id": 9001, "code": "complaint_surge", "active": True,
                                      "params": '{"window": 7, "max_rise": 2.0, '
                                                '"min_numerator": 8}'})
            conn.execute(text(rule), {"id": 9002, "code": "edited_surge", "active": True,
                                      "params": '{"window": 7, "max_rise": 3.0}'})
            conn.execute(text(
                "INSERT INTO risk_event (id, rule_id, unit_id, owner_unit_id, first_day, "
                "last_day, value, threshold, state, created_at, deadline) VALUES (1, 9001, 1, 1, "
                "'2026-06-01', '2026-06-03', 12.5, 4.0, 'open', '2026-06-02 06:00', "
                "'2026-06-04 06:00')"))
        upgrade(store.engine)
        with store.engine.connect() as conn:
            row = conn.execute(text("SELECT worst_day, worst_value, worst_threshold "
                                    "FROM risk_event WHERE id = 1")).one()
            params = dict(conn.execute(text("SELECT code, params FROM risk_rule")).all())
        assert (str(row[0]), row[1], row[2]) == ("2026-06-03", 12.5, 4.0)
        assert json.loads(params["complaint_surge"]) == {"window": 7, "max_rise": 2.0,
                                                         "min_numerator": 8, "min_count": 8}
        assert json.loads(params["edited_surge"]) == {"window": 7, "max_rise": 3.0}
    finally:
        store.drop()


def test_0018_adds_the_hotline_tables_and_a_built_store_stays_built(empty_store):
    """From 0017 to 0018 on a store with facts and built roll-ups: the interval table and its
    roll-up appear empty, with the interval's natural key (unit, start) as primary key, the roll-ups
    stay built (nothing to roll up yet); down again drops exactly them."""
    import datetime as dt

    from sqlalchemy.orm import Session

    from jobs.demo import seed_demo
    from metrics import rollups

    seed_demo(empty_store.engine, "tiny", 42, dt.date(2026, 6, 30))
    downgrade(empty_store.engine, "0017")
    names = set(inspect(empty_store.engine).get_table_names())
    assert not {"hotline_interval", "rollup_hotline"} & names and "rollup_channel" in names
    upgrade(empty_store.engine)
    insp = inspect(empty_store.engine)
    assert insp.get_pk_constraint("hotline_interval")["constrained_columns"] == [
        "unit_id", "interval_start"]
    assert insp.get_pk_constraint("rollup_hotline")["constrained_columns"] == [
        "unit_id", "day", "carrier_id"]
    assert [i["column_names"] for i in insp.get_indexes("hotline_interval")] == [["unit_id", "day"]]
    with Session(empty_store.engine) as s:
        assert rollups.built(s)
        from sqlalchemy import func

        from data.models import HotlineInterval, RollupHotline
        assert s.scalar(select(func.count()).select_from(HotlineInterval)) == 0
        assert s.scalar(select(func.count()).select_from(RollupHotline)) == 0
