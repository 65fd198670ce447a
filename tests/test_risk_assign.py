"""Assignees and my work (issue 23, part 1): form values parsed or refused, whom one may assign an
incident to, dispatch and reassignment recorded on every event of the incident, working the
incident works its events, and "my work" lists what is the user's and says why."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from auth.accounts import create_user
from data.models import AuditEvent, RiskEvent, RiskEventStep, RiskIncident, RiskRule, User
from data.units import unit_by_code
from metrics.risk_work import WORK_COLUMNS, my_work
from metrics.scope import Scope
from risk.workflow import (
    Assignee,
    AssignRefused,
    StepRefused,
    assign,
    candidates,
    parse_assignee,
    step,
    step_incident,
)
from tests.conftest import PASSWORD

T0 = dt.datetime(2026, 7, 1, 9, 0)
DAY = dt.date(2026, 6, 15)
# Accounts besides the demo's (admin at HQ, manager at ZJ-HZ-01, viewer at ZJ-HZ, display at ZJ).
EXTRA = {"hzboss": ("manager", "ZJ-HZ"), "gone": ("manager", "ZJ-HZ"),
         "nbboss": ("manager", "ZJ-NB"), "outlet": ("manager", "ZJ-HZ-01-01"),
         "hzadmin": ("admin", "ZJ-HZ-01")}


def make_incident(s: Session, top: str, units: list[str], owner: str, state: str = "open",
                  deadline: dt.datetime = T0 + dt.timedelta(hours=24),
                  rule: str = "availability_low") -> RiskIncident:
    """An incident of `rule` at `top` with one event (in `state`) at each of `units`."""
    r = s.scalar(select(RiskRule).where(RiskRule.code == rule))
    top_unit, owner_unit = unit_by_code(s, top), unit_by_code(s, owner)
    incident = RiskIncident(rule_id=r.id, unit_id=top_unit.id, owner_unit_id=owner_unit.id,
                            first_day=DAY, last_day=DAY, created_at=T0, deadline=deadline)
    s.add(incident)
    s.flush()
    for code in units:
        done = state in ("resolved", "closed")
        s.add(RiskEvent(rule_id=r.id, unit_id=unit_by_code(s, code).id, owner_unit_id=owner_unit.id,
                        first_day=DAY, last_day=DAY, value=0.5, threshold=0.9, state=state,
                        created_at=T0, deadline=deadline, incident_id=incident.id,
                        resolved_at=T0 if done else None))
    s.flush()
    return incident


def _user(s: Session, name: str) -> User:
    return s.scalar(select(User).where(User.username == name))


@pytest.fixture
def store(own_store):
    """The tiny demo of the test's own with EXTRA accounts ("gone" deactivated)."""
    with Session(own_store.engine) as s:
        for name, (role, unit) in EXTRA.items():
            create_user(s, name, role, unit, PASSWORD)
        _user(s, "gone").active = False
        s.commit()
    return own_store


def _steps(s: Session) -> int:
    return s.scalar(select(func.count()).select_from(RiskEventStep))


def _refusals(s: Session, incident: RiskIncident) -> int:
    return s.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "forbidden", AuditEvent.outcome == "refused",
        AuditEvent.target == f"risk incident {incident.id}"))


# -- parsing form values ------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [
    None, 5, "", "user:", "user:abc", "user:0", "user:-1", "user:1 ", " user:1", "USER:1",
    "user:99999999999", "user:1;drop", "role:manager", "role:manager@", "role:@ZJ", "role:manager@ZJ x",
    "role:MANAGER@ZJ", "role:manager@ZJ/../HQ", "group:manager@ZJ", "manager@ZJ", "x" * 5000])
def test_malformed_values_are_refused_with_a_clear_message(store, raw):
    with Session(store.engine) as s, pytest.raises(AssignRefused) as refused:
        parse_assignee(s, raw)
    message = str(refused.value)
    assert "指派对象格式不正确" in message and "malformed assignee" in message
    assert len(message) < 300  # a huge value is cut, not echoed whole


@pytest.mark.parametrize(("raw", "said"), [
    ("user:999999", "no such user"), ("role:viewer@ZJ", "cannot handle risk events"),
    ("role:display@ZJ", "cannot handle risk events"), ("role:manager@NOPE", "no such unit")])
def test_unknown_users_units_and_roles_are_refused(store, raw, said):
    with Session(store.engine) as s, pytest.raises(AssignRefused, match=said):
        parse_assignee(s, raw)


