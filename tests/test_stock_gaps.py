"""`rollup_stock_gap`: a stock's carry-forward over the days outlets did not report, from the
roll-ups (a few rows a unit) instead of every outlet's stock rows.

Outlets of the tiny demo lose stock rows: single days, runs of days, the first and last day of the
ranges asked, and one outlet's rows stop ten days before the end. Each change is refreshed for its
own days only; then the gap roll-up equals one rebuilt from nothing, and every stock KPI at every
non-outlet unit, by nothing, day, week, month and child, over several ranges, equals what the
facts alone give."""

from __future__ import annotations

import datetime as dt
import math
import random

import pytest
from sqlalchemy import delete, event, select, text
from sqlalchemy.orm import Session

from data.changes import data_changed
from data.models import OPEN_GAP, OUTLET_TIER, OrgUnit, RollupStockGap, UserStockDaily
from metrics import rollups
from metrics.cache import bypass
from metrics.compute import compute, facts_only
from metrics.registry import REGISTRY
from tests.conftest import DEMO_END

STOCK_KPIS = sorted(k.id for k in REGISTRY.values()
                    if any(m is not None and m.source == "stock"
                           for m in (k.numerator, k.denominator)))
DAY = dt.timedelta(days=1)


def _gap_rows(s: Session) -> list[tuple]:
    return sorted(tuple(str(v) for v in r) for r in s.execute(select(RollupStockGap.__table__)))


def _frame(frame) -> list[tuple]:
    out = []
    for rec in frame.to_dict("records"):
        out.append(tuple(sorted((k, None if isinstance(v, float) and math.isnan(v) else v)
                                for k, v in rec.items())))
    return sorted(out, key=repr)


def _same(a: list[tuple], b: list[tuple]) -> bool:
    if len(a) != len(b):
        return False
    for ra, rb in zip(a, b, strict=True):
        for (ka, va), (kb, vb) in zip(ra, rb, strict=True):
            if ka != kb:
                return False
            if isinstance(va, float) and isinstance(vb, float):
                if not math.isclose(va, vb, rel_tol=1e-9, abs_tol=1e-9):
                    return False
            elif va != vb:
                return False
    return True


@pytest.mark.writes
def test_gaps_refreshed_by_day_equal_a_rebuild_and_the_facts(own_store):
    assert len(STOCK_KPIS) >= 5
    rng = random.Random(20)
    first = DEMO_END - 60 * DAY
    gap_reads: list[str] = []

    def watch(conn, cursor, statement, *args):
        if "rollup_stock_gap" in statement and statement.lstrip().upper().startswith("SELECT"):
            gap_reads.append(statement)

    with Session(own_store.engine) as s, bypass():
        outlets = s.scalars(select(OrgUnit).where(OrgUnit.tier == OUTLET_TIER)
                           .order_by(OrgUnit.path)).all()
        assert len(outlets) >= 8
        removed: list[tuple[int, list[dt.date]]] = [
            (outlets[0].id, [DEMO_END - i * DAY for i in range(10)]),  # stops ten days early
            (outlets[1].id, [DEMO_END]),  # misses the last day
            (outlets[2].id, [first, first + DAY]),  # misses the first days of a range
            (outlets[3].id, [DEMO_END - 20 * DAY]),  # the last day of another range
        ]
        for o in rng.sample(outlets[4:], k=4):
            a = first + rng.randrange(0, 55) * DAY
            removed.append((o.id, [a + i * DAY for i in range(rng.choice([1, 2, 5]))]))
        for uid, days in removed:
            s.execute(delete(UserStockDaily).where(UserStockDaily.unit_id == uid,
                                                   UserStockDaily.day.in_(days)))
            data_changed(s, min(days), max(days), [uid])
        refreshed = _gap_rows(s)
        opened = [r for r in refreshed if r[2] == str(OPEN_GAP)]
        assert any(r[1] == str(DEMO_END - 10 * DAY) for r in opened)  # the outlet that stopped
        s.execute(text("DELETE FROM meta WHERE key = 'rollups_built'"))
        rollups.refresh(s)  # never built -> rebuilt whole
        assert rollups.built(s)
        assert _gap_rows(s) == refreshed

        units = s.scalars(select(OrgUnit).where(OrgUnit.tier != OUTLET_TIER)
                          .order_by(OrgUnit.path)).all()
        ranges = [(first, DEMO_END), (first, DEMO_END - 20 * DAY),
                  (DEMO_END - 12 * DAY, DEMO_END - DAY), (first + DAY, first + 9 * DAY)]
        checked = 0
        event.listen(own_store.engine, "before_cursor_execute", watch)
        try:
            for unit in units:
                for start, end in ranges:
                    for by in (None, "day", "week", "month", "child"):
                        got = _frame(compute(s, STOCK_KPIS, unit, start, end, by=by))
                        with facts_only():
                            want = _frame(compute(s, STOCK_KPIS, unit, start, end, by=by))
                        assert want, (unit.code, start, end, by)
                        assert _same(got, want), (unit.code, start, end, by, got, want)
                        checked += len(want)
        finally:
            event.remove(own_store.engine, "before_cursor_execute", watch)
        assert checked > 1000
        assert gap_reads  # the roll-up path read the gaps (the facts path never does)
        s.rollback()


@pytest.mark.writes
def test_the_migration_builds_the_gaps_alone(own_store):
    """A store whose roll-ups were built before `rollup_stock_gap` existed: `init-db` builds that
    table alone (the others are not rewritten), and the store reads from the roll-ups again."""
    from alembic.script import ScriptDirectory

    from jobs.schema import alembic_config, downgrade, upgrade
    from tests.test_rollups import fingerprint

    previous = ScriptDirectory.from_config(alembic_config()).get_revision("0021").down_revision

    with Session(own_store.engine) as s:
        before = fingerprint(s)
        whole = _gap_rows(s)
    assert whole
    downgrade(own_store.engine, previous)
    with Session(own_store.engine) as s:
        assert rollups.built(s)
    written: list[str] = []

    def watch(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith(("INSERT", "DELETE")):
            written.append(statement.split("(")[0])

    event.listen(own_store.engine, "before_cursor_execute", watch)
    try:
        upgrade(own_store.engine)
    finally:
        event.remove(own_store.engine, "before_cursor_execute", watch)
    assert any("rollup_stock_gap" in w for w in written)
    assert not [w for w in written if "rollup_" in w and "rollup_stock_gap" not in w]
    with Session(own_store.engine) as s:
        assert rollups.built(s)
        assert s.scalar(text("SELECT count(*) FROM meta WHERE key = 'rollups_pending'")) == 0
        assert fingerprint(s) == before
        assert _gap_rows(s) == whole
