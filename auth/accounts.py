"""Accounts and API tokens: creation, passwords (scrypt hashes), deactivation, tokens."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from auth.audit import now
from auth.password_policy import password_problem
from auth.sessions import end_all_sessions
from data.db import write_without_waiting
from data.models import ROLES, ApiToken, User
from data.units import unit_by_code

# A token's last use is recorded at most this often.
TOKEN_USE_RESOLUTION = dt.timedelta(minutes=1)


class AccountError(ValueError):
    """A request about accounts that cannot be carried out; the message says why."""


def check_password_rules(password: str, user_inputs: tuple[str, ...] = ()) -> None:
    """Refuse passwords that are too short, common or weak (auth/password_policy.py)."""
    problem = password_problem(password, user_inputs)
    if problem:
        raise AccountError(problem)


def create_user(session: Session, username: str, role: str, unit_code: str, password: str,
                display_name: str = "", language: str = "zh") -> User:
    """Create an active user; the caller commits."""
    if role not in ROLES:
        raise AccountError(f"unknown role '{role}' (roles: {', '.join(ROLES)})")
    unit = unit_by_code(session, unit_code)
    if unit is None:
        raise AccountError(f"unknown unit code '{unit_code}'")
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise AccountError(f"user '{username}' already exists")
    check_password_rules(password, (username, display_name))
    user = User(username=username, display_name=display_name or username, role=role,
                unit_id=unit.id, language=language, active=True, created_at=now(),
                password_hash=generate_password_hash(password, method="scrypt"))
    session.add(user)
    session.flush()
    return user


def find_user(session: Session, username: str) -> User:
    """Return the user with this username or raise AccountError."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise AccountError(f"no user '{username}'")
    return user


def set_password(user: User, password: str) -> None:
    """Replace the user's password hash; every session and remember-me cookie of theirs ends."""
    check_password_rules(password, (user.username, user.display_name))
    user.password_hash = generate_password_hash(password, method="scrypt")
    end_all_sessions(user)


def deactivate(session: Session, user: User) -> int:
    """Deactivate `user`: sessions and remember-me cookies end, API tokens are revoked (how many)."""
    user.active = False
    end_all_sessions(user)
    return revoke_tokens(session, user)


def verify_password(user: User, password: str) -> bool:
    """Tell whether `password` is the user's."""
    return check_password_hash(user.password_hash, password)


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16), method="scrypt")


def check_sign_in(user: User | None, password: str) -> bool:
    """Tell whether `user` is active and `password` is theirs, in the same time for every case.

    Unknown and deactivated accounts check the password against a dummy scrypt hash, so a wrong
    password takes as long for them as for a real account (no enumeration by timing).
    """
    if user is None or not user.active:
        check_password_hash(_dummy_hash(), password)
        return False
    return verify_password(user, password)


def token_hash(token: str) -> str:
    """Return the stored form of an API token (a SHA-256 hex digest; tokens are 256-bit random)."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, user: User, label: str = "") -> str:
    """Create an API token for `user` and return it; only its hash is kept."""
    token = "cod_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=token_hash(token), label=label,
                         created_at=now()))
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    """Return the active user a valid, unrevoked token belongs to, or None."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token),
                                                ApiToken.revoked_at.is_(None)))
    if row is None or not row.user.active:
        return None
    when = now()
    if row.last_used_at is None or when - row.last_used_at >= TOKEN_USE_RESOLUTION:
        # Its own short transaction, skipped when the store is busy: a read never waits for the
        # write lock, and the request's session is never committed here.
        write_without_waiting(session.get_bind(), update(ApiToken).where(
            ApiToken.id == row.id,
            or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= when - TOKEN_USE_RESOLUTION),
        ).values(last_used_at=when))
    return row.user


def revoke_tokens(session: Session, user: User) -> int:
    """Revoke every live token of `user`; return how many."""
    live = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id,
                                                  ApiToken.revoked_at.is_(None))).all()
    for t in live:
        t.revoked_at = now()
    return len(live)
