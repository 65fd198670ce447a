"""Subscriptions: nobody changes another user's (through the page's callback or the service; the
same answer for one that does not exist), nobody else lists them, and nothing a user or the data
controls can add a recipient or a header to a delivered email."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from data.models import OrgUnit, Subscription, User
from export import delivery
from export.subscriptions import (
    Order,
    SubscriptionError,
    SubscriptionUnavailable,
    subscribe,
    toggle,
    unsubscribe,
)
from tests.conftest import app_over, login
from tests.security.dash_posts import audited, outputs, post, text_of
from tests.smtp_server import SmtpServer
from tests.test_delivery import TINY_PDF, add_subscription, mail_settings, run

MODULE = "pages.subscriptions"


@pytest.fixture
def mail():
    server = SmtpServer().start()
    yield server
    server.stop()


def _signed_in(flask_app, username: str):
    c = flask_app.test_client()
    assert login(c, username).status_code == 302
    return c


def _forge(c, flask_app, trigger: str, row: dict):
    state = [None, "report", "", "", "zh", "monthly", "1", "0", "08:00", [row], 0]
    response = post(c, flask_app, MODULE, "change_subscriptions", [None, None, 1, 1], state,
                    changed=[f"{trigger}.n_clicks"])
    assert response.status_code == 200
    return outputs(response)


def _state(engine, sid: int) -> tuple[bool, int] | None:
    with Session(engine) as s:
        found = s.get(Subscription, sid)
        return None if found is None else (found.active, found.user_id)


@pytest.mark.parametrize("trigger", ["sub-toggle", "sub-delete"])
def test_another_users_subscription_cannot_be_paused_or_deleted(own_store, trigger):
    sid = add_subscription(own_store.engine, "viewer", "viewer@example.com", kind="report",
                           unit="ZJ-HZ", schedule="monthly", day=1, at="08:00")
    before = _state(own_store.engine, sid)
    with app_over(own_store) as flask_app:
        manager = _signed_in(flask_app, "manager")
        for forged in ({"id": sid}, {"id": str(sid)}, {"id": 999999}, {"id": "1 OR 1=1"},
                       {"id": None}, {"id": [sid]}):
            found = _forge(manager, flask_app, trigger, forged)
            assert found[("sub-message", "color")] == "red"
            assert "不存在或不属于您" in found[("sub-message", "children")]
        assert _state(own_store.engine, sid) == before
        assert "viewer" not in text_of(outputs(post(manager, flask_app, MODULE, "show_subscriptions",
                                                    [1, True])))
        # Its owner can.
        owner = _signed_in(flask_app, "viewer")
        assert _forge(owner, flask_app, trigger, {"id": sid})[("sub-message", "color")] == "green"
    assert _state(own_store.engine, sid) != before
    refusals = audited(own_store.engine, "forbidden", username="manager")
    assert any(r.target == f"subscription {sid}" for r in refusals)


def test_the_service_refuses_another_users_subscription_like_a_missing_one(own_store):
    sid = add_subscription(own_store.engine, "viewer", "viewer@example.com", kind="report",
                           unit="ZJ-HZ", schedule="monthly", day=1, at="08:00")
    with Session(own_store.engine) as s:
        manager = s.scalar(select(User).where(User.username == "manager"))
        answers = []
        for target in (sid, 424242):
            for action in (toggle, unsubscribe):
                with pytest.raises(SubscriptionUnavailable) as caught:
                    action(s, manager, target)
                answers.append(str(caught.value).replace(str(target), "N"))
        assert len(set(answers)) == 1
        admin = s.scalar(select(User).where(User.username == "admin"))
        toggle(s, admin, sid)  # an admin may pause anyone's
        s.rollback()


@pytest.mark.parametrize("evil", ["Hangzhou\r\nBcc: evil@example.com",
                                  "杭州\nTo: evil@example.com\n\nbody", "x\u2028Cc: evil@example.com"])
def test_header_injection_through_names_reaches_no_one_else(own_store, mail, monkeypatch, evil):
    """A unit name (data an import controls) and a display name carrying line breaks and headers:
    the message goes to the subscriber only, with no Bcc/Cc, a one-line subject."""
    monkeypatch.setattr(delivery, "render", lambda app, session, user, prepared: TINY_PDF)
    with Session(own_store.engine) as s:
        s.execute(update(OrgUnit).where(OrgUnit.code == "ZJ-HZ").values(name_zh=evil, name_en=evil))
        s.execute(update(User).where(User.username == "viewer").values(display_name=evil))
        s.commit()
    sid = add_subscription(own_store.engine, "viewer", "viewer@example.com", kind="snapshot",
                           view="/regions?unit=ZJ-HZ&start=2026-06-01&end=2026-06-30",
                           schedule="monthly", day=5, at="08:00")
    with app_over(own_store, **mail_settings(mail.port)) as flask_app:
        result = run(flask_app)
    assert result.exit_code == 0, result.output
    (got,) = mail.wait_for(1)
    assert got.recipients == ["viewer@example.com"]
    message = got.message
    assert "Bcc" not in message and "Cc" not in message
    assert message.get_all("To") and len(message.get_all("To")) == 1
    assert [a.addr_spec for a in message["To"].addresses] == ["viewer@example.com"]
    assert "\n" not in str(message["Subject"]) and "\r" not in str(message["Subject"])
    assert "evil@example.com" in str(message["Subject"])  # shown as text, harmlessly
    assert _state(own_store.engine, sid) is not None


@pytest.mark.parametrize("address", ["viewer@example.com\r\nBcc: evil@example.com",
                                     "viewer@example.com, evil@example.com",
                                     "viewer@example.com\nRCPT TO:<evil@example.com>"])
def test_an_address_cannot_carry_a_second_recipient(own_store, address):
    with Session(own_store.engine) as s:
        viewer = s.scalar(select(User).where(User.username == "viewer"))
        viewer.email = address  # as if written around the form's check
        with pytest.raises(SubscriptionError, match="not a valid email address"):
            subscribe(s, viewer, Order(kind="report", unit="ZJ-HZ", day=1))
        s.rollback()


def test_a_stored_bad_address_is_refused_at_delivery(own_store, mail, monkeypatch):
    monkeypatch.setattr(delivery, "render", lambda app, session, user, prepared: TINY_PDF)
    sid = add_subscription(own_store.engine, "viewer", "viewer@example.com", kind="snapshot",
                           view="/regions?unit=ZJ-HZ&period=last_month", schedule="monthly", day=5,
                           at="08:00", made=dt.datetime(2026, 12, 1))
    with Session(own_store.engine) as s:
        s.execute(update(User).where(User.username == "viewer").values(
            email="viewer@example.com\r\nBcc: evil@example.com"))
        s.commit()
    with app_over(own_store, **mail_settings(mail.port)) as flask_app:
        assert run(flask_app).exit_code == 0
    assert mail.wait_for(1, seconds=1) == []
    from tests.test_delivery import attempts

    (attempt,) = attempts(own_store.engine, sid)
    assert attempt.outcome == "refused" and "not a valid email address" in attempt.error
