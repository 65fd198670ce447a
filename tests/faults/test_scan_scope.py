"""An import's risk scan covers the imported units, their ancestors and the imported days only
(issue 24, item 8), and still finds a breach the import brings."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import OrgUnit, RiskEvent, RiskRule, RiskScanRun
from jobs.demo import seed_demo
from jobs.ingest import KINDS, import_file
from metrics.risk import scan_coverage
from tests.conftest import DEMO_END, new_store
from tests.test_import import write_csv

DAY = DEMO_END + dt.timedelta(days=1)  # a new day: only what the test loads has data on it
HEADER = [c.name for c in KINDS["channel_daily"].columns]


def _silent_app_day(outlet: str) -> list[list]:
    """One outlet-day: the app carried nothing and was available no minute of 1440."""
    return [[outlet, DAY.isoformat(), "app", 0, 0, 1440, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]]


def _events(session) -> set[tuple[str, str]]:
    rows = session.execute(select(OrgUnit.code, RiskRule.code)
                           .join(RiskEvent, RiskEvent.unit_id == OrgUnit.id)
                           .join(RiskRule, RiskRule.id == RiskEvent.rule_id)
                           .where(RiskEvent.first_day == DAY)).all()
    return {(unit, rule) for unit, rule in rows}


def test_an_import_scans_only_its_units_their_ancestors_and_its_days(tmp_path):
    store = new_store("sqlite", tmp_path)
    try:
        seed_demo(store.engine, "tiny", 42, DEMO_END)
        # Another outlet's breach on the same day, loaded earlier without a scan: not this
        # import's business, so this import's scan must not evaluate that outlet or its parents.
        other = import_file(store.engine, write_csv(tmp_path / "nb.csv", HEADER,
                                                    _silent_app_day("ZJ-NB-02-02")),
                            "channel_daily", scan_risk=False)
        assert other.ok
        report = import_file(store.engine, write_csv(tmp_path / "hz.csv", HEADER,
                                                     _silent_app_day("ZJ-HZ-01-01")),
                             "channel_daily")
        assert report.ok and report.first_day == report.last_day == DAY
        with Session(store.engine) as session:
            found = _events(session)
        # The outlet (app_silent at tiers 4-5), its county (app_silent and availability_low at
        # tiers 3-4) and its city (availability_low at tier 3): the breach is found where it shows.
        assert {("ZJ-HZ-01-01", "app_silent"), ("ZJ-HZ-01", "app_silent"),
                ("ZJ-HZ-01", "availability_low"), ("ZJ-HZ", "availability_low")} <= found, found
        # Nothing of the other branch was scanned, although it breaches the same rules that day.
        assert not {u for u, _ in found if u.startswith("ZJ-NB")}, found
        assert report.risk is not None and report.risk["new"] == len(found)
        with Session(store.engine) as session:  # the other units are not covered on DAY
            assert all(last < DAY for _first, last in scan_coverage(session))
            assert session.scalars(select(RiskScanRun).where(RiskScanRun.first_day == DAY)
                                   ).one().all_units is False
        # The nightly scan of every unit still finds the other branch's breach.
        from risk.scan import scan
        with Session(store.engine) as session:
            scan(session, DAY, DAY)
            session.commit()
            assert ("ZJ-NB-02-02", "app_silent") in _events(session)
    finally:
        store.drop()
