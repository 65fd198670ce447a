"""Nothing is read without signing in: one before-request guard over every route of the server.

Pages redirect to /login; Dash's internal routes and the API answer 401 JSON with no data. The API
also accepts `Authorization: Bearer TOKEN`. State-changing requests that are not Dash callbacks
need the session's CSRF token.

A render session (the PDF renderer signed in by `/auth/render`, export/routes.py) reads its one
view and nothing else: every request must carry the per-render secret; it may GET that page (same
path and query) and Dash's assets, layout and dependencies, and call the Dash callbacks of that
page and of the frame (`shell`) that do not write. No API, no export, no other page or method.

Display accounts (wall screens) reach the wall display only: `/display`, the callbacks the display
page registers (and the frame's navigation and language/theme callbacks, and Dash's page router
for `/display`), Dash's own assets, layout and dependency routes, /logout and the public routes.
Anything else is refused with 403: JSON for the API, callbacks and other requests, the "display
accounts open wall-display views only" notice for pages. This holds for sessions and API tokens.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

import dash
from flask import (
    Flask,
    Request,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template_string,
    request,
    session,
    url_for,
)
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


def init_display_role(app: Flask) -> None:
    """Install the display-role check; call it after Dash is built on `app`, so that it runs after
    Dash's own first-request set-up and sees every callback Dash has registered."""
    app.before_request(_display_role)


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
            and not _answered_by_routing(path) and not csrf_valid():
        abort(400, "missing or wrong CSRF token")
    return None


def _answered_by_routing(path: str) -> bool:
    """An API request that no route takes (a write to the read-only API: 405) changes nothing, so
    it needs no CSRF token: routing answers it, in JSON."""
    return path.startswith("/api/") and request.routing_exception is not None


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


# -- display accounts ----------------------------------------------------------------------------

WALL = "display"  # the wall display's page path, without slashes
DASH_OWN = (*RENDER_GETS, "_reload-hash")  # Dash's own routes (and its dev-tools reload probe)
# The frame's callbacks a wall needs (shell.py): navigation links (present, hidden) and the
# language/theme switch; the display page's own module's callbacks are allowed by module.
FRAME_CALLBACKS = {("shell", "keep_view_across_pages"), ("shell", "switch_preference")}
WALL_MODULE = "pages.display"
REFUSAL = "大屏账号只能打开大屏页面。 Display accounts may open the wall display only."


def _display_role():
    if not current_user.is_authenticated or current_user.role != "display":
        return None
    path = request.path
    dash_app = current_app.extensions.get("dash")
    prefix = _dash_prefix()
    inner = path[len(prefix):] if path.startswith(prefix) else None
    if path in PUBLIC or path == "/logout" or (inner is not None and inner.startswith(DASH_OWN)):
        return None
    if inner == "_dash-update-component" and request.method == "POST":
        output = _wall_callback(dash_app)
        if output is True:
            return None
        return _refuse(f"callback {output}")
    if request.method in ("GET", "HEAD") and inner is not None and not inner.startswith(
            ("api/", "_dash-", "export/")):
        if inner.strip("/") == WALL:
            return None
        _audit_refusal(request.full_path.rstrip("?"))
        return render_template_string(NOTICE), 403
    return _refuse(request.full_path.rstrip("?"))


def _wall_callback(dash_app) -> bool | str:
    """True when the posted callback is one a wall display runs; else the output it names."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return "(not a callback body)"
    output = body.get("output")
    if not isinstance(output, str) or dash_app is None:
        return str(output)[:120]
    spec = dash_app.callback_map.get(output) or {}
    func = spec.get("callback")
    where = (getattr(func, "__module__", None), getattr(func, "__name__", None))
    if where[0] == WALL_MODULE or where in FRAME_CALLBACKS:
        return True
    if where[0] == "dash.dash" and output.startswith(".._pages_content.children"):
        # Dash's page router: only for the wall display's own path (inputs go by position).
        at = next((n for n, i in enumerate(spec["inputs"])
                   if (i["id"], i["property"]) == ("_pages_location", "pathname")), None)
        inputs = body.get("inputs")
        value = (inputs[at].get("value") if at is not None and isinstance(inputs, list)
                 and len(inputs) > at and isinstance(inputs[at], dict) else None)
        if isinstance(value, str) and dash_app.strip_relative_path(value) == WALL:
            return True
    return output[:120]


def _audit_refusal(target: str) -> None:
    audit.record(get_session(), "forbidden", current_user.username, target=target[:255],
                 outcome="refused", detail="display account")


def _refuse(target: str):
    _audit_refusal(target)
    return jsonify(error=REFUSAL), 403


NOTICE = """<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>大屏账号 Display account</title></head>
<body style="font-family:system-ui,sans-serif;margin:3em">
<div id="display-only" role="alert">
<h1 style="font-size:20px">大屏账号 Display account</h1>
<p>大屏账号只能打开大屏页面。 Display accounts can open wall-display views only.</p>
<p><a href="/display">选择播放列表 Choose a playlist →</a></p>
<form method="post" action="/logout">{{ csrf_field() }}
<button type="submit">退出 Sign out</button></form>
</div></body></html>"""
