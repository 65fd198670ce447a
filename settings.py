"""Every setting of the app, declared once with its default and help text.

Values come, in order of precedence, from the config dict passed to `create_app`, the environment,
and the defaults below. Secrets are never defaults: they come from the environment or the instance
folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DATABASE_URL",
        None,
        "SQLAlchemy URL of the store, e.g. postgresql+psycopg://user@host/db. "
        "Unset: an embedded SQLite file, data/dashboard.sqlite3.",
    ),
    Setting(
        "DB_LOCK_WAIT_SECONDS",
        3,
        "Longest a web request waits for a database lock (SQLite's write lock during an import or "
        "seed; a PostgreSQL row or table lock) before answering 503 'busy, try again' with "
        "Retry-After. CLI jobs are not limited by it.",
    ),
    Setting(
        "DB_STATEMENT_TIMEOUT_SECONDS",
        30,
        "PostgreSQL: a web request's SQL statement running longer is cancelled and the request "
        "answers 503 (0: no limit). CLI jobs (seed, import, roll-up rebuild, scan) have no limit.",
    ),
    Setting(
        "SQLITE_JOB_BUSY_SECONDS",
        30,
        "SQLite: how long work outside web requests (CLI jobs) waits for the write lock.",
    ),
    Setting(
        "DB_IDLE_IN_TRANSACTION_SECONDS",
        120,
        "PostgreSQL: the server ends any session (web or CLI) that sits idle inside a transaction "
        "this long, releasing its locks (a hung or vanished client). A job must not pause longer "
        "than this between statements of one transaction.",
    ),
    Setting(
        "TIMEZONE",
        "Asia/Shanghai",
        "The company's time zone; day boundaries, 'yesterday' and months use it.",
    ),
    Setting(
        "DATA_START",
        "2000-01-01",
        "The first day the store accepts (YYYY-MM-DD): an import refuses rows dated before it, or "
        "after tomorrow in TIMEZONE (targets and SLA deadlines: up to 10 years ahead).",
    ),
    Setting(
        "BEHIND_HTTPS",
        False,
        "Set when served behind an HTTPS proxy: cookies get Secure, responses carry "
        "Strict-Transport-Security (one year), and the proxy's "
        "X-Forwarded-For/-Proto are trusted (one hop).",
    ),
    Setting(
        "REMEMBER_DAYS",
        180,
        "How long 'remember me' keeps a browser signed in (wall displays survive reboots); the server "
        "refuses any session or remember-me cookie older than this, counted from the sign-in.",
    ),
    Setting(
        "ATTAINMENT_GREEN",
        1.0,
        "Attainment (value against target, direction-aware) from which a KPI shows green.",
    ),
    Setting(
        "ATTAINMENT_AMBER",
        0.95,
        "Attainment from which a KPI shows amber; below it, red.",
    ),
    Setting(
        "REDIS_URL",
        None,
        "Redis URL (redis://host:6379/0) for the result cache shared by every worker. Unset: each "
        "process keeps a simple in-process cache.",
    ),
    Setting(
        "CACHE_TYPE",
        None,
        "flask-caching backend; unset picks RedisCache with REDIS_URL, else SimpleCache. "
        "NullCache turns caching off.",
    ),
    Setting(
        "CACHE_KEY_PREFIX",
        "channel-ops:",
        "Prefix of every cache key (keeps several apps apart on one Redis; clearing drops only it).",
    ),
    Setting(
        "CACHE_DEFAULT_TIMEOUT",
        3600,
        "Seconds a cached result lives at most (its time to live; must be positive). New data "
        "never waits for it: keys carry the data version.",
    ),
    Setting(
        "REDIS_TIMEOUT_SECONDS",
        0.3,
        "How long the result cache waits for Redis to connect or answer before the request goes "
        "on without it.",
    ),
    Setting(
        "REDIS_RETRY_SECONDS",
        15,
        "After Redis failed, requests skip it for this long (and the failure is logged once), "
        "then the next request tries it again.",
    ),
    Setting(
        "CACHE_THRESHOLD",
        2000,
        "Most entries the in-process cache keeps before it evicts.",
    ),
    Setting(
        "DEMO_SCALE",
        "small",
        "Scale that `make run` seeds into an empty store: tiny, small or province.",
    ),
    Setting(
        "CHROMIUM_PATH",
        "/usr/bin/chromium",
        "The Chromium that renders PDF snapshots; 'playwright' uses the browser that "
        "`playwright install chromium` downloaded.",
    ),
    Setting(
        "PDF_MAX_RENDERS",
        2,
        "At most this many PDF snapshots render at once per server process; more wait briefly, "
        "then get 'busy, try again'.",
    ),
    Setting(
        "PDF_TIMEOUT_SECONDS",
        60,
        "A PDF snapshot whose page has not finished loading (data, charts) by then fails with a "
        "message; no file is written.",
    ),
    Setting(
        "RENDER_BASE_URL",
        None,
        "This server's own address, where the PDF renderer loads pages from, e.g. "
        "http://127.0.0.1:8050: http(s)://HOST[:PORT] only, checked at start-up (a bad value stops "
        "the server). Unset: the address gunicorn bound (gunicorn.conf.py); without one (UNIX "
        "socket, `flask run`) web export answers an error naming this setting. Never taken from a "
        "request. The CLI always serves the app itself on a local port.",
    ),
    Setting(
        "RENDER_TOKEN_SECONDS",
        30,
        "Life of the single-use sign-in token the PDF renderer redeems (capped at 60 s).",
    ),
)


def default(name: str) -> Any:
    """The declared default of setting `name`."""
    return next(s.default for s in SETTINGS if s.name == name)


def load_settings(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Resolve every declared setting from overrides, then the environment, then defaults."""
    overrides = overrides or {}
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.name in overrides:
            values[setting.name] = overrides[setting.name]
        elif setting.name in os.environ:
            values[setting.name] = os.environ[setting.name]
        else:
            values[setting.name] = setting.default
    return values
