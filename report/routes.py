"""The web side of the report: `POST /export/report` (unit, month, lang) answers the PDF as the
signed-in user may have it, or JSON {"error": ...} in their language; audited like snapshots."""

from __future__ import annotations

from flask import Flask, Response, jsonify, request
from flask_login import current_user

from components.i18n import t
from data.db import get_session
from export.render import RenderError
from export.routes import STATUS
from report.build import build_report_with_content
from report.content import ReportInvalid, ReportRefused


def init_app(app: Flask) -> None:
    """Register the report route."""
    app.add_url_rule("/export/report", "export_report", export_report, methods=["POST"])


def export_report():
    """Make the monthly report of the posted unit and month for the signed-in user."""
    ui = current_user.language or "zh"
    lang = request.form.get("lang") or ui
    session = get_session()
    try:
        content, data = build_report_with_content(
            session, current_user, request.form.get("unit") or "", request.form.get("month") or "",
            lang if lang in ("zh", "en") else "?", "web")
    except ReportRefused as exc:
        session.commit()
        return jsonify(error=t("report.error.refused", ui) + exc.text(ui)), 403
    except ReportInvalid as exc:
        session.commit()
        return jsonify(error=t("report.error.invalid", ui) + exc.text(ui)), 400
    except RenderError as exc:
        session.commit()
        response = jsonify(error=f"{t('report.error.failed', ui)}{t(f'pdf.reason.{exc.reason}', ui)} "
                                 f"({exc})")
        if exc.reason == "busy":
            response.headers["Retry-After"] = "10"
        return response, STATUS.get(exc.reason, 500)
    session.commit()  # the audit row of the report made
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{content.file_name()}"',
        "Cache-Control": "no-store"})
