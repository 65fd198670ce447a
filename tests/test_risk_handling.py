"""Handling times (issue 23, part 6): hours to dispatch and to resolve per owner tier and rule type.

Expected values are worked out by hand from the rows the tests insert (a month after the tiny demo
ends, so no demo event is in it), and, for a larger random set, by a plain-Python oracle over the
same specification (numpy's linear percentiles), never by the code under test."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

import numpy as np
import pytest
from flask_login import login_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from data.db import get_session
from data.models import OrgUnit, RiskEvent, RiskEventStep, RiskIncident, RiskRule, User
from data.units import unit_by_code
from metrics.risk_handling import COLUMNS, handling_times
from metrics.scope import OutOfScope, Scope
from tests.conftest import login
from tests.test_pages import texts

AS_OF = dt.datetime(2026, 10, 15, 9)
SEPT = (dt.date(2026, 9, 1), dt.date(2026, 9, 30))
NEVER = dt.datetime(2099, 1, 1)  # a deadline not reached whenever the test runs


def at(day: int, hour: int = 6, minute: int = 0, month: int = 9) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute)


@dataclass
class Ev:
    """One event to insert: its unit, times, and steps as (at, from_state, to_state)."""

    unit: str
    created: dt.datetime
    deadline: dt.datetime
    resolved: dt.datetime | None = None
    steps: list[tuple[dt.datetime, str, str]] = field(default_factory=list)
    owner: str | None = None  # the event's own owner unit (default: its unit)


@dataclass
class Item:
    """An incident (several events, `owner` its owner unit) or a lone event (one, no incident)."""

    rule: str
    owner: str
    events: list[Ev]
    incident: bool = False


def insert(session: Session, items: list[Item]) -> None:
    """Insert the items' incidents, events and steps (flushed, not committed)."""
    unit = {u.code: u for u in session.scalars(select(OrgUnit))}
    rule = {r.code: r for r in session.scalars(select(RiskRule))}
    for item in items:
        incident = None
        if item.incident:
            top = min((unit[e.unit] for e in item.events), key=lambda u: len(u.path))
            incident = RiskIncident(
                rule_id=rule[item.rule].id, unit_id=top.id, owner_unit_id=unit[item.owner].id,
                first_day=min(e.created for e in item.events).date(),
                last_day=max(e.created for e in item.events).date(),
                created_at=min(e.created for e in item.events),
                deadline=min(e.deadline for e in item.events))
            session.add(incident)
            session.flush()
        for e in item.events:
            owner = unit[e.owner or (e.unit if item.incident else item.owner)]
            done = e.resolved is not None
            event = RiskEvent(rule_id=rule[item.rule].id, unit_id=unit[e.unit].id,
                              owner_unit_id=owner.id, first_day=e.created.date(),
                              last_day=e.created.date(), value=1.0, threshold=0.5,
                              state="resolved" if done else (e.steps[-1][2] if e.steps else "open"),
                              created_at=e.created, deadline=e.deadline, resolved_at=e.resolved,
                              incident_id=incident.id if incident else None)
            session.add(event)
            session.flush()
            for when, from_state, to_state in e.steps:
                session.add(RiskEventStep(event_id=event.id, at=when, username="tester",
                                          from_state=from_state, to_state=to_state, note=""))
    session.flush()


