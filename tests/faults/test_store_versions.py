"""Version stamps are O(1) reads (issue 24, item 8): reading what cached results depend on costs
the same few cheap statements however big the store is, and every writer moves its stamp in its
own transaction, so a cached view shows the new value at once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from auth import admin
from data.changes import STAMPED, versions
from data.models import RiskEvent, User
from data.units import unit_by_code
from jobs.demo import seed_demo
from jobs.ingest import KINDS, import_file
from metrics import cache, indicator_control
from metrics.compute import compute, facts_only
from metrics.stages import assess_months
from metrics.views import headline
from risk import rules_admin, workflow
from risk.scan import scan
from tests.conftest import DB_KINDS, DEMO_END, add_users, app_over, seeded_store
from tests.test_import import write_csv

START = DEMO_END - dt.timedelta(days=29)
ALL = ("facts", "targets", "rubric", "risk")


@pytest.fixture(scope="module", params=DB_KINDS)
def store(request, tmp_path_factory):
    """A tiny demo that this module's writers change (private to the module)."""
    s = seeded_store(request.param, tmp_path_factory.mktemp("versions"))
    yield s
    s.drop()


def _statements(engine, read: Callable[[], object]) -> list[str]:
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        read()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def test_reading_the_stamps_costs_the_same_few_cheap_statements_at_any_size(store):
    def read_stamps() -> list[str]:
        with Session(store.engine) as session:
            return _statements(store.engine, lambda: cache.stamps(session, ALL))

    small = read_stamps()
    with store.engine.begin() as conn:  # ten times the targets and risk events
        for _ in range(9):
            conn.execute(text(
                "INSERT INTO target (kpi, unit_id, carrier_id, period_start, period_end, value) "
                "SELECT kpi, unit_id, carrier_id, period_start, period_end + 1000 + "
                "(SELECT count(*) FROM target), value FROM target"
                if store.kind == "sqlite" else
                "INSERT INTO target (kpi, unit_id, carrier_id, period_start, period_end, value) "
                "SELECT kpi, unit_id, carrier_id, period_start, "
                "period_end + 1000 + (SELECT count(*) FROM target)::int, value FROM target"))
    large = read_stamps()
    assert len(small) == len(large) <= 1, large
    for statement in large:
        lowered = statement.lower()
        assert "count(" not in lowered and "max(" not in lowered, statement
        assert "store_version" in lowered, statement


# --- every writer moves its stamp, and a cached view shows the new value ---------------------

def _stamp(store, name: str) -> int:
    with Session(store.engine) as session:
        return versions(session)[name]


def _user(session, username: str) -> User:
    return session.scalars(select(User).where(User.username == username)).one()


def _cached_equals_plain(flask_app, view: Callable[[Session], object]) -> object:
    """Run `view` through the cache (twice: a miss, then a hit) and plainly; they must agree."""
    with flask_app.app_context(), Session(flask_app.extensions["engine"]) as session:
        assert cache.enabled()
        first, again = view(session), view(session)
        with facts_only():
            plain = view(session)
    assert repr(first) == repr(plain) and repr(again) == repr(plain)
    return plain


def _target(session) -> float | None:
    zj = unit_by_code(session, "ZJ")
    row = headline(session, ["visits"], zj, START, DEMO_END, None, None)[0]
    return row["target"].value if row["target"] else None


def test_a_target_edit_moves_the_targets_stamp(store):
    with app_over(store, CACHE_TYPE="SimpleCache") as flask_app:
        before = _cached_equals_plain(flask_app, _target)
        stamp = _stamp(store, "targets")
        with Session(store.engine) as session:
            indicator_control.set_target(session, _user(session, "admin"), "visits", "ZJ",
                                         START, DEMO_END, 4242.0)
            session.commit()
        assert _stamp(store, "targets") > stamp
        after = _cached_equals_plain(flask_app, _target)
    assert before != 4242.0 and after == 4242.0


def test_a_targets_import_moves_the_targets_stamp(store, tmp_path):
    with app_over(store, CACHE_TYPE="SimpleCache") as flask_app:
        _cached_equals_plain(flask_app, _target)
        stamp = _stamp(store, "targets")
        header = [c.name for c in KINDS["targets"].columns]
        path = write_csv(tmp_path / "targets.csv", header,
                         [["visits", "ZJ", "", START.isoformat(), DEMO_END.isoformat(), 777]])
        assert import_file(store.engine, path, "targets").ok
        assert _stamp(store, "targets") > stamp
        assert _cached_equals_plain(flask_app, _target) == 777


def _threshold(session) -> float:
    zj = unit_by_code(session, "ZJ")
    month = assess_months(session, zj, DEMO_END, DEMO_END, DEMO_END)[0]
    return next(c.threshold for c in month.criteria if c.id == "satisfaction")


