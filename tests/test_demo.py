"""The demo generator: sizes, determinism across databases, refusals, and the promised shapes."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import replace

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from data.clock import yesterday
from data.models import Base, DemoIncident, Meta, OrgUnit
from data.units import children, subtree, unit_by_code
from jobs.demo import SCALES, outlet_profiles, plan_units, seed_demo
from tests.conftest import DEMO_END, new_store


@pytest.mark.parametrize("scale, provinces, cities, counties, outlets", [
    ("tiny", 1, 2, 4, 8), ("small", 3, 8, 20, 72), ("province", 1, 9, 90, 450)])
def test_scales_have_the_promised_units(scale, provinces, cities, counties, outlets):
    units = plan_units(SCALES[scale])
    tiers = [u.tier for u in units]
    assert tiers.count(1) == 1 and tiers.count(2) == provinces
    assert tiers.count(3) >= cities and tiers.count(4) >= counties and tiers.count(5) >= outlets
    if scale != "province":
        assert (tiers.count(3), tiers.count(4), tiers.count(5)) == (cities, counties, outlets)
    assert len({u.code for u in units}) == len(units)
    by_id = {u.id: u for u in units}
    for u in units:
        if u.parent_id:
            parent = by_id[u.parent_id]
            assert u.tier == parent.tier + 1 and u.path == f"{parent.path}{u.id:06d}/"
    # every province has outlets under every city and county (HQ compares whole provinces)
    for u in units:
        if u.tier < 5:
            assert any(k.parent_id == u.id for k in units), u.code


def test_small_lays_out_three_provinces_and_keeps_zhejiang_as_it_was():
    """HQ compares Zhejiang, Jiangsu and Anhui; Zhejiang keeps the ids and codes it had when the
    demo was one province, so links and accounts made against it still name the same units."""
    small = SCALES["small"]
    units = plan_units(small)
    assert [u.code for u in units if u.tier == 2] == ["ZJ", "JS", "AH"]
    assert all(u.parent_id == units[0].id for u in units if u.tier == 2)
    alone = plan_units(replace(small, provinces=1, others=None))
    assert len(alone) == 1 + 1 + 4 + 12 + 48
    assert [(u.id, u.code, u.path) for u in units[: len(alone)]] == [
        (u.id, u.code, u.path) for u in alone]
    zj = units[1]
    assert all(u.path.startswith(zj.path) for u in units[1: len(alone)])
    assert not any(u.path.startswith(zj.path) for u in units[len(alone):])


def test_maturity_spreads_over_the_whole_range():
    profiles = outlet_profiles(plan_units(SCALES["small"]), 42)
    maturity = sorted(p.maturity for p in profiles)
    assert maturity[0] < 0.05 and maturity[-1] > 0.95
    customers = [p.customers for p in profiles]
    assert min(customers) >= 2500 and max(customers) >= 20000


# When a scan ran (wall-clock time): not data of the seed.
CLOCK_COLUMNS = {("risk_scan_run", "started_at"), ("risk_scan_run", "finished_at")}


def dump(engine: Engine) -> dict[str, str]:
    """Return a digest of every table's rows in primary-key order, with values normalised."""
    digests = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name == "store_version":  # write counters (triggers fire per row on SQLite,
                continue                        # per statement on PostgreSQL), not data
            order = list(table.primary_key.columns) or list(table.columns)
            h = hashlib.sha256()
            columns = [c for c in table.columns if (table.name, c.name) not in CLOCK_COLUMNS]
            for row in conn.execute(select(*columns).order_by(*order)):
                h.update(repr(tuple(_norm(v) for v in row)).encode())
            digests[table.name] = h.hexdigest()
    return digests


def _norm(value):
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        # SQLite keeps 0.00 in a NUMERIC column as the integer 0; the value is the same.
        return round(float(value), 6)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def test_same_seed_gives_the_same_rows_on_sqlite_and_postgresql(tmp_path):
    lite, pg = new_store("sqlite", tmp_path), new_store("postgresql", tmp_path)
    try:
        for store in (lite, pg):
            seed_demo(store.engine, "tiny", 7, DEMO_END)
        a, b = dump(lite.engine), dump(pg.engine)
        assert a == b
        with Session(lite.engine) as s:
            assert s.scalar(select(func.count()).select_from(OrgUnit)) == 16
    finally:
        lite.drop()
        pg.drop()


def test_seed_is_deterministic_and_the_seed_matters(tmp_path):
    stores = [new_store("sqlite", tmp_path) for _ in range(3)]
    for store, seed in zip(stores, (5, 5, 6), strict=True):
        seed_demo(store.engine, "tiny", seed, DEMO_END)
    a, b, c = (dump(s.engine) for s in stores)
    assert a == b
    assert a["work_order"] != c["work_order"] and a["channel_daily"] != c["channel_daily"]
    assert a["org_unit"] == c["org_unit"]  # the organisation does not depend on the seed


