"""Subscriptions delivered by email (`flask --app app deliver-due`) to a real SMTP server started
in the test (aiosmtpd): the message, its language and its PDF; failures of the mail server
recorded and retried after the back-off; never sent twice, even by two processes at once; never
to a recipient outside the unit's scope."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from data.db import get_session
from data.models import DeliveryAttempt, OrgUnit, Subscription, User
from export import deliver_cli, delivery
from export.schedule import Schedule, backoff, latest_slot, next_slot, report_month
from export.subscriptions import Order, SubscriptionError, set_email, subscribe
from tests.browser import chromium_path
from tests.conftest import app_over
from tests.smtp_server import SmtpServer, free_port

ROOT = Path(__file__).resolve().parents[1]
VIEW = "/regions?unit=ZJ-HZ&start=2026-06-01&end=2026-06-30"
SENDER = "运营看板 <dashboard@example.com>"
# Monthly on the 5th at 08:00; the command is run as if it were the 7th.
MONTHLY = {"schedule": "monthly", "day": 5, "at": "08:00"}
RUN_AT = "2026-12-07 09:00"
SLOT = dt.datetime(2026, 12, 5, 8, 0)
TINY_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]"
            b"/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


@pytest.fixture
def mail() -> Iterator[SmtpServer]:
    """A real SMTP server on a free local port."""
    server = SmtpServer().start()
    yield server
    server.stop()


def mail_settings(port: int, **more) -> dict:
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "MAIL_FROM": SENDER,
            "SMTP_TIMEOUT_SECONDS": 1, "DELIVERY_RETRY_SECONDS": 300, "DELIVERY_MAX_ATTEMPTS": 3,
            **more}


@pytest.fixture
def mail_app(own_store, mail):
    """The app over a store of the test's own, delivering to `mail`."""
    with app_over(own_store, **mail_settings(mail.port)) as flask_app:
        yield flask_app


@pytest.fixture
def quick_render(monkeypatch):
    """Snapshots checked and prepared for real (scope, token, title) but not printed by Chromium:
    for the tests of the mail server's failures, where the PDF is not what is tested."""
    monkeypatch.setattr(delivery, "render", lambda app, session, user, prepared: TINY_PDF)


def add_subscription(engine, username: str, email: str | None,
                     made: dt.datetime = dt.datetime(2026, 12, 1), **order) -> int:
    """Give `username` the address `email` and a subscription made at UTC time `made` (slots
    before it are never delivered); return its id."""
    with Session(engine) as s:
        user = s.scalar(select(User).where(User.username == username))
        set_email(s, user, email)
        subscription = subscribe(s, user, Order(**order))
        subscription.created_at = made
        s.commit()
        return subscription.id


def run(flask_app, at: str = RUN_AT):
    """Run `deliver-due` as if it were local time `at`."""
    return flask_app.test_cli_runner().invoke(args=["deliver-due", "--now", at])


def attempts(engine, subscription_id: int) -> list[DeliveryAttempt]:
    with Session(engine) as s:
        rows = list(s.scalars(select(DeliveryAttempt).where(
            DeliveryAttempt.subscription_id == subscription_id).order_by(DeliveryAttempt.id)))
        s.expunge_all()
        return rows


def pdf_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "attached.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def attachment(message) -> tuple[str, bytes]:
    parts = [p for p in message.iter_attachments()]
    assert len(parts) == 1
    return parts[0].get_filename(), parts[0].get_content()


# --- the schedule -------------------------------------------------------------------------------