def test_well_formed_values_name_a_user_or_a_role_at_a_unit(store):
    with Session(store.engine) as s:
        manager = _user(s, "manager")
        person = parse_assignee(s, f"user:{manager.id}")
        assert person.user is manager and person.text == "manager"
        assert person.value == f"user:{manager.id}"
        role = parse_assignee(s, "role:manager@ZJ-HZ")
        assert (role.user, role.role, role.unit.code, role.text) == (None, "manager", "ZJ-HZ",
                                                                     "manager@ZJ-HZ")
        assert issubclass(AssignRefused, StepRefused)


# -- whom one may assign to ---------------------------------------------------------------------


def test_candidates_cover_the_incidents_unit_within_the_actors_scope(store):
    with Session(store.engine) as s:
        incident = make_incident(s, "ZJ-HZ-01", ["ZJ-HZ-01", "ZJ-HZ-01-01", "ZJ-HZ-01-02"],
                                 owner="ZJ-HZ")
        ids = {u.username: u.id for u in s.scalars(select(User))}
        by_admin = candidates(s, incident, _user(s, "admin"))
        # Active managers and admins at the incident's unit or above it: not the viewer (ZJ-HZ),
        # the display (ZJ), the inactive "gone", Ningbo's manager or the outlet's manager.
        people = {v for v, _ in by_admin if v.startswith("user:")}
        assert people == {f"user:{ids[n]}" for n in ("admin", "manager", "hzboss", "hzadmin")}
        roles = [v for v, _ in by_admin if v.startswith("role:")]
        assert roles == ["role:manager@ZJ-HZ", "role:manager@ZJ-HZ-01", "role:manager@ZJ",
                         "role:manager@HQ"]  # the owner unit first, then upwards
        assert all(label for _, label in by_admin)
        # The county's manager: only what lies in the county's subtree.
        by_manager = candidates(s, incident, _user(s, "manager"))
        assert [v for v, _ in by_manager] == [f"user:{ids['hzadmin']}", f"user:{ids['manager']}",
                                              "role:manager@ZJ-HZ-01"]
        assert candidates(s, incident, _user(s, "viewer")) == []
        assert candidates(s, incident, _user(s, "nbboss")) == []
        assert candidates(s, incident, _user(s, "outlet")) == []  # sees part of it only
        s.rollback()


# -- dispatch and reassignment ------------------------------------------------------------------


def test_dispatch_assigns_every_event_and_reassigning_is_recorded(store):
    with Session(store.engine) as s:
        incident = make_incident(s, "ZJ-HZ-01", ["ZJ-HZ-01", "ZJ-HZ-01-01", "ZJ-HZ-01-02"],
                                 owner="ZJ-HZ")
        admin, manager = _user(s, "admin"), _user(s, "manager")
        done = assign(s, incident, admin, parse_assignee(s, f"user:{manager.id}"), "go", now=T0)
        events = s.scalars(select(RiskEvent).where(RiskEvent.incident_id == incident.id)).all()
        assert len(done) == len(events) == 3
        assert {e.state for e in events} == {"dispatched"}
        rows = s.scalars(select(RiskEventStep).where(
            RiskEventStep.event_id.in_([e.id for e in events]))).all()
        assert sorted(r.event_id for r in rows) == sorted(e.id for e in events)  # one each
        assert {(r.action, r.assignee, r.at, r.from_state, r.to_state, r.note, r.username)
                for r in rows} == {("assign", "manager", T0, "open", "dispatched", "go", "admin")}
        assert (incident.assignee_id, incident.assignee_role, incident.assignee_unit_id,
                incident.dispatched_at) == (manager.id, None, None, T0)
        # Reassigned to the city's manager role a day later: states kept, a step on each event.
        later = T0 + dt.timedelta(days=1)
        assign(s, incident, admin, parse_assignee(s, "role:manager@ZJ-HZ"), "to the city",
               now=later)
        again = s.scalars(select(RiskEventStep).where(RiskEventStep.at == later)).all()
        assert sorted(r.event_id for r in again) == sorted(e.id for e in events)
        assert {(r.action, r.assignee, r.from_state, r.to_state) for r in again} == {
            ("assign", "manager@ZJ-HZ", "dispatched", "dispatched")}
        assert {e.state for e in events} == {"dispatched"}
        assert (incident.assignee_id, incident.assignee_role,
                incident.assignee_unit_id) == (None, "manager", unit_by_code(s, "ZJ-HZ").id)
        assert incident.dispatched_at == T0  # the first dispatch's
        # Reassigned while in progress: still in progress.
        step_incident(s, incident, admin, "in_progress", now=later)
        assign(s, incident, admin, Assignee(user=manager), now=later + dt.timedelta(hours=1))
        assert {e.state for e in events} == {"in_progress"}
        s.rollback()


