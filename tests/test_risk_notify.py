"""Risk notifications (`flask --app app notify-due`, issue 23 parts 2 and 3): escalation, the
outbox, and sending to a real SMTP server and a real HTTP receiver started in the test.

Incidents, events and steps are written directly (the dispatch and grouping code is another
part's): a county's incident (ZJ-HZ-01, owned there) of two events, the county's and an outlet's.
Times given to `--now` are local (Asia/Shanghai), as incidents keep theirs.
"""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from auth.accounts import create_user
from data.db import get_session
from data.models import (
    OrgUnit,
    RiskEvent,
    RiskEventStep,
    RiskIncident,
    RiskNotification,
    RiskRule,
    RiskWebhook,
    User,
)
from export import delivery, notify_cli
from export.deliver_cli import _clock
from risk import notify
from risk.escalation import ESCALATOR, escalate_overdue
from tests.conftest import PASSWORD, app_over
from tests.smtp_server import SmtpServer, free_port

DISPATCHED = dt.datetime(2026, 12, 1, 9, 0)
DEADLINE = dt.datetime(2026, 12, 3, 9, 0)
BASE = "https://ops.example.com"


# --- a real HTTP receiver ---------------------------------------------------------------------

@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 in a thread that records each POST (path, Host, JSON body)
    and answers as told: `status`, a JSON `answer`, a `hang` before answering, or a redirect."""

    status: int = 200
    answer: dict = field(default_factory=lambda: {"errcode": 0, "errmsg": "ok"})
    hang: float = 0.0
    location: str | None = None
    posts: list[tuple[str, str, dict]] = field(default_factory=list)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the standard library's name
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length).decode("utf-8"))
                receiver.posts.append((self.path, self.headers.get("Host", ""), body))
                if receiver.hang:
                    time.sleep(receiver.hang)
                data = json.dumps(receiver.answer).encode()
                self.send_response(receiver.status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args) -> None:
                """Quiet."""

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def mail() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


def notify_settings(mail_port: int, **more) -> dict:
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": mail_port, "MAIL_FROM": "看板 <ops@example.com>",
            "SMTP_TIMEOUT_SECONDS": 2, "DELIVERY_RETRY_SECONDS": 300, "DELIVERY_MAX_ATTEMPTS": 3,
            "RISK_DUE_SOON_HOURS": 4, "RISK_ESCALATE_AFTER_HOURS": 24,
            "WEBHOOK_TIMEOUT_SECONDS": 1, "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
            "PUBLIC_BASE_URL": BASE, **more}


@pytest.fixture
def notify_app(own_store, mail):
    with app_over(own_store, **notify_settings(mail.port)) as flask_app:
        yield flask_app


def run(flask_app, at: str):
    return flask_app.test_cli_runner().invoke(args=["notify-due", "--now", at])


# --- the store's rows -------------------------------------------------------------------------

def unit_id(s: Session, code: str) -> int:
    return s.scalar(select(OrgUnit.id).where(OrgUnit.code == code))


def add_user(s: Session, username: str, role: str, unit: str, email: str | None) -> User:
    user = create_user(s, username, role, unit, PASSWORD)
    user.email = email
    return user


def people(engine) -> None:
    """The assignee zhang (a viewer at the county), the county's managers (manager, with an
    address; nomail, without) and the city's manager (citymgr)."""
    with Session(engine) as s:
        add_user(s, "zhang", "viewer", "ZJ-HZ-01", "zhang@example.com")
        add_user(s, "nomail", "manager", "ZJ-HZ-01", None)
        add_user(s, "citymgr", "manager", "ZJ-HZ", "citymgr@example.com")
        s.scalar(select(User).where(User.username == "manager")).email = "manager@example.com"
        s.commit()


