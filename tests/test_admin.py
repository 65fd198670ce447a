"""The admin page (accounts, tokens, audit log), role checks on the server, and page-level scope."""

from __future__ import annotations

import json

import pytest
from flask_login import login_user
from sqlalchemy import select

from auth import admin
from auth.accounts import AccountError
from data.db import get_session
from data.models import User
from tests.browser import ARTIFACTS, browser_page, live_server
from tests.conftest import PASSWORD, login


def _as(app, username):
    ctx = app.test_request_context("/")
    ctx.push()
    user = get_session().scalar(select(User).where(User.username == username))
    login_user(user)
    return ctx, user


def test_only_admins_may_manage_accounts(app):
    ctx, manager = _as(app, "manager")
    try:
        for call in (lambda s: admin.list_users(s, manager),
                     lambda s: admin.audit_events(s, manager),
                     lambda s: admin.set_active(s, manager, "viewer", False),
                     lambda s: admin.reset_password(s, manager, "viewer", "x" * 12)):
            with pytest.raises(admin.NotPermitted):
                call(get_session())
    finally:
        ctx.pop()


@pytest.mark.writes
def test_admin_account_actions_are_audited(app):
    ctx, root = _as(app, "admin")
    try:
        s = get_session()
        admin.create(s, root, "temp1", "viewer", "ZJ-NB", "a long password")
        assert any(u["username"] == "temp1" and u["unit"] == "ZJ-NB" for u in admin.list_users(s, root))
        s.commit()  # the caller (here the test, on the page the callback) commits
        with pytest.raises(AccountError):
            admin.create(s, root, "temp2", "viewer", "ZJ-NB", "short")
        s.rollback()
        admin.set_active(s, root, "temp1", False)
        admin.reset_password(s, root, "temp1", "another long one")
        s.commit()
        with pytest.raises(AccountError):
            admin.set_active(s, root, "admin", False)  # not yourself
        s.rollback()
        actions = [e["action"] for e in admin.audit_events(s, root, username="admin")][:4]
        assert actions[:3] == ["user_password", "user_deactivate", "user_create"]
        assert "user_create" in admin.audit_actions(s, root)
    finally:
        ctx.pop()


def test_admin_page_refuses_non_admins(app):
    from pages import admin as admin_page

    ctx, _ = _as(app, "viewer")
    try:
        page = admin_page.layout()
        assert page.children.id == "admin-denied"
        assert admin_page.show_users(0) == []
    finally:
        ctx.pop()


def _pages_callback(app, client):
    client.get("/")  # Dash registers its page router on the first signed-in request
    dash_app = app.extensions["dash"]
    key = next(k for k in dash_app.callback_map if "_pages_content.children" in k)
    return dash_app.config.routes_pathname_prefix + "_dash-update-component", key


def _render(client, url, key, search):
    body = {"output": key,
            "outputs": [{"id": "_pages_content", "property": "children"},
                        {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/"},
                       {"id": "_pages_location", "property": "search", "value": search}],
            "changedPropIds": ["_pages_location.pathname"], "state": []}
    return client.post(url, json=body)


@pytest.mark.parametrize("code", ["ZJ-HZ-02", "ZJ-HZ", "ZJ", "ZJ-NB-01"])
@pytest.mark.writes
def test_a_forged_page_callback_for_another_unit_is_refused(app, manager, code):
    url, key = _pages_callback(app, manager)
    response = _render(manager, url, key, f"?unit={code}")
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Not permitted" in text and "as-of" not in text


def test_the_page_callback_serves_units_in_scope(app, manager):
    url, key = _pages_callback(app, manager)
    body = _render(manager, url, key, "?unit=ZJ-HZ-01-01").get_json()
    text = json.dumps(body, ensure_ascii=False)
    assert "上城城区供电所" in text and "Not permitted" not in text


@pytest.mark.writes
def test_display_accounts_only_get_wall_display_notice(app):
    c = app.test_client()
    login(c, "display")
    page = c.get("/")  # the guard answers pages with the notice (tests/security/test_display_role)
    assert page.status_code == 403 and 'id="display-only"' in page.get_data(as_text=True)
    url, key = _pages_callback(app, c)
    refused = _render(c, url, key, "")
    assert refused.status_code == 403 and "as-of" not in refused.get_data(as_text=True)


@pytest.mark.browser
@pytest.mark.writes
def test_admin_creates_and_deactivates_a_user_in_the_browser(app, app_store):
    if app_store.kind != "sqlite":
        pytest.skip("one database is enough for this browser walk-through")
    with live_server(app) as base, browser_page(1920, 1080) as (page, errors):
        page.goto(base + "/admin")
        page.fill("#username", "admin")
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_selector("#admin-users .ag-row")
        page.fill("#new-username", "browser1")
        page.fill("#new-display-name", "Browser One")
        page.fill("#new-unit", "ZJ-NB-01")
        page.fill("#new-password", "a long browser password")
        page.click("#admin-create")
        page.wait_for_selector("#admin-users .ag-row:has-text('browser1')")
        assert "已完成" in page.inner_text("#admin-message")
        page.click("#admin-users .ag-row:has-text('browser1')")
        page.click("#admin-toggle")
        page.wait_for_selector("#admin-users .ag-row:has-text('browser1'):has-text('否')")
        page.screenshot(path=str(ARTIFACTS / "admin-users.png"))
        page.click("#admin-tabs >> text=审计日志")
        page.wait_for_selector("#admin-audit .ag-row:has-text('user_deactivate')")
        page.screenshot(path=str(ARTIFACTS / "admin-audit.png"))
        page.click("#admin-tabs >> text=阶段规则")
        cell = "#admin-rubric .ag-row[row-id='satisfaction'] [col-id='threshold']"
        page.dblclick(cell)
        page.keyboard.press("Control+A")
        page.keyboard.type("0.85")
        page.keyboard.press("Enter")
        page.wait_for_selector("#admin-rubric .ag-row[row-id='satisfaction']:has-text('0.85')")
        page.wait_for_selector("#admin-rubric .ag-row[row-id='satisfaction'] [col-id='version']"
                               ":has-text('2')")
        page.screenshot(path=str(ARTIFACTS / "admin-rubric.png"))
        page.dblclick(cell)
        page.keyboard.press("Control+A")
        page.keyboard.type("0.9")
        page.keyboard.press("Enter")
        page.wait_for_selector("#admin-rubric .ag-row[row-id='satisfaction'] [col-id='version']"
                               ":has-text('3')")
        page.click("#admin-tabs >> text=风险规则")
        sev = "#admin-rules .ag-row[row-id='cost_high'] [col-id='severity']"
        page.dblclick(sev)
        page.keyboard.press("Control+A")
        page.keyboard.type("extreme")
        page.keyboard.press("Enter")
        page.wait_for_selector("#admin-message:has-text('severity is low, medium or high')")
        page.dblclick(sev)
        page.keyboard.press("Control+A")
        page.keyboard.type("medium")
        page.keyboard.press("Enter")
        page.wait_for_selector("#admin-message:has-text('已完成')")
        page.screenshot(path=str(ARTIFACTS / "admin-rules.png"))
    assert errors == []
