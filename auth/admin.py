"""What the admin page does: list accounts and tokens, change them, browse the audit log.

Every function checks that the acting user is an admin (role checks are on the server, not in the
layout) and records what it changed in the audit log.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from auth import accounts, audit
from auth.accounts import AccountError
from data.clock import local_text, utc_bounds
from data.models import ApiToken, AuditEvent, Meta, StageCriterion, User
from data.numbers import BadNumber, finite
from data.rubric import BY_ID as RUBRIC_BY_ID
from data.rubric import CRITERIA, thresholds


class NotPermitted(PermissionError):
    """The acting user's role does not allow this."""


def require_admin(actor: User) -> None:
    """Raise NotPermitted unless `actor` is an active admin."""
    if getattr(actor, "role", None) != "admin" or not getattr(actor, "active", False):
        raise NotPermitted("only administrators may manage accounts and read the audit log")


def list_users(session: Session, actor: User, tz: str = "UTC") -> list[dict]:
    """Return every account with its unit and number of live tokens; times in zone `tz`."""
    require_admin(actor)
    live = dict(session.execute(select(ApiToken.user_id, func.count()).where(
        ApiToken.revoked_at.is_(None)).group_by(ApiToken.user_id)).all())
    users = session.scalars(select(User).order_by(User.username)).all()
    return [{"username": u.username, "display_name": u.display_name, "role": u.role,
             "unit": u.unit.code, "unit_name": u.unit.name_zh, "language": u.language,
             "active": u.active, "created_at": local_text(u.created_at, tz),
             "last_login_at": local_text(u.last_login_at, tz),
             "tokens": live.get(u.id, 0)} for u in users]


def create(session: Session, actor: User, username: str, role: str, unit: str, password: str,
           display_name: str = "", language: str = "zh") -> None:
    """Create an account (the acting admin's action is audited)."""
    require_admin(actor)
    accounts.create_user(session, username.strip(), role, unit.strip(), password, display_name,
                         language)
    audit.record(session, "user_create", actor.username, target=username, detail=f"{role}@{unit}")


def set_active(session: Session, actor: User, username: str, active: bool) -> None:
    """Activate or deactivate an account (an admin cannot deactivate themself).

    Deactivation ends the account's sessions and revokes its API tokens; re-activation restores
    neither (the user signs in again; new tokens are created).
    """
    require_admin(actor)
    user = accounts.find_user(session, username)
    if user.id == actor.id and not active:
        raise AccountError("you cannot deactivate your own account")
    if active:
        user.active = True
        audit.record(session, "user_activate", actor.username, target=username)
    else:
        revoked = accounts.deactivate(session, user)
        audit.record(session, "user_deactivate", actor.username, target=username,
                     detail=f"sessions ended, {revoked} token(s) revoked")


def reset_password(session: Session, actor: User, username: str, password: str) -> None:
    """Set a new password for an account; its sessions and remember-me cookies end."""
    require_admin(actor)
    accounts.set_password(accounts.find_user(session, username), password)
    audit.record(session, "user_password", actor.username, target=username)


def revoke_tokens(session: Session, actor: User, username: str) -> int:
    """Revoke every live token of an account; return how many."""
    require_admin(actor)
    n = accounts.revoke_tokens(session, accounts.find_user(session, username))
    audit.record(session, "token_revoke", actor.username, target=username, detail=str(n))
    return n


def audit_events(session: Session, actor: User, action: str | None = None,
                 username: str | None = None, start: dt.date | None = None,
                 end: dt.date | None = None, limit: int = 1000, tz: str = "UTC") -> list[dict]:
    """Return the newest audit events matching the filters (at most `limit`); `start` and `end`
    are days in zone `tz`, and times are shown in it."""
    require_admin(actor)
    q = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)
    if action:
        q = q.where(AuditEvent.action == action)
    if username:
        q = q.where(AuditEvent.username == username)
    since, until = utc_bounds(start, end, tz)
    if since:
        q = q.where(AuditEvent.at >= since)
    if until:
        q = q.where(AuditEvent.at < until)
    return [{"at": local_text(e.at, tz, seconds=True), "username": e.username or "",
             "address": e.address or "", "action": e.action, "target": e.target,
             "outcome": e.outcome, "detail": e.detail} for e in session.scalars(q)]


def audit_actions(session: Session, actor: User) -> list[str]:
    """Return the distinct actions in the audit log (for the filter)."""
    require_admin(actor)
    return sorted(session.scalars(select(AuditEvent.action).distinct()))


def rubric(session: Session, actor: User) -> list[dict]:
    """Return the stage criteria with their stored and default thresholds."""
    require_admin(actor)
    limits, version = thresholds(session)
    return [{"id": c.id, "stage": c.stage, "name": f"{c.name_zh} {c.name_en}",
             "threshold": limits[c.id], "default": c.threshold, "unit": c.unit,
             "version": version} for c in CRITERIA]


def set_threshold(session: Session, actor: User, criterion_id: str, value) -> int:
    """Change one criterion's threshold; the rubric version goes up; return the new version."""
    require_admin(actor)
    try:
        value = finite(value, ("阈值", "threshold"))
    except BadNumber as exc:
        raise AccountError(str(exc)) from None
    criterion = RUBRIC_BY_ID.get(criterion_id)
    if criterion is None:
        raise AccountError(f"unknown criterion '{criterion_id}'")
    upper = 6 if criterion.unit == "count" else 1
    if not 0 <= value <= upper:
        raise AccountError(f"the threshold of {criterion_id} must lie between 0 and {upper}")
    row = session.get(StageCriterion, criterion_id)
    if row is None:
        row = StageCriterion(id=criterion_id, stage=criterion.stage, threshold=value)
        session.add(row)
    old = row.threshold
    row.threshold, row.updated_at, row.updated_by = value, audit.now(), actor.username
    meta = session.get(Meta, "rubric_version")
    version = (int(meta.value) if meta else 1) + 1
    if meta is None:
        session.add(Meta(key="rubric_version", value=str(version)))
    else:
        meta.value = str(version)
    audit.record(session, "rubric_change", actor.username, target=criterion_id,
                 detail=f"{old} -> {value} (rubric v{version})")
    return version