def add_incident(engine, owner: str = "ZJ-HZ-01", units=("ZJ-HZ-01", "ZJ-HZ-01-01"),
                 deadline: dt.datetime = DEADLINE, state: str = "open") -> tuple[int, list[int]]:
    """An incident at units[0] owned by `owner`, one event per unit; (incident id, event ids)."""
    with Session(engine) as s:
        rule = s.scalars(select(RiskRule).order_by(RiskRule.id)).first()
        created = deadline - dt.timedelta(hours=72)
        incident = RiskIncident(rule_id=rule.id, unit_id=unit_id(s, units[0]),
                                owner_unit_id=unit_id(s, owner), carrier=None,
                                first_day=created.date(), last_day=created.date(),
                                created_at=created, deadline=deadline)
        s.add(incident)
        s.flush()
        events = []
        for code in units:
            event = RiskEvent(rule_id=rule.id, unit_id=unit_id(s, code),
                              owner_unit_id=unit_id(s, owner), first_day=created.date(),
                              last_day=created.date(), state=state, created_at=created,
                              deadline=deadline, incident_id=incident.id)
            s.add(event)
            s.flush()
            events.append(event.id)
        s.commit()
        return incident.id, events


def add_steps(engine, incident_id: int, at: dt.datetime, action: str, to_state: str,
              assignee: str | None = None) -> None:
    """One step per event of the incident, all at `at` (as dispatch and reopen write them)."""
    with Session(engine) as s:
        incident = s.get(RiskIncident, incident_id)
        for event in s.scalars(select(RiskEvent).where(RiskEvent.incident_id == incident_id)):
            s.add(RiskEventStep(event_id=event.id, at=at, username="manager",
                                from_state=event.state, to_state=to_state, note="", action=action,
                                assignee=assignee))
            event.state = to_state
        if action == "assign" and assignee and "@" not in assignee:
            incident.assignee_id = s.scalar(select(User.id).where(User.username == assignee))
            incident.dispatched_at = incident.dispatched_at or at
        s.commit()


def set_hook(engine, code: str, url: str) -> int:
    with Session(engine) as s:
        hook = RiskWebhook(unit_id=unit_id(s, code), url=url, active=True, updated_by="admin",
                           updated_at=dt.datetime(2026, 11, 1))
        s.add(hook)
        s.commit()
        return hook.id


def rows(engine, incident_id: int | None = None) -> list[RiskNotification]:
    with Session(engine) as s:
        q = select(RiskNotification).order_by(RiskNotification.id)
        if incident_id is not None:
            q = q.where(RiskNotification.incident_id == incident_id)
        found = list(s.scalars(q))
        s.expunge_all()
        return found


def mails(server: SmtpServer, start: int = 0) -> list[tuple[str, str]]:
    """(recipient, subject) of the messages accepted since `start`, sorted."""
    return sorted((r.recipients[0], str(r.message["Subject"])) for r in server.handler.received[start:])


# --- escalation -------------------------------------------------------------------------------

def test_escalation_raises_to_the_parent_once_and_records_a_step_per_event(own_store):
    incident_id, events = add_incident(own_store.engine)
    after = dt.timedelta(hours=24)
    with Session(own_store.engine) as s:
        assert escalate_overdue(s, DEADLINE + after, after) == []  # overdue by exactly 24 h: not yet
        (raised,) = escalate_overdue(s, DEADLINE + after + dt.timedelta(minutes=1), after)
        assert raised.id == incident_id
        assert raised.escalated_unit_id == unit_id(s, "ZJ-HZ")
        s.commit()
    with Session(own_store.engine) as s:
        steps = list(s.scalars(select(RiskEventStep).where(RiskEventStep.event_id.in_(events))))
        assert sorted((st.event_id, st.action, st.assignee, st.username, st.from_state, st.to_state)
                      for st in steps) == [(e, "escalate", "ZJ-HZ", ESCALATOR, "open", "open")
                                           for e in events]
        assert {e.state for e in s.scalars(select(RiskEvent).where(RiskEvent.id.in_(events)))} \
            == {"open"}
        assert escalate_overdue(s, DEADLINE + 3 * after, after) == []  # once only


