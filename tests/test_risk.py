"""Risk control: each rule type on constructed data, the scan on the demo (injected incidents found,
re-scan idempotent), the closed loop (allowed and refused steps, scope), the API, the page."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.models import AuditEvent, RiskEvent, RiskEventStep, RiskRule, User
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
    from data.demo import seed_demo

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


def test_audit_rule_finds_repeated_failed_sign_ins(empty_store):
    from data.demo import seed_demo
    from risk.workflow import local_now

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


def test_steps_follow_the_loop_and_are_recorded(tiny_store):
    with Session(tiny_store.engine) as s:
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


def test_viewers_and_out_of_scope_managers_cannot_step(tiny_store):
    with Session(tiny_store.engine) as s:
        viewer, manager = _user(s, "viewer"), _user(s, "manager")
        outside = s.scalars(select(RiskEvent).join(RiskEvent.unit).where(
            ~RiskEvent.unit.has(path=None))).all()
        foreign = next(e for e in outside if not e.unit.path.startswith(manager.unit.path))
        foreign.state = "open"
        assert allowed_steps(foreign, viewer) == ()
        assert allowed_steps(foreign, manager) == ()
        with pytest.raises(StepRefused):
            step(s, foreign, manager, "dispatched")
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "forbidden",
                                                 AuditEvent.username == "manager",
                                                 AuditEvent.target == f"risk event {foreign.id}"))
        s.rollback()


# -- API and page -----------------------------------------------------------------------------


def test_risk_events_api(client, manager):
    rows = client.get("/api/v1/risk-events?unit=ZJ").get_json()
    assert rows and set(rows[0]) == {"id", "rule", "rule_type", "severity", "unit", "carrier",
                                     "kpi", "date", "value", "threshold", "state", "deadline",
                                     "overdue"}
    closed = client.get("/api/v1/risk-events?unit=ZJ&state=closed").get_json()
    assert closed and all(r["state"] == "closed" for r in closed)
    assert client.get("/api/v1/risk-events?unit=ZJ&state=lost").status_code == 400
    assert manager.get("/api/v1/risk-events?unit=ZJ-NB").status_code == 403
    mine = manager.get("/api/v1/risk-events?unit=ZJ-HZ-01").get_json()
    assert all(r["unit"].startswith("ZJ-HZ-01") for r in mine)


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


def test_risk_scan_command(tiny_store, runner_for):
    runner = runner_for(tiny_store.url)
    out = runner.invoke(args=["risk-scan", "--from", "2026-06-01", "--to", "2026-06-30"])
    assert out.exit_code == 0 and "0 new event(s), 0 extended" in out.output
    assert runner.invoke(args=["risk-scan", "--date", "2026-06-30"]).exit_code == 0
    bad = runner.invoke(args=["risk-scan", "--from", "2026-06-30", "--to", "2026-06-01"])
    assert bad.exit_code != 0 and "before" in bad.output
    assert runner.invoke(args=["risk-scan", "--from", "2026-06-01"]).exit_code != 0


def test_admins_edit_rules_with_checks_and_audit(empty_store):
    from auth import admin
    from auth.accounts import AccountError, create_user
    from data.schema import upgrade

    upgrade(empty_store.engine)
    with Session(empty_store.engine) as s:
        from data.models import OrgUnit

        s.add(OrgUnit(id=1, code="HQ", name_zh="总部", name_en="HQ", tier=1, path="/000001/"))
        s.flush()
        root = create_user(s, "root", "admin", "HQ", "a long password")
        look = create_user(s, "look", "viewer", "HQ", "a long password")
        s.commit()
        admin.update_rule(s, root, "availability_low", "params", '{"op": "<", "value": 0.95}')
        admin.update_rule(s, root, "availability_low", "tiers", "3, 4,5")
        admin.update_rule(s, root, "availability_low", "active", "false")
        rule = s.scalar(select(RiskRule).where(RiskRule.code == "availability_low"))
        assert rule.params == '{"op": "<", "value": 0.95}' and rule.tiers == "3,4,5"
        assert rule.active is False
        for field, bad in (("params", "{not json"), ("params", "[1]"), ("tiers", "6"),
                           ("severity", "extreme"), ("deadline_hours", "0"), ("code", "x")):
            with pytest.raises(AccountError):
                admin.update_rule(s, root, "availability_low", field, bad)
        with pytest.raises(admin.NotPermitted):
            admin.update_rule(s, look, "availability_low", "severity", "low")
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "rule_change")) == 3
