"""Chat-robot webhooks (WeCom, DingTalk and the like) that take a unit subtree's risk notices: set,
removed and listed by administrators (audited; services never commit), and posted to safely.

Safe: a URL is checked when it is set (http or https, a host, no user name or password, no
fragment, at most 2,000 characters) and again when it is used; at send time its host is resolved
and every address it resolves to must be public (not loopback, private, link-local, multicast,
reserved or unspecified) unless WEBHOOK_ALLOWED_HOSTS allows it (a name, an address or a CIDR);
the connection is then made to the address that was checked (the host name kept for the `Host`
header and TLS), so a name that resolves elsewhere a moment later (DNS rebinding) changes nothing.
Redirects are not followed, the wait is WEBHOOK_TIMEOUT_SECONDS in all and at most 64 KiB of the
answer is read.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import re
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from auth import audit
from auth.admin import require_admin
from data.clock import local_text, utc_now
from data.models import OrgUnit, RiskWebhook, User
from data.units import ancestors, unit_by_code

MAX_URL = 2000
MAX_ANSWER = 64 * 1024
SCHEMES = ("http", "https")
CONTROL = re.compile(r"[\x00-\x20\x7f]")
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]


class WebhookError(ValueError):
    """A webhook that cannot be set (the message, in Chinese and English, says why)."""


class WebhookRefused(PermissionError):
    """A notice that may not be posted: the address is not allowed, the URL is malformed."""


class WebhookFailed(RuntimeError):
    """A post that did not succeed this time (unreachable, timeout, an error answer); retried."""


# --- the URL --------------------------------------------------------------------------------------

def url_problem(url: str) -> tuple[str, str] | None:
    """Why `url` cannot be a webhook (Chinese, English), or None."""
    if not url:
        return "网址为空", "the URL is empty"
    if len(url) > MAX_URL:
        return f"网址超过 {MAX_URL} 个字符", f"the URL is longer than {MAX_URL} characters"
    if CONTROL.search(url):
        return "网址含有空格或控制字符", "the URL contains spaces or control characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "网址格式不正确（端口或主机无效）", "the URL is malformed (bad port or host)"
    if parts.scheme.lower() not in SCHEMES:
        return "只允许 http 或 https 网址", "only http and https URLs are allowed"
    if "@" in parts.netloc:
        return "网址不能包含用户名或密码", "the URL must not contain a user name or password"
    if not parts.hostname:
        return "网址缺少主机名", "the URL has no host"
    if parts.fragment or "#" in url:
        return "网址不能包含 # 片段", "the URL must not contain a #fragment"
    if port == 0:
        return "端口无效", "the port is invalid"
    try:
        parts.hostname.encode("idna")
    except UnicodeError:
        return "主机名无效", "the host name is invalid"
    return None


def _reachable_literal(url: str, allowed: Allowed) -> None:
    """WebhookError when the URL's host is an address (not a name) that `allowed` refuses."""
    host = (urlsplit(url).hostname or "").strip("[]")
    try:
        address = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return
    if not allowed.allows(host, address):
        raise WebhookError(
            f"网址无效：{address} 不是公网地址，且未列入 WEBHOOK_ALLOWED_HOSTS / Invalid webhook URL: "
            f"{address} is not a public address and not in WEBHOOK_ALLOWED_HOSTS")


def check_url(url: str) -> str:
    """`url` stripped, or WebhookError saying (in both languages) why it cannot be a webhook."""
    text = str(url or "").strip()
    problem = url_problem(text)
    if problem:
        raise WebhookError(f"网址无效：{problem[0]} / Invalid webhook URL: {problem[1]}")
    return text