def test_an_incident_owned_at_the_top_tier_is_not_escalated(own_store):
    # HQ has no parent: nobody to raise it to, so nothing is recorded.
    incident_id, events = add_incident(own_store.engine, owner="HQ", units=("ZJ-HZ-01",))
    with Session(own_store.engine) as s:
        assert escalate_overdue(s, DEADLINE + dt.timedelta(days=5), dt.timedelta(hours=1)) == []
        assert s.get(RiskIncident, incident_id).escalated_at is None
        assert s.scalars(select(RiskEventStep).where(RiskEventStep.event_id.in_(events))).all() == []


def test_a_resolved_incident_is_not_escalated(own_store):
    incident_id, _ = add_incident(own_store.engine)
    with Session(own_store.engine) as s:
        s.get(RiskIncident, incident_id).resolved_at = DEADLINE
        assert escalate_overdue(s, DEADLINE + dt.timedelta(days=5), dt.timedelta(hours=1)) == []


# --- the whole life of an incident --------------------------------------------------------------

def test_each_cause_sends_exactly_its_messages_once(own_store, mail, receiver, notify_app):
    people(own_store.engine)
    county = set_hook(own_store.engine, "ZJ-HZ-01", receiver.url + "/county?key=secret")
    city = set_hook(own_store.engine, "ZJ-HZ", receiver.url + "/city?key=secret")
    incident_id, events = add_incident(own_store.engine)
    owner_mails = ["manager@example.com", "zhang@example.com"]

    assert run(notify_app, "2026-12-01 08:55").output.startswith("escalated 0, queued 0")
    add_steps(own_store.engine, incident_id, DISPATCHED, "assign", "dispatched", "zhang")
    result = run(notify_app, "2026-12-01 09:05")
    assert result.exit_code == 0, result.output
    # Dispatched: the assignee and the owner county's manager by email, nomail refused, the
    # county's robot (the nearest webhook at or above the owner).
    assert [r for r, _ in mails(mail)] == owner_mails
    assert [(p, b["msgtype"]) for p, _, b in receiver.posts] == [("/county?key=secret", "text")]
    queued = rows(own_store.engine, incident_id)
    assert sorted((n.kind, n.channel, n.recipient, n.state, n.attempts) for n in queued) == [
        ("dispatched", "email", "manager@example.com", "sent", 1),
        ("dispatched", "email", "user nomail", "refused", 0),
        ("dispatched", "email", "zhang@example.com", "sent", 1),
        ("dispatched", "webhook", f"webhook:{county}", "sent", 1)]
    refused = next(n for n in queued if n.state == "refused")
    assert "no email address" in refused.error and "没有设置电子邮件地址" in refused.error

    # The message says what happened, in both languages, with the lead event's link.
    message = mail.handler.received[0].message
    subject, body = str(message["Subject"]), message.get_content()
    assert "派单" in subject and "Dispatched" in subject
    with Session(own_store.engine) as s:
        rule = s.scalars(select(RiskRule).order_by(RiskRule.id)).first()
        county_unit = s.scalar(select(OrgUnit).where(OrgUnit.code == "ZJ-HZ-01"))
        outlet = s.scalar(select(OrgUnit).where(OrgUnit.code == "ZJ-HZ-01-01"))
        for text in (rule.name_zh, rule.name_en, county_unit.name_zh, county_unit.name_en,
                     outlet.name_zh, outlet.name_en):
            assert text in body
    assert f"{BASE}/risk?event={events[0]}" in body
    assert "2026-12-03 09:00" in body and "zhang" in body
    assert "已派单" in body and "Dispatched" in body  # the state
    assert "涉及单位（2）" in body and "Units affected (2)" in body
    content = receiver.posts[0][2]["text"]["content"]
    assert f"{BASE}/risk?event={events[0]}" in content and rule.name_en in content

    # Running again sends nothing twice.
    result = run(notify_app, "2026-12-01 09:10")
    assert result.exit_code == 0 and "queued 0" in result.output, result.output
    assert len(mail.handler.received) == 2 and len(receiver.posts) == 1

    def step_run(at: str) -> tuple[list[tuple[str, str]], list[str]]:
        sent_mail, sent_posts = len(mail.handler.received), len(receiver.posts)
        result = run(notify_app, at)
        assert result.exit_code == 0, result.output
        mail.wait_for(sent_mail)
        return mails(mail, sent_mail), [p for p, _, _ in receiver.posts[sent_posts:]]

    # Not yet due soon (4 h before the deadline is 05:00).
    assert step_run("2026-12-03 04:50") == ([], [])
    sent, posts = step_run("2026-12-03 05:30")
    assert [r for r, _ in sent] == owner_mails and posts == ["/county?key=secret"]
    assert all("即将到期" in s and "Due soon" in s for _, s in sent)
    assert step_run("2026-12-03 08:00") == ([], [])
    sent, posts = step_run("2026-12-03 09:30")
    assert [r for r, _ in sent] == owner_mails and posts == ["/county?key=secret"]
    assert all("已超期" in s and "Overdue" in s for _, s in sent)
    assert step_run("2026-12-04 08:59") == ([], [])  # overdue 23:59: not escalated yet
    # Overdue by more than 24 h: escalated to the city, whose manager is told too; the city's
    # robot takes it (the nearest webhook at or above the unit it was raised to).
    sent, posts = step_run("2026-12-04 09:30")
    assert [r for r, _ in sent] == ["citymgr@example.com"] + owner_mails
    assert posts == ["/city?key=secret"]
    assert all("升级" in s and "Escalated" in s for _, s in sent)
    with Session(own_store.engine) as s:
        incident = s.get(RiskIncident, incident_id)
        assert incident.escalated_unit_id == unit_id(s, "ZJ-HZ")
    # Resolved, then reopened: told again.
    with Session(own_store.engine) as s:
        s.get(RiskIncident, incident_id).resolved_at = dt.datetime(2026, 12, 4, 10)
        s.commit()
    add_steps(own_store.engine, incident_id, dt.datetime(2026, 12, 4, 11), "move", "reopened")
    sent, posts = step_run("2026-12-04 11:05")
    assert [r for r, _ in sent] == owner_mails and posts == ["/county?key=secret"]
    assert all("重开" in s and "Reopened" in s for _, s in sent)
    assert step_run("2026-12-04 11:10") == ([], [])
    kinds = sorted({(n.kind, n.trigger) for n in rows(own_store.engine, incident_id)})
    assert kinds == [("dispatched", "2026-12-01 09:00:00"), ("due_soon", "2026-12-03 09:00:00"),
                     ("escalated", "unit ZJ-HZ"), ("overdue", "2026-12-03 09:00:00"),
                     ("reopened", "2026-12-04 11:00:00")]
    # The detail panel's list: every notice of the incident, the webhook named by its unit.
    with Session(own_store.engine) as s:
        panel = notify.notifications_of(s, incident_id, "Asia/Shanghai")
    assert len(panel) == len(rows(own_store.engine, incident_id)) == 4 + 4 + 4 + 5 + 4
    assert {p["recipient"] for p in panel if p["channel"] == "webhook"} == {
        "webhook ZJ-HZ-01", "webhook ZJ-HZ"}
    assert city != county