@pytest.mark.parametrize(("schedule", "now", "latest", "following"), [
    (Schedule("monthly", dt.time(8), day=5), dt.datetime(2026, 12, 7, 9), dt.datetime(2026, 12, 5, 8),
     dt.datetime(2027, 1, 5, 8)),
    (Schedule("monthly", dt.time(8), day=5), dt.datetime(2026, 12, 5, 7, 59),
     dt.datetime(2026, 11, 5, 8), dt.datetime(2026, 12, 5, 8)),
    (Schedule("monthly", dt.time(8), day=5), dt.datetime(2026, 12, 5, 8), dt.datetime(2026, 12, 5, 8),
     dt.datetime(2027, 1, 5, 8)),
    (Schedule("monthly", dt.time(23, 30), day=31), dt.datetime(2027, 2, 28, 23, 45),
     dt.datetime(2027, 2, 28, 23, 30), dt.datetime(2027, 3, 31, 23, 30)),
    (Schedule("monthly", dt.time(0, 0), day=31), dt.datetime(2027, 3, 1, 0, 0),
     dt.datetime(2027, 2, 28), dt.datetime(2027, 3, 31)),
    (Schedule("monthly", dt.time(6), day=1), dt.datetime(2027, 1, 1, 5), dt.datetime(2026, 12, 1, 6),
     dt.datetime(2027, 1, 1, 6)),
    (Schedule("weekly", dt.time(8), weekday=0), dt.datetime(2026, 12, 7, 9),  # a Monday
     dt.datetime(2026, 12, 7, 8), dt.datetime(2026, 12, 14, 8)),
    (Schedule("weekly", dt.time(8), weekday=0), dt.datetime(2026, 12, 7, 7),
     dt.datetime(2026, 11, 30, 8), dt.datetime(2026, 12, 7, 8)),
    (Schedule("weekly", dt.time(18), weekday=6), dt.datetime(2026, 12, 9, 12),
     dt.datetime(2026, 12, 6, 18), dt.datetime(2026, 12, 13, 18)),
])
def test_slots(schedule, now, latest, following):
    assert latest_slot(schedule, now) == latest
    assert next_slot(schedule, now) == following
    assert latest <= now < following


def test_reports_cover_the_last_whole_month_and_retries_back_off():
    assert report_month(dt.datetime(2026, 12, 5, 8)) == dt.date(2026, 11, 1)
    assert report_month(dt.datetime(2027, 1, 1, 0)) == dt.date(2026, 12, 1)
    assert [backoff(300, n).total_seconds() for n in (1, 2, 3, 4)] == [300, 600, 1200, 2400]


# --- a snapshot, delivered ---------------------------------------------------------------------

def test_a_due_snapshot_is_emailed_once_with_its_pdf(own_store, mail, mail_app, tmp_path):
    chromium_path()
    sid = add_subscription(own_store.engine, "viewer", "viewer@example.com", kind="snapshot",
                           view=VIEW, language="zh", **MONTHLY)
    assert run(mail_app, "2026-12-05 07:59").output.strip() == "nothing due"  # not yet
    result = run(mail_app)
    assert result.exit_code == 0, result.output
    (got,) = mail.wait_for(1)
    assert got.recipients == ["viewer@example.com"]
    assert got.sender == "dashboard@example.com"
    message = got.message
    assert message["To"].addresses[0].addr_spec == "viewer@example.com"
    assert "Bcc" not in message and "Cc" not in message
    assert message["Subject"] == ("互联网+营销服务渠道运营 · 区域 · 杭州供电局 · "
                                  "2026-06-01 – 2026-06-30")
    assert message["Content-Language"] == "zh-CN"
    body = message.get_body(("plain",)).get_content()
    assert "附件是您订阅的 PDF：区域 · 杭州供电局" in body and "每月 5 日 08:00" in body
    name, data = attachment(message)
    assert name == "regions-ZJ-HZ-2026-06-01_2026-06-30.pdf"
    assert data.startswith(b"%PDF")
    text = pdf_text(data, tmp_path)
    assert "杭州供电局" in text and "区域" in text
    (attempt,) = attempts(own_store.engine, sid)
    assert (attempt.outcome, attempt.attempt, attempt.slot, attempt.error) == ("sent", 1, SLOT, "")
    assert attempt.message_id == message["Message-ID"] == f"<subscription-{sid}-20261205T0800@example.com>"
    # Run again, later the same month: nothing more.
    again = run(mail_app, "2026-12-20 10:00")
    assert again.exit_code == 0 and again.output.strip() == "nothing due"
    assert len(mail.wait_for(2, seconds=1)) == 1
    assert len(attempts(own_store.engine, sid)) == 1


