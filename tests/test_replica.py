"""Reads from a PostgreSQL streaming replica (DATABASE_READ_URL), against a real primary and replica
the module starts (tests/replica_pair.py): pages and the API read the replica, "data as of" is what
the replica holds, a caller's own write (a target, a risk step) shows at once from the primary, and a
replica that falls behind or stops is skipped (pages keep serving from the primary), logged once
per change, and used again when it is back.

How a test tells which server answered: it pauses the replica's replay (`pg_wal_replay_pause()`),
writes on the primary with plain SQL, and looks whether a page shows the old value (the replica) or
the new one (the primary); both values are read from each server with SQL, not from the app.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import uuid

import pytest
from sqlalchemy.orm import Session

import settings
from app import create_app
from auth.accounts import create_token
from data.db import READ_AFTER, make_engine
from data.models import User
from jobs.demo import seed_demo
from jobs.schema import upgrade
from tests.conftest import DEMO_END, _add_users, login
from tests.replica_pair import Pair
from tests.security.dash_posts import Raw, outputs, post, stringify, text_of

# A step each state allows an administrator (the closed loop of risk/workflow.py).
NEXT_STATE = {"open": "resolved", "dispatched": "resolved", "in_progress": "resolved",
              "reopened": "resolved", "resolved": "closed", "closed": "reopened"}
CHECK = 0.2  # REPLICA_CHECK_SECONDS in these tests: a verdict is at most this old
TARGETS = {"kpi": "online_payment", "year": 2026, "units": ["ZJ-HZ-01", "ZJ-HZ-01-01", "ZJ-HZ-01-02"]}


@pytest.fixture(scope="module")
def pair():
    """A primary with the tiny demo and the test accounts, and its streaming replica, caught up."""
    found = Pair()
    try:
        found.start()
        engine = make_engine(found.primary_url)
        upgrade(engine)
        seed_demo(engine, "tiny", 42, DEMO_END)
        _add_users(engine)
        engine.dispose()
        found.caught_up()
        yield found
    finally:
        found.stop()


@pytest.fixture(scope="module")
def replica_app(pair):
    flask_app = create_app({"TESTING": True, "DATABASE_URL": pair.primary_url,
                            "DATABASE_READ_URL": pair.replica_url, "SECRET_KEY": "test-only-secret",
                            "REPLICA_CHECK_SECONDS": CHECK, "CACHE_TYPE": "SimpleCache"})
    yield flask_app
    flask_app.extensions["engine"].dispose()
    flask_app.extensions["replica"].engine.dispose()


@pytest.fixture
def app(pair, replica_app):
    """The app, with the replica running, replaying, caught up and judged afresh."""
    if pair.replica_sql_or_none("SELECT 1") is None:
        pair.start_replica()
    pair.resume()
    pair.caught_up()
    settings.override(replica_app, REPLICA_MAX_LAG_SECONDS=30)
    time.sleep(CHECK)
    yield replica_app
    if pair.replica_sql_or_none("SELECT 1") is None:
        pair.start_replica()
    pair.resume()


@pytest.fixture
def replica_log(caplog):
    """The lines the app logged about the replica (data.db), as a function."""
    caplog.set_level(logging.INFO, logger="data.db")
    return lambda: [r.getMessage() for r in caplog.records
                    if r.name == "data.db" and "read replica" in r.getMessage()]


def after(lines: list[str], change: str) -> list[str]:
    """What the lines after the one line saying `change` said (each line's verdict)."""
    [at] = [i for i, line in enumerate(lines) if change in line]
    return ["in use" if "in use" in line else line for line in lines[at + 1:]]


def client(flask_app, username: str):
    c = flask_app.test_client()
    assert login(c, username).status_code == 302
    return c


def page(c, flask_app, path: str, search: str = "") -> dict:
    response = post(c, flask_app, "dash.dash", "update", [path, search])
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return outputs(response)[("_pages_content", "children")]


def find(node, wanted: str):
    """The component with id `wanted` in a page's JSON tree (its props), or None."""
    if isinstance(node, dict):
        if node.get("id") == wanted:
            return node
        for value in node.values():
            hit = find(value, wanted)
            if hit is not None:
                return hit
    elif isinstance(node, list):
        for value in node:
            hit = find(value, wanted)
            if hit is not None:
                return hit
    return None


def as_of(c, flask_app) -> str:
    """The "data as of" line of the overview page of the caller's unit."""
    return find(page(c, flask_app, "/"), "as-of")["children"]


def last_loaded(pair, server: str, code: str = "HQ") -> dt.date:
    sql = ("SELECT max(day) FROM rollup_load WHERE unit_id = "
           f"(SELECT id FROM org_unit WHERE code = '{code}')")
    return pair.primary_sql(sql) if server == "primary" else pair.replica_sql(sql)


def load_a_later_day(pair, code: str = "HQ") -> dt.date:
    """Mark unit `code` as loaded a day past its last one, on the primary, and bump the data version in the
    same statement (as an import does); return that day."""
    day = last_loaded(pair, "primary", code) + dt.timedelta(days=1)
    pair.primary_sql("WITH bumped AS (UPDATE store_version SET version = version + 1 "
                     "WHERE name = 'facts' RETURNING 1) "
                     "INSERT INTO rollup_load (unit_id, day, rows, rows__timely) "
                     "SELECT id, :day, 1, 1 FROM org_unit WHERE code = :code", day=day, code=code)
    return day


def own_target(pair, server: str, code: str = "ZJ-HZ-01"):
    sql = ("SELECT t.value FROM target t JOIN org_unit u ON u.id = t.unit_id "
           f"WHERE u.code = '{code}' AND t.kpi = 'online_payment' AND t.carrier_id IS NULL "
           "AND t.period_start = '2026-01-01'")
    return pair.primary_sql(sql) if server == "primary" else pair.replica_sql(sql)


def heatmap(c, flask_app) -> str:
    """The targets page's attainment heatmap (a cached computation) as JSON text."""
    shown = page(c, flask_app, "/targets", "?kpi=online_payment&unit=ZJ-HZ-01")
    return json.dumps(find(shown, "targets-heatmap")["figure"]["data"], sort_keys=True)


def own_cell(c, flask_app) -> str:
    shown = page(c, flask_app, "/targets", "?kpi=online_payment&unit=ZJ-HZ-01")
    rows = find(shown, {"type": "csv-grid", "name": "targets-table"})["rowData"]
    return next(r["own"] for r in rows if r["unit"] == "ZJ-HZ-01")


def test_pages_and_the_api_read_the_replica_and_data_as_of_is_what_it_holds(app, pair):
    admin = client(app, "admin")
    engine = make_engine(pair.primary_url)
    with Session(engine) as s:
        user = s.query(User).filter_by(username="admin").one()
        token = create_token(s, user, "replica test")
        s.commit()
    engine.dispose()
    pair.caught_up()
    before = last_loaded(pair, "primary")
    assert str(before) in as_of(admin, app)
    pair.pause()
    try:
        as_of(admin, app)  # a check of the replica while it is level with the primary
        later = load_a_later_day(pair)
        assert (last_loaded(pair, "primary"), last_loaded(pair, "replica")) == (later, before)
        shown = as_of(admin, app)
        assert str(before) in shown and str(later) not in shown  # the replica's, not the primary's
        api = admin.get("/api/v1/freshness?unit=HQ", headers={"Authorization": f"Bearer {token}"})
        assert api.get_json() == [{"unit": "HQ", "last_loaded": str(before)}]
    finally:
        pair.resume()
    pair.caught_up()
    time.sleep(CHECK)
    assert str(later) in as_of(admin, app)  # replayed: the replica has it now


def test_a_callers_own_target_shows_at_once_and_the_cache_keeps_each_servers_numbers(app, pair):
    writer, other = client(app, "manager"), client(app, "manager")  # two sign-ins, one scope
    pair.caught_up()
    old_cell, old_map = own_cell(other, app), heatmap(other, app)  # cached under the old stamps
    value = round(11 + uuid.uuid4().int % 40 + 0.5, 1)  # a new value each run
    pair.pause()
    try:
        heatmap(other, app)
        saved = post(writer, app, "pages.targets", "change_target",
                     [[{"rowId": "ZJ-HZ-01", "value": str(value)}]], [TARGETS])
        assert outputs(saved)[("targets-message", "color")] == "green"
        assert own_target(pair, "primary") == pytest.approx(value / 100)
        assert own_target(pair, "replica") != pytest.approx(value / 100)  # not replayed yet
        with writer.session_transaction() as cookie:
            assert READ_AFTER in cookie  # where the primary was after the write
        # The other sign-in reads the replica first: the old numbers, cached under old stamps...
        assert (own_cell(other, app), heatmap(other, app)) == (old_cell, old_map)
        # ...and the writer reads the primary: the new target and new numbers, not the cached ones.
        assert own_cell(writer, app) == f"{value:g}"
        new_map = heatmap(writer, app)
        assert new_map != old_map
        assert heatmap(other, app) == old_map
    finally:
        pair.resume()
    pair.caught_up()
    time.sleep(CHECK)
    assert (own_cell(other, app), heatmap(other, app)) == (f"{value:g}", new_map)
    assert own_cell(writer, app) == f"{value:g}"
    with writer.session_transaction() as cookie:
        assert READ_AFTER not in cookie  # the replica has replayed it: back to the replica
    pair.pause()
    try:
        heatmap(writer, app)
        later = load_a_later_day(pair, "ZJ-HZ-01")
        assert str(later) not in as_of(writer, app)  # the writer reads the replica again
    finally:
        pair.resume()


def test_a_risk_step_shows_at_once_to_whoever_took_it(app, pair):
    event_id, state = pair.primary_sql(
        "SELECT array[e.id::text, e.state] FROM risk_event e JOIN org_unit u ON u.id = e.unit_id "
        "WHERE u.path LIKE (SELECT path FROM org_unit WHERE code = 'ZJ-HZ') || '%' "
        "ORDER BY e.id LIMIT 1")
    event_id, to_state = int(event_id), NEXT_STATE[state]
    admin, viewer = client(app, "admin"), client(app, "viewer")
    note = f"replica-{uuid.uuid4().hex[:8]}"
    step_id = {"type": "risk-step", "to": to_state}
    pair.pause()
    try:
        post(viewer, app, "pages.risk", "show_event", [event_id])
        stepped = post(admin, app, "pages.risk", "take_step",
                       [Raw([{"id": step_id, "property": "n_clicks", "value": 1}])],
                       [event_id, note, None, None], changed=[f"{stringify(step_id)}.n_clicks"])
        assert stepped.status_code == 200 and note in stepped.get_data(as_text=True)
        assert pair.primary_sql(f"SELECT state FROM risk_event WHERE id = {event_id}") == to_state
        assert pair.replica_sql(f"SELECT state FROM risk_event WHERE id = {event_id}") == state

        def detail(c) -> str:
            response = post(c, app, "pages.risk", "show_event", [event_id])
            assert response.status_code == 200
            return response.get_data(as_text=True)

        assert note in detail(admin)  # the admin's next request: the primary
        assert note not in detail(viewer)  # another user: the replica, not replayed yet
    finally:
        pair.resume()
    pair.caught_up()
    time.sleep(CHECK)
    assert note in detail(viewer)


def test_a_replica_too_far_behind_is_skipped_with_one_log_line(app, pair, replica_log):
    viewer = client(app, "viewer")
    settings.override(app, REPLICA_MAX_LAG_SECONDS=1)
    pair.pause()
    try:
        as_of(viewer, app)
        later = load_a_later_day(pair, "ZJ-HZ")
        assert last_loaded(pair, "replica", "ZJ-HZ") < later
        time.sleep(1.2)
        for _ in range(4):
            response = post(viewer, app, "dash.dash", "update", ["/", ""])
            assert response.status_code == 200
            time.sleep(CHECK / 2)
        assert str(later) in as_of(viewer, app)  # now from the primary
        behind = [line for line in replica_log() if "behind" in line]
        assert len(behind) == 1, replica_log()
        assert f"127.0.0.1:{pair.replica_port}" in behind[0] and "1 s allowed" in behind[0]
    finally:
        pair.resume()
    pair.caught_up()
    time.sleep(CHECK)
    as_of(viewer, app)
    as_of(viewer, app)
    assert after(replica_log(), "behind") == ["in use"], replica_log()


def test_a_stopped_replica_is_skipped_and_used_again_when_back(app, pair, replica_log):
    viewer = client(app, "viewer")
    pair.stop_replica()
    try:
        later = load_a_later_day(pair, "ZJ-HZ")
        for _ in range(5):
            response = post(viewer, app, "dash.dash", "update", ["/", ""])
            assert response.status_code == 200
            assert str(later) in text_of(outputs(response))  # the primary
            time.sleep(CHECK)
        assert app.test_client().get("/healthz").status_code == 200
        down = [line for line in replica_log() if "unreachable" in line]
        assert len(down) == 1, replica_log()
        assert f"127.0.0.1:{pair.replica_port}" in down[0] and "primary" in down[0]
        assert "password" not in down[0]
    finally:
        pair.start_replica()
    pair.caught_up()
    time.sleep(CHECK)
    as_of(viewer, app)
    as_of(viewer, app)
    assert after(replica_log(), "unreachable") == ["in use"], replica_log()
    pair.pause()  # proof that reads went back to the replica
    try:
        as_of(viewer, app)
        newer = load_a_later_day(pair, "ZJ-HZ")
        assert str(newer) not in as_of(viewer, app)
    finally:
        pair.resume()


def test_the_read_after_mark_is_only_trusted_as_a_wal_position(app, pair):
    """The mark lives in the signed cookie; whatever it holds, a page answers: a far position keeps
    the caller on the primary, anything that is not a position is dropped and the replica serves."""
    viewer = client(app, "viewer")
    pair.pause()
    try:
        as_of(viewer, app)
        later = load_a_later_day(pair, "ZJ-HZ")
        for mark, primary in [("FFFFFFFF/FFFFFFFF", True), ("garbage", False), ("1/2/3", False),
                              ("", False), (["0/1"], False), (12345, False)]:
            with viewer.session_transaction() as cookie:
                cookie[READ_AFTER] = mark
            assert (str(later) in as_of(viewer, app)) is primary, mark
            with viewer.session_transaction() as cookie:
                assert (READ_AFTER in cookie) is primary, mark
    finally:
        pair.resume()


@pytest.mark.parametrize(("config", "named"), [
    ({"DATABASE_URL": "postgresql+psycopg://u@h/db", "DATABASE_READ_URL": "sqlite:///x.db"},
     "DATABASE_READ_URL='sqlite:///x.db' must name a PostgreSQL streaming replica"),
    ({"DATABASE_URL": "postgresql+psycopg://u@h/db", "DATABASE_READ_URL": "not a url"},
     "DATABASE_READ_URL='not a url' is not an SQLAlchemy URL"),
    ({"DATABASE_READ_URL": "postgresql+psycopg://u@replica/db"},
     "DATABASE_READ_URL is set but DATABASE_URL does not name a PostgreSQL primary"),
    ({"DATABASE_URL": "sqlite:///x.db", "DATABASE_READ_URL": "postgresql+psycopg://u@r/db"},
     "DATABASE_READ_URL is set but DATABASE_URL does not name a PostgreSQL primary"),
    ({"REPLICA_MAX_LAG_SECONDS": "0"}, "REPLICA_MAX_LAG_SECONDS='0' must be more than 0"),
])
def test_a_bad_replica_setting_stops_start_up_naming_it(config, named):
    with pytest.raises(settings.BadSetting, match=named.replace("(", r"\(")):
        settings.load_settings(config, {})


def test_without_a_replica_reads_use_the_primary_session(tmp_path):
    from data.db import get_read_session, get_session

    flask_app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
                            "SECRET_KEY": "test-only-secret"})
    with flask_app.test_request_context("/"):
        assert flask_app.extensions["replica"] is None
        assert get_read_session() is get_session()
    flask_app.extensions["engine"].dispose()
