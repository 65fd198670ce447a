"""A day's load at national scale (some 13,000 units, bench/daily_load.py): the risk scan reads
each rule's daily series of all the units of a tier at once (`metrics.compute.daily_series`, the
same values as computing each unit alone) and only as far back as the rule looks; an import
refreshes the roll-ups of the tables it wrote and scans the rules that read them, nothing else."""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import random
import re
from pathlib import Path

import pytest
from sqlalchemy import event, select, text, update
from sqlalchemy.orm import Session

from data.changes import data_changed
from data.models import ROLLUP_TABLES, OrgUnit, RiskRule
from jobs.ingest import import_file
from metrics import rollups
from metrics.cache import bypass
from metrics.compute import compute, daily_series, facts_only
from risk import detect
from risk.detect import Day
from risk.params import PARAMS
from risk.scan import scan
from tests.conftest import DEMO_END
from tests.test_rollups import fingerprint

FORMATS = Path(__file__).resolve().parent.parent / "data" / "formats"

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
        since = DEMO_END - dt.timedelta(days=4)  # the days asked for; stocks carried from START
        for reference, first in ((False, None), (True, None), (False, since)):
            for rule in rules:
                carriers = [rule.carrier] if rule.carrier else None
                for tier in range(1, 6):
                    tier_units = [u for u in units if u.tier == tier]
                    with facts_only() if reference else contextlib.nullcontext():
                        got = daily_series(s, rule.kpi, tier_units, START, DEMO_END, carriers,
                                           since=first)
                        want = {u.id: {d: v for d, v in _alone(s, rule.kpi, u, carriers).items()
                                       if first is None or d >= first} for u in tier_units}
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


@pytest.mark.parametrize("rule_type", sorted(detect.EVALUATORS))
def test_an_evaluator_reads_no_further_back_than_its_history(rule_type):
    """The scan reads a flow KPI's series from `history_days` before the day: cut there, every
    rule type judges random series as it does with the whole series."""
    rng = random.Random(20)
    day = dt.date(2026, 6, 30)
    for _ in range(300):
        params = {"value": rng.choice([0.5, 5.0, 50.0]), "op": rng.choice("<>"),
                  "window": rng.randint(1, PARAMS["change"]["window"].high or 7),
                  "max_drop": 0.2, "max_rise": 1.0, "min_count": 3,
                  "weeks": rng.randint(2, 10), "z": 2.0, "side": rng.choice(["low", "both"]),
                  "min_usual": 3}
        if rule_type == "threshold":
            params["window"] = rng.choice([1, 3, 7])
        series = {day - dt.timedelta(days=i): Day(v, v, 1.0) for i in range(120)
                  if (v := rng.choice([None, 0.0, rng.uniform(0, 100)])) is not None}
        back = detect.history_days(rule_type, params)
        cut = {d: v for d, v in series.items() if d >= day - dt.timedelta(days=back)}
        evaluate = detect.EVALUATORS[rule_type]
        assert evaluate(cut, day, params) == evaluate(series, day, params), params


@pytest.mark.writes
def test_an_import_refreshes_and_scans_only_what_its_tables_feed(own_store):
    """A content import rebuilds the content and data-load roll-ups (as a whole rebuild would) and
    reads no channel, stock or work-order fact or roll-up: neither to refresh nor to scan."""
    touched: list[str] = []
    other = re.compile(r"\b(channel_daily|rollup_channel|user_stock_daily|rollup_stock|work_order"
                       r"|rollup_orders_created|rollup_orders_closed|campaign_daily"
                       r"|rollup_campaign)\b")

    def watch(conn, cursor, statement, *args):
        touched.extend(other.findall(statement))

    with Session(own_store.engine) as s:
        before = fingerprint(s)
    event.listen(own_store.engine, "before_cursor_execute", watch)
    try:
        report = import_file(own_store.engine, FORMATS / "content_daily.csv")
    finally:
        event.remove(own_store.engine, "before_cursor_execute", watch)
    assert report.ok and report.inserted > 0 and report.risk is not None
    assert touched == []
    with Session(own_store.engine) as s:
        after = fingerprint(s)
        changed = {t for t in after if after[t] != before[t]}
        assert changed == {"rollup_content", "rollup_load"}
        rollups.refresh(s)  # every roll-up rebuilt whole from the facts: nothing differs
        assert fingerprint(s) == after
        s.rollback()
    assert changed <= {m.__tablename__ for m in ROLLUP_TABLES}
