"""Risk control: each rule type on constructed data, the scan on the demo (injected incidents found,
re-scan idempotent), the closed loop (allowed and refused steps, scope), the API, the page."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.models import AuditEvent, OrgUnit, RiskEvent, RiskEventStep, RiskRule, User
from data.units import unit_by_code
from risk import detect
from risk.detect import Day
from risk.scan import scan
from risk.workflow import StepRefused, allowed_steps, is_overdue, step
from tests.conftest import DEMO_END

D0 = dt.date(2026, 3, 1)


def series(values, numerators=None, denominators=None, start=D0):
    """A daily series from lists (None = no data that day)."""
    out = {}
    for i, v in enumerate(values):
        num = numerators[i] if numerators else v
        den = denominators[i] if denominators else (None if v is None else 1.0)
        if v is not None or num is not None:
            out[start + dt.timedelta(days=i)] = Day(v, num, den)
    return out


def day(i):
    return D0 + dt.timedelta(days=i)


# -- rule types on constructed data --------------------------------------------------------------


def test_threshold_fires_below_and_stays_quiet_at_the_limit():
    s = series([0.99, 0.97, 0.95])
    params = {"op": "<", "value": 0.97}
    assert detect.threshold(s, day(0), params) is None
    assert detect.threshold(s, day(1), params) is None  # exactly at the limit is not a breach
    hit = detect.threshold(s, day(2), params)
    assert hit.value == 0.95 and hit.threshold == 0.97
    assert detect.threshold(s, day(5), params) is None  # no data is no breach


def test_threshold_over_a_window_uses_sum_over_sum():
    s = series([0.5, 0.9], numerators=[5, 90], denominators=[10, 100])
    hit = detect.threshold(s, day(1), {"op": "<", "value": 0.9, "window": 2})
    assert hit.value == pytest.approx(95 / 110)


def test_change_fires_on_a_drop_and_a_rise_only():
    flat = [10.0] * 14
    drop = [10.0] * 7 + [6.0] * 7
    rise = [1.0] * 7 + [4.0] * 7
    assert detect.change(series(flat), day(13), {"window": 7, "max_drop": 0.3}, ratio=False) is None
    assert detect.change(series(drop), day(13), {"window": 7, "max_drop": 0.3}, ratio=False)
    assert detect.change(series(drop), day(13), {"window": 7, "max_drop": 0.5}, ratio=False) is None
    assert detect.change(series(rise), day(13), {"window": 7, "max_rise": 2.0}, ratio=False)
    assert detect.change(series(rise), day(13), {"window": 7, "max_rise": 2.0,
                                                 "min_numerator": 100}, ratio=False) is None


def test_change_fires_from_a_zero_baseline_at_min_count_and_not_below():
    """Complaints per 10k (scale 10,000) of 1,000 customers a day: none the week before, then a
    count this week; the rule fires from zero only at min_count, its threshold then the rate that
    min_count complaints would give (10,000 * 8 / 7,000 = 11.43 per 10k)."""
    params = {"window": 7, "max_rise": 2.0, "min_count": 8}
    customers = [1000.0] * 14

    def week(count):  # none the first week, `count` complaints on the last day of the second
        nums = [0.0] * 13 + [float(count)]
        return series([10000 * n / 1000 for n in nums], numerators=nums, denominators=customers)

    hit = detect.change(week(10), day(13), params, scale=10000.0)
    assert hit.value == pytest.approx(10000 * 10 / 7000)
    assert hit.threshold == pytest.approx(10000 * 8 / 7000)
    at = detect.change(week(8), day(13), params, scale=10000.0)
    assert at.value == pytest.approx(at.threshold) == pytest.approx(10000 * 8 / 7000)
    assert detect.change(week(7), day(13), params, scale=10000.0) is None  # below min_count
    assert detect.change(week(10), day(13), {"window": 7, "max_rise": 2.0},
                         scale=10000.0) is None  # no min_count: never from zero
    drop_only = {"window": 7, "max_drop": 0.5, "min_count": 8}
    assert detect.change(week(10), day(13), drop_only, scale=10000.0) is None
    # A count KPI: 9 against 0 fires (threshold 8), 9 against nothing at all (no data) does not.
    counts = series([0.0] * 7 + [0.0] * 6 + [9.0])
    hit = detect.change(counts, day(13), params, ratio=False)
    assert (hit.value, hit.threshold) == (9.0, 8.0)
    no_data = series([None] * 7 + [0.0] * 6 + [9.0])
    assert detect.change(no_data, day(13), params, ratio=False) is None
    # A ratio the week before with data but nothing to divide by counts as zero too.
    empty = series([None] * 7 + [0.0] * 6 + [10000 * 9 / 1000], numerators=[0.0] * 13 + [9.0],
                   denominators=[0.0] * 7 + [1000.0] * 7)
    hit = detect.change(empty, day(13), params, scale=10000.0)
    assert hit.value == pytest.approx(10000 * 9 / 7000)


def test_rise_rules_of_the_starter_library_fire_from_zero():
    from risk.library import STARTER

    rises = [r for r in STARTER if r[3] == "change" and "max_rise" in r[7]]
    assert rises and all(r[7].get("min_count", 0) >= 1 for r in rises)


def test_anomaly_fires_far_from_the_units_own_history():
    history = [100.0 + (i % 5) for i in range(56)]
    normal = series(history + [103.0])
    odd = series(history + [40.0])
    params = {"weeks": 8, "z": 4.0, "side": "low"}
    assert detect.anomaly(normal, day(56), params) is None
    assert detect.anomaly(odd, day(56), params).value == 40.0
    assert detect.anomaly(series(history + [160.0]), day(56), params) is None  # wrong side
    assert detect.anomaly(series([100.0] * 5 + [1.0]), day(5), params) is None  # too little history


def test_silence_needs_usual_traffic_and_a_day_with_data():
    usual = [50.0] * 28
    assert detect.silence(series(usual + [0.0]), day(28), {"min_usual": 5})
    assert detect.silence(series(usual + [3.0]), day(28), {"min_usual": 5}) is None
    assert detect.silence(series([0.0] * 28 + [0.0]), day(28), {"min_usual": 5}) is None
    assert detect.silence(series(usual + [None]), day(28), {"min_usual": 5}) is None


def test_audit_counts_per_person_and_day():
    counts = {("alice", D0): 6, ("bob", D0): 2, ("alice", day(1)): 5}
    found = detect.audit_breaches(counts, {"count": 5})
    assert [(u, b.day) for u, b in found] == [("alice", D0), ("alice", day(1))]


def test_starter_library_covers_every_core_and_type(tiny_store):
    with Session(tiny_store.engine) as s:
        rules = s.scalars(select(RiskRule)).all()
    assert len(rules) >= 12
    assert {r.type for r in rules} == {"threshold", "change", "anomaly", "silence", "audit"}
    assert {r.core for r in rules} == {"channel", "user", "business", "content", "campaign",
                                       "service"}


# -- the scan on the demo -------------------------------------------------------------------------


def _incident(s, kind):
    from data.models import DemoIncident

    return s.scalar(select(DemoIncident).where(DemoIncident.kind == kind))


def _events(s, code, unit_id):
    return s.scalars(select(RiskEvent).join(RiskRule).where(
        RiskRule.code == code, RiskEvent.unit_id == unit_id)).all()


def test_the_injected_incidents_are_found(tiny_store):
    with Session(tiny_store.engine) as s:
        outage = _incident(s, "carrier_outage")
        found = _events(s, "availability_low", outage.unit_id)
        assert any(e.first_day <= outage.start_day <= e.last_day for e in found)
        silence = _incident(s, "carrier_silence")
        found = _events(s, "wechat_silent", silence.unit_id)
        assert [(e.first_day, e.last_day) for e in found] == [(silence.start_day,
                                                                 silence.start_day)]
        surge = _incident(s, "complaint_surge")
        found = _events(s, "complaint_surge", surge.unit_id)
        assert any(surge.start_day <= e.first_day <= surge.end_day + dt.timedelta(days=7)
                   for e in found)


def test_rescanning_creates_nothing_new(tiny_store):
    with Session(tiny_store.engine) as s:
        before = s.scalar(select(func.count()).select_from(RiskEvent))
        stats = scan(s, DEMO_END - dt.timedelta(days=60), DEMO_END)
        assert stats == {"new": 0, "extended": 0}
        assert s.scalar(select(func.count()).select_from(RiskEvent)) == before
        s.rollback()


def test_a_continuing_breach_extends_its_event(empty_store):
    from jobs.demo import seed_demo

    seed_demo(empty_store.engine, "tiny", 42, DEMO_END)
    with Session(empty_store.engine) as s:
        surge = _incident(s, "complaint_surge")
        event = next(e for e in _events(s, "complaint_surge", surge.unit_id)
                     if e.last_day > e.first_day)
        first, last = event.first_day, event.last_day
        for st in s.scalars(select(RiskEventStep).where(RiskEventStep.event_id == event.id)):
            s.delete(st)
        s.flush()
        s.delete(event)
        s.flush()
        assert scan(s, first, first)["new"] >= 1
        again = next(e for e in _events(s, "complaint_surge", surge.unit_id)
                     if e.first_day == first)
        assert again.last_day == first
        assert scan(s, first + dt.timedelta(days=1), last)["extended"] >= 1
        assert again.last_day == last
        assert scan(s, first, last) == {"new": 0, "extended": 0}


def test_a_continuing_breach_keeps_its_latest_days_pair_and_its_worst_days_pair(empty_store):
    """A count that more than doubles day on day (change, window 1, max_rise 1.0): 10, 25, 100,
    300. Day 1: 25 against 20 (5 beyond, 0.25 of the threshold); day 2: 100 against 50 (50
    beyond, 1.0); day 3: 300 against 200 (100 beyond, 0.5). The event keeps day 3's pair as its
    value and threshold, and day 2's as its worst (furthest beyond, relative to the threshold)."""
    from data.models import OrgUnit
    from risk.scan import record

    counts = series([10.0, 25.0, 100.0, 300.0])
    params = {"window": 1, "max_rise": 1.0}
    with Session(empty_store.engine) as s:
        hq = OrgUnit(id=1, code="HQ", name_zh="总部", name_en="HQ", tier=1, path="/000001/")
        s.add(hq)
        s.flush()
        rule = s.scalar(select(RiskRule).where(RiskRule.code == "complaint_surge"))
        breaches = [detect.change(counts, day(i), params, ratio=False) for i in (1, 2, 3)]
        assert [(b.value, b.threshold) for b in breaches] == [(25, 20), (100, 50), (300, 200)]
        outcomes = [record(s, rule, hq, b, {1: hq}) for b in breaches]
        assert outcomes == ["new", "extended", "extended"]
        event = s.scalar(select(RiskEvent).where(RiskEvent.rule_id == rule.id))
        assert (event.first_day, event.last_day) == (day(1), day(3))
        assert (event.value, event.threshold) == (300, 200)
        assert (event.worst_day, event.worst_value, event.worst_threshold) == (day(2), 100, 50)
        s.rollback()


