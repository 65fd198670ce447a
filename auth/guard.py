"""Nothing is read without signing in: one before-request guard over every route of the server.

Pages redirect to /login; Dash's internal routes and the API answer 401 JSON with no data. The API
also accepts `Authorization: Bearer TOKEN`. State-changing requests that are not Dash callbacks
need the session's CSRF token.

Display accounts (wall screens) reach the wall display only: `/display`, the callbacks the display
page registers (and the frame's navigation and language/theme callbacks, and Dash's page router
for `/display`), Dash's own assets, layout and dependency routes, /logout and the public routes.
Anything else is refused with 403: JSON for the API, callbacks and other requests, the "display
accounts open wall-display views only" notice for pages. This holds for sessions and API tokens.
"""

from __future__ import annotations

from flask import (
    Flask,
    Request,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template_string,
    request,
    url_for,
)
from flask_login import current_user

from auth import accounts, audit
from auth.login import csrf_valid, login_manager
from data.db import get_session
from data.models import User

# /auth/render is where the PDF renderer signs in with a single-use token (export/tokens.py).
PUBLIC = ("/login", "/healthz", "/_favicon.ico", "/auth/render")


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


# -- display accounts ----------------------------------------------------------------------------

WALL = "display"  # the wall display's page path, without slashes
DASH_OWN = ("_dash-layout", "_dash-dependencies", "_dash-component-suites/", "assets/",
            "_reload-hash", "_favicon.ico")
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
    prefix = dash_app.config.routes_pathname_prefix if dash_app is not None else "/"
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