# The September items, their hours worked out by hand below (ZJ-HZ's subtree unless said).
SILENCE, THRESHOLD = "wechat_silent", "availability_low"
SEPTEMBER = [
    # I1: one incident of three events (a county and its two outlets), owned by the county (tier 4)
    # although each event names its own unit as owner: counted once, at the incident's tier.
    # Dispatched at the earliest (2 h), resolved when the last event was (28 h), after its
    # deadline (late).
    Item(SILENCE, "ZJ-HZ-01", incident=True, events=[
        Ev("ZJ-HZ-01", at(2), at(3), at(2, 18), [(at(2, 8), "open", "dispatched"),
                                                  (at(2, 18), "dispatched", "resolved")]),
        Ev("ZJ-HZ-01-01", at(2), at(3), at(3, 6), [(at(2, 9), "open", "dispatched"),
                                                    (at(3, 6), "dispatched", "resolved")]),
        Ev("ZJ-HZ-01-02", at(2), at(3), at(3, 10), [(at(2, 9), "open", "dispatched"),
                                                     (at(3, 10), "dispatched", "resolved")])]),
    # E2: alone, dispatched after 4 h, resolved after 10 h, on time.
    Item(SILENCE, "ZJ-HZ-02", [Ev("ZJ-HZ-02-01", at(5), at(6), at(5, 16), [
        (at(5, 10), "open", "dispatched"), (at(5, 16), "dispatched", "resolved")])]),
    # E3: dispatched after 1 h, never resolved, past its deadline: due and late.
    Item(SILENCE, "ZJ-HZ-02", [Ev("ZJ-HZ-02-02", at(10), at(11), None, [
        (at(10, 7), "open", "dispatched")])]),
    # I4: an incident with one event resolved and one not: unresolved (due, late); dispatched 6 h.
    Item(SILENCE, "ZJ-HZ-02", incident=True, events=[
        Ev("ZJ-HZ-02", at(12), at(13), at(12, 20), [(at(12, 12), "open", "dispatched"),
                                                    (at(12, 20), "dispatched", "resolved")]),
        Ev("ZJ-HZ-02-01", at(12), at(13), None, [(at(12, 12), "open", "dispatched"),
                                                 (at(12, 13), "dispatched", "in_progress")])]),
    # E5: never dispatched, open within its deadline: counted, but not yet due.
    Item(SILENCE, "ZJ-HZ-01", [Ev("ZJ-HZ-01-01", at(20), NEVER)]),
    # E6 (tier 3, threshold): left "open" for "in progress" after 3 h, resolved at its deadline
    # exactly (24 h): on time.
    Item(THRESHOLD, "ZJ-HZ", [Ev("ZJ-HZ-01", at(8), at(9), at(9), [
        (at(8, 9), "open", "in_progress"), (at(9), "in_progress", "resolved")])]),
    # E7: an assignment that kept it open (07:00) is no dispatch; resolved straight from open at
    # 11:00, which is its dispatch (5 h) and its resolution (5 h), on time.
    Item(THRESHOLD, "ZJ-HZ", [Ev("ZJ-HZ-02", at(15), at(16), at(15, 11), [
        (at(15, 7), "open", "open"), (at(15, 11), "open", "resolved")])]),
    # E11: created on the range's last evening, never dispatched, past its deadline: due, late.
    Item(THRESHOLD, "ZJ-HZ", [Ev("ZJ-HZ-01-02", at(30, 23, 30), at(1, 23, 30, month=10))]),
]
OUTSIDE = [
    # Before the range, after it, and an incident whose first event came before the range
    # (its second, inside, does not bring it in).
    Item(SILENCE, "ZJ-HZ-01", [Ev("ZJ-HZ-01-01", at(31, 23, month=8), at(1, 23))]),
    Item(SILENCE, "ZJ-HZ-01", [Ev("ZJ-HZ-01-01", at(1, 0, month=10), at(2, 0, month=10))]),
    Item(SILENCE, "ZJ-HZ-01", incident=True, events=[
        Ev("ZJ-HZ-01", at(31, 20, month=8), at(1, 20), at(1, 8), [(at(31, 21, month=8), "open",
                                                                    "dispatched")]),
        Ev("ZJ-HZ-01-02", at(1), at(1, 20), at(1, 8), [(at(1, 7), "open", "dispatched")])]),
]
ELSEWHERE = [  # in Ningbo: outside ZJ-HZ's subtree, inside ZJ's
    Item(THRESHOLD, "ZJ-NB", [Ev("ZJ-NB-01", at(3), at(4), at(3, 12), [
        (at(3, 7), "open", "dispatched"), (at(3, 12), "dispatched", "resolved")])]),
]

# By hand. Tier 4, silence: I1, E2, E3, I4, E5. Dispatch hours [1, 2, 4, 6] (E5 none): median
# at rank 1.5 = 2 + 0.5 x 2 = 3.0, p90 at rank 2.7 = 4 + 0.7 x 2 = 5.4. Resolve hours [10, 28]
# (I1, E2): median 19.0, p90 at rank 0.9 = 10 + 0.9 x 18 = 26.2. Due: I1, E2, E3, I4 (not E5);
# on time: E2.
TIER4 = dict(incidents=5, dispatched=4, dispatch_median_hours=3.0, dispatch_p90_hours=5.4,
             resolved=2, resolve_median_hours=19.0, resolve_p90_hours=26.2, due=4,
             resolved_on_time=1, on_time_share=0.25)
