"""One PDF snapshot of one view for one user: check, sign the renderer in, render, audit."""

from __future__ import annotations

import threading
import time

from flask import Flask
from sqlalchemy.orm import Session

import settings
from auth import audit
from components.i18n import t
from data.models import User
from export import tokens
from export.origin import check_base_url
from export.render import Paper, Renderer, RenderError, footer_template, header_template
from export.views import ExportInvalid, ExportRefused, ExportView, header_lines, resolve

_lock = threading.Lock()


def renderer_for(app: Flask) -> Renderer:
    """Return the app's renderer (one per process), created on first use from the settings."""
    with _lock:
        if "pdf_renderer" not in app.extensions:
            given = settings.of(app)
            app.extensions["pdf_renderer"] = Renderer(
                given.CHROMIUM_PATH, given.PDF_MAX_RENDERS, given.PDF_TIMEOUT_SECONDS)
        return app.extensions["pdf_renderer"]


def close_renderer(app: Flask) -> None:
    """Close the app's renderer and its browsers, if it has one."""
    with _lock:
        renderer = app.extensions.pop("pdf_renderer", None)
    if renderer is not None:
        renderer.close()


def snapshot(app: Flask, session: Session, user: User, path: str, paper: Paper, base_url: str | None,
             via: str) -> tuple[ExportView, bytes]:
    """Render the view at `path` as `user` sees it, loading the app from `base_url` (fixed when the
    server started, never taken from a request); audit the export whatever happens.

    Raises ExportRefused (not in the user's scope), ExportInvalid (not an analytical view) or
    RenderError (no address, no browser, busy, crash, timeout).
    """
    started = time.monotonic()
    what = f"pdf {paper.size} {paper.orientation} via {via}"
    try:
        target = resolve(session, user, path)
    except (ExportRefused, ExportInvalid) as exc:
        outcome = "refused" if isinstance(exc, ExportRefused) else "invalid"
        audit.record(session, "export", user.username, target=path, outcome=outcome,
                     detail=f"{what}: {exc}")
        raise
    if not base_url:
        audit.record(session, "export", user.username, target=target.path, outcome="failed",
                     detail=f"{what}: no_base")
        raise RenderError("no_base", "set RENDER_BASE_URL to this server's own address "
                                     "(e.g. http://127.0.0.1:8050) to export PDFs from the web")
    base_url = check_base_url(base_url)
    issued = tokens.issue(session, app.config["SECRET_KEY"], user, target.path,
                          tokens.lifetime(settings.of(app).RENDER_TOKEN_SECONDS))
    session.commit()
    line1, line2 = header_lines(target, user, settings.of(app).TIMEZONE)
    footer = t("app.title", user.language or "zh") + (f" · {t('demo', user.language or 'zh')}"
                                                     if target.demo else "")
    try:
        data = renderer_for(app).render(f"{base_url}/auth/render?token={issued.token}", paper,
                                        header_template(line1, line2), footer_template(footer),
                                        issued.secret)
        if not data.startswith(b"%PDF") or len(data) < 1000:
            raise RenderError("crash", "the browser returned no usable PDF")
    except RenderError as exc:
        audit.record(session, "export", user.username, target=target.path,
                     outcome="busy" if exc.reason == "busy" else "failed",
                     detail=f"{what}: {exc.reason}: {exc}")
        raise
    audit.record(session, "export", user.username, target=target.path,
                 detail=f"{what}: {len(data)} bytes in {time.monotonic() - started:.1f} s")
    return target, data
