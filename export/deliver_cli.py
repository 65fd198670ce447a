"""`flask --app app deliver-due`: send every subscription delivery that is due, by email with the
PDF attached; run it every few minutes from cron or a systemd timer (README, "Subscriptions").

The command owns the transaction: each attempt is claimed and committed before anything is
rendered or sent (a second process running at the same time fails to claim it and sends nothing),
and its outcome is committed as soon as it is known. Snapshots are rendered against the app served
on a free local port (as `snapshot` does), started only when a snapshot is due.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import settings
from data.clock import utc_bounds
from data.db import get_session
from data.models import DeliveryAttempt, Subscription
from export import delivery
from export.cli import local_server
from export.render import RenderError
from export.service import close_renderer

logger = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Register `deliver-due`."""
    app.cli.add_command(deliver_due_command)


def _clock(at: str | None, tz: str) -> Callable[[], dt.datetime]:
    """UTC now (naive); with `at` (local YYYY-MM-DD HH:MM) a clock that starts there."""
    if not at:
        return delivery.now
    try:
        local = dt.datetime.strptime(at.strip(), "%Y-%m-%d %H:%M")
    except ValueError as exc:
        raise click.BadParameter(f"{at!r} is not YYYY-MM-DD HH:MM", param_hint="--now") from exc
    start = utc_bounds(local.date(), None, tz)[0]
    assert start is not None
    origin, began = start + (local - dt.datetime.combine(local.date(), dt.time())), time.monotonic()
    return lambda: origin + dt.timedelta(seconds=time.monotonic() - began)


def deliver_one(app: Flask, session: Session, item: delivery.Due, clock: Callable[[], dt.datetime],
                base_url: Callable[[], str]) -> str:
    """Claim, check, render, send and record one attempt; return its outcome ("skipped" when
    another process claimed it)."""
    given = settings.of(app)
    try:
        attempt_id = delivery.claim(session, item, clock()).id
        session.commit()  # claimed before anything is made or sent
    except IntegrityError:
        session.rollback()
        return "skipped"
    subscription = session.get(Subscription, item.subscription_id)
    assert subscription is not None
    outcome, error, msg_id = "failed", "", None
    try:
        user = delivery.check_recipient(session, subscription)
        producer = delivery.PRODUCERS.get(subscription.kind)
        if producer is None:  # e.g. the report builder's kind in an app without it: never retried
            raise delivery.Refused(f"nothing makes a {subscription.kind!r} delivery in this app")
        job = producer(app, session, user, subscription, item.slot,
                       base_url() if subscription.kind == "snapshot" else "")
        session.commit()  # the renderer redeems its token over its own connection
        pdf = job.make()
        if not pdf.startswith(b"%PDF"):
            raise delivery.DeliveryFailed(f"the {subscription.kind} producer returned no PDF")
        msg_id = delivery.message_id(subscription, item.slot, given.MAIL_FROM)
        message = delivery.compose(given, subscription, user, item.slot, job, pdf, msg_id)
        delivery.send(given, message, user.email or "")
        outcome = "sent"
    except delivery.Refused as exc:
        outcome, error = "refused", str(exc)
    except (delivery.DeliveryFailed, RenderError) as exc:
        error = str(exc)
    except Exception as exc:  # noqa: BLE001 - recorded for admins and reported by the exit status
        logger.exception("delivery of subscription %s failed", item.subscription_id)
        error = f"{type(exc).__name__}: {exc}"
    if outcome != "sent":
        session.rollback()  # whatever the failed step left half-done; the claim is committed
    attempt = session.get(DeliveryAttempt, attempt_id)
    assert attempt is not None
    delivery.finish(attempt, outcome, error, clock(), msg_id, given.DELIVERY_RETRY_SECONDS,
                    given.DELIVERY_MAX_ATTEMPTS)
    session.commit()
    return outcome


@click.command("deliver-due")
@click.option("--now", "at", metavar="'YYYY-MM-DD HH:MM'",
              help="Act as if it were this local time in TIMEZONE (tests, catching up).")
@with_appcontext
def deliver_due_command(at):
    """Send every subscription delivery that is due (by email, PDF attached); record each attempt."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    given = settings.of(app)
    clock = _clock(at, given.TIMEZONE)
    session = get_session()
    expired = delivery.expire_stale(session, clock(), given.DELIVERY_RETRY_SECONDS,
                                    given.DELIVERY_MAX_ATTEMPTS)
    session.commit()
    if expired:
        click.echo(f"{expired} interrupted attempt(s) recorded as failed", err=True)
    items = delivery.due(session, clock(), given.TIMEZONE, given.DELIVERY_MAX_ATTEMPTS)
    session.rollback()  # read only so far: hold nothing while rendering
    outcomes: Counter[str] = Counter()
    with ExitStack() as stack:
        served: list[str] = []

        def base_url() -> str:
            if not served:
                served.append(stack.enter_context(local_server(app)))
                stack.callback(close_renderer, app)
            return served[0]

        for item in items:
            outcome = deliver_one(app, session, item, clock, base_url)
            outcomes[outcome] += 1
            error = session.scalar(select(DeliveryAttempt.error).where(
                DeliveryAttempt.subscription_id == item.subscription_id,
                DeliveryAttempt.slot == item.slot, DeliveryAttempt.attempt == item.attempt))
            line = (f"{outcome} subscription {item.subscription_id} slot {item.slot:%Y-%m-%d %H:%M}"
                    f" attempt {item.attempt}" + (f": {error}" if error else ""))
            click.echo(line, err=outcome in ("failed", "refused"))
    click.echo(f"due {len(items)}: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
               if items else "nothing due")
    if outcomes["failed"]:
        raise click.ClickException(f"{outcomes['failed']} delivery attempt(s) failed; each is "
                                   "recorded and retried after the back-off")