def test_a_role_assignee_is_every_active_user_with_that_role_at_the_unit(own_store, mail,
                                                                         notify_app):
    with Session(own_store.engine) as s:
        add_user(s, "v1", "viewer", "ZJ-HZ-01-01", "v1@example.com")
        add_user(s, "v2", "viewer", "ZJ-HZ-01-01", "v2@example.com")
        add_user(s, "v3", "viewer", "ZJ-HZ-01-01", "v3@example.com").active = False
        add_user(s, "m5", "manager", "ZJ-HZ-01-01", "m5@example.com")  # another role
        s.commit()
    incident_id, _ = add_incident(own_store.engine)
    add_steps(own_store.engine, incident_id, DISPATCHED, "assign", "dispatched",
              "viewer@ZJ-HZ-01-01")
    assert run(notify_app, "2026-12-01 09:05").exit_code == 0
    assert [r for r, _ in mails(mail)] == ["v1@example.com", "v2@example.com"]


def test_causes_older_than_the_look_back_are_not_queued(own_store, mail, notify_app):
    people(own_store.engine)
    incident_id, _ = add_incident(own_store.engine, deadline=dt.datetime(2026, 12, 1, 9))
    add_steps(own_store.engine, incident_id, dt.datetime(2026, 11, 28, 9), "assign", "dispatched",
              "zhang")
    # Three days after: the dispatch and the deadline (overdue since 12-01 09:00) are older than
    # 24 h, so nothing is sent; escalation is not a notice of the past but happens now.
    result = run(notify_app, "2026-12-02 09:30")
    assert result.exit_code == 0, result.output
    assert sorted({n.kind for n in rows(own_store.engine, incident_id)}) == ["escalated"]
    assert sorted(r for r, _ in mails(mail)) == ["citymgr@example.com", "manager@example.com",
                                                 "zhang@example.com"]


