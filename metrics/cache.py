"""A result cache in front of the computations pages call (flask-caching).

Redis when `REDIS_URL` is set (shared by every gunicorn worker), else a simple in-process cache
(`CACHE_TYPE` overrides either). `@cached(...)` wraps a metrics function whose first argument is a
session; its key is the function, every other argument (units by id and path, dates, carriers,
bands...), the caller's scope (root unit) and the stamps of what the result depends on:

- `facts`: the store's URL and data version (`data.changes`), bumped in the transaction that
  writes facts, so a new version makes every older entry unreachable; a write of facts also clears
  the cache of the process that made it (with Redis: everyone's, under this key prefix); and the
  carrier catalogue's version, which an administrator may edit in the store;
- `targets`, `rubric`, `risk`: the versions of the targets, the stage rubric, the risk rules,
  events and steps.

Every stamp is a row of `store_version`, bumped in the writing transaction (by `data_changed` for
facts, by triggers for the rest), so reading them all is one query of a few rows per transaction.

Scope is checked before the cache is asked: a forged unit is refused whether or not the answer is
cached. Outside a Flask app (CLI, plain tests), or inside `bypass()`, calls go straight through.
Values are pickled, so every hit is a fresh copy the caller may change.

The cache is an optimisation, never a dependency: every entry has a time to live, the Redis client
gives up after `REDIS_TIMEOUT_SECONDS`, and a failure opens a circuit breaker (`Breaker`): for
`REDIS_RETRY_SECONDS` requests skip the cache and compute, the failure is logged once, and then
the next request tries Redis again, so the app recovers by itself when Redis returns.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import astuple, is_dataclass
from typing import Any, TypeVar

from flask import Flask, current_app, has_app_context
from flask_caching import Cache
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry
from sqlalchemy import event
from sqlalchemy.orm import Session

import settings
from data import changes
from data.db import store_name
from data.models import OrgUnit
from metrics.scope import Scope, enforce

F = TypeVar("F", bound=Callable[..., Any])
DEPENDENCIES = ("facts", "targets", "rubric", "risk")

cache = Cache()
log = logging.getLogger(__name__)
_bypass: ContextVar[bool] = ContextVar("metrics_cache_bypass", default=False)
_STAMPS = "metrics_cache_stamps"
_MEMO = "metrics_per_transaction"


def init_app(server: Flask) -> None:
    """Bind the cache to `server` from its CACHE_*, REDIS_URL and REDIS_* settings."""
    given = settings.of(server)
    kind = given.CACHE_TYPE or ("RedisCache" if given.REDIS_URL else "SimpleCache")
    config: dict[str, Any] = {
        "CACHE_TYPE": kind,
        "CACHE_REDIS_URL": given.REDIS_URL,
        "CACHE_KEY_PREFIX": given.CACHE_KEY_PREFIX,
        "CACHE_DEFAULT_TIMEOUT": given.CACHE_DEFAULT_TIMEOUT,  # positive: checked by settings
        "CACHE_THRESHOLD": given.CACHE_THRESHOLD,
    }
    if kind.endswith("RedisCache"):
        # A dead or hung Redis must cost a request a fraction of a second, not the client's
        # default retries with back-off (seconds); the breaker then skips Redis for a while.
        timeout = given.REDIS_TIMEOUT_SECONDS
        config["CACHE_OPTIONS"] = {"socket_connect_timeout": timeout, "socket_timeout": timeout,
                                   "retry": Retry(NoBackoff(), 0)}
    cache.init_app(server, config=config)
    server.extensions["metrics_cache"] = cache
    server.extensions["metrics_cache_breaker"] = Breaker(given.REDIS_RETRY_SECONDS)


class Breaker:
    """After a failure of the cache backend, skip it for `pause` seconds, then try it again;
    log the failure once per pause (not once per request) and the recovery once."""

    def __init__(self, pause: float) -> None:
        self.pause = pause
        self.open_until = 0.0
        self.failing = False
        self._lock = threading.Lock()

    def closed(self) -> bool:
        """Whether the backend may be tried now."""
        return time.monotonic() >= self.open_until

    def failed(self, exc: Exception) -> None:
        """Open the breaker for `pause` seconds; log it unless another thread just did."""
        with self._lock:
            now = time.monotonic()
            if now < self.open_until:
                return
            self.open_until = now + self.pause
            self.failing = True
        log.warning("result cache unreachable (%s: %s); computing without it, next try in %g s",
                    type(exc).__name__, exc, self.pause)

    def succeeded(self) -> None:
        """Note a working backend (logged once, when it comes back)."""
        if self.failing:
            with self._lock:
                was, self.failing = self.failing, False
            if was:
                log.warning("result cache reachable again")


def _guarded(operation: Callable[[], Any], default: Any = None) -> Any:
    """Run a cache operation unless the breaker is open; on a backend failure open it and return
    `default` (the request goes on without the cache)."""
    breaker: Breaker | None = current_app.extensions.get("metrics_cache_breaker")
    if breaker is None:
        return operation()
    if not breaker.closed():
        return default
    try:
        result = operation()
    except (RedisError, OSError) as exc:
        breaker.failed(exc)
        return default
    breaker.succeeded()
    return result


def enabled() -> bool:
    """Whether cached calls use the cache here (an app with a cache, and not bypassed)."""
    return (not _bypass.get() and has_app_context()
            and current_app.extensions.get("metrics_cache") is cache)


@contextlib.contextmanager
def bypass() -> Iterator[None]:
    """Compute everything inside afresh, neither reading nor writing the cache."""
    token = _bypass.set(True)
    try:
        yield
    finally:
        _bypass.reset(token)


def clear() -> None:
    """Drop every entry of this app's cache (its key prefix only; others sharing Redis stay)."""
    if has_app_context() and current_app.extensions.get("metrics_cache") is cache:
        _guarded(cache.clear)