def test_a_rubric_edit_moves_the_rubric_stamp(store):
    with app_over(store, CACHE_TYPE="SimpleCache") as flask_app:
        before = _cached_equals_plain(flask_app, _threshold)
        stamp = _stamp(store, "rubric")
        with Session(store.engine) as session:
            admin.set_threshold(session, _user(session, "admin"), "satisfaction", 0.42)
            session.commit()
        assert _stamp(store, "rubric") > stamp
        after = _cached_equals_plain(flask_app, _threshold)
    assert before != 0.42 and after == pytest.approx(0.42)


def _closure(session):
    zj = unit_by_code(session, "ZJ")
    return [next(c.value for c in a.criteria if c.id == "risk_closed_on_time")
            for a in assess_months(session, zj, DEMO_END - dt.timedelta(days=150), DEMO_END,
                                   DEMO_END)]


def test_a_risk_step_a_scan_and_a_rule_edit_move_the_risk_stamp(store):
    with app_over(store, CACHE_TYPE="SimpleCache") as flask_app:
        before = _cached_equals_plain(flask_app, _closure)
        stamp = _stamp(store, "risk")
        with Session(store.engine) as session:  # the last event closed on time is reopened
            ev = session.scalars(select(RiskEvent).where(RiskEvent.state == "closed",
                                                         RiskEvent.resolved_at <= RiskEvent.deadline)
                                 .order_by(RiskEvent.deadline.desc())).first()
            assert ev is not None
            workflow.step(session, ev, _user(session, "admin"), "reopened")
            session.commit()
        assert _stamp(store, "risk") > stamp
        assert _cached_equals_plain(flask_app, _closure) != before
        stamp = _stamp(store, "risk")
        with Session(store.engine) as session:  # a scan of a new day moves it, events or not
            scan(session, DEMO_END + dt.timedelta(days=1), DEMO_END + dt.timedelta(days=1))
            session.commit()
        assert _stamp(store, "risk") > stamp
        stamp = _stamp(store, "risk")
        with Session(store.engine) as session:
            rule = rules_admin.risk_rules(session, _user(session, "admin"))[0]
            rules_admin.update_rule(session, _user(session, "admin"), rule["code"], "active", False)
            session.commit()
        assert _stamp(store, "risk") > stamp
        _cached_equals_plain(flask_app, _closure)


def _online_by_carrier(session):
    zj = unit_by_code(session, "ZJ")
    frame = compute(session, ["online_substitution"], zj, START, DEMO_END, by="carrier")
    return dict(zip(frame["carrier"], frame["value"], strict=True))


def test_a_carrier_edit_in_sql_moves_the_carriers_stamp(store):
    """An administrator re-classifies a carrier straight in the store (no app code runs)."""
    with app_over(store, CACHE_TYPE="SimpleCache") as flask_app:
        assert _cached_equals_plain(flask_app, _online_by_carrier)["hotline"] == 0
        stamp = _stamp(store, "carriers")
        with store.engine.begin() as conn:
            conn.execute(text("UPDATE carrier SET kind = 'online' WHERE code = 'hotline'"))
        assert _stamp(store, "carriers") > stamp
        assert _cached_equals_plain(flask_app, _online_by_carrier)["hotline"] == 1
        with store.engine.begin() as conn:
            conn.execute(text("UPDATE carrier SET kind = 'remote' WHERE code = 'hotline'"))


def _visits(session):
    unit = unit_by_code(session, "ZJ-HZ-01-01")
    return compute(session, ["visits"], unit, DEMO_END, DEMO_END)["value"][0]


def test_an_import_of_facts_moves_the_facts_stamp(store, tmp_path):
    with app_over(store, CACHE_TYPE="SimpleCache") as flask_app:
        before = _cached_equals_plain(flask_app, _visits)
        stamp = _stamp(store, "facts")
        header = [c.name for c in KINDS["channel_daily"].columns]
        path = write_csv(tmp_path / "channel_daily.csv", header, [
            ["ZJ-HZ-01-01", DEMO_END.isoformat(), "app", 1, 1, 1440, 1440, 0, 0, 0, 0, 0, 0, 0,
             0, 0]])
        assert import_file(store.engine, path, scan_risk=False).ok
        assert _stamp(store, "facts") > stamp
        after = _cached_equals_plain(flask_app, _visits)
    assert after != before


def test_a_seed_moves_every_stamp(store):
    before = {name: _stamp(store, name) for name in ("facts", *STAMPED)}
    seed_demo(store.engine, "tiny", 42, DEMO_END, reset=True)
    add_users(store)
    after = {name: _stamp(store, name) for name in before}
    assert all(after[n] > before[n] for n in ("facts", "targets", "risk")), (before, after)