# --- failures, retries, never twice -----------------------------------------------------------

@pytest.mark.parametrize("fault", ["status_500", "hang", "errcode"])
def test_a_failing_receiver_is_retried_after_the_back_off(own_store, receiver, notify_app, fault):
    incident_id, _ = add_incident(own_store.engine)
    hook = set_hook(own_store.engine, "ZJ-HZ-01", receiver.url + "/hook")
    if fault == "status_500":
        receiver.status = 500
    elif fault == "hang":
        receiver.hang = 2.0  # past WEBHOOK_TIMEOUT_SECONDS (1)
    else:
        receiver.answer = {"errcode": 93000, "errmsg": "invalid webhook url"}
    add_steps(own_store.engine, incident_id, DISPATCHED, "assign", "dispatched", "zhang")
    started = time.monotonic()
    result = run(notify_app, "2026-12-01 09:05")
    assert time.monotonic() - started < 10
    assert result.exit_code == 1, result.output
    (row,) = [n for n in rows(own_store.engine, incident_id) if n.channel == "webhook"]
    assert (row.state, row.attempts, row.webhook_id) == ("failed", 1, hook)
    assert {"status_500": "HTTP 500", "hang": "did not answer", "errcode": "errcode 93000"}[
        fault] in row.error
    # tried again DELIVERY_RETRY_SECONDS (300 s) after it failed (UTC; the clock runs on from
    # --now while the command works)
    assert dt.datetime(2026, 12, 1, 1, 10) <= row.next_try_at <= dt.datetime(2026, 12, 1, 1, 10, 10)
    assert len(receiver.posts) == 1
    result = run(notify_app, "2026-12-01 09:09")  # within the back-off: not tried
    assert result.exit_code == 0 and len(receiver.posts) == 1
    receiver.status, receiver.hang, receiver.answer = 200, 0.0, {"errcode": 0, "errmsg": "ok"}
    result = run(notify_app, "2026-12-01 09:11")
    assert result.exit_code == 0, result.output
    (row,) = [n for n in rows(own_store.engine, incident_id) if n.channel == "webhook"]
    assert (row.state, row.attempts, row.error) == ("sent", 2, "")
    assert len(receiver.posts) == 2
    assert run(notify_app, "2026-12-01 10:00").exit_code == 0
    assert len(receiver.posts) == 2


def test_a_notice_is_given_up_after_the_last_attempt(own_store, receiver, notify_app):
    incident_id, _ = add_incident(own_store.engine)
    set_hook(own_store.engine, "ZJ-HZ-01", receiver.url + "/hook")
    receiver.status = 503
    add_steps(own_store.engine, incident_id, DISPATCHED, "assign", "dispatched", "zhang")
    for at in ("2026-12-01 09:05", "2026-12-01 09:11", "2026-12-01 09:22", "2026-12-01 10:00"):
        run(notify_app, at)
    (row,) = [n for n in rows(own_store.engine, incident_id) if n.channel == "webhook"]
    assert (row.state, row.attempts, row.next_try_at) == ("failed", 3, None)
    assert row.finished_at is not None and len(receiver.posts) == 3


