"""Server-side request forgery through risk-notification webhooks (issue 23).

A webhook URL is set by an administrator but posted to by the server: a malformed URL is refused
when it is set (in the service and on the admin page); when a notice is sent, the host is resolved
and an address that is loopback, private, link-local (the cloud metadata service), multicast or
reserved is refused unless WEBHOOK_ALLOWED_HOSTS allows it; the connection goes to the address
that was checked (no second lookup to rebind); redirects are not followed.
"""

from __future__ import annotations

import ipaddress

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from auth.admin import NotPermitted
from data.models import RiskNotification, RiskWebhook, User
from risk import webhooks
from risk.webhooks import Allowed, WebhookError, WebhookFailed, WebhookRefused, check_url, post_json
from tests.conftest import app_over, login
from tests.security.dash_posts import audited, outputs, post, text_of
from tests.smtp_server import free_port
from tests.test_risk_notify import (
    DISPATCHED,
    Receiver,
    add_incident,
    add_steps,
    notify_settings,
    run,
    set_hook,
)

NOTHING = Allowed.parse("")
LOOPBACK = Allowed.parse("127.0.0.1")
MESSAGE = {"msgtype": "text", "text": {"content": "风险 / risk"}}


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


# --- malformed URLs -----------------------------------------------------------------------------

MALFORMED = [
    "", "   ", "ftp://example.com/hook", "javascript:alert(1)", "file:///etc/passwd",
    "gopher://example.com:70/", "https://user:pass@example.com/hook", "https://@example.com/hook",
    "https://example.com/hook#key", "http://", "https:///hook", "https://exa mple.com/hook",
    "https://example.com:99999/hook", "https://example.com:0/hook", "https://[::1/hook",
    "https://example.com/\nHost: evil", "https://example.com/" + "a" * 2000, "//example.com/hook",
    "example.com/hook",
]


@pytest.mark.parametrize("url", MALFORMED)
def test_a_malformed_url_is_refused_in_both_languages(url):
    with pytest.raises(WebhookError) as refused:
        check_url(url)
    assert "网址无效" in str(refused.value) and "Invalid webhook URL" in str(refused.value)


@pytest.mark.parametrize("url", ["https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc-123",
                                 "http://10.8.0.5:8080/robot", "https://[2001:db8::1]/hook",
                                 "https://oapi.dingtalk.com/robot/send?access_token=x"])
def test_a_well_formed_url_is_taken(url):
    assert check_url(f"  {url} ") == url


def test_a_url_is_shown_masked():
    assert webhooks.mask("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx") == \
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=****"
    assert webhooks.mask("https://open.feishu.cn/open-apis/bot/v2/hook/0123456789abcdef0123") == \
        "https://open.feishu.cn/open-apis/bot/v2/hook/01****"


def _user(s: Session, name: str) -> User:
    return s.scalar(select(User).where(User.username == name))


def test_the_service_refuses_a_malformed_url_and_audits_it(own_store):
    with Session(own_store.engine) as s:
        with pytest.raises(WebhookError):
            webhooks.set_webhook(s, _user(s, "admin"), "ZJ-HZ", "ftp://example.com/hook")
        s.rollback()
        assert s.scalars(select(RiskWebhook)).all() == []
    (row,) = audited(own_store.engine, "risk_webhook_set")
    assert row.outcome == "refused" and "http" in row.detail


@pytest.mark.parametrize("url", ["http://10.0.0.5/hook", "http://127.0.0.1:8050/api/v1/units",
                                 "http://169.254.169.254/latest/meta-data/", "http://[::1]/x",
                                 "http://[::ffff:192.168.1.1]/x", "http://0.0.0.0/x"])
def test_an_address_no_post_could_reach_is_refused_when_set(own_store, url):
    """Set by address, a host outside the allow list is refused at once (not only when a notice
    fails later); the same address allowed by WEBHOOK_ALLOWED_HOSTS is taken."""
    with Session(own_store.engine) as s:
        with pytest.raises(WebhookError, match="WEBHOOK_ALLOWED_HOSTS"):
            webhooks.set_webhook(s, _user(s, "admin"), "ZJ-HZ", url, allowed=Allowed.parse(""))
        s.rollback()
        assert s.scalars(select(RiskWebhook)).all() == []
        host = url.split("//")[1].split("/")[0].rsplit(":", 1)[0] if "[" not in url else (
            url.split("[")[1].split("]")[0])
        webhooks.set_webhook(s, _user(s, "admin"), "ZJ-HZ", url,
                             allowed=Allowed.parse(f"{host}/128" if ":" in host else f"{host}/32"))
        assert len(s.scalars(select(RiskWebhook)).all()) == 1
        s.rollback()


