"""The append-only audit log: who did what, from where, with what outcome."""

from __future__ import annotations

import datetime as dt

from flask import has_request_context, request
from sqlalchemy.orm import Session

from data.clock import utc_now
from data.models import AuditEvent


def now() -> dt.datetime:
    """Return the current UTC time without tzinfo (how the audit log stores times)."""
    return utc_now()


def client_address() -> str | None:
    """Return the requesting address (behind a proxy, ProxyFix supplies the real one)."""
    return request.remote_addr if has_request_context() else None


def record(session: Session, action: str, username: str | None, target: str = "",
           outcome: str = "ok", detail: str = "") -> None:
    """Append one event and commit it on its own (it must survive the request failing)."""
    session.add(AuditEvent(at=now(), username=username, address=client_address(), action=action,
                           target=target[:255], outcome=outcome, detail=detail))
    session.commit()
