"""gunicorn reads this file from the directory it starts in (`make serve` does).

When RENDER_BASE_URL is unset, each worker tells the app the address gunicorn bound, so that the
PDF renderer loads the app from there (a wildcard bind, 0.0.0.0 or ::, is read as loopback) and
never from an address a request names. A UNIX socket gives no such address: set RENDER_BASE_URL.
"""

from __future__ import annotations

import socket


def post_worker_init(worker) -> None:
    """Record the first TCP address gunicorn listens on as the renderer's address."""
    from flask import Flask

    import settings
    from export.origin import set_bound

    app = worker.wsgi
    if not isinstance(app, Flask) or settings.of(app).RENDER_BASE_URL:
        return
    for listener in worker.sockets:
        if listener.sock.family in (socket.AF_INET, socket.AF_INET6):
            host, port = listener.sock.getsockname()[:2]
            set_bound(app, host, port, https=bool(worker.cfg.is_ssl))
            return
