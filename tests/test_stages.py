"""Operating stages: the rubric's edge cases, a parent's stage against raw rows, the API, the page."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from data.rubric import CRITERIA
from data.units import children, unit_by_code
from metrics.stages import assess, assess_months, distribution, judge, stage_of
from tests.conftest import DEMO_END

DEFAULTS = {c.id: c.threshold for c in CRITERIA}
PASSING = {"carriers_active": 6, "data_completeness": 1.0, "channel_availability": 0.999,
           "binding_rate": 0.8, "profile_coverage": 0.7, "activity_rate": 0.3,
           "online_substitution": 0.9, "online_handling": 0.9, "data_timeliness": 1.0,
           "kpis_on_target": 0.9, "risk_closed_on_time": 0.95, "satisfaction": 0.95}


def test_all_met_is_smart_operation():
    assert stage_of(judge(PASSING, DEFAULTS)) == 4


def test_exactly_at_the_threshold_is_met():
    at = {**PASSING, **{c.id: c.threshold for c in CRITERIA}}
    results = judge(at, DEFAULTS)
    assert all(r.met is True for r in results) and stage_of(results) == 4


def test_just_below_a_threshold_is_not_met():
    results = judge({**PASSING, "online_handling": 0.7999}, DEFAULTS)
    assert stage_of(results) == 2


def test_unknown_criteria_block_their_stage_and_are_never_passed():
    results = judge({**PASSING, "risk_closed_on_time": None}, DEFAULTS)
    unknown = next(r for r in results if r.id == "risk_closed_on_time")
    assert unknown.met is None and stage_of(results) == 3
    assert stage_of(judge({**PASSING, "data_completeness": None}, DEFAULTS)) == 0


def test_meeting_stage_four_but_failing_stage_two_is_stage_one():
    assert stage_of(judge({**PASSING, "profile_coverage": 0.3}, DEFAULTS)) == 1


def test_missing_lists_the_next_stages_unmet_criteria(tiny_store):
    with Session(tiny_store.engine) as s:
        a = assess(s, unit_by_code(s, "ZJ-HZ"), dt.date(2026, 6, 1), DEMO_END)
    assert all(c.stage == a.stage + 1 and c.met is not True for c in a.missing)
    if a.stage < 4:
        assert a.missing


def _q(store, sql, **params):
    with store.engine.connect() as conn:
        return conn.execute(text(sql), params).all()


def test_a_parents_stage_from_raw_rows(tiny_store):
    """ZJ-HZ in June 2026, each criterion recomputed from the fact rows in plain SQL."""
    path = _q(tiny_store, "SELECT path FROM org_unit WHERE code = 'ZJ-HZ'")[0][0]
    sub = f"unit_id IN (SELECT id FROM org_unit WHERE path LIKE '{path}%')"
    lo, hi = "2026-06-01", "2026-06-30"
    outlets = _q(tiny_store, f"SELECT count(*) FROM org_unit WHERE path LIKE '{path}%' AND tier = 5")[0][0]
    loads = _q(tiny_store, f"SELECT day, loaded_at FROM data_load WHERE {sub} AND day BETWEEN :a AND :b",
               a=lo, b=hi)
    expected = outlets * 30

    def as_dt(v):
        return v if isinstance(v, dt.datetime) else dt.datetime.fromisoformat(str(v))

    def as_d(v):
        return v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v)[:10])

    timely = sum(1 for day, at in loads
                 if as_dt(at) < dt.datetime.combine(as_d(day) + dt.timedelta(days=2), dt.time()))
    ch = _q(tiny_store, f"""SELECT count(DISTINCT CASE WHEN transactions > 0 THEN carrier_id END),
        sum(minutes_available) * 1.0 / sum(minutes_scheduled),
        sum(CASE WHEN carrier_id IN (SELECT id FROM carrier WHERE kind = 'online')
            THEN transactions ELSE 0 END) * 1.0 / sum(transactions),
        sum(applications_online) * 1.0 / sum(applications_total)
        FROM channel_daily WHERE {sub} AND day BETWEEN :a AND :b""", a=lo, b=hi)[0]
    last = f"""SELECT s.* FROM user_stock_daily s WHERE {sub.replace('unit_id', 's.unit_id')}
        AND s.day = (SELECT max(day) FROM user_stock_daily x WHERE x.unit_id = s.unit_id
                     AND x.day BETWEEN :a AND :b)"""
    stock = _q(tiny_store, f"""SELECT sum(bound) * 1.0 / sum(customers),
        sum(profiled) * 1.0 / sum(registered), sum(registered) FROM ({last}) t""", a=lo, b=hi)[0]
    mau = _q(tiny_store, f"SELECT sum(active_users) FROM monthly_active_total WHERE {sub} "
                         "AND month = :m", m="2026-06-01")[0][0]
    sat = _q(tiny_store, f"""SELECT sum(CASE WHEN rating >= 4 THEN 1 ELSE 0 END) * 1.0
        / sum(CASE WHEN rating IS NOT NULL THEN 1 ELSE 0 END) FROM work_order
        WHERE {sub} AND closed_day BETWEEN :a AND :b""", a=lo, b=hi)[0][0]
    independent = {"carriers_active": ch[0], "data_completeness": len(loads) / expected,
                   "channel_availability": ch[1], "binding_rate": stock[0],
                   "profile_coverage": stock[1], "activity_rate": mau / stock[2],
                   "online_substitution": ch[2], "online_handling": ch[3],
                   "data_timeliness": timely / expected, "satisfaction": sat}
    with Session(tiny_store.engine) as s:
        a = assess(s, unit_by_code(s, "ZJ-HZ"), dt.date(2026, 6, 1), DEMO_END)
    got = {c.id: c.value for c in a.criteria}
    for key, value in independent.items():
        assert got[key] == pytest.approx(float(value), rel=1e-9), key
    due = _q(tiny_store, f"""SELECT deadline, resolved_at FROM risk_event
        WHERE {sub} AND deadline >= :a AND deadline < :b""", a="2026-06-01 00:00:00",
             b="2026-07-01 00:00:00")
    due = [(as_dt(d), as_dt(r) if r else None) for d, r in due
           if as_dt(d) <= dt.datetime(2026, 7, 1, 6, 0)]
    closure = (sum(1 for d, r in due if r is not None and r <= d) / len(due)) if due else 1.0
    assert got["risk_closed_on_time"] == pytest.approx(closure)
    on_target = next(c for c in a.criteria if c.id == "kpis_on_target").met
    independent_results = judge({**independent, "kpis_on_target": got["kpis_on_target"],
                                 "risk_closed_on_time": closure}, DEFAULTS)
    assert a.stage == stage_of(independent_results) and on_target is not None


def test_history_has_one_assessment_per_month(tiny_store):
    with Session(tiny_store.engine) as s:
        history = assess_months(s, unit_by_code(s, "ZJ"), dt.date(2026, 1, 1), dt.date(2026, 6, 1),
                                DEMO_END)
    assert [a.month.month for a in history] == [1, 2, 3, 4, 5, 6]
    assert len({a.rubric_version for a in history}) == 1


def test_the_small_demo_has_units_in_every_stage(small_store):
    from data.units import subtree

    with Session(small_store.engine) as s:
        outlets = [u for u in subtree(s, unit_by_code(s, "ZJ")) if u.tier == 5]
        found = [assess(s, u, dt.date(2026, 5, 1), DEMO_END) for u in outlets]
    counts = distribution(found)
    assert all(counts[stage] > 0 for stage in (0, 1, 2, 3, 4)), counts


def test_children_assessed_together_equal_each_child_assessed_alone(small_store):
    """HQ's provinces and a province's cities, this month and last (a partial month too): the
    grouped assessment of the children is each child's own assessment, criterion by criterion."""
    from metrics.cache import bypass
    from metrics.stages import children_this_and_last_month

    with Session(small_store.engine) as s, bypass():
        for code in ("HQ", "ZJ", "JS"):
            unit = unit_by_code(s, code)
            for month, end in ((dt.date(2026, 6, 1), DEMO_END), (dt.date(2026, 6, 1),
                                                                 dt.date(2026, 6, 17))):
                pairs = children_this_and_last_month(s, unit, month, end)
                alone = [tuple(assess_months(s, k, dt.date(2026, 5, 1), month, end))
                         for k in children(s, unit)]
                assert pairs == alone, code


