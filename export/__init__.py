"""PDF snapshots of any analytical view, rendered by headless Chromium driving the real page,
and PDFs delivered by email on a schedule.

`routes` holds the web side (the export request and the renderer's sign-in), `ui` the page's
"Export PDF" callback (the menu itself is `components/export_menu.py`), `cli` the `snapshot` command,
`service` one snapshot end to end, `render` playwright, `tokens` the single-use sign-in of the
renderer, `origin` the one address the renderer may load (fixed at start-up), `views` which view
is exported, its header and its file name. `subscriptions` holds standing orders for PDFs by email,
`schedule` when they are due, `delivery` and `deliver_cli` (`deliver-due`) their sending. Risk
notices (queued by `risk.notify`) go out by email and chat-robot webhook through `notify_cli`
(`notify-due`), their words made by `notices`.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Check RENDER_BASE_URL, register the export routes and the `snapshot`, `deliver-due` and
    `notify-due` commands."""
    from export import cli, deliver_cli, notify_cli, origin, routes

    origin.configure(app)
    routes.init_app(app)
    cli.init_app(app)
    deliver_cli.init_app(app)
    notify_cli.init_app(app)
