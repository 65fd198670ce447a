"""Stages need evidence of the risk scan (issue 18, items 1 and 6): each scan records the days it
covered, a month the scans over every unit did not wholly cover leaves "risk events closed on
time" unknown (so no stage 4), the API and pages name such months, and scans serialise."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from data.clock import month_end, months_between
from data.models import OrgUnit, RiskEvent, RiskEventStep, RiskScanRun
from data.units import unit_by_code
from metrics.stages import NOT_SCANNED, assess, assess_months
from tests.conftest import DB_KINDS, DEMO_END, app_over, login, seeded_store

DEMO_START = DEMO_END - dt.timedelta(days=179)  # the tiny demo's 180 days
MAY = dt.date(2026, 5, 1)


@pytest.fixture(scope="module")
def own(tmp_path_factory):
    """A tiny demo on SQLite whose scan runs the tests replace."""
    store = seeded_store("sqlite", tmp_path_factory.mktemp("coverage"))
    yield store
    store.drop()


def _runs(store, *spans: tuple[dt.date, dt.date], all_units: bool = True,
          finished: bool = True) -> None:
    """Replace the store's scan runs by runs over `spans` (the events stay)."""
    with Session(store.engine) as s:
        s.execute(delete(RiskScanRun))
        for first, last in spans:
            s.add(RiskScanRun(first_day=first, last_day=last, all_units=all_units,
                              started_at=dt.datetime(2026, 7, 1),
                              finished_at=dt.datetime(2026, 7, 1) if finished else None,
                              new=0, extended=0))
        s.commit()


def _closure(a) -> object:
    return next(c for c in a.criteria if c.id == "risk_closed_on_time")


def test_a_month_with_a_hole_in_its_scan_is_unknown_and_blocks_stage_four(own):
    """ZJ-HZ-01-01 is at stage 4 in May 2026 when the scan covered all of May; a scan with a hole
    (May 10-14 never scanned, later days scanned) leaves its closure unknown and the stage below 4."""
    _runs(own, (dt.date(2026, 3, 13), DEMO_END))
    with Session(own.engine) as s:
        full = assess(s, unit_by_code(s, "ZJ-HZ-01-01"), MAY, DEMO_END)
    assert full.stage == 4 and _closure(full).met is True and _closure(full).reason is None

    _runs(own, (dt.date(2026, 3, 13), dt.date(2026, 5, 9)), (dt.date(2026, 5, 15), DEMO_END))
    with Session(own.engine) as s:
        holed = assess(s, unit_by_code(s, "ZJ-HZ-01-01"), MAY, DEMO_END)
        june = assess(s, unit_by_code(s, "ZJ-HZ-01-01"), dt.date(2026, 6, 1), DEMO_END)
    crit = _closure(holed)
    assert (crit.value, crit.met, crit.reason) == (None, None, NOT_SCANNED)
    assert holed.stage < 4 and holed.unscanned
    assert _closure(june).value is not None and not june.unscanned  # June is wholly covered


def test_a_scan_of_some_units_covers_no_month(own):
    _runs(own, (dt.date(2026, 3, 13), DEMO_END), all_units=False)  # e.g. an import's scans
    with Session(own.engine) as s:
        a = assess(s, unit_by_code(s, "ZJ-HZ-01-01"), MAY, DEMO_END)
    assert _closure(a).value is None and a.stage < 4


def test_a_run_that_never_finished_covers_no_month(own):
    _runs(own, (dt.date(2026, 3, 13), DEMO_END), finished=False)
    with Session(own.engine) as s:
        a = assess(s, unit_by_code(s, "ZJ-HZ-01-01"), MAY, DEMO_END)
    assert _closure(a).value is None and a.stage < 4


def test_a_wholly_covered_month_with_no_event_due_counts_as_met(own):
    _runs(own, (dt.date(2026, 4, 1), dt.date(2026, 4, 20)), (dt.date(2026, 4, 21), MAY),
          (dt.date(2026, 5, 2), dt.date(2026, 5, 31)))  # adjoining runs cover May whole
    with Session(own.engine) as s:
        unit = unit_by_code(s, "ZJ-HZ-02-01")
        due = s.scalar(select(func.count()).select_from(RiskEvent).where(
            RiskEvent.unit_id == unit.id, RiskEvent.deadline >= dt.datetime(2026, 5, 1),
            RiskEvent.deadline < dt.datetime(2026, 6, 1)))
        assert due == 0  # the outlet has no child: its own events are its subtree's
        a = assess(s, unit, MAY, DEMO_END)
    assert _closure(a).value == 1.0 and _closure(a).met is True


def _covered_days(session) -> set[dt.date]:
    """Every day a run over every unit covered, from the run table with plain SQL."""
    days: set[dt.date] = set()
    for first, last in session.execute(text(
            "SELECT first_day, last_day FROM risk_scan_run "
            "WHERE all_units AND finished_at IS NOT NULL")).all():
        first, last = (d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d))
                       for d in (first, last))
        days.update(dt.date.fromordinal(n) for n in range(first.toordinal(), last.toordinal() + 1))
    return days


