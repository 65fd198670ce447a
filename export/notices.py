"""The words of a risk notice, in Chinese and then English (a notice goes to people of either
language): the email (subject and body) and the chat robot's text message. The facts come from
`risk.notify.notice_of`; the words from the catalogue."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import parseaddr

import settings
from components.i18n import LANGS, t
from data.clock import zone_label
from export.delivery import header_text
from risk.notify import Notice, Place

HEADLINES = {"dispatched": "notify.kind.dispatched", "due_soon": "notify.kind.due_soon",
             "overdue": "notify.kind.overdue", "reopened": "notify.kind.reopened",
             "escalated": "notify.kind.escalated"}
SHORT = {"dispatched": "notify.short.dispatched", "due_soon": "notify.short.due_soon",
         "overdue": "notify.short.overdue", "reopened": "notify.short.reopened",
         "escalated": "notify.short.escalated"}
SEVERITIES = ("high", "medium", "low")
STATES = ("open", "dispatched", "in_progress", "resolved", "closed", "reopened")
SHOWN_UNITS = 12  # units listed by name in the body; the rest are counted


def _name(place: Place, lang: str) -> str:
    return f"{place.name_en if lang == 'en' else place.name_zh} ({place.code})"


def _units(notice: Notice, lang: str) -> str:
    names = [_name(p, lang) for p in notice.units[:SHOWN_UNITS]]
    more = len(notice.units) - SHOWN_UNITS
    joined = ("、" if lang == "zh" else ", ").join(names)
    return joined + (" " + t("notify.more", lang).format(n=more) if more > 0 else "")


def _assignee(notice: Notice, lang: str) -> str:
    if notice.assignee_user:
        return notice.assignee_user
    if notice.assignee_role and notice.assignee_unit:
        role = f"role.{notice.assignee_role}"
        return t("notify.role_at", lang).format(
            role=t(role, lang) if role in ("role.admin", "role.manager", "role.viewer")
            else notice.assignee_role, unit=_name(notice.assignee_unit, lang))
    return t("notify.nobody", lang)


def link(notice: Notice, base_url: str | None) -> str:
    """The lead event's address: absolute with PUBLIC_BASE_URL, else the path."""
    return (base_url.rstrip("/") if base_url else "") + notice.link


def text(notice: Notice, lang: str, tz: str, base_url: str | None) -> str:
    """The notice's text in `lang`: what happened, the rule, units, state, deadline, assignee,
    escalation and the link."""
    rule = notice.rule_en if lang == "en" else notice.rule_zh
    severity = (f" ({t('risk.sev.' + notice.severity, lang)})" if notice.severity in SEVERITIES
                else "")
    state = t("risk.state." + notice.state, lang) if notice.state in STATES else notice.state
    lines = [t(HEADLINES[notice.kind], lang).format(rule=rule, incident=notice.incident_id),
             f"{t('notify.rule', lang)}: {rule}{severity}",
             f"{t('notify.units', lang).format(n=len(notice.units))}: {_units(notice, lang)}",
             f"{t('notify.owner', lang)}: {_name(notice.owner, lang)}",
             f"{t('notify.state', lang)}: {state}",
             f"{t('notify.deadline', lang)}: {notice.deadline:%Y-%m-%d %H:%M} ({zone_label(tz)})",
             f"{t('notify.assignee', lang)}: {_assignee(notice, lang)}"]
    if notice.escalated_to is not None:
        lines.append(f"{t('notify.escalated_to', lang)}: {_name(notice.escalated_to, lang)}")
    lines.append(f"{t('notify.open', lang)}: {link(notice, base_url)}")
    return "\n".join(lines)


def bilingual(notice: Notice, tz: str, base_url: str | None) -> str:
    """The text in Chinese, then in English."""
    return "\n\n".join(text(notice, lang, tz, base_url) for lang in LANGS)


def subject(notice: Notice) -> str:
    """The subject line: the kind, the rule and the incident's unit, in both languages."""
    parts = []
    for lang in LANGS:
        more = len(notice.units) - 1
        where = _name(notice.units[0], lang) + (
            " " + t("notify.more", lang).format(n=more) if more > 0 else "")
        parts.append(t("notify.subject", lang).format(
            kind=t(SHORT[notice.kind], lang),
            rule=notice.rule_en if lang == "en" else notice.rule_zh, unit=where))
    return header_text(" / ".join(parts))


def email(given: settings.Settings, notice: Notice, recipient: str, notification_id: int,
          base_url: str | None) -> EmailMessage:
    """The email of a notice to one recipient (the bare address in To; Message-ID the same for
    every attempt at one notice)."""
    message = EmailMessage()
    message["From"] = given.MAIL_FROM
    message["To"] = recipient
    message["Subject"] = subject(notice)
    domain = parseaddr(given.MAIL_FROM)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = f"<risk-notice-{notification_id}@{header_text(domain)}>"
    message.set_content(bilingual(notice, given.TIMEZONE, base_url))
    message["Content-Language"] = "zh-CN, en"
    return message


def robot_message(notice: Notice, tz: str, base_url: str | None) -> dict:
    """The chat robot's message (WeCom and DingTalk take this text form)."""
    return {"msgtype": "text", "text": {"content": bilingual(notice, tz, base_url)}}