# Tier 3, threshold: E6, E7, E11. Dispatch [3, 5]: median 4.0, p90 3 + 0.9 x 2 = 4.8. Resolve
# [5, 24]: median 14.5, p90 5 + 0.9 x 19 = 22.1. Due: all three; on time: E6, E7.
TIER3 = dict(incidents=3, dispatched=2, dispatch_median_hours=4.0, dispatch_p90_hours=4.8,
             resolved=2, resolve_median_hours=14.5, resolve_p90_hours=22.1, due=3,
             resolved_on_time=2, on_time_share=2 / 3)
# Every tier and type: dispatch [1, 2, 3, 4, 5, 6]: median at 2.5 = 3.5, p90 at 4.5 = 5.5.
# Resolve [5, 10, 24, 28]: median at 1.5 = 17.0, p90 at 2.7 = 24 + 0.7 x 4 = 26.8. Due 7, on
# time 3 (E2, E6, E7).
TOTAL = dict(incidents=8, dispatched=6, dispatch_median_hours=3.5, dispatch_p90_hours=5.5,
             resolved=4, resolve_median_hours=17.0, resolve_p90_hours=26.8, due=7,
             resolved_on_time=3, on_time_share=3 / 7)


def seeded(store) -> None:
    with Session(store.engine) as s:
        insert(s, SEPTEMBER + OUTSIDE + ELSEWHERE)
        s.commit()


def by_key(frame) -> dict:
    return {(r["tier"], r["rule_type"]): {k: r[k] for k in COLUMNS[2:]}
            for r in frame.to_dict("records")}


def assert_row(got: dict, expected: dict) -> None:
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-4), key


@pytest.mark.writes
def test_handling_times_by_hand(own_store):
    """Incidents counted once at their owner's tier, dispatch = first leaving "open", resolution
    = when the last event resolved, unresolved items not resolved, the range by creation."""
    seeded(own_store)
    with Session(own_store.engine) as s:
        got = by_key(handling_times(s, unit_by_code(s, "ZJ-HZ"), *SEPT, as_of=AS_OF))
    assert set(got) == {(4, "silence"), (4, None), (3, "threshold"), (3, None),
                        (None, "silence"), (None, "threshold"), (None, None)}
    for key in ((4, "silence"), (4, None), (None, "silence")):
        assert_row(got[key], TIER4)
    for key in ((3, "threshold"), (3, None), (None, "threshold")):
        assert_row(got[key], TIER3)
    assert_row(got[(None, None)], TOTAL)


@pytest.mark.writes
def test_the_subtree_and_an_empty_range(own_store):
    seeded(own_store)
    with Session(own_store.engine) as s:
        province = by_key(handling_times(s, unit_by_code(s, "ZJ"), *SEPT, as_of=AS_OF))
        # Ningbo's one item (tier 3: 1 h to dispatch, 6 h to resolve, on time) joins in:
        # tier 3 dispatch [1, 3, 5], resolve [5, 6, 24].
        assert province[(None, None)]["incidents"] == TOTAL["incidents"] + 1
        assert province[(3, "threshold")]["dispatch_median_hours"] == pytest.approx(3.0)
        assert province[(3, "threshold")]["resolve_median_hours"] == pytest.approx(6.0)
        assert province[(3, "threshold")]["resolved_on_time"] == 3
        # At a county: E2, E3, I4 and E7 of ZJ-HZ-02 only: dispatch [1, 4, 5, 6], resolve
        # [5, 10] (E7, E2; I4 is unresolved).
        county = by_key(handling_times(s, unit_by_code(s, "ZJ-HZ-02"), *SEPT, as_of=AS_OF))
        assert county[(None, None)]["incidents"] == 4
        assert county[(None, None)]["dispatch_median_hours"] == pytest.approx(4.5)
        assert county[(None, None)]["resolve_p90_hours"] == pytest.approx(9.5)
        # A month without items: one total row, counts 0, no hours and no share (not 0).
        empty = handling_times(s, unit_by_code(s, "ZJ-HZ"), dt.date(2026, 11, 1),
                               dt.date(2026, 11, 30), as_of=AS_OF)
    assert empty.to_dict("records") == [{
        "tier": None, "rule_type": None, "incidents": 0, "dispatched": 0,
        "dispatch_median_hours": None, "dispatch_p90_hours": None, "resolved": 0,
        "resolve_median_hours": None, "resolve_p90_hours": None, "due": 0,
        "resolved_on_time": 0, "on_time_share": None}]