def test_the_message_is_in_the_subscriptions_language(own_store, mail, mail_app, quick_render):
    add_subscription(own_store.engine, "viewer", "viewer@example.com", kind="snapshot",
                     view=VIEW, language="en", schedule="weekly", weekday=0, at="08:00")
    assert run(mail_app).exit_code == 0  # 2026-12-07 is a Monday
    (got,) = mail.wait_for(1)
    assert got.message["Subject"] == ("Internet+ Channel Operations · Regions · Hangzhou Power "
                                      "Supply Bureau · 2026-06-01 – 2026-06-30")
    assert got.message["Content-Language"] == "en"
    body = got.message.get_body(("plain",)).get_content()
    assert body.startswith("Hello ") and "weekly on Monday 08:00 (Asia/Shanghai)" in body
    assert "2026-12-07 08:00" in body


# --- the mail server fails ------------------------------------------------------------------------

@pytest.mark.parametrize(("how", "error"), [
    ("refuse_rcpt", "the mail server refused the recipient: 550 5.1.1 mailbox unavailable"),
    ("refuse_data", "the mail server answered 550 5.7.1 message refused by policy"),
    ("hang", "did not answer within 1 s"),
    ("down", "cannot reach the mail server 127.0.0.1:"),
])
def test_a_failure_is_recorded_retried_after_the_backoff_and_sent_once(own_store, mail, mail_app,
                                                                       quick_render, how, error):
    sid = add_subscription(own_store.engine, "viewer", "viewer@example.com", kind="snapshot",
                           view=VIEW, **MONTHLY)
    if how == "hang":
        mail.handler.hang_seconds = 3
    elif how == "down":
        mail.stop()
    else:
        setattr(mail.handler, how, True)
    first = run(mail_app, "2026-12-07 09:00")
    assert first.exit_code == 1 and "1 delivery attempt(s) failed" in first.output
    (attempt,) = attempts(own_store.engine, sid)
    assert attempt.outcome == "failed" and error in attempt.error
    assert attempt.next_retry_at - attempt.finished_at == dt.timedelta(seconds=300)
    assert mail.handler.received == []  # nothing half-sent
    # Within the back-off: not tried again.
    assert run(mail_app, "2026-12-07 09:03").output.strip() == "nothing due"
    assert len(attempts(own_store.engine, sid)) == 1
    # The server is well again; after the back-off the second attempt sends it.
    if how == "down":
        mail.start()
    mail.handler.refuse_rcpt = mail.handler.refuse_data = False
    mail.handler.hang_seconds = 0
    second = run(mail_app, "2026-12-07 09:06")
    assert second.exit_code == 0, second.output
    assert [(a.attempt, a.outcome) for a in attempts(own_store.engine, sid)] == [
        (1, "failed"), (2, "sent")]
    assert len(mail.wait_for(1)) == 1
    assert run(mail_app, "2026-12-07 10:00").output.strip() == "nothing due"
    assert len(mail.wait_for(2, seconds=1)) == 1


def test_attempts_stop_at_the_limit_each_recorded(own_store, quick_render):
    with app_over(own_store, **mail_settings(free_port())) as flask_app:  # nothing listens
        sid = add_subscription(own_store.engine, "viewer", "viewer@example.com", kind="snapshot",
                               view=VIEW, **MONTHLY)
        for at in ("2026-12-07 09:00", "2026-12-07 09:06", "2026-12-07 09:17", "2026-12-07 10:00",
                   "2026-12-08 10:00"):
            run(flask_app, at)
    rows = attempts(own_store.engine, sid)
    assert [(a.attempt, a.outcome) for a in rows] == [(1, "failed"), (2, "failed"), (3, "failed")]
    assert rows[-1].next_retry_at is None  # given up: the limit (3) reached
    assert all("cannot reach the mail server" in a.error for a in rows)


def test_no_mail_server_set_fails_naming_the_setting(own_store, quick_render):
    with app_over(own_store) as flask_app:
        sid = add_subscription(own_store.engine, "viewer", "viewer@example.com", kind="snapshot",
                               view=VIEW, **MONTHLY)
        assert run(flask_app).exit_code == 1
    assert attempts(own_store.engine, sid)[0].error == "no mail server: set SMTP_HOST"