def test_an_unreachable_webhook_fails_with_the_reason(own_store, notify_app):
    incident_id, _ = add_incident(own_store.engine)
    set_hook(own_store.engine, "ZJ-HZ-01", f"http://127.0.0.1:{free_port()}/hook")
    add_steps(own_store.engine, incident_id, DISPATCHED, "assign", "dispatched", "zhang")
    result = run(notify_app, "2026-12-01 09:05")
    assert result.exit_code == 1
    (row,) = [n for n in rows(own_store.engine, incident_id) if n.channel == "webhook"]
    assert row.state == "failed" and "cannot connect to 127.0.0.1" in row.error
    assert "cannot connect to 127.0.0.1" in result.output  # said on stderr too


def test_a_removed_webhook_refuses_what_was_queued_for_it(own_store, receiver, notify_app):
    incident_id, _ = add_incident(own_store.engine)
    set_hook(own_store.engine, "ZJ-HZ-01", receiver.url + "/hook")
    add_steps(own_store.engine, incident_id, DISPATCHED, "assign", "dispatched", "zhang")
    with notify_app.app_context():
        session = get_session()
        assert notify.sweep(session, dt.datetime(2026, 12, 1, 1, 5),
                            notify_app.extensions["settings"]) >= 1
        session.commit()
    with Session(own_store.engine) as s:
        s.scalars(select(RiskWebhook)).one().active = False
        s.commit()
    assert run(notify_app, "2026-12-01 09:05").exit_code == 0
    (row,) = [n for n in rows(own_store.engine, incident_id) if n.channel == "webhook"]
    assert row.state == "refused" and "removed" in row.error and receiver.posts == []


def test_a_mail_server_that_refuses_is_recorded_and_retried(own_store, mail, notify_app):
    people(own_store.engine)
    incident_id, _ = add_incident(own_store.engine)
    add_steps(own_store.engine, incident_id, DISPATCHED, "assign", "dispatched", "zhang")
    mail.handler.refuse_data = True
    assert run(notify_app, "2026-12-01 09:05").exit_code == 1
    failed = [n for n in rows(own_store.engine, incident_id) if n.state == "failed"]
    assert len(failed) == 2 and all("550" in n.error for n in failed)
    mail.handler.refuse_data = False
    assert run(notify_app, "2026-12-01 09:11").exit_code == 0
    assert [r for r, _ in mails(mail)] == ["manager@example.com", "zhang@example.com"]


def test_two_senders_at_once_send_each_notice_once(own_store, mail, monkeypatch):
    """Two senders (threads, each with its own app and connections) find the same notices due
    and race: each notice is sent by one of them."""
    people(own_store.engine)
    incident_id, _ = add_incident(own_store.engine)
    add_steps(own_store.engine, incident_id, DISPATCHED, "assign", "dispatched", "zhang")
    real_send = delivery.send

    def slow_send(*args):  # the winner is still sending while the other tries to claim
        time.sleep(0.3)
        real_send(*args)

    monkeypatch.setattr(delivery, "send", slow_send)
    clock = _clock("2026-12-01 09:05", "Asia/Shanghai")
    with ExitStack() as stack:  # queued once, before the race
        flask_app = stack.enter_context(app_over(own_store, **notify_settings(mail.port)))
        with flask_app.app_context():
            session = get_session()
            assert notify.sweep(session, clock(), flask_app.extensions["settings"]) == 3
            session.commit()
    both_found = threading.Barrier(2, timeout=20)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def sender(flask_app):
        try:
            with flask_app.app_context():
                session = get_session()
                ids = notify.due(session, clock(), 3)
                session.rollback()
                both_found.wait()
                for notification_id in ids:
                    outcomes.append(notify_cli.send_one(flask_app, session, notification_id,
                                                        clock))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread below
            errors.append(exc)

    with ExitStack() as stack:  # Dash apps are made in the main thread
        apps = [stack.enter_context(app_over(own_store, **notify_settings(mail.port)))
                for _ in range(2)]
        threads = [threading.Thread(target=sender, args=(a,)) for a in apps]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == []
    assert sorted(outcomes) == ["sent", "sent", "skipped", "skipped"]
    assert [r for r, _ in mails(mail)] == ["manager@example.com", "zhang@example.com"]
    assert sorted((n.recipient, n.state, n.attempts) for n in rows(own_store.engine, incident_id)
                  ) == [("manager@example.com", "sent", 1), ("user nomail", "refused", 0),
                        ("zhang@example.com", "sent", 1)]