def mask(url: str) -> str:
    """`url` with its secrets hidden (a robot's key is in its query or a long path segment):
    scheme, host and port shown, query values and long path segments masked."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "****"
    host = parts.hostname or ""
    shown = f"{parts.scheme}://{host}" + (f":{port}" if port else "")
    path = "/".join(s if len(s) < 16 else s[:2] + "****" for s in parts.path.split("/"))
    query = "&".join(f"{p.partition('=')[0]}=****" for p in parts.query.split("&") if p)
    return shown + path + (f"?{query}" if query else "")


# --- administration -------------------------------------------------------------------------------

def _unit(session: Session, code: str) -> OrgUnit:
    unit = unit_by_code(session, (code or "").strip())
    if unit is None:
        raise WebhookError(f"单位代码 {code!r} 不存在 / unknown unit {code!r}")
    return unit


def set_webhook(session: Session, actor: User, unit_code: str, url: str,
                now=None, allowed: Allowed | None = None) -> RiskWebhook:
    """Set the webhook of a unit's subtree (admins only; the URL checked; audited). With `allowed`
    (WEBHOOK_ALLOWED_HOSTS), a host given as an address that no post could reach is refused now
    (a name is resolved, and checked, when a notice is sent)."""
    require_admin(actor)
    unit = _unit(session, unit_code)
    try:
        checked = check_url(url)
        if allowed is not None:
            _reachable_literal(checked, allowed)
    except WebhookError as exc:
        audit.record(session, "risk_webhook_set", actor.username, target=f"unit {unit.code}",
                     outcome="refused", detail=str(exc))
        raise
    hook = session.scalar(select(RiskWebhook).where(RiskWebhook.unit_id == unit.id))
    if hook is None:
        hook = RiskWebhook(unit_id=unit.id)
        session.add(hook)
    hook.url, hook.active = checked, True
    hook.updated_by, hook.updated_at = actor.username, now or utc_now()
    session.flush()
    audit.record(session, "risk_webhook_set", actor.username, target=f"unit {unit.code}",
                 detail=mask(checked))
    return hook


def remove_webhook(session: Session, actor: User, unit_code: str, now=None) -> None:
    """Stop a unit's webhook (admins only; audited). The row stays, inactive, for the notices
    that name it; a notice not yet sent to it is refused."""
    require_admin(actor)
    unit = _unit(session, unit_code)
    hook = session.scalar(select(RiskWebhook).where(RiskWebhook.unit_id == unit.id,
                                                    RiskWebhook.active.is_(True)))
    if hook is None:
        raise WebhookError(f"单位 {unit.code} 没有设置网络钩子 / unit {unit.code} has no webhook")
    hook.active, hook.updated_by, hook.updated_at = False, actor.username, now or utc_now()
    session.flush()
    audit.record(session, "risk_webhook_remove", actor.username, target=f"unit {unit.code}")


def list_webhooks(session: Session, actor: User, tz: str = "UTC") -> list[dict]:
    """The active webhooks, their URLs masked, for the admin table (admins only)."""
    require_admin(actor)
    return [{"unit": h.unit.code, "unit_name_zh": h.unit.name_zh, "unit_name_en": h.unit.name_en,
             "url": mask(h.url), "updated_by": h.updated_by,
             "updated_at": local_text(h.updated_at, tz)}
            for h in session.scalars(select(RiskWebhook).where(RiskWebhook.active.is_(True))
                                     .join(OrgUnit, OrgUnit.id == RiskWebhook.unit_id)
                                     .order_by(OrgUnit.path))]


def webhook_for(session: Session, unit: OrgUnit) -> RiskWebhook | None:
    """The active webhook of the nearest unit at or above `unit`, or None."""
    chain = ancestors(session, unit)
    hooks = {h.unit_id: h for h in session.scalars(select(RiskWebhook).where(
        RiskWebhook.unit_id.in_([u.id for u in chain]), RiskWebhook.active.is_(True)))}
    return next((hooks[u.id] for u in reversed(chain) if u.id in hooks), None)


# --- where a post may go --------------------------------------------------------------------------

@dataclass(frozen=True)
class Allowed:
    """WEBHOOK_ALLOWED_HOSTS parsed: host names and networks allowed although not public."""

    names: frozenset[str]
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    @classmethod
    def parse(cls, text: str) -> Allowed:
        """Parse the comma-separated setting (names, addresses, CIDRs; blanks ignored)."""
        names, networks = set(), []
        for item in (p.strip() for p in (text or "").split(",")):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item.strip("[]"), strict=False))
            except ValueError:
                names.add(item.lower().rstrip("."))
        return cls(frozenset(names), tuple(networks))

    def allows(self, host: str, address: Address) -> bool:
        """Whether `address` (of `host`) may be reached: public, or allowed by the setting."""
        if _public(address):
            return True
        return host.lower().rstrip(".") in self.names or any(address in n for n in self.networks)


def _public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not (
        address.is_private or address.is_loopback or address.is_link_local or address.is_multicast
        or address.is_reserved or address.is_unspecified)


def system_resolver(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (the system's resolver)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def checked_addresses(host: str, port: int, allowed: Allowed,
                      resolve: Resolver = system_resolver) -> list[Address]:
    """The addresses of `host`, each allowed; WebhookRefused naming the first that is not,
    WebhookFailed when the host cannot be resolved."""
    try:
        literal = ipaddress.ip_address(host)
        found = [literal]
    except ValueError:
        try:
            found = [ipaddress.ip_address(a.split("%")[0]) for a in resolve(host, port)]
        except (OSError, UnicodeError) as exc:
            raise WebhookFailed(f"cannot resolve {host}: {exc}") from exc
    if not found:
        raise WebhookFailed(f"cannot resolve {host}: no address")
    for address in found:
        if not allowed.allows(host, address):
            raise WebhookRefused(
                f"{host} resolves to {address}, which is not a public address (loopback, private, "
                "link-local, multicast or reserved) and not in WEBHOOK_ALLOWED_HOSTS / "
                f"{host} 解析为非公网地址 {address}，且未列入 WEBHOOK_ALLOWED_HOSTS")
    return found


# --- posting --------------------------------------------------------------------------------------

class _PinnedHTTP(http.client.HTTPConnection):
    """A connection to `host` made to the address that was checked."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """As `_PinnedHTTP`, over TLS: the certificate checked against the host name."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def post_json(url: str, payload: dict, timeout: float, allowed: Allowed,
              resolve: Resolver = system_resolver) -> str:
    """POST `payload` as JSON to `url`; return a short account of the answer. WebhookRefused when
    it may not be sent there, WebhookFailed when it was not accepted: no answer within `timeout`
    (in all), not 2xx (a redirect is not followed), or a robot's JSON answer with `errcode` not 0."""
    problem = url_problem(url)
    if problem:
        raise WebhookRefused(f"the webhook URL is malformed: {problem[1]} / 网址无效：{problem[0]}")
    parts = urlsplit(url)
    https = parts.scheme.lower() == "https"
    host, port = _ascii_host(parts.hostname or ""), parts.port or (443 if https else 80)
    addresses = checked_addresses(host, port, allowed, resolve)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    for address in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        connection = (_PinnedHTTPS if https else _PinnedHTTP)(host, port, str(address), remaining)
        try:
            connection.connect()
        except OSError as exc:
            connection.close()
            last = exc
            continue
        try:
            return _exchange(connection, target, body, deadline, f"{host}:{port}")
        finally:
            connection.close()
    if isinstance(last, TimeoutError) or last is None:
        raise WebhookFailed(f"{host}:{port} did not answer within {timeout:g} s")
    raise WebhookFailed(f"cannot connect to {host}:{port}: {getattr(last, 'strerror', None) or last}")