def test_assessing_the_children_takes_as_many_queries_for_four_as_for_two(small_store):
    """ZJ has four cities and JS two: the same number of queries (HQ's 27 provinces cost what
    three do). Not counted: the search for outlets that lacked a month's last day (stock levels),
    up to three statements a month whenever one did - a matter of the data, not of how many
    children there are."""
    from sqlalchemy import event

    from metrics.cache import bypass
    from metrics.stages import children_this_and_last_month

    counts = {}
    for code in ("ZJ", "JS"):  # a session each: the first read of a transaction reads more
        with Session(small_store.engine) as s, bypass():
            unit = unit_by_code(s, code)
            seen: list[str] = []
            listen = lambda *args, seen=seen: seen.append(args[2])  # noqa: E731
            event.listen(small_store.engine, "before_cursor_execute", listen)
            try:
                children_this_and_last_month(s, unit, dt.date(2026, 6, 1), DEMO_END)
            finally:
                event.remove(small_store.engine, "before_cursor_execute", listen)
            counts[code] = sum(1 for q in seen if "user_stock_daily" not in q
                               and "DISTINCT rollup_stock" not in q)
    assert counts["ZJ"] == counts["JS"], counts


# -- API and page ------------------------------------------------------------------------------


@pytest.mark.writes
def test_stages_api(client, manager):
    rows = client.get("/api/v1/stages?unit=ZJ&period=2026-06").get_json()
    assert len(rows) == 1 and rows[0]["unit"] == "ZJ" and 0 <= rows[0]["stage"] <= 4
    crit = rows[0]["criteria"]
    assert [c["id"] for c in crit] == [c.id for c in CRITERIA]
    assert {"id", "stage", "value", "threshold", "met"} <= set(crit[0])
    assert next(c for c in crit if c["id"] == "risk_closed_on_time")["met"] is not None
    kids = client.get("/api/v1/stages?unit=ZJ&period=2026-06&by=child").get_json()
    assert [k["unit"] for k in kids] == ["ZJ-HZ", "ZJ-NB"]
    for bad in ("period=2026-6", "period=June", "period=2030-01", "by=carrier&period=2026-06"):
        response = client.get(f"/api/v1/stages?unit=ZJ&{bad}")
        assert response.status_code == 400 and response.get_json()["parameter"] in ("period", "by")
    assert manager.get("/api/v1/stages?unit=ZJ-NB&period=2026-06").status_code == 403