changes.on_data_changed(clear)  # a write of facts clears this process's cache (data calls up)


def stamps(session: Session, depends: tuple[str, ...]) -> tuple:
    """Return what the cached results depend on, as a hashable tuple (read once per transaction:
    a request's cached calls share one reading; a commit or rollback reads afresh)."""
    memo = session.info.setdefault(_STAMPS, {})
    if depends not in memo:
        memo[depends] = _read_stamps(session, depends)
    return memo[depends]


def per_transaction(session: Session, name: str, read: Callable[[], Any]) -> Any:
    """Return `read()`, read once per transaction of `session` (for small lookups that every
    computation of a request needs, like the carrier ids; a commit or rollback reads afresh)."""
    memo = session.info.setdefault(_MEMO, {})
    if name not in memo:
        memo[name] = read()
    return memo[name]


@event.listens_for(Session, "after_transaction_end")
def _forget_stamps(session: Session, _transaction) -> None:
    session.info.pop(_STAMPS, None)
    session.info.pop(_MEMO, None)


def _read_stamps(session: Session, depends: tuple[str, ...]) -> tuple:
    versions = changes.versions(session)  # one read of a few rows, whatever the store's size
    out: list[Any] = [store_name(session)]  # a replica's session names its primary: same store
    if "facts" in depends:
        # The carrier catalogue is editable in the store; which carriers count as online (and
        # their codes) shape what facts mean, so an edit is a new version of them too.
        out += [versions.get(changes.FACTS), versions.get("carriers")]
    for name in ("rubric", "targets", "risk"):
        if name in depends:
            out.append(versions.get(name))
    return tuple(out)


def key_part(value: Any) -> Any:
    """Turn an argument into a stable, hashable key part (TypeError for what cannot be keyed)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, OrgUnit):
        return ("unit", value.id, value.path)
    if isinstance(value, Scope):
        return ("scope", value.root_code, value.root_path)
    if isinstance(value, (list, tuple)):
        return tuple(key_part(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), key_part(v)) for k, v in value.items()))
    if is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, key_part(astuple(value)))
    raise TypeError(f"cannot key a cached call on {type(value).__name__}")


def cached(*depends: str) -> Callable[[F], F]:
    """Cache a metrics function `fn(session, ...)` on its arguments, scope and `depends` stamps."""
    unknown = set(depends) - set(DEPENDENCIES)
    if unknown:
        raise ValueError(f"unknown cache dependencies: {sorted(unknown)}")

    def wrap(fn: F) -> F:
        name = f"{fn.__module__}.{fn.__qualname__}"

        @functools.wraps(fn)
        def wrapper(session: Session, *args: Any, **kwargs: Any) -> Any:
            if not enabled():
                return fn(session, *args, **kwargs)
            scope = kwargs.get("scope") or next((a for a in args if isinstance(a, Scope)), None)
            for value in (*args, *kwargs.values()):
                if isinstance(value, OrgUnit):
                    enforce(scope, value)  # refused before the cache is asked
            parts = (name, key_part(args), key_part(kwargs), stamps(session, depends))
            key = "m:" + hashlib.sha256(repr(parts).encode()).hexdigest()
            hit = _guarded(lambda: cache.get(key))
            if hit is not None:
                return hit
            result = fn(session, *args, **kwargs)
            _guarded(lambda: cache.set(key, result))
            return result

        return wrapper  # type: ignore[return-value]

    return wrap