def test_risk_closure_is_known_exactly_in_the_months_the_scan_covered(tiny_store):
    """Over the whole tiny demo (every unit, every month): the criterion has a value if and only if
    every day of the month (up to the data's end) lies in a run over every unit, and a month
    without that never reaches stage 4."""
    with Session(tiny_store.engine) as s:
        covered = _covered_days(s)
        units = s.scalars(select(OrgUnit).order_by(OrgUnit.path)).all()
        months = months_between(DEMO_START, DEMO_END)
        whole = {m for m in months
                 if all(dt.date.fromordinal(n) in covered for n in range(
                     m.toordinal(), min(month_end(m), DEMO_END).toordinal() + 1))}
        assert set(months) - whole and whole  # the demo has both kinds of month
        for unit in units:
            for a in assess_months(s, unit, months[0], months[-1], DEMO_END):
                crit = _closure(a)
                assert (crit.value is not None) == (a.month in whole), (unit.code, a.month)
                if a.month not in whole:
                    assert crit.reason == NOT_SCANNED and a.stage < 4, (unit.code, a.month)


@pytest.mark.parametrize("kind", DB_KINDS)
def test_the_stages_api_names_the_months_the_scan_did_not_cover(kind, tmp_path):
    store = seeded_store(kind, tmp_path)
    try:
        with Session(store.engine) as s:
            first = s.scalar(select(func.min(RiskScanRun.first_day)))
        assert first is not None and first.day > 1  # the demo scans from mid-month on
        with app_over(store) as flask_app:
            c = flask_app.test_client()
            login(c, "admin")
            for month, reason in ((first.replace(day=1), NOT_SCANNED), (MAY, None)):
                rows = c.get(f"/api/v1/stages?unit=ZJ-HZ-01-01&period={month:%Y-%m}").get_json()
                crit = next(x for x in rows[0]["criteria"] if x["id"] == "risk_closed_on_time")
                assert crit["reason"] == reason, (month, crit)
                assert (crit["value"] is None) == (reason is not None)
    finally:
        store.drop()


def test_the_pages_name_the_unscanned_months_and_the_coverage(app, tiny_store):
    from tests.test_pages import render

    with Session(tiny_store.engine) as s:
        first, last = s.execute(select(func.min(RiskScanRun.first_day),
                                       func.max(RiskScanRun.last_day))).one()
    stages = render(app, "stages", "admin", unit="ZJ-HZ-01-01", start="2026-06-01",
                    end="2026-06-30")
    # The tiny demo's data begins in January; its scan begins in March (after the look-back).
    assert "unscanned-months" in stages and "2026-01, 2026-02, 2026-03" in stages
    assert "风险事件按时关闭率" in stages
    risk = render(app, "risk", "admin", unit="ZJ", start="2026-06-01", end="2026-06-30")
    assert f"风险扫描覆盖：{first.isoformat()} – {last.isoformat()}" in risk


# -- Scans serialise --------------------------------------------------------------------------


def _duplicates(session) -> int:
    """Events that share rule, unit, carrier and first day with another (a scan opened it twice)."""
    return session.scalar(text(
        "SELECT count(*) FROM (SELECT 1 FROM risk_event GROUP BY rule_id, unit_id, carrier, "
        "first_day HAVING count(*) > 1) AS twice")) or 0


@pytest.mark.parametrize("kind", DB_KINDS)
def test_two_scans_at_once_never_open_an_event_twice(kind, tmp_path, monkeypatch):
    """Two scans of the same days in two threads (two connections), as two imports of different
    kinds would run them: each waits at its first event until the other reaches its own (or 5 s
    pass), so without serialising both look for the event before either has written it."""
    import risk.scan as scanning

    store = seeded_store(kind, tmp_path)
    try:
        start = DEMO_END - dt.timedelta(days=29)
        with Session(store.engine) as s:  # forget the seed's events: the scans find them again
            s.execute(delete(RiskEventStep))
            s.execute(delete(RiskEvent))
            s.commit()
        arrived: set[int] = set()
        met = threading.Condition()
        record = scanning.record

        def rendezvous(*args, **kwargs):
            me = threading.get_ident()
            with met:
                if me not in arrived:
                    arrived.add(me)
                    met.notify_all()
                    met.wait_for(lambda: len(arrived) >= 2, timeout=5)
            return record(*args, **kwargs)

        monkeypatch.setattr(scanning, "record", rendezvous)
        results: list[object] = []

        def one_scan() -> None:
            try:
                with Session(store.engine) as s:
                    results.append(scanning.scan(s, start, DEMO_END))
                    s.commit()
            except Exception as exc:  # reported below: the test fails with it
                results.append(exc)

        threads = [threading.Thread(target=one_scan) for _ in range(2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(120)
        assert not any(th.is_alive() for th in threads)
        assert all(isinstance(r, dict) for r in results), results
        with Session(store.engine) as s:
            found = s.scalar(select(func.count()).select_from(RiskEvent))
            assert found and _duplicates(s) == 0
        # The second scan found every event the first opened: it opened none.
        assert sorted(r["new"] for r in results if isinstance(r, dict)) == [0, found]
        with Session(store.engine) as s:
            assert s.scalar(select(func.count()).select_from(RiskScanRun)
                            .where(RiskScanRun.first_day == start)) == 2
    finally:
        store.drop()