def test_stages_page_for_a_manager(app, tiny_store):
    from components.i18n import t
    from tests.test_pages import render

    page = render(app, "stages", "manager", start="2026-06-01", end="2026-06-30")
    with Session(tiny_store.engine) as s:
        stage = assess(s, unit_by_code(s, "ZJ-HZ-01"), dt.date(2026, 6, 1), DEMO_END).stage
    assert "current-stage" in page
    if stage == 4:  # the top stage has no next steps, it says so
        assert "next-steps" not in page and t("stages.top", "zh") in page
    else:
        assert "next-steps" in page and t("stages.top", "zh") not in page
    assert "stages-children" in page and "stage-distribution" in page


def test_admins_change_thresholds_which_are_versioned_and_audited(empty_store):
    from sqlalchemy import select

    from auth import admin
    from auth.accounts import AccountError, create_user
    from data.models import AuditEvent
    from jobs.demo import seed_demo

    seed_demo(empty_store.engine, "tiny", 42, DEMO_END)
    with Session(empty_store.engine) as s:
        root = create_user(s, "root", "admin", "HQ", "a long password")
        viewer = create_user(s, "look", "viewer", "ZJ", "a long password")
        s.commit()
        unit = unit_by_code(s, "ZJ-HZ")
        before = assess(s, unit, dt.date(2026, 6, 1), DEMO_END)
        assert before.rubric_version == 1
        with pytest.raises(admin.NotPermitted):
            admin.set_threshold(s, viewer, "binding_rate", 0.1)
        with pytest.raises(AccountError):
            admin.set_threshold(s, root, "binding_rate", 1.5)
        assert admin.set_threshold(s, root, "binding_rate", 0.99) == 2
        s.commit()
        after = assess(s, unit, dt.date(2026, 6, 1), DEMO_END)
        binding = next(c for c in after.criteria if c.id == "binding_rate")
        assert after.rubric_version == 2 and binding.threshold == 0.99 and binding.met is False
        assert after.stage <= 1
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "rubric_change"))
        assert event.username == "root" and "0.6 -> 0.99" in event.detail
        assert [r["threshold"] for r in admin.rubric(s, root) if r["id"] == "binding_rate"] == [0.99]


def test_months_without_data_are_not_stage_zero_in_history(tiny_store):
    with Session(tiny_store.engine) as s:
        history = assess_months(s, unit_by_code(s, "ZJ"), dt.date(2025, 11, 1), dt.date(2026, 2, 1),
                                DEMO_END)
    assert [a.has_data for a in history] == [False, False, True, True]
