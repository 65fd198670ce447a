"""The app: a Flask server carrying the Dash UI, the JSON API and the CLI commands.

`flask --app app <command>` finds `create_app` by itself; serve with
`gunicorn -w 4 -b 0.0.0.0:8050 'app:create_app()'`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dash
from flask import Flask, jsonify

import auth
import components.theme  # noqa: F401  (registers the plotly template)
import export
import report
import settings
import shell
from api import v1 as api_v1
from auth import headers
from data import db, unavailable
from export import ui as export_ui
from jobs import demo, schema
from jobs.ingest import cli as ingest_cli
from metrics import cache as metrics_cache
from risk import cli as risk_cli

ROOT = Path(__file__).resolve().parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask server and the Dash app on it, configured from `config`, env and defaults."""
    instance = (config or {}).get("INSTANCE_PATH") or str(ROOT / "instance")
    server = Flask(__name__, instance_path=instance)
    settings.install(server, settings.load_settings(config))  # parsed and checked once, here
    if config:
        server.config.update({k: v for k, v in config.items() if k not in settings.NAMES})
    db.init_app(server)
    unavailable.init_app(server)
    metrics_cache.init_app(server)
    auth.init_app(server)
    headers.init_app(server)
    schema.init_app(server)
    demo.init_app(server)
    api_v1.init_app(server)
    risk_cli.init_app(server)
    ingest_cli.init_app(server)
    export.init_app(server)
    report.init_app(server)
    server.add_url_rule("/healthz", "healthz", lambda: jsonify(status="ok"))

    app = dash.Dash(
        __name__,
        server=server,  # type: ignore[arg-type]  # Dash's hint omits Flask instances
        use_pages=True,
        pages_folder=str(ROOT / "pages"),
        title="互联网+营销服务渠道运营 · Internet+ Channel Operations",
        suppress_callback_exceptions=True,
    )
    shell.init_app(app)
    export_ui.init_dash(app)
    server.extensions["dash"] = app
    auth.init_display_role(server)
    _register_resources(server, app)
    return server


def _register_resources(server: Flask, app: dash.Dash) -> None:
    # Dash learns which component bundles it may serve only when it first renders its index page,
    # in that worker. With several gunicorn workers a worker that did not render the index would
    # refuse the bundles ("not a registered library"); registering them up front avoids that.
    with server.test_request_context("/"):
        app._setup_dev_tools()  # noqa: SLF001 - Dash has no public hook for this
        app._generate_scripts_html()  # noqa: SLF001
        app._generate_css_dist_html()  # noqa: SLF001