def test_a_kind_nothing_makes_is_refused_once_and_not_retried(own_store, mail, mail_app):
    sid = add_subscription(own_store.engine, "viewer", "viewer@example.com", kind="snapshot",
                           view=VIEW, **MONTHLY)
    with Session(own_store.engine) as s:  # a kind a newer (or older) version of the app made
        s.get(Subscription, sid).kind = "chart"
        s.commit()
    assert run(mail_app).exit_code == 0  # a refusal is recorded, not a failure of the run
    run(mail_app, "2026-12-07 12:00")  # after every back-off: nothing is tried again
    rows = attempts(own_store.engine, sid)
    assert [(a.attempt, a.outcome, a.error) for a in rows] == [
        (1, "refused", "nothing makes a 'chart' delivery in this app")]
    assert rows[0].next_retry_at is None and mail.handler.received == []


def test_an_interrupted_attempt_is_recorded_and_retried(own_store, mail, mail_app, quick_render):
    sid = add_subscription(own_store.engine, "viewer", "viewer@example.com", kind="snapshot",
                           view=VIEW, **MONTHLY)
    with Session(own_store.engine) as s:  # a process claimed it at 09:00 local and died
        s.add(DeliveryAttempt(subscription_id=sid, slot=SLOT, attempt=1,
                              started_at=dt.datetime(2026, 12, 7, 1, 0), error=""))
        s.commit()
    assert run(mail_app, "2026-12-07 09:30").output.strip() == "nothing due"  # still its own
    result = run(mail_app, "2026-12-07 10:30")  # an hour on: given up, retried after back-off
    assert "1 interrupted attempt(s) recorded as failed" in result.output
    assert run(mail_app, "2026-12-07 10:40").exit_code == 0
    assert [(a.attempt, a.outcome) for a in attempts(own_store.engine, sid)] == [
        (1, "failed"), (2, "sent")]
    assert "interrupted" in attempts(own_store.engine, sid)[0].error
    assert len(mail.wait_for(1)) == 1


# --- never twice ----------------------------------------------------------------------------------

def test_two_deliverers_at_once_send_one_message(own_store, mail, quick_render, monkeypatch):
    """Two deliverers (threads, each with its own app and connections) find the same slot due and
    race to deliver it: one sends, the other finds it claimed and sends nothing."""
    sid = add_subscription(own_store.engine, "viewer", "viewer@example.com", kind="snapshot",
                           view=VIEW, **MONTHLY)
    both_found = threading.Barrier(2, timeout=20)
    slow = delivery.send

    def slow_send(*args):  # the winner is still sending while the other tries to claim
        threading.Event().wait(0.5)
        slow(*args)

    monkeypatch.setattr(delivery, "send", slow_send)
    outcomes: list[str] = []
    clock = deliver_cli._clock(RUN_AT, "Asia/Shanghai")

    def deliverer(flask_app):
        with flask_app.app_context():
            session = get_session()
            (item,) = delivery.due(session, clock(), "Asia/Shanghai", 3)
            session.rollback()
            both_found.wait()
            outcomes.append(deliver_cli.deliver_one(flask_app, session, item, clock,
                                                     lambda: "http://127.0.0.1:8050"))

    with ExitStack() as stack:  # Dash apps are made in the main thread (pages register there)
        apps = [stack.enter_context(app_over(own_store, **mail_settings(mail.port)))
                for _ in range(2)]
        threads = [threading.Thread(target=deliverer, args=(a,)) for a in apps]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert sorted(outcomes) == ["sent", "skipped"]
    assert len(mail.wait_for(2, seconds=2)) == 1
    assert [(a.attempt, a.outcome) for a in attempts(own_store.engine, sid)] == [(1, "sent")]


def test_the_database_refuses_a_second_sent_attempt_of_a_slot(own_store):
    from sqlalchemy.exc import IntegrityError

    sid = add_subscription(own_store.engine, "viewer", "viewer@example.com", kind="snapshot",
                           view=VIEW, **MONTHLY)
    with Session(own_store.engine) as s:
        for n in (1, 2):
            s.add(DeliveryAttempt(subscription_id=sid, slot=SLOT, attempt=n, outcome="sent",
                                  started_at=SLOT, error=""))
        with pytest.raises(IntegrityError):
            s.flush()


