"""The sign-in page, sign-out (everywhere), CSRF tokens, the throttle on repeated failures."""

from __future__ import annotations

import datetime as dt
import hmac
import math
import secrets
from urllib.parse import urlparse

from flask import Flask, abort, current_app, redirect, render_template_string, request, session, url_for
from flask_login import LoginManager, current_user, login_user, logout_user
from markupsafe import Markup

from auth import accounts, audit, sessions, throttle
from data.db import get_engine, get_session
from data.models import User

login_manager = LoginManager()


def init_app(app: Flask) -> None:
    """Register flask-login, /login and /logout."""
    login_manager.init_app(app)
    login_manager.login_view = "auth_login"
    app.add_url_rule("/login", "auth_login", login_view, methods=["GET", "POST"])
    app.add_url_rule("/logout", "auth_logout", logout_view, methods=["POST"])
    app.jinja_env.globals["csrf_field"] = csrf_field
    accounts.check_sign_in(None, "")  # make the dummy hash now, not on an attacker's first try


@login_manager.user_loader
def _load_user(sign_in_id: str) -> User | None:
    # A deactivated user's session, or one older than the user's last sign-out or password change,
    # stops working on the next request (auth/sessions.py).
    return sessions.user_for_sign_in_id(get_session(), sign_in_id,
                                        current_app.config["REMEMBER_COOKIE_DURATION"])


def csrf_token() -> str:
    """Return this session's CSRF token, creating it on first use."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def csrf_field() -> Markup:
    """Return the hidden form field carrying the CSRF token."""
    return Markup(f'<input type="hidden" name="csrf_token" value="{csrf_token()}">')


def csrf_valid() -> bool:
    """Tell whether the request carries this session's CSRF token (form field or header)."""
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    expected = str(session.get("csrf") or "")
    return bool(expected) and hmac.compare_digest(sent, expected)


def _safe_next(target: str | None, home: str = "/") -> str:
    # Only same-site relative paths: never an open redirect.
    if not target or urlparse(target).netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:  # browsers read `/\evil.example` as another host
        return home
    return target


def _forged_next() -> bool:
    # Control characters in ?next= (CR/LF: header injection) come from a forged link.
    return any(ord(c) < 32 or c == "\x7f" for c in request.args.get("next") or "")


def login_view():
    """Show the sign-in form; check the password, the lock-out and the CSRF token on POST."""
    error = None
    if _forged_next():
        audit.record(get_session(), "bad_request", None, target="/login",
                     outcome="refused", detail=f"next={request.args.get('next', '')!r}"[:500])
        abort(400, "登录后要打开的地址（next=）无效。 The address to open after signing in "
                   "(next=) is not valid.")
    if request.method == "POST":
        if not csrf_valid():
            abort(400, "The form has expired or did not come from this site; reload and try again.")
        db = get_session()
        username = (request.form.get("username") or "").strip()
        password = request.form.get("password") or ""
        address = audit.client_address()
        # Counted before the password is checked, atomically: parallel guesses cannot overtake it.
        verdict = throttle.reserve(get_engine(), username, address)
        if not verdict.allowed:
            audit.record(db, "login_refused", username, outcome="locked")
            minutes = _minutes_until(verdict.locked_until)
            error = (f"尝试次数过多，请 {minutes} 分钟后再试。"
                     f" Too many failed attempts; try again in {minutes} minutes.")
        else:
            user = db.query(User).filter(User.username == username).one_or_none()
            if not accounts.check_sign_in(user, password):
                audit.record(db, "login_failed", username, outcome="failed")
                error = "用户名或密码错误。 Wrong username or password."
            else:
                assert user is not None  # check_sign_in is False without a user
                # Write first: when the store is busy this fails (503) before anyone is signed in.
                user.last_login_at = audit.now()
                audit.record(db, "login", username)
                db.commit()
                throttle.release(get_engine(), username, address)
                login_user(user, remember=bool(request.form.get("remember")))
                session["csrf"] = secrets.token_urlsafe(32)  # a new token after sign-in
                home = "/display" if user.role == "display" else "/"
                return redirect(_safe_next(request.args.get("next"), home))
    return render_template_string(LOGIN_PAGE, error=error), (200 if error is None else 401)


def _minutes_until(until: dt.datetime | None) -> int:
    seconds = (until - audit.now()).total_seconds() if until else 60
    return max(1, math.ceil(seconds / 60))


def logout_view():
    """Sign out everywhere: every session and remember-me cookie of the user ends (POST, CSRF)."""
    if not csrf_valid():
        abort(400, "The form has expired or did not come from this site; reload and try again.")
    if current_user.is_authenticated:
        user = get_session().get(User, current_user.id)
        if user is not None:
            sessions.end_all_sessions(user)
        audit.record(get_session(), "logout", current_user.username)
        get_session().commit()  # the ended sessions' version, then the audit row
    logout_user()
    return redirect(url_for("auth_login"))


LOGIN_PAGE = """<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>登录 Sign in · 互联网+营销服务渠道运营</title>
<style>
 body{font-family:system-ui,"Noto Sans CJK SC","WenQuanYi Zen Hei",sans-serif;background:#f1f3f5;
      display:flex;align-items:center;justify-content:center;min-height:100vh;margin:0}
 form{background:#fff;padding:32px 36px;border-radius:10px;box-shadow:0 2px 12px #0002;width:340px}
 h1{font-size:18px;margin:0 0 4px} p.sub{color:#666;margin:0 0 20px;font-size:13px}
 label{display:block;font-size:13px;margin:12px 0 4px;color:#333}
 input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:9px;border:1px solid #ccc;
      border-radius:6px;font-size:15px}
 .row{display:flex;align-items:center;gap:6px;margin-top:12px;font-size:13px}
 button{margin-top:18px;width:100%;padding:10px;border:0;border-radius:6px;background:#1c7ed6;color:#fff;
      font-size:15px;cursor:pointer}
 .error{background:#fff5f5;color:#c92a2a;border:1px solid #ffc9c9;padding:8px;border-radius:6px;
        font-size:13px}
</style></head><body>
<form method="post" autocomplete="on">
 <h1>互联网+营销服务渠道运营</h1><p class="sub">Internet+ Channel Operations · 请登录 Sign in</p>
 {% if error %}<div class="error" id="login-error">{{ error }}</div>{% endif %}
 {{ csrf_field() }}
 <label for="username">用户名 Username</label>
 <input type="text" id="username" name="username" required autofocus autocomplete="username">
 <label for="password">密码 Password</label>
 <input type="password" id="password" name="password" required autocomplete="current-password">
 <div class="row"><input type="checkbox" id="remember" name="remember" value="1">
  <label for="remember" style="margin:0">记住我 Remember me</label></div>
 <button type="submit" id="login-submit">登录 Sign in</button>
</form></body></html>"""
