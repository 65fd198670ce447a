"""Incidents: events of one rule on the same days at a unit and its descendants, grouped
(`risk.incidents`), and counted as incidents on pages and in the API."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest
from sqlalchemy import delete, func, inspect, select, text
from sqlalchemy.orm import Session

from data.models import (
    OrgUnit,
    RiskEvent,
    RiskEventStep,
    RiskIncident,
    RiskNotification,
    RiskRule,
    User,
)
from data.units import path_for
from jobs.schema import downgrade, upgrade
from risk.incidents import events_of, group, group_ungrouped, owner_of
from risk.scan import detected_at, scan

D = dt.date(2026, 3, 2)
RULE = "wechat_silent"  # tiers 4 and 5 (counties, outlets), owned by the county tier


# -- a small tree of our own ----------------------------------------------------------------------


def _tree(s: Session) -> dict[str, OrgUnit]:
    """HQ > ZJ > ZJ-HZ > counties A (outlets A1..A4) and B (outlets B1, B2)."""
    shape = [("HQ", None, 1), ("ZJ", "HQ", 2), ("ZJ-HZ", "ZJ", 3), ("A", "ZJ-HZ", 4),
             ("A1", "A", 5), ("A2", "A", 5), ("A3", "A", 5), ("A4", "A", 5),
             ("B", "ZJ-HZ", 4), ("B1", "B", 5), ("B2", "B", 5)]
    units: dict[str, OrgUnit] = {}
    for n, (code, parent, tier) in enumerate(shape, start=1):
        up = units.get(parent) if parent else None
        u = OrgUnit(id=n, code=code, name_zh=code, name_en=code, tier=tier,
                    parent_id=up.id if up else None, path=path_for(up.path if up else None, n))
        s.add(u)
        units[code] = u
    s.flush()
    return units


def _event(s: Session, rule: RiskRule, unit: OrgUnit, first: dt.date, last: dt.date | None = None,
           hours: int | None = None) -> RiskEvent:
    at = detected_at(first)
    e = RiskEvent(rule_id=rule.id, unit_id=unit.id, owner_unit_id=unit.id, carrier=rule.carrier,
                  first_day=first, last_day=last or first, value=0.0, threshold=1.0,
                  worst_day=first, worst_value=0.0, worst_threshold=1.0, state="open",
                  created_at=at, deadline=at + dt.timedelta(hours=hours or rule.deadline_hours))
    s.add(e)
    s.flush()
    return e


@pytest.fixture
def tree(empty_store):
    with Session(empty_store.engine) as s:
        units = _tree(s)
        rule = s.scalar(select(RiskRule).where(RiskRule.code == RULE))
        assert rule is not None and rule.owner_tier == 4
        yield s, units, {u.id: u for u in units.values()}, rule
        s.rollback()


def _incidents(s: Session) -> list[RiskIncident]:
    return list(s.scalars(select(RiskIncident).order_by(RiskIncident.id)))


def test_a_county_and_its_outlets_on_the_same_days_are_one_incident(tree):
    s, u, by_id, rule = tree
    # outlets given first: the grouping orders by first day, then unit path (county first)
    events = [_event(s, rule, u[c], D) for c in ("A1", "A2", "A3", "A4", "A")]
    elsewhere = _event(s, rule, u["B1"], D)
    assert group(s, [*events, elsewhere], by_id) == 6
    incs = _incidents(s)
    assert len(incs) == 2
    county = next(i for i in incs if i.id == events[0].incident_id)
    assert {e.incident_id for e in events} == {county.id}
    assert (county.unit_id, county.owner_unit_id) == (u["A"].id, u["A"].id)
    assert (county.first_day, county.last_day) == (D, D)
    assert county.created_at == detected_at(D)
    assert county.deadline == detected_at(D) + dt.timedelta(hours=rule.deadline_hours)
    assert [e.unit.code for e in events_of(s, county)] == ["A", "A1", "A2", "A3", "A4"]
    other = next(i for i in incs if i.id != county.id)
    assert elsewhere.incident_id == other.id and other.unit_id == u["B1"].id
    # its owner: the rule's owner tier above the outlet (the county B)
    assert other.owner_unit_id == owner_of(u["B1"], rule.owner_tier, by_id).id == u["B"].id


def test_sibling_outlets_without_their_county_are_separate_incidents(tree):
    s, u, by_id, rule = tree
    b1, b2 = _event(s, rule, u["B1"], D), _event(s, rule, u["B2"], D)
    group(s, [b1, b2], by_id)
    assert b1.incident_id is not None and b2.incident_id is not None
    assert b1.incident_id != b2.incident_id
    # another rule (or carrier) at the same unit on the same days is another incident too
    other_rule = s.scalar(select(RiskRule).where(RiskRule.code == "app_silent"))
    b1_app = _event(s, other_rule, u["B1"], D)
    group(s, [b1_app], by_id)
    assert b1_app.incident_id not in (b1.incident_id, b2.incident_id)


def test_a_later_overlapping_event_joins_and_a_later_apart_one_does_not(tree):
    s, u, by_id, rule = tree
    county = _event(s, rule, u["A"], D, D + dt.timedelta(days=3), hours=240)
    group(s, [county], by_id)
    later = _event(s, rule, u["A2"], D + dt.timedelta(days=2), D + dt.timedelta(days=5),
                   hours=1)
    group(s, [later], by_id)
    assert later.incident_id == county.incident_id
    inc = s.get(RiskIncident, county.incident_id)
    assert (inc.first_day, inc.last_day) == (D, D + dt.timedelta(days=5))
    assert inc.created_at == county.created_at  # the earliest
    assert inc.deadline == later.deadline < county.deadline  # the earliest
    apart = _event(s, rule, u["A3"], D + dt.timedelta(days=6))
    group(s, [apart], by_id)
    assert apart.incident_id != county.incident_id
    # the extension of an event keeps its incident's last day (through the scan's `record`)
    from risk.detect import Breach
    from risk.scan import record

    outcome = record(s, rule, u["A3"], Breach(D + dt.timedelta(days=7), 0.0, 1.0), by_id)
    assert outcome == "extended"
    assert s.get(RiskIncident, apart.incident_id).last_day == D + dt.timedelta(days=7)


def test_a_higher_unit_merges_the_incidents_it_joins(tree):
    s, u, by_id, rule = tree
    outlets = [_event(s, rule, u[c], D) for c in ("A1", "A2", "A3")]
    group(s, outlets, by_id)
    first, second, third = (s.get(RiskIncident, e.incident_id) for e in outlets)
    assert len({first.id, second.id, third.id}) == 3
    # the second is dispatched to a person; the first has no one yet but was escalated
    admin = User(username="zhang", role="manager", unit_id=u["A"].id, password_hash="x",
                 created_at=detected_at(D))
    s.add(admin)
    s.flush()
    second.assignee_id, second.dispatched_at = admin.id, detected_at(D) + dt.timedelta(hours=1)
    first.escalated_at, first.escalated_unit_id = detected_at(D), u["ZJ-HZ"].id
    now = detected_at(D)
    for inc, kind in ((first, "dispatched"), (second, "dispatched"), (second, "overdue")):
        s.add(RiskNotification(incident_id=inc.id, kind=kind, trigger="t", channel="email",
                               recipient="a@example.com", state="pending", attempts=0,
                               created_at=now, error=""))
    s.flush()
    survivor_id, gone = first.id, {second.id, third.id}
    county = _event(s, rule, u["A"], D)
    group(s, [county], by_id)
    s.expire_all()
    assert county.incident_id == survivor_id
    assert {e.incident_id for e in outlets} == {survivor_id}
    assert not s.scalars(select(RiskIncident).where(RiskIncident.id.in_(gone))).all()
    merged = s.get(RiskIncident, survivor_id)
    assert (merged.unit_id, merged.owner_unit_id) == (u["A"].id, u["A"].id)
    assert merged.assignee_id == admin.id  # taken from the other: the survivor had none
    assert merged.dispatched_at == detected_at(D) + dt.timedelta(hours=1)
    assert merged.escalated_unit_id == u["ZJ-HZ"].id  # the survivor's own
    notices = s.execute(select(RiskNotification.incident_id, RiskNotification.kind)
                        .order_by(RiskNotification.kind)).all()
    # the same cause once (the survivor's), the other notice moved
    assert notices == [(survivor_id, "dispatched"), (survivor_id, "overdue")]
    assert len(events_of(s, merged)) == 4


# -- on the demo ------------------------------------------------------------------------------------


def _shape(s: Session) -> set[tuple]:
    """The incidents as what they are made of, ids aside: rule, carrier, unit, days and the
    events (unit, first day, last day)."""
    units = dict(s.execute(select(OrgUnit.id, OrgUnit.code)).all())
    members = defaultdict(set)
    for e in s.scalars(select(RiskEvent)):
        assert e.incident_id is not None
        members[e.incident_id].add((units[e.unit_id], e.first_day, e.last_day))
    return {(i.rule_id, i.carrier, units[i.unit_id], units[i.owner_unit_id], i.first_day,
             i.last_day, i.created_at, i.deadline, frozenset(members[i.id]))
            for i in s.scalars(select(RiskIncident))}


def _forget_risk(s: Session) -> None:
    for model in (RiskNotification, RiskEventStep, RiskEvent, RiskIncident):
        s.execute(delete(model))
    s.flush()


@pytest.mark.writes
def test_scanning_days_at_once_equals_scanning_each_night(own_store):
    start, end = dt.date(2026, 6, 7), dt.date(2026, 6, 24)
    with Session(own_store.engine) as s:
        _forget_risk(s)
        scan(s, start, end)
        at_once = _shape(s)
        s.rollback()
        _forget_risk(s)
        day = start
        while day <= end:
            scan(s, day, day)
            day += dt.timedelta(days=1)
        nightly = _shape(s)
        s.rollback()
    assert at_once == nightly
    # the window holds incidents of several events at several units, and of staggered days
    assert any(len({m[0] for m in inc[-1]}) >= 3 for inc in at_once)
    assert any(len({(m[1], m[2]) for m in inc[-1]}) >= 2 for inc in at_once)


@pytest.mark.writes
def test_init_db_groups_the_events_from_before_incidents(own_store, runner_for):
    with Session(own_store.engine) as s:
        before = _shape(s)
        events = s.scalar(select(func.count()).select_from(RiskEvent))
    assert events and len(before) < events  # some incidents hold several events
    downgrade(own_store.engine, "0021")
    with own_store.engine.connect() as conn:
        assert "incident_id" not in {c["name"] for c in inspect(conn).get_columns("risk_event")}
    # migrate the schema only (no init-db yet): every event lacks an incident
    from alembic import command

    from jobs.schema import alembic_config

    cfg = alembic_config()
    with own_store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    with Session(own_store.engine) as s:
        assert s.scalar(select(func.count()).select_from(RiskEvent)
                        .where(RiskEvent.incident_id.is_(None))) == events
    out = runner_for(own_store.url).invoke(args=["init-db"])
    assert out.exit_code == 0, out.output
    with Session(own_store.engine) as s:
        assert s.scalar(select(func.count()).select_from(RiskEvent)
                        .where(RiskEvent.incident_id.is_(None))) == 0
        again = _shape(s)
        assert group_ungrouped(s) == 0
    # the same incidents as the scan made (times and owners included)
    assert again == before
    upgrade(own_store.engine)  # and again: nothing to do


# -- counts -------------------------------------------------------------------------------------


def _raw(s: Session, under: str):
    """(event id, incident id, unit path, unit id, core, state, first, last, deadline) of the
    events under a unit, read straight from the tables."""
    return s.execute(text(
        "SELECT e.id, e.incident_id, u.path, u.id, r.core, e.state, e.first_day, e.last_day, "
        "e.deadline FROM risk_event e JOIN org_unit u ON u.id = e.unit_id "
        "JOIN risk_rule r ON r.id = e.rule_id JOIN org_unit top ON top.code = :code "
        "WHERE u.path LIKE top.path || '%'"), {"code": under}).all()


def _day(v) -> dt.date:
    return v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v)[:10])


def _at(v) -> dt.datetime:
    return v if isinstance(v, dt.datetime) else dt.datetime.fromisoformat(str(v))


def test_heat_counts_incidents_per_child_and_core(tiny_store):
    from metrics.risk import heat_by_child_and_core

    start, end = dt.date(2026, 1, 1), dt.date(2026, 6, 30)
    with Session(tiny_store.engine) as s:
        zj = s.scalar(select(OrgUnit).where(OrgUnit.code == "ZJ"))
        kids = {u.path: u.code for u in s.scalars(select(OrgUnit).where(
            OrgUnit.parent_id == zj.id))}
        expected: dict[tuple[str, str], set] = defaultdict(set)
        events: dict[tuple[str, str], int] = defaultdict(int)
        for _, inc, path, _, core, _, first, last, _ in _raw(s, "ZJ"):
            if _day(last) < start or _day(first) > end:
                continue
            child = next((c for p, c in kids.items() if path.startswith(p)), "ZJ")
            expected[(child, core)].add(inc)
            events[(child, core)] += 1
        heat = heat_by_child_and_core(s, zj, start, end, dt.datetime(2026, 7, 1))
    got = {(r.child, r.core): int(r.events) for r in heat.itertuples()}
    assert got == {k: len(v) for k, v in expected.items()}
    assert got != dict(events)  # an incident of several events counts once


@pytest.mark.writes
def test_open_counts_count_incidents_and_units(own_store):
    from metrics.risk import open_counts

    with Session(own_store.engine) as s:
        # every event open again: incidents of several events are then open at once
        s.execute(text("UPDATE risk_event SET state = 'open', resolved_at = NULL, "
                       "closed_at = NULL"))
        now = dt.datetime(2026, 6, 20, 12, 0)
        for code in ("HQ", "ZJ-HZ", "ZJ-NB", "ZJ-HZ-01"):
            rows = _raw(s, code)
            live = [r for r in rows if r[5] not in ("resolved", "closed")]
            expected = {"open": len({r[1] for r in live}),
                        "overdue": len({r[1] for r in live if _at(r[8]) < now}),
                        "units": len({r[3] for r in live})}
            unit = s.scalar(select(OrgUnit).where(OrgUnit.code == code))
            assert open_counts(s, unit, now) == expected, code
            if code == "HQ":
                assert expected["open"] < len(live)  # incidents, not events
        s.rollback()


def test_live_counts_incidents_and_units_of_today(tiny_store):
    from metrics.live import _risk_events

    with Session(tiny_store.engine) as s:
        hq = s.scalar(select(OrgUnit).where(OrgUnit.code == "HQ"))
        # the morning the outage was found: several events of one incident
        day = dt.datetime(2026, 6, 16)
        rows = [r for r in _raw(s, "HQ")]
        created = dict(s.execute(select(RiskEvent.id, RiskEvent.created_at)).all())
        today = [r for r in rows if day <= _at(created[r[0]]) <= day + dt.timedelta(hours=23)]
        got = _risk_events(s, hq, day, day + dt.timedelta(hours=23))
    assert got == {"risk_events_today": len({r[1] for r in today}),
                   "risk_units_today": len({r[3] for r in today})}
    assert got["risk_events_today"] < len(today)


# -- the API -----------------------------------------------------------------------------------


@pytest.mark.writes
def test_risk_events_api_carries_incident_and_assignee(client, app_store):
    with Session(app_store.engine) as s:
        first, second = s.scalars(select(RiskIncident).order_by(RiskIncident.id).limit(2))
        first.assignee_id = s.scalar(select(User.id).where(User.username == "manager"))
        second.assignee_role = second.assignee_unit_id = None  # nobody
        s.commit()
    rows = client.get("/api/v1/risk-events?unit=HQ").get_json()
    with Session(app_store.engine) as s:
        incident = dict(s.execute(select(RiskEvent.id, RiskEvent.incident_id)).all())
        codes = dict(s.execute(select(OrgUnit.id, OrgUnit.code)).all())
        names = dict(s.execute(select(User.id, User.username)).all())
        assignee = {i.id: names[i.assignee_id] if i.assignee_id else
                    f"{i.assignee_role}@{codes[i.assignee_unit_id]}" if i.assignee_role else None
                    for i in s.scalars(select(RiskIncident))}
    assert len(rows) == len(incident)
    assert {r["id"]: r["incident"] for r in rows} == incident
    assert {r["id"]: r["assignee"] for r in rows} == {e: assignee[i] for e, i in incident.items()}
    got = {r["assignee"] for r in rows}
    assert None in got and "manager" in got and any(a and "@" in a for a in got)
    shared = defaultdict(set)
    for r in rows:
        shared[r["incident"]].add(r["unit"])
    assert any(len(units) > 1 for units in shared.values())


# -- the risk page ---------------------------------------------------------------------------------


def test_the_risk_page_lists_one_row_per_incident(app, app_store):
    from tests.test_risk import _find, _render_risk

    start, end = dt.date(2026, 6, 1), dt.date(2026, 6, 30)
    page = _render_risk(app, "admin", unit="ZJ", start=start.isoformat(), end=end.isoformat())
    grid = _find(page, {"type": "csv-grid", "name": "risk-events"})
    rows = grid.rowData
    with Session(app_store.engine) as s:
        raw = [r for r in _raw(s, "ZJ") if _day(r[7]) >= start and _day(r[6]) <= end]
        units = {i.id: len({e.unit_id for e in s.scalars(select(RiskEvent).where(
            RiskEvent.incident_id == i.id))}) for i in s.scalars(select(RiskIncident))}
        # the lead of each incident: its highest unit's event (shortest path), earliest first
        lead = {}
        for r in sorted(raw, key=lambda r: (len(r[2]), _day(r[6]), r[0])):
            lead.setdefault(r[1], r[0])
    assert len(raw) > len(lead)  # some incidents of several events in the period
    assert sorted(r["id"] for r in rows) == sorted(lead.values())
    incident_of = {r[0]: r[1] for r in raw}
    assert {r["id"]: r["units"] for r in rows} == {e: units[incident_of[e]] for e in lead.values()}
    title = " ".join(_texts_of(_find(page, "risk-events-count")))
    shown_units = len({r[3] for r in raw})
    assert f"{len(lead)} 起（影响 {shown_units} 个单位）" in title
    assert "影响单位" in [c["headerName"] for c in grid.columnDefs]


def _texts_of(component) -> list[str]:
    from tests.test_pages import texts

    return [texts(component)]
