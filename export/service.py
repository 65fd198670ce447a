"""One PDF snapshot of one view for one user: check and issue the renderer's token (`prepare`),
then, after the caller has committed the token, sign the renderer in and render (`render`); audit."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

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


@dataclass
class Prepared:
    """A snapshot checked and ready to render: its view, what is asked and the renderer's token.
    The token is in the caller's session: the caller commits before `render` (the renderer's
    browser redeems it over its own connection)."""

    target: ExportView
    what: str
    paper: Paper
    base_url: str
    token: tokens.Issued
    started: float


def prepare(app: Flask, session: Session, user: User, path: str, paper: Paper, base_url: str | None,
            via: str) -> Prepared:
    """Check the view at `path` for `user` and issue the renderer's single-use token for it, which
    loads the app from `base_url` (fixed when the server started, never taken from a request);
    audit a refusal. The caller commits (the token must be visible to the renderer), then calls
    `render`.

    Raises ExportRefused (not in the user's scope), ExportInvalid (not an analytical view) or
    RenderError (no address).
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
    return Prepared(target, what, paper, base_url, issued, started)


def render(app: Flask, session: Session, user: User, prepared: Prepared) -> bytes:
    """Render a prepared snapshot as `user` sees it (its token committed); audit the outcome.

    Raises RenderError (no browser, busy, crash, timeout).
    """
    target, what = prepared.target, prepared.what
    line1, line2 = header_lines(target, user, settings.of(app).TIMEZONE)
    footer = t("app.title", user.language or "zh") + (f" · {t('demo', user.language or 'zh')}"
                                                     if target.demo else "")
    try:
        data = renderer_for(app).render(f"{prepared.base_url}/auth/render?token={prepared.token.token}",
                                        prepared.paper, header_template(line1, line2),
                                        footer_template(footer), prepared.token.secret)
        if not data.startswith(b"%PDF") or len(data) < 1000:
            raise RenderError("crash", "the browser returned no usable PDF")
    except RenderError as exc:
        audit.record(session, "export", user.username, target=target.path,
                     outcome="busy" if exc.reason == "busy" else "failed",
                     detail=f"{what}: {exc.reason}: {exc}")
        raise
    audit.record(session, "export", user.username, target=target.path,
                 detail=f"{what}: {len(data)} bytes in {time.monotonic() - prepared.started:.1f} s")
    return data