def test_worst_is_relative_to_the_threshold_and_the_earlier_day_wins_a_tie():
    assert detect.excess(30.0, 10.0) > detect.excess(150.0, 140.0)  # 2.0 against 0.07
    assert not detect.excess(40.0, 20.0) > detect.excess(20.0, 10.0)  # both 1.0: a tie
    assert detect.excess(0.90, 0.97) > detect.excess(0.95, 0.97)  # below a limit: further down
    assert detect.excess(3.0, 0.0) > detect.excess(300.0, 1.0)  # beyond a threshold of 0
    assert detect.excess(None, 1.0) < detect.excess(1.0, 1.0)  # a known pair beats none


def test_audit_rule_finds_repeated_failed_sign_ins(empty_store):
    from data.clock import local_now
    from jobs.demo import seed_demo

    seed_demo(empty_store.engine, "tiny", 42, DEMO_END)
    with Session(empty_store.engine) as s:
        now = local_now().replace(microsecond=0)
        for _ in range(6):
            s.add(AuditEvent(at=now, username="mallory", address="10.0.0.1",
                             action="login_failed", outcome="failed"))
        s.flush()
        scan(s, now.date(), now.date())
        hq = unit_by_code(s, "HQ")
        assert _events(s, "failed_logins", hq.id)


