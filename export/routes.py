"""The web side of PDF snapshots: `POST /export/pdf` (the page's "Export PDF") and
`GET /auth/render` (where the renderer's browser redeems its single-use token)."""

from __future__ import annotations

from flask import Flask, Response, current_app, jsonify, redirect, request, session
from flask_login import current_user, login_user

from auth import audit
from auth.guard import RENDER_SECRET, RENDER_VIEW
from components.i18n import t
from data.db import get_session
from export import tokens
from export.origin import render_base
from export.render import Paper, RenderError
from export.service import prepare, render
from export.views import ExportInvalid, ExportRefused, file_name, resolve

STATUS = {"busy": 503, "timeout": 504, "no_browser": 500, "crash": 500, "page": 500, "refused": 403,
          "no_base": 500}


def init_app(app: Flask) -> None:
    """Register the export and token-redemption routes."""
    app.add_url_rule("/export/pdf", "export_pdf", export_pdf, methods=["POST"])
    app.add_url_rule("/auth/render", "auth_render", redeem_render_token, methods=["GET"])


def export_pdf():
    """Render the posted view (`path`, `paper`, `orientation`) to PDF as the signed-in user."""
    lang = current_user.language or "zh"
    try:
        paper = Paper(request.form.get("paper") or "A4", request.form.get("orientation") or "landscape")
    except ValueError as exc:
        return jsonify(error=f"{t('pdf.failed', lang)} {exc}"), 400
    path = request.form.get("path") or "/"
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:  # the address fixed at start-up: never the request's Host
        prepared = prepare(app, get_session(), current_user, path, paper, render_base(app), "web")
        get_session().commit()  # the renderer redeems the token over its own connection
        target, data = prepared.target, render(app, get_session(), current_user, prepared)
    except ExportRefused as exc:
        return jsonify(error=f"{t('pdf.refused', lang)} ({exc})"), 403
    except ExportInvalid as exc:
        return jsonify(error=f"{t('pdf.failed', lang)} {exc}"), 400
    except RenderError as exc:
        response = jsonify(error=f"{t('pdf.failed', lang)} {t(f'pdf.reason.{exc.reason}', lang)} ({exc})")
        if exc.reason == "busy":
            response.headers["Retry-After"] = "10"
        return response, STATUS.get(exc.reason, 500)
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{file_name(target)}"',  # ASCII, sanitised
        "Cache-Control": "no-store"})


def redeem_render_token():
    """Sign the server's own renderer in as the token's user (no remember-me), for the token's one
    view only; refuse a browser that is already signed in or does not present the render secret."""
    db = get_session()
    secret = request.headers.get(tokens.SECRET_HEADER)
    try:
        if current_user.is_authenticated:  # never replace a session (login CSRF)
            raise tokens.TokenRefused("this browser is already signed in; a render token never "
                                      "replaces a session")
        found = tokens.redeem(db, current_app.config["SECRET_KEY"], request.args.get("token", ""),
                              secret)
        db.commit()
        resolve(db, found.user, found.path)  # scope as for the user, checked again
    except (tokens.TokenRefused, ExportRefused, ExportInvalid) as exc:
        db.rollback()
        audit.record(db, "render_token", current_user.username if current_user.is_authenticated
                     else None, target=request.path, outcome="refused", detail=str(exc))
        return Response(f"render token refused: {exc}", status=403, mimetype="text/plain")
    session.clear()
    login_user(found.user, remember=False)
    session[RENDER_VIEW] = found.path
    session[RENDER_SECRET] = tokens.secret_hash(secret or "")
    return redirect(found.path)
