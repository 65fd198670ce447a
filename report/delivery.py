"""The monthly report as a subscription's delivery: the producer `export.delivery` calls for a
subscription of kind "report" (registered by `report.init_app`)."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy.orm import Session

from components.i18n import name, t
from data.models import Subscription, User
from export.delivery import PRODUCERS, DeliveryFailed, Job, Refused
from export.schedule import report_month
from export.views import safe_part
from report.build import build_report
from report.content import ReportInvalid, ReportRefused


def report_job(app: Flask, session: Session, user: User, subscription: Subscription,
               slot: dt.datetime, base_url: str) -> Job:
    """The unit's monthly report for the last whole month before the slot, as `user` may have it
    (their scope), in the subscription's language. A unit now outside the user's scope is a
    refusal (final); a month the report cannot be made for (no data yet) fails and is retried."""
    month, lang, unit = report_month(slot), subscription.language, subscription.unit
    title = f"{t('subscriptions.report_title', lang)} · {name(unit, lang)} · {month:%Y-%m}"
    filename = f"report-{safe_part(unit.code, ascii_only=True)}-{month:%Y-%m}-{lang}.pdf"

    def make() -> bytes:
        try:
            return build_report(session, user, unit.code, f"{month:%Y-%m}", lang,
                                via="subscription")
        except ReportRefused as exc:
            raise Refused(exc.text("en")) from exc
        except ReportInvalid as exc:
            raise DeliveryFailed(exc.text("en")) from exc

    return Job(title, filename, make)


def init_app(app: Flask) -> None:
    PRODUCERS["report"] = report_job
