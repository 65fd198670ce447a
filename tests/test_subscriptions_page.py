"""The Subscriptions page: subscribe and unsubscribe, clear messages for what cannot be delivered,
the export menu's way in, and an admin's view of every subscription and its last delivery."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from flask_login import login_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from data.db import get_session
from data.models import DeliveryAttempt, Subscription, User
from tests.browser import ARTIFACTS, browser_page, chromium_path, live_server, sign_in
from tests.conftest import login
from tests.security.dash_posts import outputs, post, text_of
from tests.test_pages import render

MODULE = "pages.subscriptions"
VIEW = "/regions?unit=ZJ-HZ&period=last_month"
FORM = {"email": None, "kind": "report", "unit": "ZJ-HZ", "view": "", "language": "zh",
        "schedule": "monthly", "day": "5", "weekday": "0", "at": "08:00"}


def change(c, flask_app, trigger: str, selected=None, **form):
    """Post the page's change callback as the browser would after clicking `trigger`."""
    values = {**FORM, **form}
    state = [values[k] for k in ("email", "kind", "unit", "view", "language", "schedule", "day",
                                 "weekday", "at")] + [selected or [], 0]
    response = post(c, flask_app, MODULE, "change_subscriptions", [1, None, None, None], state,
                    changed=[f"{trigger}.n_clicks"])
    assert response.status_code == 200
    found = outputs(response)
    return found[("sub-message", "children")], found[("sub-message", "color")]


def listed(c, flask_app, everyone: bool = False) -> list[dict]:
    response = post(c, flask_app, MODULE, "show_subscriptions", [1, everyone])
    assert response.status_code == 200
    return outputs(response)[("sub-grid", "rowData")]


def signed_in(flask_app, username: str):
    c = flask_app.test_client()
    assert login(c, username).status_code == 302
    return c


def test_the_page_and_the_export_menus_way_in(app):
    page = render(app, "subscriptions", "viewer", view=VIEW)
    assert "订阅与邮件投递" in page and "UTC+8" in page
    assert VIEW in page and "sub-save" in page
    assert "订阅此视图…" in render(app, "regions", "viewer", unit="ZJ-HZ", period="last_month")
    with app.test_request_context("/"):
        login_user(get_session().scalar(select(User).where(User.username == "viewer")))
        layout = importlib.import_module("pages.regions").layout(unit="ZJ-HZ", period="last_month")
        (item,) = [c for c in layout._traverse() if getattr(c, "id", None) == "pdf-subscribe"]
    assert item.href == "/subscriptions?view=%2Fregions%3Funit%3DZJ-HZ%26period%3Dlast_month"
    assert "display-only" in render(app, "subscriptions", "display")


@pytest.mark.writes
def test_subscribe_then_unsubscribe(app, app_store):
    c = signed_in(app, "viewer")
    message, colour = change(c, app, "sub-save")
    assert colour == "red" and "该账号没有设置电子邮件地址" in message  # an address first
    message, colour = change(c, app, "sub-email-save", email="bad address")
    assert colour == "red" and "不是有效的电子邮件地址" in message
    assert change(c, app, "sub-email-save", email="viewer@example.com") == ("已保存。", "green")
    assert change(c, app, "sub-save") == ("已保存。", "green")
    message, colour = change(c, app, "sub-save", unit="ZJ")
    assert colour == "red" and "单位 'ZJ' 不存在或不在您的权限范围内" in message
    message, colour = change(c, app, "sub-save", day="31 ")
    assert colour == "green"
    message, colour = change(c, app, "sub-save", schedule="weekly", weekday="9")
    assert colour == "red" and "星期（0 周一至 6 周日）必须是 0 至 6 的整数" in message
    message, colour = change(c, app, "sub-save", at="24:00")
    assert colour == "red" and "不是 HH:MM 格式" in message
    message, colour = change(c, app, "sub-save", kind="snapshot", view=VIEW, language="en")
    assert colour == "green"
    rows = listed(c, app)
    assert [(r["kind"], r["when"], r["language"]) for r in rows] == [
        ("月度运营分析报告", "每月 5 日 08:00", "中文"), ("月度运营分析报告", "每月 31 日 08:00", "中文"),
        ("视图快照", "每月 5 日 08:00", "英文")]
    assert rows[2]["view"] == VIEW
    assert change(c, app, "sub-toggle", selected=[rows[0]]) == ("已保存。", "green")
    assert change(c, app, "sub-delete", selected=[rows[1]]) == ("已保存。", "green")
    rows = listed(c, app)
    assert [(r["id"], r["active"]) for r in rows] == [(rows[0]["id"], "否"), (rows[1]["id"], "是")]
    assert change(c, app, "sub-delete") == ("请先在表格中选择一个订阅。", "yellow")


@pytest.mark.writes
def test_admins_see_every_subscription_and_its_last_delivery(app, app_store):
    with Session(app_store.engine) as s:
        viewer = s.scalar(select(User).where(User.username == "viewer"))
        viewer.email = "viewer@example.com"
        s.add(Subscription(user_id=viewer.id, kind="report", unit_id=viewer.unit_id, language="en",
                           schedule="weekly", weekday=4, at=dt.time(7, 30), active=True,
                           created_at=dt.datetime(2026, 11, 1)))
        s.flush()
        sid = s.scalar(select(Subscription.id))
        s.add(DeliveryAttempt(subscription_id=sid, slot=dt.datetime(2026, 11, 27, 7, 30), attempt=2,
                              started_at=dt.datetime(2026, 11, 26, 23, 30),
                              finished_at=dt.datetime(2026, 11, 26, 23, 31), outcome="failed",
                              error="the mail server answered 550 no", next_retry_at=dt.datetime(
                                  2026, 11, 26, 23, 41)))
        s.commit()
    admin = signed_in(app, "admin")
    (row,) = listed(admin, app, everyone=True)
    assert (row["user"], row["email"], row["outcome"], row["error"]) == (
        "viewer", "viewer@example.com", "失败", "the mail server answered 550 no")
    assert (row["when"], row["slot"], row["next_retry"]) == (
        "每周五 07:30", "2026-11-27 07:30", "2026-11-27 07:41")
    assert listed(admin, app, everyone=False) == []  # the admin's own: none
    # Anyone else asking for everyone's gets their own only.
    assert listed(signed_in(app, "manager"), app, everyone=True) == []
    assert "viewer" in text_of(listed(signed_in(app, "viewer"), app, everyone=True))


@pytest.mark.writes
def test_the_page_in_a_browser(app, app_store):
    chromium_path()
    with Session(app_store.engine) as s:
        s.scalar(select(User).where(User.username == "viewer")).email = "viewer@example.com"
        s.commit()
    with live_server(app) as base, browser_page() as (page, errors):
        sign_in(page, base, "viewer")
        page.goto(f"{base}/regions?unit=ZJ-HZ&period=last_month")
        page.click("#pdf-button")
        page.click("#pdf-subscribe")
        page.wait_for_url("**/subscriptions?view=*")
        page.wait_for_selector("#sub-view")
        assert page.input_value("#sub-view") == VIEW
        page.fill("#sub-at", "07:45")
        page.click("#sub-save")
        page.wait_for_selector("text=已保存。")
        page.wait_for_selector(".ag-row >> text=视图快照")
        assert "每月 1 日 07:45" in page.inner_text("#sub-grid")
        page.screenshot(path=str(ARTIFACTS / "subscriptions.png"), full_page=True)
        assert errors == []
