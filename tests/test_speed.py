"""Speed means, not speed: roll-ups and the result cache give exactly what the plain computation
gives, on each database, over many random views; they follow new data; scope is still enforced."""

from __future__ import annotations

import datetime as dt
import math
import os
import uuid
from unittest.mock import patch

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select, text, update
from sqlalchemy.orm import Session

from app import create_app
from data.changes import data_changed, data_version
from data.models import ROLLUP_TABLES, Carrier, OrgUnit, RollupChannel, RollupLoad, Target
from data.units import unit_by_code
from jobs.demo import seed_demo
from metrics import cache, rollups
from metrics.compute import BY_OPTIONS, compute, facts_only
from metrics.freshness import last_loaded
from metrics.league import league_table
from metrics.matrix import matrix
from metrics.quality import monthly_quality
from metrics.registry import KPIS
from metrics.scope import OutOfScope, Scope
from metrics.stages import assess_months
from metrics.views import carrier_mix, headline
from tests.conftest import DEMO_END
from tests.conftest import app_over as serving

DATA_START = DEMO_END - dt.timedelta(days=179)
KPI_IDS = [k.id for k in KPIS]
UNITS = ["HQ", "ZJ", "ZJ-HZ", "ZJ-NB", "ZJ-HZ-01", "ZJ-NB-02", "ZJ-HZ-01-01", "ZJ-NB-02-02"]
CARRIERS = [None, ("app",), ("hall",), ("app", "wechat"), ("web", "hotline", "hall"),
            ("app", "wechat", "alipay", "web", "hotline", "hall")]
