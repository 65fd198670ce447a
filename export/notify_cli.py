"""`flask --app app notify-due`: escalate incidents overdue too long, queue the risk notices of
the last day (`risk.notify.sweep`) and send what is due, by email and to chat-robot webhooks; run
it every few minutes from cron or a systemd timer (README, "Risk notifications").

The command owns the transaction: escalations and the queue are committed first; each notice is
claimed and the claim committed before it is sent (a second process running at once cannot claim
it), and its outcome is committed as soon as it is known.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

import settings
from data.clock import to_local
from data.db import get_session
from data.models import RiskNotification
from export import delivery, notices
from export.deliver_cli import _clock
from export.schedule import backoff
from risk import notify
from risk.escalation import escalate_overdue
from risk.webhooks import Allowed, WebhookFailed, WebhookRefused, post_json

logger = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Register `notify-due`."""
    app.cli.add_command(notify_due_command)


def retry_at(given: settings.Settings, attempts: int, now: dt.datetime) -> dt.datetime | None:
    """When a notice that failed its `attempts`-th attempt is tried again (None: given up)."""
    if attempts >= given.DELIVERY_MAX_ATTEMPTS:
        return None
    return now + backoff(given.DELIVERY_RETRY_SECONDS, attempts)


def deliver(given: settings.Settings, session: Session, notification: RiskNotification) -> None:
    """Send one claimed notice; raise delivery.Refused, delivery.DeliveryFailed, WebhookRefused or
    WebhookFailed when it was not sent."""
    notice = notify.notice_of(session, notification)
    if notification.channel == "email":
        message = notices.email(given, notice, notification.recipient, notification.id,
                                given.PUBLIC_BASE_URL)
        delivery.send(given, message, notification.recipient)
        return
    url = notify.webhook_url(session, notification)
    if url is None:
        raise delivery.Refused("the webhook was removed / 该 Webhook 已被移除")
    post_json(url, notices.robot_message(notice, given.TIMEZONE, given.PUBLIC_BASE_URL),
              given.WEBHOOK_TIMEOUT_SECONDS, Allowed.parse(given.WEBHOOK_ALLOWED_HOSTS))


def send_one(app: Flask, session: Session, notification_id: int,
             clock: Callable[[], dt.datetime]) -> str:
    """Claim, send and record one notice; return its outcome ("skipped" when another sender
    claimed it first)."""
    given = settings.of(app)
    if not notify.claim(session, notification_id, clock(), given.DELIVERY_MAX_ATTEMPTS):
        session.rollback()
        return "skipped"
    session.commit()  # claimed before anything is sent
    notification = session.get(RiskNotification, notification_id)
    assert notification is not None
    outcome, error = "failed", ""
    try:
        deliver(given, session, notification)
        outcome = "sent"
    except (delivery.Refused, WebhookRefused) as exc:
        outcome, error = "refused", str(exc)
    except (delivery.DeliveryFailed, WebhookFailed) as exc:
        error = str(exc)
    except Exception as exc:  # noqa: BLE001 - recorded for admins and reported by the exit status
        logger.exception("risk notice %s failed", notification_id)
        error = f"{type(exc).__name__}: {exc}"
    session.rollback()  # nothing of the send is written but its outcome
    notification = session.get(RiskNotification, notification_id)
    assert notification is not None
    now = clock()
    notify.finish(notification, outcome, error, now, retry_at(given, notification.attempts, now))
    session.commit()
    return outcome


def send_due(app: Flask, session: Session, clock: Callable[[], dt.datetime]) -> Counter[str]:
    """Send every notice that is due now; count the outcomes."""
    given = settings.of(app)
    now = clock()
    for left in notify.stale(session, now):
        notify.finish(left, "failed", "interrupted: the sending process ended before the outcome "
                      "was recorded", now, retry_at(given, left.attempts, now))
    session.commit()
    ids = notify.due(session, clock(), given.DELIVERY_MAX_ATTEMPTS)
    session.rollback()  # read only: hold nothing while sending
    outcomes: Counter[str] = Counter()
    for notification_id in ids:
        outcome = send_one(app, session, notification_id, clock)
        outcomes[outcome] += 1
        if outcome in ("failed", "refused"):
            row = session.get(RiskNotification, notification_id)
            click.echo(f"{outcome} notice {notification_id} ({row.channel if row else '?'}): "
                       f"{row.error if row else ''}", err=True)
    return outcomes


@click.command("notify-due")
@click.option("--now", "at", metavar="'YYYY-MM-DD HH:MM'",
              help="Act as if it were this local time in TIMEZONE (tests, catching up).")
@with_appcontext
def notify_due_command(at):
    """Escalate overdue risk incidents, queue their notices and send what is due."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    given = settings.of(app)
    clock = _clock(at, given.TIMEZONE)
    session = get_session()
    local = to_local(clock(), given.TIMEZONE)
    assert local is not None
    raised = escalate_overdue(session, local, dt.timedelta(hours=given.RISK_ESCALATE_AFTER_HOURS))
    session.commit()
    queued = notify.sweep(session, clock(), given)
    session.commit()
    outcomes = send_due(app, session, clock)
    click.echo(f"escalated {len(raised)}, queued {queued}, "
               + (", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())) or "nothing to send"))
    failed = outcomes["failed"]
    if failed:
        raise click.ClickException(f"{failed} notice(s) failed; each is recorded with its error and "
                                   "retried after the back-off")