def test_a_reopened_incident_is_dispatched_again(store):
    with Session(store.engine) as s:
        incident = make_incident(s, "ZJ-HZ-01", ["ZJ-HZ-01", "ZJ-HZ-01-01"], owner="ZJ-HZ",
                                 state="reopened")
        assign(s, incident, _user(s, "manager"), Assignee(user=_user(s, "hzadmin")), now=T0)
        assert {e.state for e in s.scalars(select(RiskEvent).where(
            RiskEvent.incident_id == incident.id))} == {"dispatched"}
        assert incident.dispatched_at == T0
        s.rollback()


@pytest.mark.parametrize(("actor", "raw", "said"), [
    ("admin", "user:{gone}", "is inactive"),  # an inactive user
    ("admin", "user:{nbboss}", "has no scope over ZJ-HZ-01"),  # a manager of another city
    ("admin", "user:{outlet}", "has no scope over ZJ-HZ-01"),  # sees one outlet only
    ("admin", "user:{viewer}", "cannot handle risk events"),  # a viewer
    ("manager", "user:{hzboss}", "has no scope over ZJ-HZ-01"),  # above the actor's scope
    ("admin", "role:manager@ZJ-NB", "is not ZJ-HZ-01 or a unit above it"),  # unrelated unit
    ("admin", "role:manager@ZJ-HZ-01-01", "is not ZJ-HZ-01 or a unit above it"),  # below it
    ("manager", "role:manager@ZJ-HZ", "is not ZJ-HZ-01 or a unit above it"),  # above the actor
    ("viewer", "user:{manager}", "not found or not permitted"),  # a viewer acting
    ("display", "user:{manager}", "not found or not permitted"),
    ("nbboss", "user:{manager}", "not found or not permitted"),  # an out-of-scope actor
    ("outlet", "user:{outlet}", "not found or not permitted"),  # sees part of the incident
    ("gone", "user:{manager}", "not found or not permitted"),  # an inactive actor
])
def test_refused_assignments_write_nothing_and_are_audited(store, actor, raw, said):
    with Session(store.engine) as s:
        incident = make_incident(s, "ZJ-HZ-01", ["ZJ-HZ-01", "ZJ-HZ-01-01"], owner="ZJ-HZ")
        s.commit()
        ids = {u.username: u.id for u in s.scalars(select(User))}
        steps, refusals = _steps(s), _refusals(s, incident)
        with pytest.raises(AssignRefused, match=said) as refused:
            assign(s, incident, _user(s, actor), parse_assignee(s, raw.format(**ids)), now=T0)
        assert "/" in str(refused.value)  # Chinese / English
        assert not s.dirty and not s.new  # nothing written
        assert _steps(s) == steps and _refusals(s, incident) == refusals + 1
        s.rollback()
        s.refresh(incident)
        assert (incident.assignee_id, incident.assignee_role, incident.dispatched_at) == (
            None, None, None)
        assert {e.state for e in s.scalars(select(RiskEvent).where(
            RiskEvent.incident_id == incident.id))} == {"open"}
        if said == "not found or not permitted":  # nothing about the incident is told
            assert "open" not in str(refused.value) and "ZJ-HZ" not in str(refused.value)


# -- working the incident works its events ------------------------------------------------------


