"""Single-use, short-lived sign-in tokens for the PDF renderer.

A token is signed with the app's SECRET_KEY (itsdangerous) and carries the user's id, the one view
(path and query) it may open, its expiry and an id. The id is stored in `render_token` with the
SHA-256 of a per-render secret that the server gives only to the Chromium it launched (as the
`X-Render-Secret` header): a token without its secret is worthless, so a captured URL signs no one
in. Redeeming marks it used in the same UPDATE that checks it was unused, so a token works once,
even when two server processes see it at the same moment.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from auth.guard import SECRET_HEADER  # noqa: F401  (the renderer sends the secret in it)
from data.clock import utc_now
from data.models import RenderToken, User

SALT = "render-token"
MAX_SECONDS = 60



class TokenRefused(PermissionError):
    """A render token that is forged, expired, already used or of an inactive user."""


@dataclass(frozen=True)
class Issued:
    token: str  # goes in the URL
    secret: str  # goes only to the server's own Chromium, in the SECRET_HEADER header


@dataclass(frozen=True)
class Redeemed:
    user: User
    path: str


def secret_hash(secret: str) -> str:
    """Return the SHA-256 (hex) of a per-render secret, as stored and as kept in a render session."""
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str | None, expected_hash: str | None) -> bool:
    """Tell whether `secret` is the one whose hash is `expected_hash` (constant time)."""
    if not secret or not expected_hash:
        return False
    return hmac.compare_digest(secret_hash(secret), expected_hash)


def lifetime(seconds: float | str | None) -> float:
    """Return the token life from the setting, capped at MAX_SECONDS."""
    value = float(seconds) if seconds not in (None, "") else 30.0
    return max(1.0, min(value, MAX_SECONDS))


def issue(session: Session, secret: str, user: User, path: str, seconds: float = 30,
          at: dt.datetime | None = None) -> Issued:
    """Record a new token for `user` to open `path` once within `seconds` (capped at 60) with a
    new per-render secret; return both."""
    at = at or utc_now()
    expires = at + dt.timedelta(seconds=lifetime(seconds))
    token_id = secrets.token_hex(16)
    renderer_secret = secrets.token_urlsafe(32)
    session.execute(delete(RenderToken).where(RenderToken.expires_at < at - dt.timedelta(days=1)))
    session.add(RenderToken(id=token_id, user_id=user.id, path=path, issued_at=at, expires_at=expires,
                            secret_hash=secret_hash(renderer_secret)))
    session.flush()
    payload = {"j": token_id, "u": user.id, "p": path, "e": expires.isoformat()}
    return Issued(URLSafeSerializer(secret, salt=SALT).dumps(payload), renderer_secret)


def redeem(session: Session, secret: str, token: str, renderer_secret: str | None,
           at: dt.datetime | None = None) -> Redeemed:
    """Check `token` and the per-render secret presented with it, and mark the token used; return
    its user and path, or raise TokenRefused. A wrong or missing secret does not use the token up."""
    at = at or utc_now()
    try:
        payload = URLSafeSerializer(secret, salt=SALT).loads(token)
        token_id, user_id, path = str(payload["j"]), int(payload["u"]), str(payload["p"])
        expires = dt.datetime.fromisoformat(payload["e"])
    except (BadSignature, KeyError, TypeError, ValueError) as exc:
        raise TokenRefused("the render token is not valid") from exc
    if at > expires:
        raise TokenRefused("the render token has expired")
    row = session.get(RenderToken, token_id)
    if row is None or not secret_matches(renderer_secret, row.secret_hash):
        raise TokenRefused("the render token was not presented by the server's own renderer")
    used = session.execute(
        update(RenderToken)
        .where(RenderToken.id == token_id, RenderToken.user_id == user_id, RenderToken.path == path,
               RenderToken.used_at.is_(None), RenderToken.expires_at >= at)
        .values(used_at=at)
        .execution_options(synchronize_session=False))
    if used.rowcount != 1:  # type: ignore[attr-defined]
        raise TokenRefused("the render token was already used or is unknown")
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise TokenRefused("the account is not active")
    return Redeemed(user, path)
