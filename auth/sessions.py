"""Browser sessions and remember-me cookies: checked against the user's session version and age.

flask-login keeps `User.get_id()` (`user.version.issued.nonce`) in the signed session cookie and the
HMAC-signed remember-me cookie. A cookie is accepted only while its version is the user's current
`session_version` and it is younger than REMEMBER_DAYS; sign-out, a password change and
deactivation raise the version, which ends every session and remember-me cookie of that user.
"""

from __future__ import annotations

import datetime as dt
import time

from sqlalchemy.orm import Session

from data.models import User


def user_for_sign_in_id(session: Session, sign_in_id: str, max_age: dt.timedelta) -> User | None:
    """Return the active user a session or remember-me id belongs to, if it is still valid."""
    try:
        user_id, version, issued, _nonce = sign_in_id.split(".")
        uid, ver, at = int(user_id), int(version), int(issued)
    except ValueError:  # an id from before session versions, or garbage: sign in again
        return None
    user = session.get(User, uid)
    if user is None or not user.active or user.session_version != ver:
        return None
    if not -60 <= time.time() - at <= max_age.total_seconds():
        return None
    user.sign_in_id = sign_in_id
    return user


def end_all_sessions(user: User) -> None:
    """Make every session and remember-me cookie of `user` stop working (the caller commits)."""
    user.session_version = User.session_version + 1
    user.sign_in_id = None