def test_working_the_incident_works_its_events(store):
    with Session(store.engine) as s:
        incident = make_incident(s, "ZJ-HZ-01", ["ZJ-HZ-01", "ZJ-HZ-01-01", "ZJ-HZ-01-02"],
                                 owner="ZJ-HZ")
        admin, manager = _user(s, "admin"), _user(s, "manager")
        events = s.scalars(select(RiskEvent).where(RiskEvent.incident_id == incident.id)
                           .order_by(RiskEvent.id)).all()
        with pytest.raises(AssignRefused, match="dispatching needs an assignee"):
            step_incident(s, incident, manager, "dispatched", now=T0)
        with pytest.raises(AssignRefused, match="no event of incident"):
            step_incident(s, incident, manager, "closed", now=T0)  # not straight from open
        with pytest.raises(AssignRefused, match="not found or not permitted"):
            step_incident(s, incident, _user(s, "viewer"), "in_progress", now=T0)
        assert _steps_of(s, events) == []
        assign(s, incident, manager, Assignee(user=manager), now=T0)
        t1 = T0 + dt.timedelta(hours=1)
        moved = step_incident(s, incident, manager, "in_progress", "on it", now=t1)
        assert sorted(r.event_id for r in moved) == [e.id for e in events]
        assert {e.state for e in events} == {"in_progress"}
        # One outlet's event is resolved on its own; resolving the incident moves the other two.
        t2, t3 = t1 + dt.timedelta(hours=1), t1 + dt.timedelta(hours=2)
        step(s, events[1], manager, "resolved", now=t2)
        assert incident.resolved_at is None
        moved = step_incident(s, incident, manager, "resolved", now=t3)
        assert sorted(r.event_id for r in moved) == [events[0].id, events[2].id]
        assert {(r.at, r.action, r.from_state) for r in moved} == {(t3, "move", "in_progress")}
        assert incident.resolved_at == t3  # when the last of them was resolved
        t4 = t3 + dt.timedelta(hours=1)
        step_incident(s, incident, admin, "closed", now=t4)
        assert {e.state for e in events} == {"closed"} and incident.resolved_at == t3
        with pytest.raises(StepRefused, match="reopen it before assigning"):  # closed: reopen first
            assign(s, incident, admin, parse_assignee(s, "role:manager@ZJ-HZ-01"), now=t4)
        step_incident(s, incident, admin, "reopened", "not fixed", now=t4 + dt.timedelta(hours=1))
        assert {e.state for e in events} == {"reopened"} and incident.resolved_at is None
        assert all(e.resolved_at is None and e.closed_at is None for e in events)
        # Every event has the same steps, each step at one time for all of them.
        trail = _steps_of(s, events)
        per_event = {e.id: [(r.at, r.action, r.to_state) for r in trail if r.event_id == e.id]
                     for e in events}
        assert per_event[events[0].id] == per_event[events[2].id] == [
            (T0, "assign", "dispatched"), (t1, "move", "in_progress"), (t3, "move", "resolved"),
            (t4, "move", "closed"), (t4 + dt.timedelta(hours=1), "move", "reopened")]
        assert [x[2] for x in per_event[events[1].id]] == [
            "dispatched", "in_progress", "resolved", "closed", "reopened"]
        s.rollback()


def _steps_of(s: Session, events: list[RiskEvent]) -> list[RiskEventStep]:
    return list(s.scalars(select(RiskEventStep).where(
        RiskEventStep.event_id.in_([e.id for e in events])).order_by(RiskEventStep.at,
                                                                     RiskEventStep.id)))


# -- my work ------------------------------------------------------------------------------------