@pytest.mark.writes
def test_due_depends_on_the_time_asked(own_store):
    """Before E3's, I4's and E11's deadlines passed they were not yet due."""
    seeded(own_store)
    with Session(own_store.engine) as s:
        early = by_key(handling_times(s, unit_by_code(s, "ZJ-HZ"), *SEPT,
                                      as_of=dt.datetime(2026, 9, 10, 12)))
    # By 09-10 12:00: I1 (late), E2 (on time), E6 and E7 (both resolved: on time, although E7
    # was resolved after that time: as_of cuts deadlines, the data are what they are).
    assert early[(None, None)]["due"] == 4 and early[(None, None)]["resolved_on_time"] == 3


def test_scope_is_enforced(tiny_store):
    with Session(tiny_store.engine) as s:
        county = unit_by_code(s, "ZJ-HZ-01")
        with pytest.raises(OutOfScope):
            handling_times(s, unit_by_code(s, "ZJ"), *SEPT, scope=Scope.of(county))
        handling_times(s, county, *SEPT, scope=Scope.of(county))  # its own subtree: answered


# --- a random set against a plain-Python oracle ----------------------------------------------

def _oracle(items: list[Item], tiers: dict[str, int], kinds: dict[str, str], as_of: dt.datetime):
    """Restate the definition over the specification: per item created, dispatched (first step
    leaving open), resolved (the last, when all are), deadline; grouped with totals."""
    measured = []
    for item in items:
        created = min(e.created for e in item.events)
        if not SEPT[0] <= created.date() <= SEPT[1]:
            continue
        left = [w for e in item.events for w, a, b in e.steps if a == "open" and b != "open"]
        dispatched = min(left) if left else None
        done = all(e.resolved for e in item.events)
        resolved = max(e.resolved for e in item.events) if done else None  # type: ignore[type-var]
        deadline = min(e.deadline for e in item.events)
        measured.append((tiers[item.owner], kinds[item.rule], _since(created, dispatched),
                         _since(created, resolved),
                         resolved is not None or deadline < as_of,
                         resolved is not None and resolved <= deadline))
    out = {}
    for tier in (*{m[0] for m in measured}, None):
        for kind in (*{m[1] for m in measured}, None):
            rows = [m for m in measured if tier in (None, m[0]) and kind in (None, m[1])]
            if not rows:
                continue
            d = [m[2] for m in rows if m[2] is not None]
            r = [m[3] for m in rows if m[3] is not None]
            due, kept = sum(m[4] for m in rows), sum(m[5] for m in rows)
            q = lambda v, p: float(np.percentile(v, p)) if v else None  # noqa: E731
            out[(tier, kind)] = dict(
                incidents=len(rows), dispatched=len(d), dispatch_median_hours=q(d, 50),
                dispatch_p90_hours=q(d, 90), resolved=len(r), resolve_median_hours=q(r, 50),
                resolve_p90_hours=q(r, 90), due=due, resolved_on_time=kept,
                on_time_share=kept / due if due else None)
    return out


def _since(start: dt.datetime, then: dt.datetime | None) -> float | None:
    return None if then is None else (then - start).total_seconds() / 3600


def _random_items(rng: random.Random, units: list[OrgUnit], rules: list[RiskRule]) -> list[Item]:
    items = []
    for _ in range(120):
        rule = rng.choice(rules)
        top = rng.choice(units)
        below = [u for u in units if u.path.startswith(top.path) and u is not top]
        members = [top, *rng.sample(below, min(len(below), rng.randint(0, 3)))]
        created = dt.datetime(2026, 8, 28) + dt.timedelta(minutes=rng.randint(0, 38 * 24 * 60))
        deadline = created + dt.timedelta(hours=rng.choice((24, 48, 72)))
        events = []
        for u in members:
            c = created + dt.timedelta(minutes=rng.choice((0, 0, 30, 600)))
            steps, resolved = [], None
            if rng.random() < 0.8:
                d = c + dt.timedelta(minutes=rng.randint(1, 3000))
                steps.append((d, "open", rng.choice(("dispatched", "in_progress"))))
                if rng.random() < 0.7:
                    resolved = d + dt.timedelta(minutes=rng.randint(1, 6000))
                    steps.append((resolved, steps[-1][2], "resolved"))
            events.append(Ev(u.code, c, deadline, resolved, steps))
        owner = rng.choice([top, *(u for u in units if top.path.startswith(u.path))])
        if len(members) > 1:  # the events of an incident name their own units as owners
            for e in events:
                e.owner = e.unit
        items.append(Item(rule.code, owner.code, events, incident=len(members) > 1))
    return items


