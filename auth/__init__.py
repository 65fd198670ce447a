"""Sign-in, roles, region scope, API tokens and the audit log."""

from __future__ import annotations

from flask import Flask

from auth import cli, guard, login, secret


def init_app(app: Flask) -> None:
    """Configure cookies and the secret key, then register sign-in, the guard and the CLI."""
    secret.configure(app)
    login.init_app(app)
    guard.init_app(app)
    cli.init_app(app)


def init_display_role(app: Flask) -> None:
    """Restrict display accounts to the wall display (after Dash is built on `app`)."""
    guard.init_display_role(app)