def test_my_work_lists_what_is_mine_and_says_why(store):
    now = T0 + dt.timedelta(hours=30)
    with Session(store.engine) as s:
        manager, hzboss = _user(s, "manager"), _user(s, "hzboss")
        county, city = unit_by_code(s, "ZJ-HZ-01"), unit_by_code(s, "ZJ-HZ")
        mine = make_incident(s, "ZJ-HZ-01", ["ZJ-HZ-01-01", "ZJ-HZ-01", "ZJ-HZ-01-02"],
                             owner="ZJ-HZ", state="dispatched",
                             deadline=T0 + dt.timedelta(hours=48))
        mine.assignee_id = manager.id
        my_role = make_incident(s, "ZJ-HZ-01-02", ["ZJ-HZ-01-02"], owner="ZJ-HZ-01",
                                state="in_progress")  # overdue at `now`
        my_role.assignee_role, my_role.assignee_unit_id = "manager", county.id
        owned = make_incident(s, "ZJ-HZ-01-01", ["ZJ-HZ-01-01"], owner="ZJ-HZ-01",
                              deadline=T0 + dt.timedelta(hours=40))
        raised = make_incident(s, "ZJ-HZ-01", ["ZJ-HZ-01"], owner="ZJ-HZ", state="dispatched",
                               deadline=T0 - dt.timedelta(hours=10))
        raised.assignee_id, raised.escalated_unit_id = _user(s, "outlet").id, county.id
        # Not the manager's: resolved; another's role; assigned away from the owner; the city's.
        done = make_incident(s, "ZJ-HZ-01", ["ZJ-HZ-01"], owner="ZJ-HZ-01", state="resolved")
        done.assignee_id = manager.id
        admins = make_incident(s, "ZJ-HZ-01", ["ZJ-HZ-01"], owner="ZJ-HZ")
        admins.assignee_role, admins.assignee_unit_id = "admin", county.id
        away = make_incident(s, "ZJ-HZ-01", ["ZJ-HZ-01"], owner="ZJ-HZ-01")
        away.assignee_id = hzboss.id
        citys = make_incident(s, "ZJ-HZ-02", ["ZJ-HZ-02"], owner="ZJ-HZ")
        # Assigned to the manager in the store, but at a unit outside their scope: not listed.
        foreign = make_incident(s, "ZJ-NB-01", ["ZJ-NB-01"], owner="ZJ-NB")
        foreign.assignee_id = manager.id
        s.flush()

        work = my_work(s, manager, now, Scope.of(manager.unit))
        assert list(work.columns) == WORK_COLUMNS
        assert work["incident"].tolist() == [raised.id, my_role.id, owned.id, mine.id]  # by due
        got = {r["incident"]: r for r in work.to_dict("records")}
        assert [got[i]["reason"] for i in (mine.id, my_role.id, raised.id, owned.id)] == [
            "assigned_to_me", "my_unit", "escalated_to_my_unit", "owner_unit"]
        lead = s.scalar(select(RiskEvent.id).where(RiskEvent.incident_id == mine.id,
                                                   RiskEvent.unit_id == county.id))
        assert got[mine.id]["event"] == lead  # the event at the incident's unit, not the first
        assert (got[mine.id]["units"], got[mine.id]["unit"], got[mine.id]["rule"],
                got[mine.id]["assignee"], got[mine.id]["state"]) == (
            3, "ZJ-HZ-01", "availability_low", "manager", "dispatched")
        assert got[mine.id]["rule_en"] and got[mine.id]["unit_zh"]
        assert [got[i]["overdue"] for i in (raised.id, my_role.id, owned.id, mine.id)] == [
            True, True, False, False]
        assert got[my_role.id]["assignee"] == "manager@ZJ-HZ-01"
        assert got[owned.id]["assignee"] is None and got[raised.id]["assignee"] == "outlet"
        # The city's manager: the city's own unassigned incident and the one assigned to them
        # (not those the city owns but someone has: assigned to a person or a role).
        boss = my_work(s, hzboss, now, Scope.of(city))
        assert dict(zip(boss["incident"], boss["reason"], strict=True)) == {
            citys.id: "owner_unit", away.id: "assigned_to_me"}
        assert admins.id in my_work(s, _user(s, "hzadmin"), now, Scope.of(county))[
            "incident"].tolist()
        # A user with nothing: an empty frame with the same columns.
        empty = my_work(s, _user(s, "nbboss"), now, Scope.of(unit_by_code(s, "ZJ-NB")))
        assert empty.empty and list(empty.columns) == WORK_COLUMNS
        s.rollback()


def test_my_work_checks_the_scope(store):
    from metrics.scope import OutOfScope

    with Session(store.engine) as s, pytest.raises(OutOfScope):
        my_work(s, _user(s, "hzboss"), T0, Scope.of(unit_by_code(s, "ZJ-HZ-01")))


# -- the page and the API -----------------------------------------------------------------------