def test_two_deliver_due_processes_send_one_message(own_store, mail, tmp_path):
    """The whole command twice, as two processes started together (cron overlapping a slow run),
    with the real renderer: one message."""
    chromium_path()
    if own_store.kind != "postgresql":
        pytest.skip("two processes on one SQLite file are covered by the threads above")
    sid = add_subscription(own_store.engine, "viewer", "viewer@example.com", kind="snapshot",
                           view=VIEW, **MONTHLY)
    env = {**os.environ, "DATABASE_URL": own_store.url, "SECRET_KEY": "test-only-secret",
           **{k: str(v) for k, v in mail_settings(mail.port).items()}}
    command = [sys.executable, "-m", "flask", "--app", "app", "deliver-due", "--now", RUN_AT]
    runs = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [r.communicate(timeout=240)[0] for r in runs]
    assert all(r.returncode == 0 for r in runs), outputs
    assert len(mail.wait_for(2, seconds=2)) == 1, outputs
    assert [(a.attempt, a.outcome) for a in attempts(own_store.engine, sid)] == [(1, "sent")]


# --- only to whom may see it -------------------------------------------------------------------

def _move_home(engine, username: str, code: str) -> None:
    with Session(engine) as s:
        unit_id = s.scalar(select(OrgUnit.id).where(OrgUnit.code == code))
        s.execute(update(User).where(User.username == username).values(unit_id=unit_id))
        s.commit()


@pytest.mark.parametrize("change", ["scope", "deactivated", "no_address"])
@pytest.mark.parametrize("kind", ["snapshot", "report"])
def test_a_recipient_who_may_no_longer_see_the_unit_gets_nothing(own_store, mail, mail_app,
                                                                 quick_render, change, kind):
    order = ({"kind": "snapshot", "view": "/regions?unit=ZJ-HZ-01&period=last_month"}
             if kind == "snapshot" else {"kind": "report", "unit": "ZJ-HZ-01"})
    sid = add_subscription(own_store.engine, "manager", "manager@example.com", **order, **MONTHLY)
    with Session(own_store.engine) as s:
        manager = s.scalar(select(User).where(User.username == "manager"))
        if change == "scope":  # moved to a sibling county after subscribing
            s.commit()
            _move_home(own_store.engine, "manager", "ZJ-HZ-02")
        elif change == "deactivated":
            manager.active = False
        else:
            manager.email = None
        s.commit()
    result = run(mail_app)
    assert result.exit_code == 0, result.output  # a refusal is not a failure to retry
    (attempt,) = attempts(own_store.engine, sid)
    assert attempt.outcome == "refused" and attempt.next_retry_at is None
    assert {"scope": "outside the scope of manager", "deactivated": "is deactivated",
            "no_address": "no email address"}[change] in attempt.error
    assert mail.wait_for(1, seconds=1) == []
    assert run(mail_app, "2026-12-08 09:00").output.strip() == "nothing due"  # refused is final


# --- reports --------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_due_report_is_emailed_with_the_units_report(own_store, mail, mail_app, tmp_path, lang):
    sid = add_subscription(own_store.engine, "viewer", "viewer@example.com", kind="report",
                           unit="ZJ-HZ", language=lang, schedule="monthly", day=5, at="08:00",
                           made=dt.datetime(2026, 7, 1))
    result = run(mail_app, "2026-07-07 09:00")  # the report of June 2026, the demo's last month
    assert result.exit_code == 0, result.output
    (got,) = mail.wait_for(1)
    assert got.recipients == ["viewer@example.com"]
    title = {"zh": "月度运营分析报告 · 杭州供电局 · 2026-06",
             "en": "Monthly operations report · Hangzhou Power Supply Bureau · 2026-06"}[lang]
    assert title in got.message["Subject"]
    name, data = attachment(got.message)
    assert name == f"report-ZJ-HZ-2026-06-{lang}.pdf" and data.startswith(b"%PDF")
    assert {"zh": "杭州供电局", "en": "Hangzhou"}[lang] in pdf_text(data, tmp_path)
    assert attempts(own_store.engine, sid)[0].outcome == "sent"


# --- the form's checks ------------------------------------------------------------------------------