# -- the closed loop -------------------------------------------------------------------------------


def _open_event(s):
    event = s.scalars(select(RiskEvent).join(RiskEvent.unit)
                      .where(RiskEvent.state.in_(["open", "in_progress"]))).first()
    if event is None:
        event = s.scalars(select(RiskEvent)).first()
        event.state = "open"
    return event


def _user(s, name):
    return s.scalar(select(User).where(User.username == name))


@pytest.mark.writes
def test_steps_follow_the_loop_and_are_recorded(app_store):
    with Session(app_store.engine) as s:
        event = s.scalars(select(RiskEvent)).first()
        event.state, event.resolved_at, event.closed_at = "open", None, None
        admin = _user(s, "admin")
        with pytest.raises(StepRefused):
            step(s, event, admin, "closed")  # not straight from open
        for to in ("dispatched", "in_progress", "resolved", "closed", "reopened", "resolved"):
            step(s, event, admin, to, note=f"to {to}")
        steps = s.scalars(select(RiskEventStep).where(RiskEventStep.event_id == event.id,
                                                      RiskEventStep.username == "admin")).all()
        assert [x.to_state for x in steps][-6:] == ["dispatched", "in_progress", "resolved",
                                                    "closed", "reopened", "resolved"]
        assert event.resolved_at is not None and not is_overdue(event, event.deadline
                                                                 + dt.timedelta(days=9))
        s.rollback()