def test_only_admins_set_webhooks_and_the_audit_keeps_no_key(own_store):
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SECRET-KEY-1"
    with Session(own_store.engine) as s:
        with pytest.raises(NotPermitted):
            webhooks.set_webhook(s, _user(s, "manager"), "ZJ-HZ-01", url)
        webhooks.set_webhook(s, _user(s, "admin"), "ZJ-HZ", url)
        s.commit()
        assert [h["url"] for h in webhooks.list_webhooks(s, _user(s, "admin"))] == [
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=****"]
        webhooks.remove_webhook(s, _user(s, "admin"), "ZJ-HZ")
        s.commit()
        assert webhooks.list_webhooks(s, _user(s, "admin")) == []
        with pytest.raises(WebhookError):
            webhooks.remove_webhook(s, _user(s, "admin"), "ZJ-HZ")
    details = [r.detail for r in audited(own_store.engine, "risk_webhook_set")]
    assert details and not any("SECRET-KEY-1" in d for d in details)
    assert [r.outcome for r in audited(own_store.engine, "risk_webhook_remove")] == ["ok"]


def test_the_admin_page_refuses_a_malformed_url(own_store):
    with app_over(own_store) as flask_app:
        client = flask_app.test_client()
        login(client, "admin")
        refused = post(client, flask_app, "pages._admin_notify", "change_webhook",
                       [1, None], ["ZJ-HZ", "https://user:pw@example.com/hook", 0])
        assert refused.status_code == 200
        said = text_of(outputs(refused))
        assert "网址无效" in said and "Invalid webhook URL" in said
        internal = post(client, flask_app, "pages._admin_notify", "change_webhook",
                        [1, None], ["ZJ-HZ", "http://169.254.169.254/latest/meta-data/", 0])
        assert "WEBHOOK_ALLOWED_HOSTS" in text_of(outputs(internal))
        taken = post(client, flask_app, "pages._admin_notify", "change_webhook",
                     [2, None], ["ZJ-HZ", "https://example.com/hook?key=SECRET", 0])
        assert outputs(taken)[("admin-changed", "data")] == 1
        shown = text_of(outputs(post(client, flask_app, "pages._admin_notify",
                                     "show_notifications", [1])))
        assert "https://example.com/hook?key=****" in shown and "SECRET" not in shown
        manager = flask_app.test_client()
        login(manager, "manager")
        forged = post(manager, flask_app, "pages._admin_notify", "change_webhook",
                      [3, None], ["ZJ-HZ-01", "https://example.com/other", 0])
        assert forged.status_code in (200, 403)
    with Session(own_store.engine) as s:
        assert [h.url for h in s.scalars(select(RiskWebhook))] == [
            "https://example.com/hook?key=SECRET"]


# --- addresses --------------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "http://127.0.0.1:{port}/hook", "http://localhost:{port}/hook", "http://[::1]:{port}/hook",
    "http://[::ffff:127.0.0.1]:{port}/hook", "http://10.1.2.3:{port}/hook",
    "http://192.168.1.10/hook", "http://172.16.0.1/hook", "http://169.254.169.254/latest/meta-data",
    "http://0.0.0.0:{port}/hook", "http://224.0.0.1/hook", "http://100.64.0.1/hook",
    "http://[fe80::1]/hook", "http://[fd00::1]/hook", "http://240.0.0.1/hook"])
def test_a_non_public_address_is_refused_without_the_allow_list(receiver, url):
    with pytest.raises(WebhookRefused) as refused:
        post_json(url.format(port=receiver.port), MESSAGE, 1, NOTHING)
    assert "WEBHOOK_ALLOWED_HOSTS" in str(refused.value)
    assert receiver.posts == []


def test_a_name_resolving_to_a_private_address_is_refused():
    def resolve(host, port):
        return ["93.184.216.34", "10.0.0.7"]  # one public, one private: refused

    with pytest.raises(WebhookRefused, match="10.0.0.7"):
        post_json("https://hooks.example.com/x", MESSAGE, 1, NOTHING, resolve)


def test_the_allow_list_takes_names_addresses_and_networks(receiver):
    assert post_json(f"{receiver.url}/ok", MESSAGE, 2, LOOPBACK) == "HTTP 200"
    assert post_json(f"{receiver.url}/ok", MESSAGE, 2, Allowed.parse("10.0.0.0/8, 127.0.0.0/8")) \
        == "HTTP 200"
    assert receiver.posts[0][2] == MESSAGE
    allowed = Allowed.parse("chat.intra, 10.8.0.0/16")
    assert allowed.allows("chat.intra", ipaddress.ip_address("192.168.3.4"))
    assert allowed.allows("x", ipaddress.ip_address("10.8.9.9"))
    assert not allowed.allows("x", ipaddress.ip_address("10.9.0.1"))
    # localhost is also ::1 on most systems: every address must be allowed.
    with pytest.raises(WebhookRefused):
        post_json(f"http://localhost:{receiver.port}/x", MESSAGE, 1, Allowed.parse("127.0.0.5"))


