"""`metrics.hotline.live_counters` (the live wall's hotline figures) against plain SQL over the
interval rows, on each database: sums and sum/sum ratios of the subtree's centres for the day,
intervals that started before `until`; "-" (None) where there is no data, never 0; scope first."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from data.units import unit_by_code
from metrics.hotline import live_counters
from metrics.scope import OutOfScope, Scope
from tests.conftest import DEMO_END

SUBTREE = ("h.unit_id IN (SELECT s.id FROM org_unit s, org_unit u"
           " WHERE u.code = :u AND s.path LIKE u.path || '%')")
UNTIL = dt.datetime.combine(DEMO_END, dt.time(13, 5))


def _sql(store, unit: str, until: dt.datetime):
    with store.engine.connect() as conn:
        totals = conn.execute(text(f"""SELECT sum(offered), sum(answered), sum(answered_20s),
            sum(abandoned), sum(wait_seconds), sum(handle_seconds), count(DISTINCT interval_start)
            FROM hotline_interval h WHERE {SUBTREE} AND day = :d AND interval_start < :t"""),
            {"u": unit, "d": DEMO_END, "t": until}).one()
        by = conn.execute(text(f"""SELECT interval_start, sum(offered), sum(answered_20s)
            FROM hotline_interval h WHERE {SUBTREE} AND day = :d AND interval_start < :t
            GROUP BY interval_start ORDER BY interval_start"""),
            {"u": unit, "d": DEMO_END, "t": until}).all()
    return totals, by


@pytest.mark.parametrize("unit", ["HQ", "ZJ", "ZJ-NB"])
def test_live_counters_equal_plain_sql(tiny_store, unit):
    (offered, answered, within, abandoned, wait, handle, n), by = _sql(tiny_store, unit, UNTIL)
    with Session(tiny_store.engine) as s:
        got = live_counters(s, unit_by_code(s, unit), DEMO_END, UNTIL)
    assert n == 13 * 4 + 1 and got["intervals"] == n  # 00:00 .. 13:00
    assert (got["offered"], got["answered"], got["answered_20s"], got["abandoned"]) == (
        offered, answered, within, abandoned)
    assert got["service_level"] == pytest.approx(within / offered, rel=1e-12)
    assert got["abandonment_rate"] == pytest.approx(abandoned / offered, rel=1e-12)
    assert got["asa_seconds"] == pytest.approx(wait / answered, rel=1e-12)
    assert got["aht_seconds"] == pytest.approx(handle / answered, rel=1e-12)
    assert [(r["start"], r["offered"], r["answered_20s"]) for r in got["by_interval"]] == [
        (start if isinstance(start, dt.datetime) else dt.datetime.fromisoformat(start), o, w)
        for start, o, w in by]


def test_no_data_is_none_never_zero(tiny_store):
    with Session(tiny_store.engine) as s:
        county = live_counters(s, unit_by_code(s, "ZJ-NB-01"), DEMO_END, UNTIL)  # no centre
        early = live_counters(s, unit_by_code(s, "ZJ"), DEMO_END,
                              dt.datetime.combine(DEMO_END, dt.time(0, 0)))
        after = live_counters(s, unit_by_code(s, "ZJ"), DEMO_END + dt.timedelta(days=1), None)
    for got in (county, early, after):
        assert got["by_interval"] == [] and got["intervals"] == 0
        assert all(got[k] is None for k in ("offered", "answered", "abandoned", "service_level",
                                            "abandonment_rate", "asa_seconds", "aht_seconds"))
    with Session(tiny_store.engine) as s:
        whole = live_counters(s, unit_by_code(s, "ZJ"), DEMO_END)
    assert whole["intervals"] == 96


def test_scope_is_checked_before_anything_is_read(tiny_store):
    with Session(tiny_store.engine) as s:
        home = Scope.of(unit_by_code(s, "ZJ-HZ"))
        with pytest.raises(OutOfScope):
            live_counters(s, unit_by_code(s, "ZJ-NB"), DEMO_END, UNTIL, scope=home)
        assert live_counters(s, unit_by_code(s, "ZJ-HZ"), DEMO_END, UNTIL,
                             scope=home)["offered"] > 0