@pytest.mark.writes
def test_viewers_and_out_of_scope_managers_cannot_step(app_store):
    with Session(app_store.engine) as s:
        viewer, manager = _user(s, "viewer"), _user(s, "manager")
        outside = s.scalars(select(RiskEvent).join(RiskEvent.unit).where(
            ~RiskEvent.unit.has(path=None))).all()
        foreign = next(e for e in outside if not e.unit.path.startswith(manager.unit.path))
        foreign.state = "open"
        assert allowed_steps(foreign, viewer) == ()
        assert allowed_steps(foreign, manager) == ()
        with pytest.raises(StepRefused):
            step(s, foreign, manager, "dispatched")
        foreign_id = foreign.id
        s.rollback()  # the caller's change goes; the refusal's audit row stays
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "forbidden",
                                                 AuditEvent.username == "manager",
                                                 AuditEvent.target == f"risk event {foreign_id}"))


# -- API and page -----------------------------------------------------------------------------


@pytest.mark.writes
def test_risk_events_api(client, manager):
    rows = client.get("/api/v1/risk-events?unit=ZJ").get_json()
    assert rows and set(rows[0]) == {"id", "rule", "rule_type", "severity", "unit", "carrier",
                                     "kpi", "date", "last_day", "value", "threshold",
                                     "worst_day", "worst_value", "worst_threshold", "state",
                                     "deadline", "overdue", "incident", "assignee"}
    assert all(r["date"] <= r["worst_day"] <= r["last_day"] for r in rows)
    closed = client.get("/api/v1/risk-events?unit=ZJ&state=closed").get_json()
    assert closed and all(r["state"] == "closed" for r in closed)
    assert client.get("/api/v1/risk-events?unit=ZJ&state=lost").status_code == 400
    assert manager.get("/api/v1/risk-events?unit=ZJ-NB").status_code == 403
    mine = manager.get("/api/v1/risk-events?unit=ZJ-HZ-01").get_json()
    assert all(r["unit"].startswith("ZJ-HZ-01") for r in mine)


