"""The guard on the shared stores (tests/isolation.py) catches a test that writes to one."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests import isolation

pytest_plugins = ["pytester"]


def _run(store, *statements: str) -> None:
    with store.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


@pytest.mark.parametrize(("table", "statement"), [
    ("app_user", "UPDATE app_user SET language = 'en' WHERE username = 'viewer'"),  # same length
    ("target", "UPDATE target SET value = value + 1 WHERE id = (SELECT min(id) FROM target)"),
    ("meta", "DELETE FROM meta WHERE key = (SELECT min(key) FROM meta)"),
    ("risk_event", "UPDATE risk_event SET state = 'done' WHERE id = (SELECT min(id) FROM risk_event)"),
    ("login_throttle", "INSERT INTO login_throttle (key, failures, window_start, lockouts) "
                       "VALUES ('pair:viewer|1.2.3.4', 1, '2026-06-30 00:00:00', 0)"),
    ("audit_event", "INSERT INTO audit_event (at, username, action, target, outcome, detail) "
                    "VALUES ('2026-06-30 00:00:00', 'viewer', 'login_failed', '', 'failed', '')"),
    ("channel_daily", "UPDATE channel_daily SET visits = visits + 1 "
                      "WHERE day = (SELECT max(day) FROM channel_daily)"),
])
def test_a_write_to_a_watched_store_fails_the_check_naming_the_table(own_store, table, statement):
    guard = isolation.watch(own_store.engine, "the test's")
    guard.check()  # nothing written yet
    _run(own_store, statement)
    with pytest.raises(isolation.SharedStoreChanged, match=rf"changed: .*\b{table} \(") as caught:
        guard.check()
    # That table (and store_version, which the store's triggers keep for the caches) only.
    assert str(caught.value).count("rows") <= 2
    guard.check()  # reported once: the next test is compared with what this one left
    with pytest.raises(isolation.SharedStoreChanged, match=table):
        guard.final_check()  # the session's end still sees it


def test_a_successful_sign_ins_traces_are_taken_away_and_nothing_else(own_store):
    guard = isolation.watch(own_store.engine, "the test's")
    _run(own_store,
         "INSERT INTO audit_event (at, username, action, target, outcome, detail) "
         "VALUES ('2026-06-30 00:00:00', 'viewer', 'login', '', 'ok', '')",
         "UPDATE app_user SET last_login_at = '2026-06-30 00:00:00' WHERE username = 'viewer'",
         "INSERT INTO login_throttle (key, failures, window_start, lockouts) "
         "VALUES ('pair:viewer|1.2.3.4', 0, '2026-06-30 00:00:00', 0)")
    guard.check()
    guard.final_check()
    _run(own_store, "UPDATE app_user SET display_name = 'x', last_login_at = '2026-06-30 00:00:00'")
    with pytest.raises(isolation.SharedStoreChanged, match="app_user"):
        guard.check()


def test_writing_back_what_was_there_is_no_change(own_store):
    guard = isolation.watch(own_store.engine, "the test's")
    _run(own_store, "UPDATE app_user SET language = 'en'", "UPDATE app_user SET language = 'zh'")
    guard.check()
    guard.final_check()


def test_the_fingerprint_sees_every_table_and_is_the_same_on_a_copy(own_store, tmp_path):
    prints = isolation.fingerprint(own_store.engine)
    assert {"app_user", "target", "channel_daily", "alembic_version"} <= set(prints)
    assert all(count > 0 for count, _sum in (prints["app_user"], prints["target"]))
    assert isolation.fingerprint(own_store.engine) == prints


LEAKY = """
from sqlalchemy import text
from tests.conftest import _shared_stores_unchanged, _seeded_templates, tiny_store  # noqa: F401


def test_reads(tiny_store):
    with tiny_store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM app_user")).scalar() == 4


def test_writes(tiny_store):
    with tiny_store.engine.begin() as conn:
        conn.execute(text("UPDATE app_user SET language = 'en' WHERE username = 'viewer'"))


def test_reads_after(tiny_store):
    pass
"""


def test_a_test_that_writes_to_the_shared_store_fails_the_run(pytester):
    pytester.makepyfile(test_leaky=LEAKY)
    result = pytester.runpytest_inprocess("-p", "no:randomly", "-p", "no:cacheprovider",
                                          "-k", "sqlite")
    result.assert_outcomes(passed=3, errors=2)
    result.stdout.fnmatch_lines([
        "*ERROR at teardown of test_writes[[]sqlite[]]*",
        "*the shared store tiny_store[[]sqlite[]] changed: app_user (4 -> 4 rows)*",
        "*ERROR at teardown of test_reads_after[[]sqlite[]]*",  # the session's end
    ])
