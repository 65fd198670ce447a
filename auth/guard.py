"""Nothing is read without signing in: one before-request guard over every route of the server.

Pages redirect to /login; Dash's internal routes and the API answer 401 JSON with no data. The API
also accepts `Authorization: Bearer TOKEN`. State-changing requests that are not Dash callbacks
need the session's CSRF token.

A render session (the PDF renderer signed in by `/auth/render`, export/routes.py) reads its one
view and nothing else: every request must carry the per-render secret; it may GET that page (same
path and query) and Dash's assets, layout and dependencies, and call the Dash callbacks of that
page and of the frame (`shell`) that do not write. No API, no export, no other page or method.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

import dash
from flask import Flask, Request, Response, abort, current_app, jsonify, redirect, request, session, url_for
from flask_login import current_user

from auth import accounts, audit
from auth.login import csrf_valid, login_manager
from data.db import get_session
from data.models import User

# /auth/render is where the PDF renderer signs in with a single-use token (export/tokens.py).
PUBLIC = ("/login", "/healthz", "/_favicon.ico", "/auth/render")

# A render session's keys in the (signed) session cookie: the one view (path and query) and the
# SHA-256 of the per-render secret that must come with every request (header below).
RENDER_VIEW, RENDER_SECRET, SECRET_HEADER = "render_view", "render_secret", "X-Render-Secret"
WRITES = "writes_data"
# What a render session may GET besides its page: Dash's own routes (under its prefix).
RENDER_GETS = ("assets/", "_dash-component-suites/", "_dash-layout", "_dash-dependencies",
               "_favicon.ico")
# Callbacks of these modules serve every page: the frame, and Dash's page router (whose
# pathname and search are checked against the view).
FRAME_MODULES = ("shell", "dash.dash")
LOCATION = "_pages_location"

F = TypeVar("F", bound=Callable[..., Any])


def writes_data(func: F) -> F:
    """Mark a Dash callback that writes (saves, changes, imports): a render session may not call
    it. Put it below `@callback(...)` so Dash's wrapper carries the mark."""
    setattr(func, WRITES, True)
    return func


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
    if session.get(RENDER_VIEW) and current_user.is_authenticated:
        why = _render_refusal(str(session[RENDER_VIEW]))
        return None if why is None else _refuse_render(why)
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


def _render_refusal(view: str) -> str | None:
    """Return why this render session may not make this request, or None when it may."""
    sent = request.headers.get(SECRET_HEADER) or ""
    expected = str(session.get(RENDER_SECRET) or "")
    if not expected or not hmac.compare_digest(hashlib.sha256(sent.encode()).hexdigest(), expected):
        return "the render secret is missing or wrong"
    prefix = _dash_prefix()
    page = urlsplit(view)
    if request.method == "GET":
        if request.path == page.path:
            return None if _same_query(request.query_string.decode(), page.query) else "another view"
        tail = request.path[len(prefix):] if request.path.startswith(prefix) else None
        if tail is not None and tail.startswith(RENDER_GETS):
            return None
        return f"GET {request.path} is not the render's view"
    if request.method == "POST" and request.path == prefix + "_dash-update-component":
        return _callback_refusal(page.path, page.query)
    return f"{request.method} {request.path} is not open to a render session"


def _callback_refusal(page_path: str, page_query: str) -> str | None:
    body = request.get_json(silent=True)
    dash_app = current_app.extensions.get("dash")
    if not isinstance(body, dict) or dash_app is None:
        return "not a Dash callback"
    entry = dash_app.callback_map.get(body.get("output"))
    func = entry.get("callback") if isinstance(entry, dict) else None
    if func is None:
        return "an unknown callback"
    if getattr(func, WRITES, False):
        return f"callback {func.__name__} writes"
    if func.__module__ not in (*FRAME_MODULES, _page_module(page_path)):
        return f"callback {func.__name__} belongs to another page"
    for item in _flat(list(body.get("inputs") or []) + list(body.get("state") or [])):
        if item.get("id") != LOCATION:
            continue
        value = item.get("value")
        if item.get("property") == "pathname" and value != page_path:
            return "a callback for another page"
        if item.get("property") == "search" and not _same_query(str(value or ""), page_query):
            return "a callback for another view"
    return None


def _flat(items: list) -> Iterator[dict]:
    for item in items:
        if isinstance(item, list):
            yield from _flat(item)
        elif isinstance(item, dict):
            yield item


def _same_query(a: str, b: str) -> bool:
    return sorted(parse_qsl(a.lstrip("?"))) == sorted(parse_qsl(b.lstrip("?")))


def _page_module(page_path: str) -> str | None:
    return next((p["module"] for p in dash.page_registry.values() if p.get("path") == page_path), None)


def _dash_prefix() -> str:
    dash_app = current_app.extensions.get("dash")
    return str(getattr(dash_app.config, "routes_pathname_prefix", None) or "/") if dash_app else "/"


def _refuse_render(why: str) -> tuple[Response, int]:
    audit.record(get_session(), "render_session", getattr(current_user, "username", None),
                 target=request.full_path.rstrip("?")[:300], outcome="refused", detail=why)
    if request.path.startswith("/api/") or "/_dash-" in request.path:
        return jsonify(error=f"render session: {why}"), 403
    return Response(f"render session: {why}", status=403, mimetype="text/plain"), 403
