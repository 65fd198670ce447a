"""503 "busy, try again" when the store is locked or out of reach, instead of a 500 after a long wait.

One app-wide error handler covers every route (pages, Dash callbacks, the API, sign-in): SQLite's
"database is locked" after the request's short wait (DB_LOCK_WAIT_SECONDS), PostgreSQL's lock and
statement timeouts, a server that is restarting or down, a full connection pool. Other database
errors are bugs and stay 500s.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, jsonify, request
from sqlalchemy import exc as sa_exc

from data.db import is_lock_wait

RETRY_AFTER_SECONDS = 5
# PostgreSQL SQLSTATEs that mean "not now": connection exceptions (08), insufficient resources (53),
# operator intervention (57P: shutting down, starting up), transaction rollback (40: deadlock,
# serialization), lock not available (55P03), query cancelled by the statement timeout (57014).
TRANSIENT_SQLSTATE_PREFIXES = ("08", "53", "57P", "40", "55P03", "57014")

MESSAGE_ZH = f"数据库正忙（可能正在导入数据）或暂时无法连接，请 {RETRY_AFTER_SECONDS} 秒后重试。"
MESSAGE_EN = (f"The database is busy (an import or another long job may be writing) or out of reach "
              f"for the moment; try again in {RETRY_AFTER_SECONDS} seconds.")


def is_transient(exc: BaseException) -> bool:
    """Tell whether a database error means "busy or unreachable for now" rather than a bug."""
    if isinstance(exc, sa_exc.TimeoutError | sa_exc.DisconnectionError):
        return True  # no pooled connection came free in time; a dead connection
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    if exc.connection_invalidated or is_lock_wait(exc):
        return True
    if not isinstance(exc, sa_exc.OperationalError) or not hasattr(exc.orig, "sqlstate"):
        return False  # only psycopg's errors carry a SQLSTATE; SQLite's busy case is handled above
    sqlstate = getattr(exc.orig, "sqlstate", None)
    # No SQLSTATE: the server never answered (connection refused, timed out, closed).
    return sqlstate is None or sqlstate.startswith(TRANSIENT_SQLSTATE_PREFIXES)


def init_app(app: Flask) -> None:
    """Answer transient database errors with 503 and Retry-After."""
    app.register_error_handler(sa_exc.SQLAlchemyError, busy_response)


def busy_response(exc: sa_exc.SQLAlchemyError) -> Response:
    """Return the 503 for a transient database error (JSON for the API and Dash); re-raise others."""
    if not is_transient(exc):
        raise exc
    current_app.logger.warning("503 for %s %s: database busy or unreachable: %s", request.method,
                               request.path, exc)
    if request.path.startswith("/api/") or "/_dash-" in request.path:
        response = jsonify(error=f"{MESSAGE_ZH} {MESSAGE_EN}", retry_after=RETRY_AFTER_SECONDS)
    else:
        # Plain text, not a template: rendering one would run context processors that may
        # read the database again (flask-login loads the user).
        response = Response(PAGE.replace("{zh}", MESSAGE_ZH).replace("{en}", MESSAGE_EN),
                            mimetype="text/html")
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


PAGE = """<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>请稍后再试 Try again shortly</title></head>
<body style="font-family:system-ui,'Noto Sans CJK SC',sans-serif;max-width:36em;margin:15vh auto">
<h1 style="font-size:20px">请稍后再试 · Try again shortly</h1>
<p>{zh}</p><p lang="en">{en}</p>
<p><a href="javascript:location.reload()">重试 Retry</a></p>
</body></html>"""