def test_seeding_refuses_a_store_with_data_unless_reset(tiny_store, runner_for, tmp_path):
    store = new_store("sqlite", tmp_path)
    runner = runner_for(store.url)
    args = ["seed-demo", "--scale", "tiny", "--end", "2026-06-30"]
    assert runner.invoke(args=args).exit_code == 0
    before = dump(store.engine)
    refused = runner.invoke(args=args)
    assert refused.exit_code != 0
    assert "--reset" in refused.output and "already holds data" in refused.output
    assert dump(store.engine) == before  # nothing was written
    skipped = runner.invoke(args=args + ["--if-empty"])
    assert skipped.exit_code == 0 and "not seeding" in skipped.output
    again = runner.invoke(args=args + ["--reset", "--seed", "9"])
    assert again.exit_code == 0, again.output
    after = dump(store.engine)
    assert after["work_order"] != before["work_order"]
    assert after["org_unit"] == before["org_unit"]
    store.drop()


def test_data_ends_yesterday_by_default(tmp_path, runner_for):
    store = new_store("sqlite", tmp_path)
    result = runner_for(store.url).invoke(args=["seed-demo", "--scale", "tiny"])
    assert result.exit_code == 0, result.output
    with store.engine.connect() as conn:
        last = conn.execute(text("SELECT max(day) FROM channel_daily")).scalar()
        first = conn.execute(text("SELECT min(day) FROM channel_daily")).scalar()
        meta = dict(conn.execute(text("SELECT key, value FROM meta")).all())
    now = dt.datetime.fromisoformat(meta["demo_now"])  # the local time it was seeded at
    end = now.date() - dt.timedelta(days=1)
    assert yesterday("Asia/Shanghai") - end in (dt.timedelta(0), dt.timedelta(days=1))
    assert meta["demo_end"] == end.isoformat()
    # Yesterday's files arrive 01:30-03:00 local (jobs.demo_facts._loads): before then the data
    # ends the day before (a CI run after midnight in Shanghai saw exactly that).
    arrived = {end} if now.time() >= dt.time(3) else {end - dt.timedelta(days=1)} \
        if now.time() < dt.time(1, 30) else {end, end - dt.timedelta(days=1)}
    assert dt.date.fromisoformat(str(last)) in arrived
    assert str(first) == (end - dt.timedelta(days=179)).isoformat()
    store.drop()


# -- the organisation in the store ----------------------------------------------------------


def test_subtree_is_one_range_query_matching_the_parent_links(tiny_store):
    with Session(tiny_store.engine) as s:
        units = s.scalars(select(OrgUnit)).all()
        kids: dict[int | None, list[OrgUnit]] = {}
        for u in units:
            kids.setdefault(u.parent_id, []).append(u)

        def walk(u):
            yield u
            for k in kids.get(u.id, []):
                yield from walk(k)

        for u in units:
            assert {x.code for x in subtree(s, u)} == {x.code for x in walk(u)}
        city = unit_by_code(s, "ZJ-HZ")
        assert [c.code for c in children(s, city)] == ["ZJ-HZ-01", "ZJ-HZ-02"]
        assert {u.tier for u in subtree(s, city)} == {3, 4, 5}


def test_subtree_query_uses_the_path_index(tiny_store):
    if tiny_store.kind != "sqlite":
        pytest.skip("the plan check is SQLite's; PostgreSQL prefers a scan on 16 rows")
    with tiny_store.engine.connect() as conn:
        plan = conn.execute(text(
            "EXPLAIN QUERY PLAN SELECT id FROM org_unit WHERE path >= '/000001/000002/' "
            "AND path < '/000001/0000020'"
        )).all()
    assert "INDEX" in " ".join(str(r) for r in plan).upper()


def test_demo_is_labelled_and_incidents_recorded(tiny_store):
    with Session(tiny_store.engine) as s:
        meta = dict(s.execute(select(Meta.key, Meta.value)).all())
        assert meta["demo"] == "true" and meta["demo_scale"] == "tiny"
        assert meta["demo_end"] == DEMO_END.isoformat()
        kinds = {i.kind for i in s.scalars(select(DemoIncident))}
        assert kinds == {"carrier_outage", "carrier_silence", "complaint_surge", "load_delay"}


def test_no_work_order_is_answered_or_closed_after_the_last_loaded_day(tiny_store):
    """The demo does not close orders in the future of its own data: every closing (and first
    response) falls on or before the last loaded day; orders still open at the end stay open."""
    with tiny_store.engine.connect() as conn:
        last = conn.execute(text("SELECT max(day) FROM data_load")).scalar_one()
        last = dt.date.fromisoformat(last) if isinstance(last, str) else last
        day_after = dt.datetime.combine(last + dt.timedelta(days=1), dt.time())
        late = conn.execute(text(
            "SELECT count(*) FROM work_order WHERE closed_at >= :after OR closed_day > :last "
            "OR first_response_at >= :after"), {"after": day_after, "last": last}).scalar_one()
        still_open = conn.execute(text(
            "SELECT count(*) FROM work_order WHERE closed_at IS NULL")).scalar_one()
    assert last == DEMO_END
    assert late == 0
    assert still_open > 0  # orders open at the end of the data stay open
