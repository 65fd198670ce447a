"""Subscriptions: a user's standing order for a PDF by email, checked when saved (unit in scope,
view exportable, schedule and time well formed, an address to deliver to), changed only by its
owner or an admin, every change audited; the caller commits.

A subscription that does not exist and one the actor may not touch get the same answer.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from auth import audit
from components.i18n import LANGS
from data.clock import local_text
from data.models import SCHEDULES, SUBSCRIPTION_KINDS, DeliveryAttempt, Subscription, User
from data.units import unit_by_code
from export.views import ExportInvalid, ExportRefused, resolve
from metrics.scope import Scope

# A plain address, one recipient: local@domain.tld, no spaces, quotes, commas, angle brackets or
# line breaks (nothing a header could be split or extended with).
EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}"
                   r"[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+")
TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
MAX_PER_USER = 50


class SubscriptionError(ValueError):
    """A subscription that cannot be saved or changed; the message says why (`text(lang)`)."""

    def __init__(self, en: str, zh: str) -> None:
        super().__init__(en)
        self.zh = zh

    def text(self, lang: str) -> str:
        """The message in `lang`."""
        return str(self) if lang == "en" else self.zh


class SubscriptionUnavailable(SubscriptionError):
    """No such subscription, or one the actor may not change (the two are not told apart)."""


def email_problem(address: str | None) -> SubscriptionError | None:
    """Why `address` cannot receive deliveries, or None."""
    if not address:
        return SubscriptionError("no email address is set for this account",
                                 "该账号没有设置电子邮件地址")
    if len(address) > 254 or not EMAIL.fullmatch(address):
        return SubscriptionError(f"{address[:80]!r} is not a valid email address (name@example.com)",
                                 f"{address[:80]!r} 不是有效的电子邮件地址（name@example.com）")
    return None


def set_email(session: Session, actor: User, address: str | None) -> None:
    """Set the actor's own delivery address (checked; empty clears it); audited."""
    address = (address or "").strip()
    if address:
        problem = email_problem(address)
        if problem:
            raise problem
    actor.email = address or None
    session.flush()
    audit.record(session, "user_email", actor.username, target=actor.username,
                 detail="cleared" if not address else "set")


def parse_time(raw: object) -> dt.time:
    """A time of day given as HH:MM (24 hours)."""
    match = TIME.fullmatch(str(raw or "").strip())
    if not match:
        raise SubscriptionError(f"time {str(raw)[:20]!r} is not HH:MM (00:00 to 23:59)",
                                f"时间 {str(raw)[:20]!r} 不是 HH:MM 格式（00:00 至 23:59）")
    return dt.time(int(match.group(1)), int(match.group(2)))


def _whole(raw: object, low: int, high: int, en: str, zh: str) -> int:
    text = str(raw).strip() if isinstance(raw, (int, str)) and not isinstance(raw, bool) else ""
    if not re.fullmatch(r"[0-9]{1,2}", text) or not low <= int(text) <= high:
        raise SubscriptionError(f"{en} must be a whole number from {low} to {high}, not "
                                f"{str(raw)[:20]!r}",
                                f"{zh}必须是 {low} 至 {high} 的整数，不能是 {str(raw)[:20]!r}")
    return int(text)


@dataclass(frozen=True)
class Order:
    """What a subscription form asks for, unchecked."""

    kind: str
    unit: str | None = None
    view: str | None = None
    language: str = "zh"
    schedule: str = "monthly"
    day: object = None
    weekday: object = None
    at: object = "08:00"


def _check(session: Session, actor: User, order: Order) -> dict:
    if actor.role == "display":
        raise SubscriptionError("display accounts cannot subscribe", "大屏账号不能订阅")
    problem = email_problem(actor.email)
    if problem:
        raise SubscriptionError(f"{problem}: set a valid address first",
                                f"{problem.zh}：请先设置有效的地址")
    if order.kind not in SUBSCRIPTION_KINDS:
        raise SubscriptionError(f"kind must be one of {', '.join(SUBSCRIPTION_KINDS)}",
                                f"类型必须是 {'、'.join(SUBSCRIPTION_KINDS)} 之一")
    if order.language not in LANGS:
        raise SubscriptionError(f"language must be one of {', '.join(LANGS)}",
                                f"语言必须是 {'、'.join(LANGS)} 之一")
    if order.schedule not in SCHEDULES:
        raise SubscriptionError("schedule must be monthly or weekly", "周期必须是每月或每周")
    values: dict = {"kind": order.kind, "language": order.language, "schedule": order.schedule,
                    "at": parse_time(order.at), "day": None, "weekday": None, "view": None}
    if order.schedule == "monthly":
        values["day"] = _whole(order.day, 1, 31, "day of the month", "每月日期")
    else:
        values["weekday"] = _whole(order.weekday, 0, 6, "weekday (0 Monday to 6 Sunday)",
                                   "星期（0 周一至 6 周日）")
    if order.kind == "snapshot":
        view = (order.view or "").strip()
        if not view:
            raise SubscriptionError("a snapshot subscription needs the view's address",
                                    "快照订阅需要视图地址")
        try:
            target = resolve(session, actor, view)
        except (ExportRefused, ExportInvalid) as exc:
            raise SubscriptionError(f"view {view[:100]!r}: {exc}", f"视图 {view[:100]!r}：{exc}") \
                from exc
        if len(target.path) > 500:
            raise SubscriptionError("the view's address is too long", "视图地址过长")
        values.update(view=target.path, unit_id=target.unit.id)
        return values
    code = (order.unit or "").strip()
    unit = unit_by_code(session, code) if code else None
    if unit is None or not Scope.of(actor.unit).allows(unit):
        raise SubscriptionError(f"unit {code[:40]!r} is unknown or outside your scope",
                                f"单位 {code[:40]!r} 不存在或不在您的权限范围内")
    values["unit_id"] = unit.id
    return values