@pytest.mark.parametrize(("username", "email", "order", "message"), [
    ("viewer", "viewer@example.com", {"kind": "report", "unit": "NOPE"},
     "unit 'NOPE' is unknown or outside your scope"),
    ("manager", "m@example.com", {"kind": "report", "unit": "ZJ-HZ"},
     "unit 'ZJ-HZ' is unknown or outside your scope"),
    ("manager", "m@example.com", {"kind": "snapshot", "view": "/regions?unit=ZJ"},
     "unit ZJ is outside your scope"),
    ("viewer", "viewer@example.com", {"kind": "snapshot", "view": "/admin"},
     "not an analytical page"),
    ("viewer", "viewer@example.com", {"kind": "snapshot", "view": ""}, "needs the view's address"),
    ("viewer", "viewer@example.com", {"kind": "report", "unit": "ZJ-HZ", "day": 0},
     "day of the month must be a whole number from 1 to 31"),
    ("viewer", "viewer@example.com", {"kind": "report", "unit": "ZJ-HZ", "day": "32"},
     "from 1 to 31"),
    ("viewer", "viewer@example.com", {"kind": "report", "unit": "ZJ-HZ", "day": "x"},
     "from 1 to 31"),
    ("viewer", "viewer@example.com",
     {"kind": "report", "unit": "ZJ-HZ", "schedule": "weekly", "weekday": 7},
     "weekday (0 Monday to 6 Sunday) must be a whole number from 0 to 6"),
    ("viewer", "viewer@example.com", {"kind": "report", "unit": "ZJ-HZ", "at": "25:00"},
     "time '25:00' is not HH:MM"),
    ("viewer", "viewer@example.com", {"kind": "report", "unit": "ZJ-HZ", "at": "8am"},
     "is not HH:MM"),
    ("viewer", "viewer@example.com", {"kind": "report", "unit": "ZJ-HZ", "schedule": "daily"},
     "schedule must be monthly or weekly"),
    ("viewer", "viewer@example.com", {"kind": "pdf", "unit": "ZJ-HZ"}, "kind must be one of"),
    ("viewer", "viewer@example.com", {"kind": "report", "unit": "ZJ-HZ", "language": "fr"},
     "language must be one of zh, en"),
    ("viewer", None, {"kind": "report", "unit": "ZJ-HZ"}, "no email address is set"),
    ("display", "wall@example.com", {"kind": "report", "unit": "ZJ"},
     "display accounts cannot subscribe"),
])
def test_the_form_refuses_what_cannot_be_delivered(own_store, username, email, order, message):
    with Session(own_store.engine) as s:
        user = s.scalar(select(User).where(User.username == username))
        user.email = email
        with pytest.raises(SubscriptionError, match=re.escape(message)) as caught:
            subscribe(s, user, Order(**{**MONTHLY, **order}))
        assert caught.value.text("zh") != str(caught.value)  # said in Chinese too
        s.flush()
        assert s.scalars(select(Subscription)).all() == []


@pytest.mark.parametrize("address", ["no-at-sign", "a@b", "two@example.com, three@example.com",
                                     "x@example.com\r\nBcc: evil@example.com",
                                     "Name <x@example.com>", "x @example.com", "x@-example.com"])
def test_invalid_addresses_are_refused(own_store, address):
    with Session(own_store.engine) as s:
        user = s.scalar(select(User).where(User.username == "viewer"))
        with pytest.raises(SubscriptionError, match="not a valid email address"):
            set_email(s, user, address)
        assert user.email is None


def test_an_unexpected_error_is_recorded_and_fails_the_run(own_store, mail, mail_app, monkeypatch):
    def broken(app, session, user, prepared):
        raise ValueError("no rows for 2026-13")

    monkeypatch.setattr(delivery, "render", broken)
    sid = add_subscription(own_store.engine, "viewer", "viewer@example.com", kind="snapshot",
                           view=VIEW, **MONTHLY)
    result = run(mail_app)
    assert result.exit_code == 1 and "ValueError: no rows for 2026-13" in result.output
    (attempt,) = attempts(own_store.engine, sid)
    assert (attempt.outcome, attempt.error) == ("failed", "ValueError: no rows for 2026-13")
    assert attempt.next_retry_at is not None and mail.wait_for(1, seconds=1) == []