SETTINGS = settings(max_examples=40, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def ranges(draw) -> tuple[dt.date, dt.date]:
    # Mostly inside the data, sometimes reaching before it starts or after it ends.
    first = draw(st.integers(-20, 179))
    length = draw(st.sampled_from([0, 6, 29, 89, draw(st.integers(0, 200))]))
    start = DATA_START + dt.timedelta(days=first)
    return start, start + dt.timedelta(days=length)


def same_value(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def assert_same(got, want, where="") -> None:
    """Deep equality of computed results; floats to 1e-9 (sums added in another order)."""
    if isinstance(want, pd.DataFrame):
        assert isinstance(got, pd.DataFrame) and list(got.columns) == list(want.columns), where
        assert len(got) == len(want), (where, got, want)
        for g, w in zip(got.to_dict("records"), want.to_dict("records"), strict=True):
            assert_same(g, w, where)
    elif isinstance(want, dict):
        assert set(got) == set(want), where
        for k in want:
            assert_same(got[k], want[k], f"{where}.{k}")
    elif isinstance(want, (list, tuple)):
        assert len(got) == len(want), where
        for g, w in zip(got, want, strict=True):
            assert_same(g, w, where)
    elif hasattr(want, "__dataclass_fields__"):
        assert type(got) is type(want), where
        for f in want.__dataclass_fields__:
            assert_same(getattr(got, f), getattr(want, f), f"{where}.{f}")
    else:
        assert same_value(got, want), (where, got, want)


@SETTINGS
@given(unit=st.sampled_from(UNITS), rng=ranges(), carriers=st.sampled_from(CARRIERS),
       by=st.sampled_from([None, *BY_OPTIONS]))
def test_rollups_give_what_the_facts_give(tiny_store, unit, rng, carriers, by):
    with Session(tiny_store.engine) as session:
        assert rollups.built(session)
        u = unit_by_code(session, unit)
        args = (session, KPI_IDS, u, *rng, list(carriers) if carriers else None, by)
        optimised = compute(*args)
        with facts_only():
            reference = compute(*args)
    assert_same(optimised, reference, f"{unit} {rng} {carriers} {by}")


@SETTINGS
@given(unit=st.sampled_from(UNITS), rng=ranges())
def test_data_quality_from_rollups_equals_the_facts(tiny_store, unit, rng):
    """Completeness, timeliness and carriers active per month (the stages' basic criteria)."""
    with Session(tiny_store.engine) as session:
        u = unit_by_code(session, unit)
        optimised = monthly_quality(session, u, *rng)
        with facts_only():
            reference = monthly_quality(session, u, *rng)
    assert_same(optimised, reference, f"{unit} {rng}")


def test_rollups_are_read(empty_store):
    """The roll-up path is really taken (a tampered roll-up shows), and data_changed repairs it."""
    seed_demo(empty_store.engine, "tiny", 42, DEMO_END)
    with Session(empty_store.engine) as session:
        zj = unit_by_code(session, "ZJ")
        before = compute(session, ["visits"], zj, DEMO_END, DEMO_END).iloc[0]["value"]
        rows = session.execute(update(RollupChannel).where(
            RollupChannel.unit_id == zj.id, RollupChannel.day == DEMO_END)
            .values(visits=RollupChannel.visits + 1)).rowcount
        tampered = compute(session, ["visits"], zj, DEMO_END, DEMO_END).iloc[0]["value"]
        with facts_only():
            facts = compute(session, ["visits"], zj, DEMO_END, DEMO_END).iloc[0]["value"]
        assert rows > 0 and tampered == before + rows and facts == before
        month = DEMO_END.replace(day=1)
        complete = monthly_quality(session, zj, month, DEMO_END)[month]["data_completeness"]
        session.execute(update(RollupLoad).where(RollupLoad.unit_id == zj.id,
                                                 RollupLoad.day == DEMO_END).values(rows=0))
        assert monthly_quality(session, zj, month, DEMO_END)[month]["data_completeness"] < complete
        data_changed(session, DEMO_END, DEMO_END, [zj.id])
        assert compute(session, ["visits"], zj, DEMO_END, DEMO_END).iloc[0]["value"] == before
        assert monthly_quality(session, zj, month, DEMO_END)[month]["data_completeness"] == complete


def _rollup_rows(session) -> dict[str, list]:
    return {t.__tablename__: sorted(tuple(r) for r in session.execute(select(t.__table__)))
            for t in ROLLUP_TABLES}


def test_a_partial_refresh_equals_a_full_rebuild(empty_store):
    """Facts of one outlet change on a few days: refreshing its ancestors on those days gives the
    same roll-ups as rebuilding all of them; and before any refresh they were stale."""
    seed_demo(empty_store.engine, "tiny", 42, DEMO_END)
    start, end = DEMO_END - dt.timedelta(days=3), DEMO_END
    with Session(empty_store.engine) as session:
        outlet = unit_by_code(session, "ZJ-NB-02-01")
        params = {"u": outlet.id, "s": start, "e": end}
        session.execute(text("UPDATE channel_daily SET visits = visits * 2 + 1 WHERE unit_id = :u "
                             "AND day BETWEEN :s AND :e"), params)
        session.execute(text("UPDATE user_stock_daily SET customers = customers + 7 "
                             "WHERE unit_id = :u AND day BETWEEN :s AND :e"), params)
        session.execute(text("UPDATE work_order SET rating = 5 WHERE unit_id = :u "
                             "AND closed_day BETWEEN :s AND :e"), params)
        session.execute(text("DELETE FROM data_load WHERE unit_id = :u AND day = :e"), params)
        stale = _rollup_rows(session)
        version = data_version(session)
        assert data_changed(session, start, end, [outlet.id]) == version + 1
        partial = _rollup_rows(session)
        session.execute(text("DELETE FROM meta WHERE key = 'rollups_built'"))
        rollups.refresh(session)  # never built -> rebuilt whole
        assert rollups.built(session)
        full = _rollup_rows(session)
    assert_same(partial, full)  # floats to 1e-9: the database may add them in another order
    assert stale != full


@pytest.fixture
def app_over(tiny_store):
    with serving(tiny_store, CACHE_TYPE="SimpleCache") as flask_app:
        yield flask_app


def _views(session, unit, rng, carriers, kpi):
    """Every cached computation the pages call, for one view."""
    start, end = rng
    month = end.replace(day=1)
    return {
        "compute_child": compute(session, KPI_IDS, unit, start, end, carriers, by="child"),
        "compute_day": compute(session, KPI_IDS, unit, start, end, carriers, by="day"),
        "headline": headline(session, list(dict.fromkeys([kpi, "mau", "binding_rate"])), unit,
                             start, end, carriers, None),
        "matrix": matrix(session, unit, start, end),
        "league": league_table(session, kpi, unit, start, end, carriers, compare="previous"),
        "mix": carrier_mix(session, unit, start, end, None),
        "stages": assess_months(session, unit, month, month, end),
        "last_loaded": last_loaded(session, unit, by_child=True),
    }


@SETTINGS
@given(unit=st.sampled_from(UNITS[1:]), rng=ranges(), carriers=st.sampled_from(CARRIERS),
       kpi=st.sampled_from(KPI_IDS))
def test_cached_views_equal_the_plain_computation(app_over, unit, rng, carriers, kpi):
    """First call (miss, stored), second call (hit) and the un-optimised path (facts, no cache)
    agree on every view."""
    carriers = list(carriers) if carriers else None
    with app_over.app_context():
        assert cache.enabled()
        with Session(app_over.extensions["engine"]) as session:
            u = unit_by_code(session, unit)
            first = _views(session, u, rng, carriers, kpi)
            second = _views(session, u, rng, carriers, kpi)
            with facts_only():
                assert not cache.enabled()
                plain = _views(session, u, rng, carriers, kpi)
    assert_same(first, plain, f"miss {unit} {rng} {carriers}")
    assert_same(second, plain, f"hit {unit} {rng} {carriers}")


def test_a_hit_is_served_from_the_cache(app_over):
    """A second identical call reads no fact and no roll-up (the stamps are read once per
    transaction, so here nothing at all)."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    engine = app_over.extensions["engine"]
    event.listen(engine, "before_cursor_execute", record)
    try:
        with app_over.app_context(), Session(engine) as session:
            u = unit_by_code(session, "ZJ")
            first = compute(session, ["visits"], u, DATA_START, DEMO_END, by="month")
            assert any("rollup_channel" in s for s in statements)
            statements.clear()
            assert_same(compute(session, ["visits"], u, DATA_START, DEMO_END, by="month"), first)
            assert not any("channel" in s for s in statements), statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_new_data_and_new_targets_are_seen_at_once(empty_store):
    """A write of facts (data_changed) or of a target makes the cached answers unreachable."""
    seed_demo(empty_store.engine, "tiny", 42, DEMO_END)
    with serving(empty_store, CACHE_TYPE="SimpleCache") as flask_app, flask_app.app_context(), \
            Session(flask_app.extensions["engine"]) as session:
        zj = unit_by_code(session, "ZJ-HZ-01-01")
        before = compute(session, ["visits"], zj, DEMO_END, DEMO_END).iloc[0]["value"]
        rows = session.execute(text("UPDATE channel_daily SET visits = visits + 1 WHERE "
                                    "unit_id = :u AND day = :d"), {"u": zj.id, "d": DEMO_END}
                               ).rowcount
        assert compute(session, ["visits"], zj, DEMO_END, DEMO_END).iloc[0]["value"] == before
        data_changed(session, DEMO_END, DEMO_END, [zj.id])
        session.commit()
        after = compute(session, ["visits"], zj, DEMO_END, DEMO_END).iloc[0]["value"]
        assert rows > 0 and after == before + rows
        province = unit_by_code(session, "ZJ")
        old = headline(session, ["visits"], province, DEMO_END, DEMO_END, None, None)
        session.execute(update(Target).where(Target.kpi == "visits").values(
            value=Target.value * 2))
        session.commit()
        new = headline(session, ["visits"], province, DEMO_END, DEMO_END, None, None)
        assert old[0]["target"] is not None
        assert new[0]["target"].value == pytest.approx(2 * old[0]["target"].value)


def test_reclassifying_a_carrier_needs_no_rebuild(empty_store):
    """The carrier catalogue is editable in the store: making the hotline an online carrier changes
    online substitution at once, cached or not, from roll-ups as from the facts."""
    seed_demo(empty_store.engine, "tiny", 42, DEMO_END)
    with serving(empty_store, CACHE_TYPE="SimpleCache") as flask_app, flask_app.app_context(), \
            Session(flask_app.extensions["engine"]) as session:
        zj = unit_by_code(session, "ZJ")
        args = (session, ["online_substitution"], zj, DATA_START, DEMO_END)
        before = compute(*args, by="carrier")
        assert compute(*args, by="carrier").equals(before)  # now cached
        session.execute(update(Carrier).where(Carrier.code == "hotline").values(kind="online"))
        session.commit()
        after = compute(*args, by="carrier")
        with facts_only():
            reference = compute(*args, by="carrier")
        assert_same(after, reference)
        value = dict(zip(after["carrier"], after["value"], strict=True))
        old = dict(zip(before["carrier"], before["value"], strict=True))
        assert old["hotline"] == 0 and value["hotline"] == 1 and value["hall"] == 0
        total = compute(*args).iloc[0]["value"]
        with facts_only():
            assert same_value(total, compute(*args).iloc[0]["value"])


def test_scope_is_checked_before_the_cache(app_over):
    with app_over.app_context(), Session(app_over.extensions["engine"]) as session:
        zj = unit_by_code(session, "ZJ")
        county = unit_by_code(session, "ZJ-HZ-01")
        compute(session, ["visits"], zj, DATA_START, DEMO_END, scope=Scope.of(zj))  # now cached
        with pytest.raises(OutOfScope):
            compute(session, ["visits"], zj, DATA_START, DEMO_END, scope=Scope.of(county))
        with pytest.raises(OutOfScope):
            headline(session, ["visits"], zj, DATA_START, DEMO_END, None, Scope.of(county))


def test_cache_keys_refuse_what_they_cannot_key():
    with pytest.raises(TypeError):
        cache.key_part(object())
    assert cache.key_part([dt.date(2026, 1, 2), ("a", None)]) == ("2026-01-02", ("a", None))
    unit = OrgUnit(id=3, code="X", name_zh="x", name_en="x", tier=3, path="/000001/000003/")
    assert cache.key_part(unit) == ("unit", 3, "/000001/000003/")


def test_redis_shares_results_between_apps(tiny_store):
    """With REDIS_URL two apps (two workers) share entries; clearing drops only our prefix."""
    redis = pytest.importorskip("redis")
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.RedisError:
        message = f"no Redis at {url} (.ci/run starts one and sets REQUIRE_REDIS=1)"
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    prefix = f"test-speed-{uuid.uuid4().hex[:8]}:"
    other = f"test-speed-other-{uuid.uuid4().hex[:8]}:keep"  # another app's key on the same Redis
    client.set(other, "1")
    apps = [create_app({"TESTING": True, "DATABASE_URL": tiny_store.url, "SECRET_KEY": "k",
                        "REDIS_URL": url, "CACHE_KEY_PREFIX": prefix}) for _ in range(2)]
    try:
        with apps[0].app_context(), Session(apps[0].extensions["engine"]) as session:
            zj = unit_by_code(session, "ZJ")
            first = compute(session, KPI_IDS, zj, DATA_START, DEMO_END, by="carrier")
        assert client.keys(prefix + "*")
        with apps[1].app_context(), Session(apps[1].extensions["engine"]) as session:
            zj = unit_by_code(session, "ZJ")
            with patch("metrics.compute._query_source", side_effect=AssertionError("computed")):
                assert_same(compute(session, KPI_IDS, zj, DATA_START, DEMO_END, by="carrier"),
                            first)
            cache.clear()
        assert not client.keys(prefix + "*") and client.get(other) == b"1"
    finally:
        client.delete(other)
        for a in apps:
            a.extensions["engine"].dispose()