def _ascii_host(host: str) -> str:
    """The host as sent in `Host` and TLS (an internationalised name in its IDNA form)."""
    try:
        host.encode("ascii")
        return host
    except UnicodeEncodeError:
        return host.encode("idna").decode("ascii")


def _exchange(connection: http.client.HTTPConnection, target: str, body: bytes, deadline: float,
              where: str) -> str:
    def left() -> float:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        return remaining

    try:
        connection.request("POST", target, body=body, headers={
            "Content-Type": "application/json; charset=utf-8", "User-Agent": "channel-ops-risk"})
        assert connection.sock is not None
        connection.sock.settimeout(left())
        response = connection.getresponse()
        answer = b""
        while len(answer) <= MAX_ANSWER:
            if connection.sock is not None:
                connection.sock.settimeout(left())
            chunk = response.read(min(8192, MAX_ANSWER + 1 - len(answer)))
            if not chunk:
                break
            answer += chunk
    except TimeoutError as exc:
        raise WebhookFailed(f"{where} did not answer in time") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise WebhookFailed(f"{where}: {type(exc).__name__}: {exc}") from exc
    status = response.status
    if 300 <= status < 400:
        raise WebhookFailed(f"{where} answered HTTP {status} (a redirect, not followed)")
    if not 200 <= status < 300:
        raise WebhookFailed(f"{where} answered HTTP {status}: {_said(answer)}")
    try:
        parsed = json.loads(answer[:MAX_ANSWER].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        parsed = None
    if isinstance(parsed, dict) and "errcode" in parsed and parsed["errcode"] not in (0, "0"):
        raise WebhookFailed(f"{where} answered errcode {parsed['errcode']}: "
                            f"{str(parsed.get('errmsg', ''))[:200]}")
    return f"HTTP {status}"


def _said(answer: bytes) -> str:
    return CONTROL.sub(" ", answer[:200].decode("utf-8", "replace")).strip()
