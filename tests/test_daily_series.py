"""The risk scan's daily series of many units at once (`metrics.compute.daily_series`): the same
values as computing each unit alone, read in one query per source and tier whatever the number of
units (a national daily load scans some 13,000 units)."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from sqlalchemy import event, select, text, update
from sqlalchemy.orm import Session

from data.changes import data_changed
from data.models import OrgUnit, RiskRule
from metrics.cache import bypass
from metrics.compute import compute, daily_series, facts_only
from risk.scan import scan
from tests.conftest import DEMO_END

START = DEMO_END - dt.timedelta(days=40)


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _alone(s: Session, kpi: str, unit: OrgUnit, carriers) -> dict:
    frame = compute(s, [kpi], unit, START, DEMO_END, carriers, by="day")
    return {r.period: (r.value, r.numerator, r.denominator) for r in frame.itertuples()}


@pytest.mark.writes
def test_daily_series_equals_each_unit_computed_alone(own_store):
    """Every rule's KPI (and carrier) for every unit of every tier, from the roll-ups and from the
    facts alone, with an outlet's stock missing on two days (carried forward in its ancestors)."""
    with Session(own_store.engine) as s, bypass():
        units = s.scalars(select(OrgUnit).order_by(OrgUnit.path)).all()
        outlet = next(u for u in units if u.tier == 5)
        late = [DEMO_END - dt.timedelta(days=3), DEMO_END - dt.timedelta(days=20)]
        s.execute(text("DELETE FROM user_stock_daily WHERE unit_id = :u AND day IN (:a, :b)"),
                  {"u": outlet.id, "a": late[0], "b": late[1]})
        data_changed(s, min(late), max(late), [outlet.id])
        rules = s.scalars(select(RiskRule).where(RiskRule.type != "audit")).all()
        checked = 0
        for reference in (False, True):
            for rule in rules:
                carriers = [rule.carrier] if rule.carrier else None
                for tier in range(1, 6):
                    tier_units = [u for u in units if u.tier == tier]
                    if reference:
                        with facts_only():
                            got = daily_series(s, rule.kpi, tier_units, START, DEMO_END, carriers)
                            want = {u.id: _alone(s, rule.kpi, u, carriers) for u in tier_units}
                    else:
                        got = daily_series(s, rule.kpi, tier_units, START, DEMO_END, carriers)
                        want = {u.id: _alone(s, rule.kpi, u, carriers) for u in tier_units}
                    for u in tier_units:
                        assert set(got[u.id]) == set(want[u.id]), (rule.code, u.code)
                        for day, values in want[u.id].items():
                            assert all(_same(a, b) for a, b in zip(got[u.id][day], values,
                                                                    strict=True)), \
                                (rule.code, u.code, day, got[u.id][day], values)
                            checked += 1
        assert checked > 1000
        s.rollback()


def test_daily_series_matches_the_facts_summed_in_sql(tiny_store):
    """App transactions by day for each outlet and each county: raw SQL over channel_daily."""
    with Session(tiny_store.engine) as s, bypass():
        for tier in (4, 5):
            units = s.scalars(select(OrgUnit).where(OrgUnit.tier == tier)).all()
            got = daily_series(s, "transactions", units, START, DEMO_END, ["app"])
            for u in units:
                rows = s.execute(text(
                    "SELECT f.day, sum(f.transactions) FROM channel_daily f "
                    "JOIN org_unit o ON o.id = f.unit_id JOIN carrier c ON c.id = f.carrier_id "
                    "WHERE o.path LIKE :p AND c.code = 'app' AND f.day BETWEEN :a AND :b "
                    "GROUP BY f.day"), {"p": u.path + "%", "a": START, "b": DEMO_END}).all()
                want = {dt.date.fromisoformat(str(d)[:10]): float(v) for d, v in rows}
                assert {d: v[0] for d, v in got[u.id].items()} == want
                assert len(want) > 30


@pytest.mark.writes
def test_the_scan_reads_a_rule_once_per_tier_not_once_per_unit(own_store):
    """With only the App silence rule (counties and outlets) active, scanning a day reads the
    channel facts and roll-up once per tier: 2 reads, where a read per unit made 12."""
    reads: list[str] = []

    def count(conn, cursor, statement, *args):
        if "channel_daily" in statement or "rollup_channel" in statement:
            reads.append(statement)

    with Session(own_store.engine) as s:
        s.execute(update(RiskRule).where(RiskRule.code != "app_silent").values(active=False))
        units = s.scalar(select(text("count(*)")).select_from(OrgUnit).where(
            OrgUnit.tier.in_([4, 5])))
        event.listen(own_store.engine, "before_cursor_execute", count)
        try:
            with bypass():
                scan(s, DEMO_END, DEMO_END)
        finally:
            event.remove(own_store.engine, "before_cursor_execute", count)
        s.rollback()
    assert units == 12
    assert len(reads) == 2, reads
