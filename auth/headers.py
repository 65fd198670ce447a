"""Security headers on every response: pages, Dash routes, assets, errors, /login and the API.

The Content-Security-Policy allows scripts from this origin and, of inline scripts, exactly the
ones Dash writes into its index page (the renderer start-up and the clientside callbacks), by hash
(`Dash.csp_hashes`). No `'unsafe-eval'`, no other inline script, no other origin. Styles keep
`'unsafe-inline'`: Mantine and plotly.js insert `<style>` elements at run time and the sign-in
page has its own. Nothing may frame the app (`frame-ancestors 'none'`, `X-Frame-Options: DENY`);
the app frames nothing itself.
"""

from __future__ import annotations

from flask import Flask, Response, current_app

import settings

# Directives that do not depend on the app; script-src is added per app with Dash's hashes.
POLICY = (
    ("default-src", "'self'"),
    ("style-src", "'self' 'unsafe-inline'"),
    ("img-src", "'self' data: blob:"),
    ("font-src", "'self' data:"),
    ("connect-src", "'self'"),
    ("object-src", "'none'"),
    ("base-uri", "'self'"),
    ("form-action", "'self'"),
    ("frame-ancestors", "'none'"),
)
HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}
HSTS = "max-age=31536000; includeSubDomains"


def init_app(app: Flask) -> None:
    """Add the headers to every response of `app`."""
    app.after_request(_add_headers)


def content_security_policy(app: Flask) -> str:
    """Return the app's CSP: POLICY plus script-src with the hashes of Dash's inline scripts."""
    dash_app = app.extensions.get("dash")
    # Computed per response (a few short hashes): Dash adds inline scripts of its own when it sets
    # itself up on the first request that reaches it, which may come after responses the sign-in
    # guard gave; a policy kept from before then would block them.
    hashes = " ".join(dash_app.csp_hashes()) if dash_app is not None else ""
    directives = [*POLICY, ("script-src", f"'self' {hashes}".strip())]
    return "; ".join(f"{name} {value}" for name, value in directives)


def _add_headers(response: Response) -> Response:
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # werkzeug proxy
    response.headers["Content-Security-Policy"] = content_security_policy(app)
    for name, value in HEADERS.items():
        response.headers[name] = value
    if settings.of(app).BEHIND_HTTPS:
        response.headers["Strict-Transport-Security"] = HSTS
    return response
