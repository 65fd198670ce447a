"""The session secret and cookie settings."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import time
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

import settings


def configure(app: Flask) -> None:
    """Set SECRET_KEY (environment, else a random key kept in the instance folder) and cookies."""
    given = settings.of(app)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = given.SECRET_KEY or _instance_key(app)
    secure = given.BEHIND_HTTPS
    if secure:
        # The proxy's address and scheme headers are trusted for one hop (audit, lock-out, cookies).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_DURATION=dt.timedelta(days=given.REMEMBER_DAYS),
    )


def _instance_key(app: Flask) -> str:
    """Return the key stored in the instance folder, creating it (mode 600) on first use."""
    path = Path(app.instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker made it first: use theirs
        time.sleep(0.1)
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key
