"""Nothing is read without signing in: one before-request guard over every route of the server.

Pages redirect to /login; Dash's internal routes and the API answer 401 JSON with no data. The API
also accepts `Authorization: Bearer TOKEN`. State-changing requests that are not Dash callbacks
need the session's CSRF token.
"""

from __future__ import annotations

from flask import Flask, Request, abort, jsonify, redirect, request, url_for
from flask_login import current_user

from auth import accounts
from auth.login import csrf_valid, login_manager
from data.db import get_session
from data.models import User

# /auth/render is where the PDF renderer signs in with a single-use token (export/tokens.py).
PUBLIC = ("/login", "/healthz", "/_favicon.ico", "/auth/render")


def init_app(app: Flask) -> None:
    """Install the guard."""
    app.before_request(_guard)


def _bearer_token(req: Request | None = None) -> str | None:
    req = req or request
    header = req.headers.get("Authorization", "")
    if req.path.startswith("/api/") and header.startswith("Bearer "):
        return header[7:].strip()
    return None


@login_manager.request_loader
def _user_from_token(req: Request) -> User | None:
    # Tokens sign in one API request; nothing is written to the session.
    token = _bearer_token(req)
    return accounts.user_for_token(get_session(), token) if token else None


def _guard():
    path = request.path
    if path in PUBLIC:
        return None
    if not current_user.is_authenticated:
        if _bearer_token():
            return jsonify(error="invalid or revoked API token"), 401
        if path.startswith("/api/") or "/_dash-" in path or request.method != "GET":
            return jsonify(error="sign-in required"), 401
        return redirect(url_for("auth_login", next=request.full_path.rstrip("?")))
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and "/_dash-" not in path \
            and not csrf_valid():
        abort(400, "missing or wrong CSRF token")
    return None
