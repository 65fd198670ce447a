"""Delivering subscriptions: what is due, claiming an attempt, who may receive it, the PDF (one
producer per kind, `PRODUCERS`), the email, and recording each attempt's outcome.

The steps are separate so that the command (`export/deliver_cli.py`) owns the transaction: it
commits a claim before anything is rendered or sent, the renderer's token before rendering, and
each outcome as it is known. Services here add and flush; they never commit.

Never twice: an attempt is claimed by inserting its row, (subscription, slot, attempt) unique, so
of two processes only one gets it; and at most one attempt of a slot is `sent` (a partial unique
index). A slot whose last attempt failed is tried again after the back-off, until
DELIVERY_MAX_ATTEMPTS; a refused one (the recipient may not see the unit, is deactivated, has no
valid address) is not. Only a subscription's newest slot is delivered: a slot missed while nothing
ran is not sent late once a newer one has come.
"""

from __future__ import annotations

import datetime as dt
import re
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

import settings
from components.format import period_text
from components.i18n import name, t
from components.view_state import PAGES
from data.clock import to_local, utc_now
from data.models import DeliveryAttempt, Subscription, User
from export.render import Paper
from export.schedule import WEEKDAY_KEYS, Schedule, backoff, latest_slot
from export.service import prepare, render
from export.subscriptions import email_problem
from export.views import ExportInvalid, ExportRefused, file_name, safe_part
from metrics.scope import Scope

# An attempt still unfinished this long after it started belongs to a process that died: it is
# recorded as failed ("interrupted") and the slot is tried again after the back-off.
STALE = dt.timedelta(hours=1)
CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


class Refused(PermissionError):
    """The recipient may not receive this delivery; the message says why."""


class DeliveryFailed(RuntimeError):
    """A delivery that could not be made this time (rendering, the mail server); retried."""


@dataclass(frozen=True)
class Due:
    """One attempt to make now: the subscription, its slot (local time) and the attempt number."""

    subscription_id: int
    slot: dt.datetime
    attempt: int


def schedule_of(subscription: Subscription) -> Schedule:
    """The subscription's schedule."""
    return Schedule(subscription.schedule, subscription.at, subscription.day, subscription.weekday)


def due(session: Session, now: dt.datetime, tz: str, max_attempts: int) -> list[Due]:
    """What to attempt at UTC time `now` (naive): each active subscription's newest slot (not one
    from before it was made) that has no attempt yet, or whose last attempt failed and may be
    retried (its back-off over, attempts left)."""
    local_now = to_local(now, tz)
    assert local_now is not None
    found = []
    for subscription in session.scalars(select(Subscription).where(Subscription.active.is_(True))
                                        .order_by(Subscription.id)):
        slot = latest_slot(schedule_of(subscription), local_now)
        created = to_local(subscription.created_at, tz)
        if created is None or slot < created.replace(second=0, microsecond=0):
            continue
        last = session.scalar(select(DeliveryAttempt).where(
            DeliveryAttempt.subscription_id == subscription.id, DeliveryAttempt.slot == slot)
            .order_by(DeliveryAttempt.attempt.desc()).limit(1))
        if last is None:
            found.append(Due(subscription.id, slot, 1))
        elif (last.outcome == "failed" and last.attempt < max_attempts
              and (last.next_retry_at is None or last.next_retry_at <= now)):
            found.append(Due(subscription.id, slot, last.attempt + 1))
    return found


def expire_stale(session: Session, now: dt.datetime, base_seconds: float, max_attempts: int) -> int:
    """Record attempts left unfinished by a process that died as failed; return how many."""
    stale = list(session.scalars(select(DeliveryAttempt).where(
        DeliveryAttempt.outcome.is_(None), DeliveryAttempt.started_at < now - STALE)))
    for attempt in stale:
        finish(attempt, "failed", "interrupted: the delivering process ended before the outcome "
               "was recorded", now, None, base_seconds, max_attempts)
    session.flush()
    return len(stale)


def claim(session: Session, item: Due, now: dt.datetime) -> DeliveryAttempt:
    """Insert the attempt's row (flushed; the caller commits before sending anything). Raises
    sqlalchemy's IntegrityError when another process has claimed it."""
    attempt = DeliveryAttempt(subscription_id=item.subscription_id, slot=item.slot,
                              attempt=item.attempt, started_at=now, error="")
    session.add(attempt)
    session.flush()
    return attempt


def finish(attempt: DeliveryAttempt, outcome: str, error: str, now: dt.datetime,
           message_id: str | None, base_seconds: float, max_attempts: int) -> None:
    """Record an attempt's outcome; a failure with attempts left gets its retry time."""
    attempt.outcome, attempt.error, attempt.finished_at = outcome, error[:2000], now
    attempt.message_id = message_id
    attempt.next_retry_at = (now + backoff(base_seconds, attempt.attempt)
                             if outcome == "failed" and attempt.attempt < max_attempts else None)


def check_recipient(session: Session, subscription: Subscription) -> User:
    """The subscriber if they may receive this delivery now; Refused otherwise (deactivated, a
    display account, no valid address, the unit outside their scope today)."""
    user = subscription.user
    if not user.active:
        raise Refused(f"the account {user.username} is deactivated")
    if user.role == "display":
        raise Refused(f"{user.username} is a display account")
    problem = email_problem(user.email)
    if problem:
        raise Refused(str(problem))
    if not Scope.of(user.unit).allows(subscription.unit):
        raise Refused(f"unit {subscription.unit.code} is outside the scope of {user.username} "
                      f"(home unit {user.unit.code})")
    return user


# --- producers: the PDF of each kind ----------------------------------------------------------

