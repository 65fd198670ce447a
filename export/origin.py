"""Where the PDF renderer loads the app from: one origin fixed when the server starts, never taken
from a request (a client's `Host` header must not point the server's Chromium anywhere).

The address is `RENDER_BASE_URL`, checked at start-up, or else the address the serving process
bound (gunicorn's `gunicorn.conf.py` hook and the `snapshot` command's local server set it), a
wildcard bind (0.0.0.0, ::) read as loopback.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from flask import Flask

import settings

BOUND_KEY = "render_bound_url"  # app.extensions key of the address the serving process bound
_DEFAULT_PORTS = {"http": 80, "https": 443}


class BadRenderBase(ValueError):
    """RENDER_BASE_URL is not a bare http(s)://host[:port] address."""


def check_base_url(value: str) -> str:
    """Return `value` as a normalised origin (scheme://host:port), or raise BadRenderBase saying why."""
    text = str(value or "").strip()
    why = settings.origin_problem(text)
    if why:
        raise BadRenderBase(
            f"RENDER_BASE_URL {text!r} {why}; it must be http(s)://HOST:PORT, where this server itself "
            f"answers (e.g. http://127.0.0.1:8050) / RENDER_BASE_URL 必须是本服务自身的地址 "
            f"http(s)://主机:端口（不含路径、查询或账号）")
    return origin_of(text)


def origin_of(url: str) -> str:
    """Return the origin of `url` as scheme://host:port (explicit port, IPv6 in brackets)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}:{parts.port or _DEFAULT_PORTS.get(parts.scheme, 0)}"


def bound_base_url(host: str, port: int, https: bool = False) -> str:
    """Return the loopback-reachable address of a socket bound to (host, port)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None and address.is_unspecified:
        address = ipaddress.ip_address("::1" if address.version == 6 else "127.0.0.1")
    shown = host if address is None else (f"[{address}]" if address.version == 6 else str(address))
    return f"{'https' if https else 'http'}://{shown}:{int(port)}"


def configure(app: Flask) -> None:
    """Check RENDER_BASE_URL at start-up (a bad value stops the server with the reason)."""
    given = settings.of(app).RENDER_BASE_URL
    if given:
        settings.override(app, RENDER_BASE_URL=check_base_url(given))


def set_bound(app: Flask, host: str, port: int, https: bool = False) -> None:
    """Record the address the serving process bound, used when RENDER_BASE_URL is unset."""
    app.extensions[BOUND_KEY] = check_base_url(bound_base_url(host, port, https))


def render_base(app: Flask) -> str | None:
    """Return the origin the renderer loads the app from, or None when the server does not know it."""
    value = settings.of(app).RENDER_BASE_URL or app.extensions.get(BOUND_KEY)
    return check_base_url(value) if value else None
