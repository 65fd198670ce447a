"""The caller owns the transaction (issue #19): services never commit, and an audit call never
commits (or rides on) the caller's half-done work.

- every `.commit()` / `.begin()` outside the declared entry points fails the AST test below;
- a refusal's audit row persists when the caller rolls back; an audited change the caller rolls
  back leaves neither the change nor a row claiming it; committed, it leaves both.
"""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from auth import admin as admin_service
from auth import audit
from data.models import AuditEvent, Playlist, RiskEvent, RiskEventStep, Target, User
from display import playlists
from metrics.indicator_control import set_target
from risk.workflow import StepRefused, step
from tests.conftest import DB_KINDS, PASSWORD, Store, seeded_store

ROOT = Path(__file__).resolve().parents[1]
NOT_APP = {"tests", "migrations", ".venv", "docs", "assets"}

# Where a transaction may be committed: what starts the work (requests, callbacks, commands,
# scripts) and the jobs that take an Engine and open their own transactions (they never get a
# caller's session, so they cannot commit a caller's half-done work).
ENTRY_POINTS = {
    "app.py": "builds the app",
    "shell.py": "the shell's Dash callbacks (preferences)",
    "pages/": "Dash callbacks",
    "auth/login.py": "Flask views: sign in, sign out",
    "export/routes.py": "Flask views: PDF export, render-token redemption",
    "api/v1.py": "Flask views: the JSON API",
    "auth/cli.py": "click commands",
    "risk/cli.py": "click commands",
    "export/cli.py": "click commands",
    "report/cli.py": "click commands",
    "report/routes.py": "Flask views: the monthly report",
    "export/deliver_cli.py": "click command (deliver-due: claims, tokens, outcomes)",
    "export/notify_cli.py": "click command (notify-due: escalations, the queue, claims, outcomes)",
    "jobs/ingest/cli.py": "click commands",
    "bench/": "scripts",
}
JOBS = {
    "data/db.py": "the connection primitives (a write that must never wait, begin_briefly)",
    "jobs/schema.py": "migrating the store",
    "metrics/rollups.py": "rebuilding roll-ups in chunks, each its own transaction",
    "jobs/demo.py": "seeding a store (seed_demo) and its click command",
    "jobs/ingest/load.py": "an import: its start is logged in a transaction of its own, then the "
                           "facts in one transaction (import_file takes an Engine, never a session)",
}


def _declared(rel: str) -> bool:
    return any(rel == p or (p.endswith("/") and rel.startswith(p)) for p in (*ENTRY_POINTS, *JOBS))


def transaction_calls(root: Path) -> list[str]:
    """Every `x.commit()` and `x.begin()` call outside the declared entry points and jobs."""
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.split("/")[0] in NOT_APP or _declared(rel):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in ("commit", "begin"):
                found.append(f"{rel}:{node.lineno} .{node.func.attr}()")
    return found


def test_services_never_commit(tmp_path):
    # The check itself: it sees a commit and a begin in a service, not in an entry point.
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "thing.py").write_text("def f(s):\n    s.add(1)\n    s.commit()\n")
    (tmp_path / "svc" / "job.py").write_text("def g(engine):\n    with engine.begin():\n"
                                             "        pass\n")
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "x.py").write_text("def cb(s):\n    s.commit()\n")
    assert transaction_calls(tmp_path) == ["svc/job.py:2 .begin()", "svc/thing.py:3 .commit()"]
    for declared in (*ENTRY_POINTS, *JOBS):
        assert (ROOT / declared).exists(), f"declared entry point {declared} is gone"
    # Before issue #19: audit, playlists (2), the PDF export and the data deletion committed.
    assert transaction_calls(ROOT) == []


# --- behaviour, on each database ----------------------------------------------------------

@pytest.fixture(scope="module", params=DB_KINDS)
def store(request, tmp_path_factory) -> Iterator[Store]:
    """This module's own tiny demo with the test accounts (its tests commit into it)."""
    s = seeded_store(request.param, tmp_path_factory.mktemp("txn"))
    yield s
    s.drop()


def _user(s: Session, name: str) -> User:
    return s.scalar(select(User).where(User.username == name))


def _audit_rows(engine, action: str, target: str) -> list[tuple[str, str]]:
    """(outcome, detail) of the audit rows of `action` on `target`, read on a fresh session."""
    with Session(engine) as s:
        return [tuple(r) for r in s.execute(select(AuditEvent.outcome, AuditEvent.detail).where(
            AuditEvent.action == action, AuditEvent.target == target).order_by(AuditEvent.id))]


def _open_event(engine, n: int) -> int:
    """The id of the store's `n`-th risk event, put in state "open" (committed)."""
    with Session(engine) as s:
        event = s.scalars(select(RiskEvent).order_by(RiskEvent.id)).all()[n]
        event.state, event.resolved_at, event.closed_at = "open", None, None
        s.commit()
        return event.id


def test_a_refused_step_after_a_taken_one_rolls_back_but_its_refusal_stays(store):
    # The bug: the refusal's audit committed the caller's session, the step taken just before
    # included; the caller's rollback then left the event moved on (and the tests order-dependent).
    event_id = _open_event(store.engine, 0)
    with Session(store.engine) as s:
        event = s.get(RiskEvent, event_id)
        steps_before = s.scalar(
            select(func.count()).select_from(RiskEventStep).where(RiskEventStep.event_id == event.id))
        admin = _user(s, "admin")
        step(s, event, admin, "dispatched", note="taken, then rolled back")
        with pytest.raises(StepRefused):
            step(s, event, admin, "closed")  # not from dispatched
        assert not any(isinstance(o, AuditEvent) for o in s.new)  # never in the caller's session
        s.rollback()
    with Session(store.engine) as s:
        assert s.get(RiskEvent, event_id).state == "open"
        assert s.scalar(select(func.count()).select_from(RiskEventStep).where(
            RiskEventStep.event_id == event_id)) == steps_before
    assert _audit_rows(store.engine, "forbidden", f"risk event {event_id}") == [
        ("refused", "dispatched -> closed")]


