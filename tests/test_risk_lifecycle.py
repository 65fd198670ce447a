"""One risk incident from detection to closure through the real code of each step (issue 23): a
daily file in which WeChat carried nothing at a county's outlets is imported, the import's scan
finds the county and its outlets and groups them into one incident, a manager dispatches it to a
colleague, `notify-due` runs as the hours pass (due soon, overdue, escalated to the city), the
assignee resolves it, the manager closes it, reopens it and it is closed again. Every notice goes
to a real SMTP server and a real HTTP receiver started here, and is checked against what the issue
says each cause must produce: the assignee and the owner unit's managers by email, the nearest
chat robot of the owner unit (of the escalated unit, for an escalation), never twice.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from auth.accounts import create_user
from data.models import (
    Carrier,
    ChannelDaily,
    OrgUnit,
    RiskEvent,
    RiskEventStep,
    RiskIncident,
    RiskNotification,
    RiskRule,
    User,
)
from data.units import subtree_bounds, unit_by_code
from metrics.risk_work import my_work
from metrics.scope import Scope
from risk import webhooks
from risk.workflow import assign, parse_assignee, step_incident
from tests.conftest import PASSWORD, app_over
from tests.smtp_server import SmtpServer
from tests.test_risk_notify import Receiver, notify_settings

COUNTY, CITY = "ZJ-HZ-01", "ZJ-HZ"
RULE = "wechat_silent"  # tiers 4 and 5, owned by the county tier, 24 hours to handle


@pytest.fixture
def world(own_store):
    mail, robot = SmtpServer().start(), Receiver()
    try:
        with app_over(own_store, **notify_settings(mail.port)) as flask_app:
            yield own_store, flask_app, mail, robot
    finally:
        robot.close()
        mail.stop()


def _silent_day_file(s: Session, tmp_path, day: dt.date):
    """The county's outlets' WeChat rows of `day` with no traffic at all (the other columns as
    loaded, so that only the silence is new)."""
    low, high = subtree_bounds(unit_by_code(s, COUNTY).path)
    rows = s.execute(select(ChannelDaily, OrgUnit.code).join(OrgUnit, OrgUnit.id == ChannelDaily.unit_id)
                     .where(OrgUnit.path >= low, OrgUnit.path < high, OrgUnit.tier == 5,
                            ChannelDaily.day == day,
                            ChannelDaily.carrier_id == select(Carrier.id).where(
                                Carrier.code == "wechat").scalar_subquery())).all()
    assert len(rows) >= 2, "the tiny demo's county has outlets with WeChat rows that day"
    path = tmp_path / f"channel_daily_{day}.csv"
    columns = ["unit", "day", "carrier", "visits", "transactions", "minutes_scheduled",
               "minutes_available", "registrations", "applications_total", "applications_online",
               "applications_completed", "completion_days_sum", "payments_total", "payments_online",
               "payment_amount_total", "payment_amount_online"]
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(columns)
        for row, code in rows:
            out.writerow([code, day.isoformat(), "wechat", 0, 0, row.minutes_scheduled,
                          row.minutes_available, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    return path, [code for _, code in rows]


def _notices(engine, incident_id: int) -> list[tuple[str, str, str, str]]:
    with Session(engine) as s:
        return [(n.kind, n.channel, n.recipient, n.state) for n in s.scalars(
            select(RiskNotification).where(RiskNotification.incident_id == incident_id)
            .order_by(RiskNotification.id))]


def _notify(flask_app, at: dt.datetime) -> None:
    done = flask_app.test_cli_runner().invoke(args=["notify-due", "--now", f"{at:%Y-%m-%d %H:%M}"])
    assert done.exit_code == 0, done.output


@pytest.mark.writes
def test_an_incident_from_detection_to_closure_with_every_notice(world, tmp_path):
    store, flask_app, mail, robot = world
    engine = store.engine
    with Session(engine) as s:
        day = s.scalar(select(func.max(ChannelDaily.day)))
        path, outlets = _silent_day_file(s, tmp_path, day)
        # The people: the county's manager (the demo's), a colleague to assign, the city's manager.
        manager = s.scalar(select(User).where(User.username == "manager"))
        assert manager.unit.code == COUNTY and manager.role == "manager"
        manager.email = "manager@example.com"
        county_id = manager.unit_id
        create_user(s, "zhang", "manager", COUNTY, PASSWORD).email = "zhang@example.com"
        create_user(s, "li", "manager", CITY, PASSWORD).email = "li@example.com"
        admin = s.scalar(select(User).where(User.role == "admin"))
        webhooks.set_webhook(s, admin, COUNTY, f"{robot.url}/county")
        webhooks.set_webhook(s, admin, CITY, f"{robot.url}/city")
        s.commit()

    # Detection: the import's own scan finds the county and each silent outlet, one incident.
    done = flask_app.test_cli_runner().invoke(args=["import-data", str(path)])
    assert done.exit_code == 0, done.output
    with Session(engine) as s:
        rule = s.scalar(select(RiskRule).where(RiskRule.code == RULE))
        found = s.execute(select(RiskEvent, OrgUnit.code).join(OrgUnit, OrgUnit.id == RiskEvent.unit_id)
                          .where(RiskEvent.rule_id == rule.id, RiskEvent.first_day == day)).all()
        codes = sorted(code for _, code in found)
        assert codes == sorted([COUNTY, *outlets])
        [incident_id] = {e.incident_id for e, _ in found}
        incident = s.get(RiskIncident, incident_id)
        assert incident.unit.code == COUNTY and incident.owner_unit_id == county_id
        detected, deadline = incident.created_at, incident.deadline
        assert deadline - detected == dt.timedelta(hours=rule.deadline_hours)
    lead_units = len(codes)

    # Dispatch, an hour after detection, to zhang.
    dispatched = detected + dt.timedelta(hours=1)
    with Session(engine) as s:
        incident = s.get(RiskIncident, incident_id)
        actor = s.scalar(select(User).where(User.username == "manager"))
        zhang = s.scalar(select(User).where(User.username == "zhang"))
        steps = assign(s, incident, actor, parse_assignee(s, f"user:{zhang.id}"), "请核查微信渠道",
                       now=dispatched)
        assert len(steps) == lead_units  # one step on each of its events
        s.commit()
    _notify(flask_app, dispatched + dt.timedelta(minutes=5))
    _notify(flask_app, dispatched + dt.timedelta(minutes=10))  # again: nothing twice
    # the assignee and the owner unit's managers (the county's: the manager and zhang, once each)
    owner = [("email", "zhang@example.com"), ("email", "manager@example.com")]
    want = [(k, ch, r) for k in ("dispatched",) for ch, r in owner] + [("dispatched", "webhook", "county")]

    # The hours pass: due soon (4 h before), overdue, overdue by more than a day (escalated).
    _notify(flask_app, deadline - dt.timedelta(hours=3))
    want += [("due_soon", ch, r) for ch, r in owner] + [("due_soon", "webhook", "county")]
    _notify(flask_app, deadline + dt.timedelta(minutes=30))
    want += [("overdue", ch, r) for ch, r in owner] + [("overdue", "webhook", "county")]
    escalation = deadline + dt.timedelta(hours=25)
    _notify(flask_app, escalation)
    want += ([("escalated", ch, r) for ch, r in owner]
             + [("escalated", "email", "li@example.com"), ("escalated", "webhook", "city")])
    with Session(engine) as s:
        incident = s.get(RiskIncident, incident_id)
        assert incident.escalated_unit_id == unit_by_code(s, CITY).id
        li = s.scalar(select(User).where(User.username == "li"))
        work = my_work(s, li, escalation, Scope.of(li.unit))
        assert work.loc[work["incident"] == incident_id, "reason"].tolist() == ["escalated_to_my_unit"]

    # Handled: zhang works and resolves it, the manager closes it, reopens it, and it is closed.
    moves = [("zhang", "in_progress"), ("zhang", "resolved"), ("manager", "closed"),
             ("manager", "reopened"), ("zhang", "resolved"), ("manager", "closed")]
    at = escalation + dt.timedelta(minutes=30)
    for who, to_state in moves:
        at += dt.timedelta(minutes=20)
        with Session(engine) as s:
            incident = s.get(RiskIncident, incident_id)
            actor = s.scalar(select(User).where(User.username == who))
            step_incident(s, incident, actor, to_state, now=at)
            s.commit()
        _notify(flask_app, at + dt.timedelta(minutes=1))
        if to_state == "reopened":
            want += [("reopened", ch, r) for ch, r in owner] + [("reopened", "webhook", "county")]
    _notify(flask_app, at + dt.timedelta(hours=30))  # long after: nothing more to say

    with Session(engine) as s:
        incident = s.get(RiskIncident, incident_id)
        states = s.scalars(select(RiskEvent.state).where(RiskEvent.incident_id == incident_id)).all()
        assert states == ["closed"] * lead_units
        assert incident.resolved_at is not None and incident.dispatched_at == dispatched
        per_event = Counter(s.scalars(select(RiskEventStep.event_id).join(
            RiskEvent, RiskEvent.id == RiskEventStep.event_id)
            .where(RiskEvent.incident_id == incident_id)))
        # open, dispatch, escalation and the six moves: the same on every event
        assert set(per_event.values()) == {1 + 1 + 1 + len(moves)}

    got = _notices(engine, incident_id)
    assert all(state == "sent" for *_, state in got), got
    named = [(kind, channel, recipient if channel == "email" else None) for kind, channel, recipient, _
             in got]
    assert Counter((k, ch) for k, ch, _ in named) == Counter((k, ch) for k, ch, _ in want)
    assert Counter((k, r) for k, ch, r in named if ch == "email") == Counter(
        (k, r) for k, ch, r in want if ch == "email")
    # What arrived: every email once, every robot post once, at the robot of its unit.
    arrived = Counter(tuple(m.recipients) for m in mail.handler.received)
    assert arrived == Counter((r,) for _, ch, r in want if ch == "email")
    posted = Counter(path.rsplit("/", 1)[-1] for path, _, _ in robot.posts)
    assert posted == Counter(r for _, ch, r in want if ch == "webhook")
    assert all(body["msgtype"] == "text" and "微信全天无业务" in body["text"]["content"]
               for _, _, body in robot.posts)