def test_the_detail_shows_the_incident_and_dispatching_works_it(store):
    from flask_login import login_user

    from data.db import get_session
    from tests.conftest import app_over
    from tests.test_pages import _run_callback, texts

    with Session(store.engine) as s:
        incident = make_incident(s, "ZJ-HZ-01", ["ZJ-HZ-01", "ZJ-HZ-01-01", "ZJ-HZ-01-02"],
                                 owner="ZJ-HZ", deadline=dt.datetime(2026, 6, 1, 12, 0))
        ids = [e.id for e in s.scalars(select(RiskEvent).where(
            RiskEvent.incident_id == incident.id).order_by(RiskEvent.id))]
        incident_id = incident.id
        manager_id = _user(s, "manager").id
        s.commit()
    with app_over(store) as flask_app:
        from pages import risk  # registered once the app is made

        with flask_app.test_request_context("/"):
            login_user(_user(get_session(), "manager"))
            shown = " ".join(texts(risk.render_detail(ids[1], "en")).split())
        assert f"Incident #{incident_id}" in shown and "Units affected 3:" in shown
        assert "Assignee Nobody" in shown and "risk-assignee" in shown and "Dispatch" in shown
        assert f"user:{manager_id}" in shown and "role:manager@ZJ-HZ-01" in shown
        assert '"to": "dispatched"' not in shown  # dispatching is the assign button's
        assert '"to": "in_progress"' in shown and "Reassign" not in shown
        with flask_app.test_request_context("/"):
            login_user(_user(get_session(), "viewer"))  # sees it, may not work it
            viewer = texts(risk.render_detail(ids[1], "en"))
        assert f"#{incident_id}" in viewer and "risk-assignee" not in viewer
        assert "risk-step" not in viewer
        stale = [{"id": i, "state_name": "open", "overdue_mark": "⚠"} for i in ids]
        with flask_app.test_request_context("/"):
            login_user(_user(get_session(), "manager"))
            _user(get_session(), "manager").language = "en"
            trigger = '{"to":"incident","type":"risk-assign"}.n_clicks'
            detail, listed, overdue, work = _run_callback(
                risk.dispatch, trigger, [1], ids[1], f"user:{manager_id}", "take it", stale,
                stale)
        shown = " ".join(texts(detail).split())
        assert "Assigned to manager" in str(detail) and "Reassign" in shown  # (a title)
        assert "Assignee manager" in shown
        assert [r["state_name"] for r in listed] == ["Dispatched"] * 3  # every event's row
        assert [r["id"] for r in overdue] == ids  # still overdue: dispatched is not resolved
        assert [(w["incident"], w["event"], w["why"]) for w in work] == [
            (f"#{incident_id}", ids[0], "Assigned to me")]
        # The state buttons work the whole incident.
        with flask_app.test_request_context("/"):
            login_user(_user(get_session(), "manager"))
            _user(get_session(), "manager").language = "en"
            _, listed, overdue, work = _run_callback(
                risk.take_step, '{"to":"resolved","type":"risk-step"}.n_clicks', [1], ids[2], "",
                listed, overdue)
        assert [r["state_name"] for r in listed] == ["Resolved"] * 3
        assert overdue == [] and work == []
    with Session(store.engine) as s:
        assert {e.state for e in s.scalars(select(RiskEvent).where(
            RiskEvent.incident_id == incident_id))} == {"resolved"}
        assert s.get(RiskIncident, incident_id).resolved_at is not None


def test_the_my_risk_api(store):
    from auth.accounts import create_token
    from tests.conftest import app_over, login

    with Session(store.engine) as s:
        manager = _user(s, "manager")
        mine = make_incident(s, "ZJ-HZ-01", ["ZJ-HZ-01", "ZJ-HZ-01-01"], owner="ZJ-HZ",
                             state="dispatched", deadline=dt.datetime(2026, 6, 1, 12, 0))
        mine.assignee_id = manager.id
        owned = make_incident(s, "ZJ-HZ-01-02", ["ZJ-HZ-01-02"], owner="ZJ-HZ-01",
                              deadline=dt.datetime(2999, 1, 1))
        token = create_token(s, manager, "test")
        expected = [
            {"incident": mine.id, "event": min(e.id for e in s.scalars(select(RiskEvent).where(
                RiskEvent.incident_id == mine.id, RiskEvent.unit.has(code="ZJ-HZ-01")))),
             "unit": "ZJ-HZ-01", "units": 2, "rule": "availability_low", "state": "dispatched",
             "assignee": "manager", "deadline": "2026-06-01T12:00", "overdue": True,
             "reason": "assigned_to_me"},
            {"incident": owned.id, "event": s.scalar(select(RiskEvent.id).where(
                RiskEvent.incident_id == owned.id)), "unit": "ZJ-HZ-01-02", "units": 1,
             "rule": "availability_low", "state": "open", "assignee": None,
             "deadline": "2999-01-01T00:00", "overdue": False, "reason": "owner_unit"}]
        s.commit()
    with app_over(store) as flask_app:
        by_token = flask_app.test_client().get("/api/v1/my-risk",
                                               headers={"Authorization": f"Bearer {token}"})
        assert by_token.status_code == 200 and by_token.get_json() == expected
        c = flask_app.test_client()
        login(c, "admin")
        assert c.get("/api/v1/my-risk").get_json() == []  # none is the HQ admin's
        assert flask_app.test_client().get("/api/v1/my-risk").status_code == 401