def test_the_connection_goes_to_the_address_that_was_checked(receiver):
    """The name is resolved once, by the check; the post goes to that address with the name in
    `Host` (a rebinding resolver's second answer is never asked for)."""
    answers = [["127.0.0.1"], ["169.254.169.254"]]

    def rebinding(host, port):
        return answers.pop(0)

    assert post_json(f"http://robot.example:{receiver.port}/hook", MESSAGE, 2, LOOPBACK,
                     rebinding) == "HTTP 200"
    assert answers == [["169.254.169.254"]]  # asked once
    assert receiver.posts == [("/hook", f"robot.example:{receiver.port}", MESSAGE)]


def test_a_redirect_is_not_followed(receiver):
    target = Receiver()
    try:
        receiver.status, receiver.location = 302, f"{target.url}/elsewhere"
        with pytest.raises(WebhookFailed, match="redirect"):
            post_json(f"{receiver.url}/hook", MESSAGE, 2, LOOPBACK)
        assert len(receiver.posts) == 1 and target.posts == []
    finally:
        target.close()


def test_a_large_answer_is_read_only_in_part(receiver):
    receiver.answer = {"errcode": 0, "padding": "x" * 1_000_000}
    assert post_json(f"{receiver.url}/hook", MESSAGE, 5, LOOPBACK) == "HTTP 200"


def test_an_unreachable_host_fails_with_the_reason():
    with pytest.raises(WebhookFailed, match="cannot connect"):
        post_json(f"http://127.0.0.1:{free_port()}/x", MESSAGE, 1, LOOPBACK)


# --- through notify-due -----------------------------------------------------------------------

@pytest.mark.parametrize("url", ["http://127.0.0.1:{port}/hook", "http://10.0.0.1/hook",
                                 "http://169.254.169.254/latest/meta-data",
                                 "http://localhost:{port}/hook"])
def test_notify_due_records_a_refused_address(own_store, receiver, url):
    incident_id, _ = add_incident(own_store.engine)
    set_hook(own_store.engine, "ZJ-HZ-01", url.format(port=receiver.port))
    add_steps(own_store.engine, incident_id, DISPATCHED, "assign", "dispatched", "manager")
    with app_over(own_store, **notify_settings(free_port(), WEBHOOK_ALLOWED_HOSTS="")) as flask_app:
        result = run(flask_app, "2026-12-01 09:05")
        assert result.exit_code == 0, result.output  # refused, not failed: nothing to retry
        again = run(flask_app, "2026-12-01 10:05")
        assert again.exit_code == 0
    with Session(own_store.engine) as s:
        (row,) = s.scalars(select(RiskNotification).where(RiskNotification.channel == "webhook"))
        assert row.state == "refused" and row.attempts == 1
        assert "not a public address" in row.error and row.finished_at is not None
    assert receiver.posts == []


def test_https_goes_to_the_checked_address_and_verifies_the_name(tmp_path, monkeypatch):
    """Over TLS the connection is made to the checked address while the certificate is checked
    against the URL's host name (SNI and verification), so pinning the address weakens nothing."""
    import shutil
    import ssl
    import subprocess

    if not shutil.which("openssl"):
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=robot.example", "-addext", "subjectAltName=DNS:robot.example",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    server = Receiver()
    server.server.socket = tls.wrap_socket(server.server.socket, server_side=True)
    real = ssl.create_default_context

    def trusting(*args, **kwargs):  # the test's certificate as the only authority
        context = real(*args, **kwargs)
        context.load_verify_locations(cert)
        return context

    monkeypatch.setattr(ssl, "create_default_context", trusting)
    try:
        url = f"https://robot.example:{server.port}/hook?key=k"
        assert post_json(url, MESSAGE, 3, LOOPBACK, lambda h, p: ["127.0.0.1"]) == "HTTP 200"
        assert server.posts == [("/hook?key=k", f"robot.example:{server.port}", MESSAGE)]
        # The same address under another name: the certificate does not match, nothing is sent.
        with pytest.raises(WebhookFailed, match="certificate|hostname|CERTIFICATE"):
            post_json(f"https://other.example:{server.port}/hook", MESSAGE, 3, LOOPBACK,
                      lambda h, p: ["127.0.0.1"])
        assert len(server.posts) == 1
    finally:
        server.close()