@dataclass
class Job:
    """A PDF ready to make: what it is (for the subject), its file name, and how to make it. Made
    by a producer, which may have put a renderer's token into the session: the caller commits
    before calling `make`."""

    title: str
    filename: str
    make: Callable[[], bytes]


Producer = Callable[[Flask, Session, User, Subscription, dt.datetime, str], Job]


def snapshot_job(app: Flask, session: Session, user: User, subscription: Subscription,
                 slot: dt.datetime, base_url: str) -> Job:
    """The view's snapshot as the user sees it now (a relative period, e.g. last month, is taken
    at delivery). Refused when the view is out of the user's scope."""
    try:
        prepared = prepare(app, session, user, subscription.view or "", Paper("A4", "landscape"),
                           base_url, "subscription")
    except ExportRefused as exc:
        raise Refused(str(exc)) from exc
    except ExportInvalid as exc:
        raise DeliveryFailed(f"the view cannot be exported: {exc}") from exc
    target, lang = prepared.target, subscription.language
    title = (f"{t(PAGES[target.page], lang)} · {name(target.unit, lang)} · "
             f"{period_text(target.view, lang)}")
    return Job(title, file_name(target), lambda: render(app, session, user, prepared))


# The one table of what each kind of subscription delivers.
# The monthly report sits in a layer above this one: `report.init_app` adds its producer,
# "report"; a store whose app did not load it fails such a delivery with a clear error.
PRODUCERS: dict[str, Producer] = {"snapshot": snapshot_job}


# --- the email --------------------------------------------------------------------------------

def header_text(text: str) -> str:
    """`text` fit for a mail header: line breaks and other control characters become spaces (no
    header can be ended or added through a unit's name or a view)."""
    return CONTROL.sub(" ", text).strip()[:200]


def message_id(subscription: Subscription, slot: dt.datetime, sender: str) -> str:
    """The same Message-ID for every attempt at one slot, so a receiving system that sees a
    retry of a message it already has can tell."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    return f"<subscription-{subscription.id}-{slot:%Y%m%dT%H%M}@{safe_part(domain, True)}>"


def compose(given: settings.Settings, subscription: Subscription, user: User, slot: dt.datetime,
            job: Job, pdf: bytes, msg_id: str) -> EmailMessage:
    """The email: to the subscriber only, subject and body in the subscription's language, the
    PDF attached."""
    lang = subscription.language
    message = EmailMessage()
    message["From"] = given.MAIL_FROM
    # The bare address: a display name (or a unit's name) could carry ':', '@' or '<' that a mail
    # client would read as another address.
    message["To"] = user.email or ""
    message["Subject"] = header_text(f"{t('app.title', lang)} · {job.title}")
    message["Message-ID"] = msg_id
    when = (t("subscriptions.monthly_on", lang).format(day=subscription.day)
            if subscription.schedule == "monthly"
            else t("subscriptions.weekly_on", lang).format(
                weekday=t(WEEKDAY_KEYS[subscription.weekday or 0], lang)))
    message.set_content(t("subscriptions.body", lang).format(
        user=user.display_name or user.username, title=job.title,
        schedule=f"{when} {subscription.at:%H:%M} ({given.TIMEZONE})",
        slot=f"{slot:%Y-%m-%d %H:%M}"))
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=job.filename)
    message["Content-Language"] = "zh-CN" if lang == "zh" else "en"  # after the parts are made
    return message


def send(given: settings.Settings, message: EmailMessage, recipient: str) -> None:
    """Hand `message` to the mail server (SMTP_*) for `recipient` only; DeliveryFailed with the
    server's answer when it is down, times out, refuses the sender, recipient or message."""
    if not given.SMTP_HOST:
        raise DeliveryFailed("no mail server: set SMTP_HOST")
    try:
        with smtplib.SMTP(given.SMTP_HOST, given.SMTP_PORT,
                          timeout=given.SMTP_TIMEOUT_SECONDS) as smtp:
            if given.SMTP_STARTTLS:
                smtp.starttls(context=ssl.create_default_context())
            if given.SMTP_USER:
                smtp.login(given.SMTP_USER, given.SMTP_PASSWORD or "")
            refused = smtp.send_message(message, from_addr=parseaddr(given.MAIL_FROM)[1],
                                        to_addrs=[recipient])
            if refused:  # cannot happen with one recipient (all refused raises); kept exact
                raise DeliveryFailed(f"the mail server refused {', '.join(refused)}")
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()))
        raise DeliveryFailed(f"the mail server refused the recipient: {code} {_said(text)}") from exc
    except smtplib.SMTPResponseException as exc:
        raise DeliveryFailed(f"the mail server answered {exc.smtp_code} {_said(exc.smtp_error)}") \
            from exc
    except (TimeoutError, smtplib.SMTPServerDisconnected) as exc:
        if not isinstance(exc, TimeoutError) and not isinstance(exc.__context__, TimeoutError):
            raise DeliveryFailed(f"the mail server closed the connection: {exc}") from exc
        raise DeliveryFailed(f"the mail server {given.SMTP_HOST}:{given.SMTP_PORT} did not answer "
                             f"within {given.SMTP_TIMEOUT_SECONDS:g} s") from exc
    except smtplib.SMTPException as exc:
        raise DeliveryFailed(f"mail error: {exc}") from exc
    except OSError as exc:
        raise DeliveryFailed(f"cannot reach the mail server {given.SMTP_HOST}:{given.SMTP_PORT}: "
                             f"{exc.strerror or exc}") from exc


def _said(text: bytes | str) -> str:
    return (text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text))[:300]


def now() -> dt.datetime:
    """UTC now, naive (how attempts store times)."""
    return utc_now()