def test_a_refusal_with_nothing_pending_is_written_at_once_and_survives_a_rollback(store):
    event_id = _open_event(store.engine, 1)
    with Session(store.engine) as s:
        event, viewer = s.get(RiskEvent, event_id), _user(s, "viewer")
        caller = s.get_transaction()
        with pytest.raises(StepRefused):
            step(s, event, viewer, "dispatched")
        assert s.get_transaction() is caller  # still the caller's own: the audit did not end it
        # Written on its own connection already: another session sees it before the caller ends.
        assert _audit_rows(store.engine, "forbidden", f"risk event {event_id}")[-1] == (
            "refused", "open -> dispatched")
        s.rollback()
    assert _audit_rows(store.engine, "forbidden", f"risk event {event_id}")[-1][0] == "refused"


YEAR = (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
TARGET = f"online_substitution@ZJ-HZ-01 {YEAR[0]}..{YEAR[1]}"


def _own_target(engine) -> list[float]:
    with Session(engine) as s:
        unit_id = s.scalar(select(User.unit_id).where(User.username == "manager"))
        return list(s.scalars(select(Target.value).where(
            Target.kpi == "online_substitution", Target.unit_id == unit_id,
            Target.period_start == YEAR[0], Target.period_end == YEAR[1],
            Target.carrier_id.is_(None))))


def test_an_audited_change_follows_the_callers_rollback_or_commit(store):
    before = _own_target(store.engine)
    with Session(store.engine) as s:
        set_target(s, _user(s, "manager"), "online_substitution", "ZJ-HZ-01", *YEAR, 0.61)
        s.rollback()
    assert _own_target(store.engine) == before
    assert not any(d.endswith("-> 0.61") for _, d in _audit_rows(store.engine, "target_change", TARGET))
    with Session(store.engine) as s:
        set_target(s, _user(s, "manager"), "online_substitution", "ZJ-HZ-01", *YEAR, 0.62)
        # Not yet: the row waits for the caller's commit.
        assert not any(d.endswith("-> 0.62")
                       for _, d in _audit_rows(store.engine, "target_change", TARGET))
        s.commit()
    assert _own_target(store.engine) == [0.62]
    old = before[0] if before else None
    assert _audit_rows(store.engine, "target_change", TARGET)[-1] == ("ok", f"{old} -> 0.62")


def test_a_change_the_caller_never_commits_leaves_no_row(store):
    with Session(store.engine) as s:
        set_target(s, _user(s, "manager"), "online_substitution", "ZJ-HZ-01", *YEAR, 0.63)
    # closed without a commit: rolled back
    assert 0.63 not in _own_target(store.engine)
    assert not any(d.endswith("-> 0.63") for _, d in _audit_rows(store.engine, "target_change", TARGET))


VIEWS = [{"url": "/?unit=ZJ&period=last30", "dwell_seconds": 20}]


def _playlist_names(engine) -> list[str]:
    with Session(engine) as s:
        return list(s.scalars(select(Playlist.name)))


def test_a_playlist_save_follows_the_callers_rollback_or_commit(store):
    with Session(store.engine) as s:
        saved = playlists.save(s, _user(s, "admin"), None, "rolled back wall", 60, VIEWS)
        target = f"playlist {saved.id}"
        s.rollback()
    assert "rolled back wall" not in _playlist_names(store.engine)
    assert _audit_rows(store.engine, "playlist_save", target) == []
    with Session(store.engine) as s:
        saved_id = playlists.save(s, _user(s, "admin"), None, "kept wall", 60, VIEWS).id
        target = f"playlist {saved_id}"
        s.commit()
    assert "kept wall" in _playlist_names(store.engine)
    assert [o for o, _ in _audit_rows(store.engine, "playlist_save", target)] == ["ok"]
    with Session(store.engine) as s:
        playlists.delete(s, _user(s, "admin"), saved_id)
        s.rollback()
    assert "kept wall" in _playlist_names(store.engine)
    assert _audit_rows(store.engine, "playlist_delete", target) == []


def test_an_account_change_follows_the_callers_rollback_or_commit(store):
    def active(name: str) -> bool:
        with Session(store.engine) as s:
            return _user(s, name).active

    with Session(store.engine) as s:
        admin_service.set_active(s, _user(s, "admin"), "viewer", False)
        s.rollback()
    assert active("viewer")
    assert _audit_rows(store.engine, "user_deactivate", "viewer") == []
    with Session(store.engine) as s:
        admin_service.reset_password(s, _user(s, "admin"), "display", PASSWORD + " again")
        s.commit()
    assert [o for o, _ in _audit_rows(store.engine, "user_password", "display")] == ["ok"]
    with Session(store.engine) as s:
        admin_service.set_active(s, _user(s, "admin"), "display", False)
        s.commit()
    assert not active("display")
    assert [o for o, _ in _audit_rows(store.engine, "user_deactivate", "display")] == ["ok"]


def test_record_never_touches_the_callers_session(store):
    with Session(store.engine) as s:
        admin = _user(s, "admin")
        admin.display_name = "pending change"
        assert audit.has_pending_writes(s)
        audit.record(s, "probe", "admin", target="txn-probe", outcome="refused")
        assert not s.new and s.in_transaction()  # nothing added, nothing committed
        s.rollback()
        assert admin.display_name != "pending change"
    assert _audit_rows(store.engine, "probe", "txn-probe") == [("refused", "")]