@pytest.mark.writes
def test_risk_page_and_detail(app):
    from flask_login import login_user

    from data.db import get_session
    from pages import risk
    from tests.test_pages import render, texts

    page = render(app, "risk", "admin", unit="ZJ", start="2026-05-01", end="2026-06-30")
    assert "risk-events" in page and "risk-overdue" in page
    with app.test_request_context("/"):
        login_user(_user(get_session(), "viewer"))
        event = get_session().scalars(select(RiskEvent).join(RiskEvent.unit).where(
            RiskEvent.unit.has(code="ZJ-NB"))).first()
        detail = texts(risk.render_detail(event.id, "en"))
        assert "not permitted" in detail  # a Hangzhou viewer asking for a Ningbo event
    with app.test_request_context("/"):
        login_user(_user(get_session(), "admin"))
        event = get_session().scalars(select(RiskEvent).join(RiskEvent.unit).where(
            RiskEvent.unit.has(code="ZJ-NB"))).first()
        en = " ".join(texts(risk.render_detail(event.id, "en")).split())
        zh = " ".join(texts(risk.render_detail(event.id, "zh")).split())
    assert f"Value on the latest day ({event.last_day})" in en and "Threshold that day" in en
    assert f"Worst day {event.worst_day}" in en and "Target" not in en
    assert "阈值" in zh and f"最严重的一天 {event.worst_day}" in zh and "目标" not in zh


@pytest.mark.writes
def test_risk_scan_command(app_store, runner_for):
    runner = runner_for(app_store.url)
    out = runner.invoke(args=["risk-scan", "--from", "2026-06-01", "--to", "2026-06-30"])
    assert out.exit_code == 0 and "0 new event(s), 0 extended" in out.output
    assert runner.invoke(args=["risk-scan", "--date", "2026-06-30"]).exit_code == 0
    bad = runner.invoke(args=["risk-scan", "--from", "2026-06-30", "--to", "2026-06-01"])
    assert bad.exit_code != 0 and "before" in bad.output
    assert runner.invoke(args=["risk-scan", "--from", "2026-06-01"]).exit_code != 0


def test_admins_edit_rules_with_checks_and_audit(empty_store):
    from auth import admin
    from auth.accounts import AccountError, create_user
    from jobs.schema import upgrade
    from risk import rules_admin

    upgrade(empty_store.engine)
    with Session(empty_store.engine) as s:
        from data.models import OrgUnit

        s.add(OrgUnit(id=1, code="HQ", name_zh="总部", name_en="HQ", tier=1, path="/000001/"))
        s.flush()
        root = create_user(s, "root", "admin", "HQ", "a long password")
        look = create_user(s, "look", "viewer", "HQ", "a long password")
        s.commit()
        rules_admin.update_rule(s, root, "availability_low", "params", '{"op": "<", "value": 0.95}')
        rules_admin.update_rule(s, root, "availability_low", "tiers", "3, 4,5")
        rules_admin.update_rule(s, root, "availability_low", "active", "false")
        s.commit()  # the caller commits (on the admin page, the callback)
        rule = s.scalar(select(RiskRule).where(RiskRule.code == "availability_low"))
        assert rule.params == '{"op": "<", "value": 0.95}' and rule.tiers == "3,4,5"
        assert rule.active is False
        for field, bad in (("params", "{not json"), ("params", "[1]"), ("tiers", "6"),
                           ("severity", "extreme"), ("deadline_hours", "0"), ("code", "x")):
            with pytest.raises(AccountError):
                rules_admin.update_rule(s, root, "availability_low", field, bad)
        with pytest.raises(admin.NotPermitted):
            rules_admin.update_rule(s, look, "availability_low", "severity", "low")
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "rule_change")) == 3


# --- the risk page: tables follow a step, the event is in the URL (issue 17, item 10) ----------

def _render_risk(flask_app, username: str, **query):
    from flask_login import login_user

    from data.db import get_session
    from pages import risk

    with flask_app.test_request_context("/"):
        login_user(_user(get_session(), username))
        return risk.layout(**query)