def subscribe(session: Session, actor: User, order: Order) -> Subscription:
    """Save a new subscription for `actor` (checked; nothing written when any part is wrong);
    audited; the caller commits."""
    values = _check(session, actor, order)
    owned = session.scalar(select(func.count()).select_from(Subscription).where(
        Subscription.user_id == actor.id))
    if (owned or 0) >= MAX_PER_USER:
        raise SubscriptionError(f"at most {MAX_PER_USER} subscriptions per account",
                                f"每个账号最多 {MAX_PER_USER} 个订阅")
    subscription = Subscription(user_id=actor.id, active=True, created_at=audit.now(), **values)
    session.add(subscription)
    session.flush()
    audit.record(session, "subscribe", actor.username, target=f"subscription {subscription.id}",
                 detail=describe(subscription))
    return subscription


def describe(subscription: Subscription) -> str:
    """One line for the audit log: kind, unit or view, schedule, time, language."""
    what = subscription.view if subscription.kind == "snapshot" else subscription.unit_id
    when = (f"monthly day {subscription.day}" if subscription.schedule == "monthly"
            else f"weekly weekday {subscription.weekday}")
    return f"{subscription.kind} {what} {when} {subscription.at:%H:%M} {subscription.language}"


def find_for(session: Session, actor: User, raw_id: object) -> Subscription:
    """The subscription `raw_id` names if `actor` owns it or is an admin; else
    SubscriptionUnavailable (the same for one that does not exist)."""
    text = str(raw_id).strip() if isinstance(raw_id, (int, str)) and not isinstance(raw_id, bool) \
        else ""
    found = session.get(Subscription, int(text)) \
        if re.fullmatch(r"[0-9]{1,9}", text) and int(text) > 0 else None
    if found is None or not (found.user_id == actor.id or _is_admin(actor)):
        audit.record(session, "forbidden", actor.username, target=f"subscription {text[:20]}",
                     outcome="refused", detail="not found or not the actor's")
        raise SubscriptionUnavailable(f"subscription {text[:20]!r} is not found or not yours",
                                      f"订阅 {text[:20]!r} 不存在或不属于您")
    return found


def _is_admin(actor: User) -> bool:
    return actor.role == "admin" and actor.active


def toggle(session: Session, actor: User, raw_id: object) -> Subscription:
    """Pause an active subscription or resume a paused one (its owner or an admin); audited; the
    caller commits."""
    subscription = find_for(session, actor, raw_id)
    active = subscription.active = not subscription.active
    session.flush()
    audit.record(session, "subscription_resume" if active else "subscription_pause",
                 actor.username, target=f"subscription {subscription.id}",
                 detail=subscription.user.username)
    return subscription


def unsubscribe(session: Session, actor: User, raw_id: object) -> None:
    """Delete a subscription and its delivery record (its owner or an admin); audited; the caller
    commits."""
    subscription = find_for(session, actor, raw_id)
    owner, sid = subscription.user.username, subscription.id
    for attempt in session.scalars(select(DeliveryAttempt).where(
            DeliveryAttempt.subscription_id == sid)):
        session.delete(attempt)
    session.delete(subscription)
    session.flush()
    audit.record(session, "unsubscribe", actor.username, target=f"subscription {sid}", detail=owner)


def listing(session: Session, actor: User, tz: str, everyone: bool = False) -> list[dict]:
    """The actor's subscriptions (an admin asking for `everyone`: every account's), each with its
    last delivery attempt (slot, outcome, error, when); times in zone `tz`."""
    query = select(Subscription).order_by(Subscription.id)
    if not (everyone and _is_admin(actor)):
        query = query.where(Subscription.user_id == actor.id)
    subscriptions = list(session.scalars(query))
    last: dict[int, DeliveryAttempt] = {}
    if subscriptions:
        newest = (select(func.max(DeliveryAttempt.id)).where(DeliveryAttempt.subscription_id.in_(
            [s.id for s in subscriptions])).group_by(DeliveryAttempt.subscription_id))
        last = {a.subscription_id: a for a in session.scalars(
            select(DeliveryAttempt).where(DeliveryAttempt.id.in_(newest)))}
    rows = []
    for s in subscriptions:
        attempt = last.get(s.id)
        rows.append({
            "id": s.id, "user": s.user.username, "kind": s.kind, "unit": s.unit.code,
            "unit_name": s.unit.name_zh, "unit_name_en": s.unit.name_en, "view": s.view or "",
            "language": s.language, "schedule": s.schedule, "day": s.day, "weekday": s.weekday,
            "at": f"{s.at:%H:%M}", "active": s.active, "email": s.user.email or "",
            "slot": f"{attempt.slot:%Y-%m-%d %H:%M}" if attempt else "",
            "attempt": attempt.attempt if attempt else None,
            "outcome": (attempt.outcome or "running") if attempt else "",
            "error": attempt.error if attempt else "",
            "finished": local_text(attempt.finished_at, tz) if attempt else "",
            "next_retry": local_text(attempt.next_retry_at, tz) if attempt else "",
        })
    return rows