@pytest.mark.writes
def test_a_random_set_against_the_oracle(own_store):
    with Session(own_store.engine) as s:
        units = list(s.scalars(select(OrgUnit).where(OrgUnit.code.like("ZJ%"))))
        rules = list(s.scalars(select(RiskRule)))
        items = _random_items(random.Random(23), units, rules)
        insert(s, items)
        s.commit()
        tiers = {u.code: u.tier for u in units}
        kinds = {r.code: r.type for r in rules}
        got = by_key(handling_times(s, unit_by_code(s, "ZJ"), *SEPT, as_of=AS_OF))
    expected = _oracle(items, tiers, kinds, AS_OF)
    assert expected[(None, None)]["incidents"] > 60 and len(expected) > 10
    assert got.keys() == expected.keys()
    for key, row in expected.items():
        assert_row(got[key], row)


# --- the API and the page -------------------------------------------------------------------

@pytest.mark.writes
def test_the_api(own_app, own_store):
    seeded(own_store)
    admin = own_app.test_client()
    login(admin, "admin")
    answer = admin.get("/api/v1/risk-handling?unit=ZJ-HZ&period=2026-09")
    assert answer.status_code == 200
    rows = {(r["tier"], r["rule_type"]): r for r in answer.get_json()}
    total = rows[(None, None)]
    assert total["unit"] == "ZJ-HZ" and total["period"] == "2026-09"
    assert_row({k: total[k] for k in COLUMNS[2:]}, TOTAL)  # every September deadline has passed
    assert_row({k: rows[(4, "silence")][k] for k in COLUMNS[2:]}, TIER4)
    empty = admin.get("/api/v1/risk-handling?unit=ZJ-HZ&period=2026-11").get_json()
    assert empty == [{"unit": "ZJ-HZ", "period": "2026-11", "tier": None, "rule_type": None,
                      "incidents": 0, "dispatched": 0, "dispatch_median_hours": None,
                      "dispatch_p90_hours": None, "resolved": 0, "resolve_median_hours": None,
                      "resolve_p90_hours": None, "due": 0, "resolved_on_time": 0,
                      "on_time_share": None}]
    for query, parameter in (("unit=ZJ-HZ&period=2026-13", "period"),
                             ("unit=ZJ-HZ&period=Sept", "period"), ("unit=ZJ-HZ", "period"),
                             ("period=2026-09", "unit")):
        bad = admin.get(f"/api/v1/risk-handling?{query}")
        assert bad.status_code == 400 and bad.get_json()["parameter"] == parameter, query
    assert admin.get("/api/v1/risk-handling?unit=NOPE&period=2026-09").status_code == 403
    manager = own_app.test_client()
    login(manager, "manager")  # at county ZJ-HZ-01
    refused = manager.get("/api/v1/risk-handling?unit=ZJ-HZ&period=2026-09")
    assert refused.status_code == 403
    assert refused.get_json() == {"error": "unit not found or not permitted", "parameter": "unit"}
    mine = manager.get("/api/v1/risk-handling?unit=ZJ-HZ-01&period=2026-09").get_json()
    assert {(r["tier"], r["rule_type"]) for r in mine} >= {(None, None)}


@pytest.mark.writes
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_page_panel(own_app, own_store, lang):
    """The panel renders in both languages with the numbers `handling_times` gives for the
    page's range (the tiny demo's own events), "-" where there is nothing to measure."""
    with Session(own_store.engine) as s:
        s.scalar(select(User).where(User.username == "admin")).language = lang
        s.commit()
        first, last = dt.date(2026, 4, 1), dt.date(2026, 6, 30)
        frame = handling_times(s, unit_by_code(s, "ZJ"), first, last)
    total = frame[frame["tier"].isna() & frame["rule_type"].isna()].iloc[0]
    assert total["incidents"] > 0 and total["resolve_median_hours"] is not None
    from pages import risk

    with own_app.test_request_context("/"):
        login_user(get_session().scalar(select(User).where(User.username == "admin")))
        page = texts(risk.layout(unit="ZJ", start=first.isoformat(), end=last.isoformat()))
    title, tier3, every = {"zh": ("处置时长", "地市公司", "全部层级"),
                           "en": ("Handling times", "City", "All tiers")}[lang]
    hours = " 小时" if lang == "zh" else " h"
    assert title in page and tier3 in page and every in page and "risk-handling" in page
    assert f"{total['resolve_median_hours']:,.1f}{hours}" in page
    assert f"{total['on_time_share'] * 100:.1f}%" in page