def _find(component, id_):
    """The component of a tree with id `id_`, or None."""
    if isinstance(component, (list, tuple)):
        return next((f for f in (_find(c, id_) for c in component) if f is not None), None)
    if component is None or isinstance(component, (str, int, float)):
        return None
    if getattr(component, "id", None) == id_:
        return component
    return _find(getattr(component, "children", None), id_)


def test_a_step_updates_both_tables_at_once(tmp_path):
    from flask_login import login_user

    from data.db import get_session
    from pages import risk
    from tests.conftest import app_over, seeded_store
    from tests.test_pages import _run_callback

    store = seeded_store("sqlite", tmp_path)
    try:
        with Session(store.engine) as s:  # an open event, long overdue, and a second one
            first, other = s.scalars(select(RiskEvent).order_by(RiskEvent.id)).all()[:2]
            first.state, first.resolved_at, first.closed_at = "in_progress", None, None
            first.deadline = dt.datetime(2026, 6, 1, 12, 0)
            ids = (first.id, other.id)
            s.commit()
        stale = [{"id": ids[0], "state_name": "处置中", "overdue_mark": "⚠"},
                 {"id": ids[1], "state_name": "untouched", "overdue_mark": ""}]
        with app_over(store) as flask_app, flask_app.test_request_context("/"):
            login_user(_user(get_session(), "admin"))
            _user(get_session(), "admin").language = "zh"
            trigger = '{"to":"resolved","type":"risk-step"}.n_clicks'
            detail, listed, overdue, _ = _run_callback(risk.take_step, trigger, [1], ids[0],
                                                       "done", stale, stale[:1])
        with Session(store.engine) as s:
            assert s.get(RiskEvent, ids[0]).state == "resolved"
        assert f"#{ids[0]}" in str(detail)
        assert [r["id"] for r in listed] == list(ids)  # same rows, same order
        assert listed[0]["state_name"] == "已解决" and listed[0]["overdue_mark"] == ""
        assert listed[1] == stale[1]  # the other row is left alone
        assert overdue == []  # resolved: it leaves the overdue list
    finally:
        store.drop()


@pytest.mark.writes
def test_an_event_opens_from_the_url_and_others_are_refused_alike(app):
    from data.db import get_session
    from tests.test_pages import texts

    with app.app_context():
        s = get_session()
        ningbo = s.scalars(select(RiskEvent).where(RiskEvent.unit.has(code="ZJ-NB"))).first().id
        hangzhou = s.scalars(select(RiskEvent.id).join(OrgUnit, OrgUnit.id == RiskEvent.unit_id)
                             .where(OrgUnit.code.like("ZJ-HZ%"))).first()
        unknown = (s.scalar(select(func.max(RiskEvent.id))) or 0) + 1000
        before = s.scalar(select(func.count()).select_from(AuditEvent)
                          .where(AuditEvent.outcome == "refused"))
    page = _render_risk(app, "admin", unit="ZJ", event=str(ningbo))
    assert _find(page, "risk-event-id").data == ningbo
    assert f"#{ningbo}" in texts(_find(page, "risk-detail"))
    shown = texts(page)  # the rule's limit is a threshold, on the whole page
    assert "阈值" in shown and "目标" not in shown and "Target" not in shown
    # A Hangzhou viewer: its own event opens; a Ningbo one and one that does not exist get the
    # same refusal (nothing says which exists), and both are audited.
    mine = _render_risk(app, "viewer", event=str(hangzhou))
    assert f"#{hangzhou}" in texts(_find(mine, "risk-detail"))
    theirs = texts(_render_risk(app, "viewer", event=str(ningbo)))
    nobody = texts(_render_risk(app, "viewer", event=str(unknown)))
    assert "not-permitted" in theirs and theirs == nobody
    assert "bad-view" in texts(_render_risk(app, "viewer", event="abc"))
    with app.app_context():
        after = get_session().scalar(select(func.count()).select_from(AuditEvent)
                                     .where(AuditEvent.outcome == "refused"))
    assert after - before == 3
    # Without `event` the detail panel asks for a pick, as before.
    assert _find(_render_risk(app, "viewer"), "risk-event-id").data is None
