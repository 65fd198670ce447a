"""The risk page's counts at any size: the heat by child and core counts every incident (not the
first 2,000 events a list shows), and the open/overdue trend equals a count of the events day by day. Expected
values come from raw SQL over risk_event."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from data.units import unit_by_code
from metrics.risk import heat_by_child_and_core, open_trend
from tests.conftest import DEMO_END

NOW = dt.datetime.combine(DEMO_END + dt.timedelta(days=1), dt.time(9))


def _raw_heat(conn, code: str, start: dt.date, end: dt.date) -> dict[tuple[str, str], int]:
    """Incidents with an event touching [start, end] in `code`'s subtree per (child or the unit
    itself, core); an event not grouped into an incident counts as one of its own."""
    rows = conn.execute(text(
        "SELECT u.path, r.core, e.id, e.incident_id FROM risk_event e "
        "JOIN risk_rule r ON r.id = e.rule_id JOIN org_unit u ON u.id = e.unit_id "
        "WHERE e.last_day >= :start AND e.first_day <= :end"), {"start": start, "end": end}).all()
    top = conn.execute(text("SELECT id, path FROM org_unit WHERE code = :c"), {"c": code}).one()
    kids = conn.execute(text("SELECT code, path FROM org_unit WHERE parent_id = :id"),
                        {"id": top.id}).all()
    out: dict[tuple[str, str], set] = {}
    for path, core, event, incident in rows:
        if not path.startswith(top.path):
            continue
        child = next((k.code for k in kids if path.startswith(k.path)), code)
        out.setdefault((child, core), set()).add(("incident", incident) if incident is not None
                                                 else ("event", event))
    return {k: len(v) for k, v in out.items()}


@pytest.mark.writes
def test_the_heat_counts_every_event_beyond_a_lists_limit(own_store):
    """2,400 more events (not grouped: each its own incident) under the province: the heat's
    cells still count every incident."""
    start, end = dt.date(2026, 6, 1), DEMO_END
    with own_store.engine.begin() as conn:
        outlets = [r.id for r in conn.execute(text(
            "SELECT id FROM org_unit WHERE tier = 5 ORDER BY id"))]
        rules = [r.id for r in conn.execute(text("SELECT id FROM risk_rule ORDER BY id"))]
        conn.execute(text(
            "INSERT INTO risk_event (rule_id, unit_id, owner_unit_id, first_day, last_day, value, "
            "threshold, state, created_at, deadline) VALUES (:rule, :unit, :unit, :day, :day, 1, "
            "0.5, 'open', :at, :due)"),
            [{"rule": rules[i % len(rules)], "unit": outlets[i % len(outlets)],
              "day": start + dt.timedelta(days=i % 30),
              "at": dt.datetime.combine(start + dt.timedelta(days=i % 30), dt.time(8)),
              "due": dt.datetime.combine(start + dt.timedelta(days=i % 30 + 3), dt.time(8))}
             for i in range(2400)])
        expected = _raw_heat(conn, "ZJ", start, end)
    assert sum(expected.values()) > 2400
    with Session(own_store.engine) as s:
        heat = heat_by_child_and_core(s, unit_by_code(s, "ZJ"), start, end, NOW)
    got = {(r.child, r.core): int(r.events) for r in heat.itertuples()}
    assert got == expected


def _raw_trend(conn, code: str, start: dt.date, end: dt.date) -> list[tuple[dt.date, int, int]]:
    """Day by day: events of the subtree created before the day's end and not resolved by then,
    and of those the ones whose deadline had passed (one SQL count per day)."""
    path = conn.execute(text("SELECT path FROM org_unit WHERE code = :c"), {"c": code}).scalar()
    out, day = [], start
    while day <= end:
        at = dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
        live, late = conn.execute(text(
            "SELECT count(*), sum(CASE WHEN e.deadline < :at THEN 1 ELSE 0 END) FROM risk_event e "
            "JOIN org_unit u ON u.id = e.unit_id WHERE substr(u.path, 1, :n) = :path "
            "AND e.created_at < :at AND (e.resolved_at IS NULL OR e.resolved_at >= :at)"),
            {"at": at, "n": len(path), "path": path}).one()
        out.append((day, live, late or 0))
        day += dt.timedelta(days=1)
    return out


@pytest.mark.writes
def test_the_open_trend_is_the_day_by_day_count(own_store):
    """Events resolved on the day they were created, the next day, late and never, at midnight
    exactly and a second before: the trend is the raw count on every day."""
    with own_store.engine.begin() as conn:
        outlet, rule = conn.execute(text(
            "SELECT (SELECT min(id) FROM org_unit WHERE tier = 5), (SELECT min(id) FROM risk_rule)"
        )).one()
        t = lambda d, h=8, m=0, s=0: dt.datetime(2026, 6, d, h, m, s)  # noqa: E731
        spans = [(t(3), t(6), t(3, 17)), (t(3), t(4), t(5)), (t(4), t(5), None),
                 (t(5), t(5, 12), t(7, 0)), (t(6), t(6, 9), t(6, 23, 59, 59)),
                 (t(7, 0), t(8, 0), t(10, 0)), (t(9), t(20), None)]
        conn.execute(text(
            "INSERT INTO risk_event (rule_id, unit_id, owner_unit_id, first_day, last_day, value, "
            "threshold, state, created_at, deadline, resolved_at) VALUES (:rule, :unit, :unit, "
            ":day, :day, 1, 0.5, :state, :at, :due, :done)"),
            [{"rule": rule, "unit": outlet, "day": c.date(), "at": c, "due": d, "done": r,
              "state": "open" if r is None else "resolved"} for c, d, r in spans])
    start, end = dt.date(2026, 6, 2), dt.date(2026, 6, 25)
    for code in ("ZJ", "ZJ-HZ-01"):
        with own_store.engine.connect() as conn:
            expected = _raw_trend(conn, code, start, end)
        with Session(own_store.engine) as s:
            trend = open_trend(s, unit_by_code(s, code), start, end)
        assert [(r.day, r.open, r.overdue) for r in trend.itertuples()] == expected