# --- the admin page -----------------------------------------------------------------------------

@pytest.mark.browser
def test_the_admin_page_sets_a_webhook_masked_and_refuses_a_malformed_one(tmp_path):
    from tests.browser import browser_page, live_server, sign_in
    from tests.conftest import seeded_store

    store = seeded_store("sqlite", tmp_path)
    incident_id, _ = add_incident(store.engine)
    with Session(store.engine) as s:
        s.add(RiskNotification(incident_id=incident_id, kind="overdue", trigger="t",
                               channel="webhook", recipient="webhook:1", state="failed",
                               attempts=1, created_at=dt.datetime(2026, 12, 1),
                               error="127.0.0.1:9 answered HTTP 500: boom"))
        s.commit()
    try:
        with app_over(store) as flask_app, live_server(flask_app) as base, \
                browser_page(1366, 768) as (page, errors):
            failures: list[str] = []
            page.on("response", lambda r: failures.append(f"{r.status} {r.url}")
                    if r.status >= 500 else None)
            sign_in(page, base, "admin")
            page.goto(base + "/admin")
            page.click("#admin-tabs >> text=风险通知")
            page.wait_for_selector("#notify-recent .ag-cell-value")
            assert "answered HTTP 500: boom" in page.inner_text("#notify-recent")
            page.fill("#notify-unit", "ZJ-HZ")
            page.fill("#notify-url", "https://user:pw@example.com/hook")
            page.click("#notify-set")
            page.wait_for_function("() => document.querySelector('#admin-message')"
                                   " && document.querySelector('#admin-message').innerText"
                                   ".includes('网址无效')")
            assert "Invalid webhook URL" in page.inner_text("#admin-message")
            page.fill("#notify-url", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=S3CRET")
            page.click("#notify-set")
            page.wait_for_selector("#notify-webhooks .ag-cell-value")
            page.wait_for_function("() => document.querySelector('#notify-webhooks').innerText"
                                   ".includes('key=****')")
            assert "S3CRET" not in page.content()
            page.screenshot(path=str(tmp_path / "admin-notify.png"), full_page=True)
    finally:
        store.drop()
    assert failures == []
    assert [e for e in errors if "favicon" not in e] == []


def test_a_notice_left_sending_by_a_dead_sender_is_retried(own_store, receiver, notify_app):
    incident_id, _ = add_incident(own_store.engine)
    set_hook(own_store.engine, "ZJ-HZ-01", receiver.url + "/hook")
    add_steps(own_store.engine, incident_id, DISPATCHED, "assign", "dispatched", "zhang")
    claimed_at = dt.datetime(2026, 12, 1, 1, 5)  # UTC
    with notify_app.app_context():
        session = get_session()
        notify.sweep(session, claimed_at, notify_app.extensions["settings"])
        (hook_notice,) = [n.id for n in session.scalars(select(RiskNotification).where(
            RiskNotification.channel == "webhook"))]
        assert notify.claim(session, hook_notice, claimed_at, 3)
        session.commit()  # ... and the sender dies before sending
    assert run(notify_app, "2026-12-01 09:30").exit_code == 0  # within the hour: left alone
    assert receiver.posts == []
    result = run(notify_app, "2026-12-01 10:10")  # an hour on: interrupted, failed, backed off
    assert result.exit_code == 0 and receiver.posts == []
    (row,) = [n for n in rows(own_store.engine, incident_id) if n.channel == "webhook"]
    assert (row.state, row.attempts) == ("failed", 1) and "interrupted" in row.error
    assert run(notify_app, "2026-12-01 10:20").exit_code == 0
    (row,) = [n for n in rows(own_store.engine, incident_id) if n.channel == "webhook"]
    assert (row.state, row.attempts) == ("sent", 2) and len(receiver.posts) == 1
