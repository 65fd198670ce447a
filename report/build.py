"""One report end to end: check, gather, lay out, print, audit.

`build_report(session, user, unit_code, month, lang)` is what the CLI, the Reports page and
scheduled delivery call. It needs the Flask app context (the settings and the app's PDF renderer).
"""

from __future__ import annotations

import time

from flask import current_app
from sqlalchemy.orm import Session

from auth import audit
from data.models import User
from export.render import RenderError
from export.service import renderer_for
from report.content import Report, ReportInvalid, ReportRefused, report_content
from report.html import footer, report_html

OPERATOR = "operator"  # who the audit names when the CLI runs without --as


def target_of(unit_code: str, month: str) -> str:
    """What an audit row of a report names: 'report UNIT YYYY-MM'."""
    return f"report {unit_code} {month}"[:200]


def build_report(session: Session, user: User | None, unit_code: str, month: str,
                 lang: str | None = None, via: str = "web") -> bytes:
    """Return the PDF of the monthly report of `unit_code` for `month` ('YYYY-MM') as `user` may
    see it (None: the operator on the server, every unit), in `lang` (zh or en; the user's
    language when None). Audits the outcome (the caller commits for an "ok" row to stay).

    Raises ReportRefused (outside the user's scope, a display account), ReportInvalid (unknown
    unit, malformed month, no data that month, a language other than zh or en) or RenderError
    (no browser, busy, timeout); the messages say why, `.text(lang)` in either language."""
    return build_report_with_content(session, user, unit_code, month, lang, via)[1]


def build_report_with_content(session: Session, user: User | None, unit_code: str, month: str,
                              lang: str | None = None, via: str = "web") -> tuple[Report, bytes]:
    """`build_report`, returning the report's content too (its file name, its title)."""
    started = time.monotonic()
    who = user.username if user is not None else OPERATOR
    target = target_of(unit_code, month)
    try:
        content = report_content(session, user, unit_code, month, lang)
    except (ReportRefused, ReportInvalid) as exc:
        audit.record(session, "export", who, target=target,
                     outcome="refused" if isinstance(exc, ReportRefused) else "invalid",
                     detail=f"report via {via}: {exc}")
        raise
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        data = renderer_for(app).print_html(report_html(content), footer(content))
        if not data.startswith(b"%PDF") or len(data) < 1000:
            raise RenderError("crash", "the browser returned no usable PDF")
    except RenderError as exc:
        audit.record(session, "export", who, target=target,
                     outcome="busy" if exc.reason == "busy" else "failed",
                     detail=f"report via {via}: {exc.reason}: {exc}")
        raise
    audit.record(session, "export", who, target=target,
                 detail=f"report {content.lang} via {via}: {len(data)} bytes in "
                        f"{time.monotonic() - started:.1f} s")
    return content, data
