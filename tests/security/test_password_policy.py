"""Weak and common passwords are refused, with a reason in Chinese and English (issue #16 item 11)."""

from __future__ import annotations

import pytest
from flask_login import login_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from auth import admin
from auth.accounts import AccountError
from auth.demo_users import DEMO_USERS
from auth.password_policy import password_problem
from data.db import get_session
from data.models import User
from tests.conftest import PASSWORD, app_over
from tests.security.seeded import seeded_template_fixture, sqlite_copy_fixture  # noqa: F401

# password, the start of the English reason (None: accepted)
CASES = [
    ("short", "The password is too short"),
    ("aaaaaaaaaa", "The password is too weak"),
    ("1234567890", "The password is too"),  # a common password and a sequence
    ("password123", "The password is too common"),
    ("qwertyuiop", "The password is too"),
    ("Password2026!", "The password is too common"),
    ("iloveyou12345", "The password is too common"),
    ("abcabcabcabc", "The password is too weak"),
    (PASSWORD, None),  # the test accounts' password
    ("violet tram lantern 58", None),
]


@pytest.mark.parametrize("password,reason", CASES)
def test_the_policy(password, reason):
    problem = password_problem(password)
    if reason is None:
        assert problem is None
    else:
        assert problem is not None and reason in problem
        assert "密码太" in problem  # the Chinese reason comes first


def test_a_password_made_of_the_username_is_refused():
    problem = password_problem("zhangwei2026", ["zhangwei"])
    assert problem is not None and "username" in problem and "用户名" in problem


def test_a_weak_password_names_what_to_add():
    problem = password_problem("aaaaaaaaaaaa")
    assert problem is not None
    assert "add another word or two" in problem and "avoid repeated characters" in problem


@pytest.mark.parametrize("username,password", [(u, p) for u, p, *_ in DEMO_USERS])
def test_the_demo_passwords_pass(username, password):
    assert password_problem(password, [username]) is None


def _hash_of(store, username: str) -> str | None:
    with Session(store.engine) as s:
        return s.scalar(select(User.password_hash).where(User.username == username))


@pytest.mark.parametrize("weak", ["aaaaaaaaaa", "password123"])
def test_the_cli_refuses_weak_passwords(sqlite_copy, runner_for, weak):
    runner = runner_for(sqlite_copy.url)
    made = runner.invoke(args=["create-user", "ops9", "--role", "viewer", "--unit", "ZJ",
                               "--password-stdin"], input=weak + "\n")
    assert made.exit_code != 0 and "The password is too" in made.output and "密码太" in made.output
    assert _hash_of(sqlite_copy, "ops9") is None
    before = _hash_of(sqlite_copy, "viewer")
    changed = runner.invoke(args=["set-password", "viewer", "--password-stdin"], input=weak + "\n")
    assert changed.exit_code != 0 and "The password is too" in changed.output
    assert _hash_of(sqlite_copy, "viewer") == before


@pytest.mark.parametrize("weak", ["aaaaaaaaaa", "password123"])
def test_the_admin_page_refuses_weak_passwords(sqlite_copy, weak):
    from pages import admin as admin_page

    with app_over(sqlite_copy) as app, app.test_request_context("/"):
        session = get_session()
        root = session.scalar(select(User).where(User.username == "admin"))
        login_user(root)
        with pytest.raises(AccountError, match="The password is too"):
            admin.create(session, root, "ops9", "viewer", "ZJ", weak)
        session.rollback()
        with pytest.raises(AccountError, match="The password is too"):
            admin.reset_password(session, root, "viewer", weak)
        session.rollback()
        # What the page shows for it.
        (message, hidden, colour), _ = admin_page._act(admin.reset_password, "viewer", weak)
        assert "The password is too" in message and "密码太" in message
        assert (hidden, colour) == (False, "red")
    assert _hash_of(sqlite_copy, "ops9") is None
