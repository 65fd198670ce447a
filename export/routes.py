"""The web side of PDF snapshots: `POST /export/pdf` (the page's "Export PDF") and
`GET /auth/render` (where the renderer's browser redeems its single-use token)."""

from __future__ import annotations

from flask import Flask, Response, current_app, jsonify, redirect, request
from flask_login import current_user, login_user

from auth import audit
from components.i18n import t
from data.db import get_session
from export import tokens
from export.render import Paper, RenderError
from export.service import snapshot
from export.views import ExportInvalid, ExportRefused, file_name, resolve

STATUS = {"busy": 503, "timeout": 504, "no_browser": 500, "crash": 500, "page": 500, "refused": 403}


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
    base = current_app.config.get("RENDER_BASE_URL") or request.host_url
    try:
        target, data = snapshot(current_app, get_session(), current_user, path, paper, base, "web")
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
        "Content-Disposition": f'attachment; filename="{file_name(target)}"',
        "Cache-Control": "no-store"})


def redeem_render_token():
    """Sign this browser in as the token's user (no remember-me) and open the token's view only."""
    session = get_session()
    try:
        found = tokens.redeem(session, current_app.config["SECRET_KEY"], request.args.get("token", ""))
        session.commit()
        resolve(session, found.user, found.path)  # scope as for the user, checked again
    except (tokens.TokenRefused, ExportRefused, ExportInvalid) as exc:
        session.rollback()
        audit.record(session, "render_token", None, target=request.path, outcome="refused",
                     detail=str(exc))
        return Response(f"render token refused: {exc}", status=403, mimetype="text/plain")
    login_user(found.user, remember=False)
    return redirect(found.path)
