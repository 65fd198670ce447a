"""A whole roll-up build runs in bounded chunks (a city's subtree each) and resumes (issue 24,
item 8): interrupted after its first chunk, the metrics read the facts (exactly what facts_only()
gives, even with a chunk's rows there), facts imported meanwhile are not lost, and resuming ends
equal to a whole build in one transaction; on each database."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from data.changes import data_changed
from data.models import ROLLUP_TABLES, Meta, OrgUnit, RollupChannel
from data.units import unit_by_code
from jobs.demo import seed_demo
from metrics import rollups
from metrics.compute import compute, facts_only
from tests.conftest import DEMO_END, new_store
from tests.test_speed import _rollup_rows, assert_same

FIRST = DEMO_END - dt.timedelta(days=179)  # the tiny demo's first day


class Interrupted(Exception):
    """Stands for a crash, a deploy or a Ctrl-C between two chunks."""


def _stop_after_first_chunk(done: int, _chunks: int) -> None:
    raise Interrupted(done)


def _views(session) -> list:
    out = []
    for code in ("HQ", "ZJ", "ZJ-HZ-01"):
        unit = unit_by_code(session, code)
        for start, end in ((FIRST, FIRST + dt.timedelta(days=9)), (FIRST, DEMO_END),
                           (DEMO_END - dt.timedelta(days=6), DEMO_END)):
            out.append(compute(session, ["visits", "online_substitution", "registered_users",
                                         "satisfaction"], unit, start, end, by="month"))
    return out


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_an_interrupted_build_reads_facts_and_resumes_to_a_whole_build(kind, tmp_path):
    store = new_store(kind, tmp_path)
    try:
        seed_demo(store.engine, "tiny", 42, DEMO_END)
        with Session(store.engine) as session:
            rollups.forget(session)
            for table in ROLLUP_TABLES:  # start from nothing, so what a chunk did shows
                session.execute(delete(table))
            session.commit()
        with pytest.raises(Interrupted):
            rollups.build(store.engine, _stop_after_first_chunk)
        with Session(store.engine) as session:
            first_city = unit_by_code(session, "ZJ-HZ")  # the first city by path
            assert not rollups.built(session)
            assert session.get(Meta, rollups.THROUGH_KEY).value == first_city.path
            built_units = set(session.scalars(
                select(OrgUnit.code).join(RollupChannel, RollupChannel.unit_id == OrgUnit.id)))
            assert built_units == {"ZJ-HZ", "ZJ-HZ-01", "ZJ-HZ-02"}  # the first chunk only
            # The metrics do not read the half-built set: a tampered chunk changes nothing.
            session.execute(text("UPDATE rollup_channel SET visits = visits + 100000"))
            with facts_only():
                plain = _views(session)
            assert_same(_views(session), plain)
            session.rollback()
            # Facts change meanwhile, in the chunk already built and in one still to build.
            for code in ("ZJ-HZ-01-01", "ZJ-NB-02-01"):
                outlet = unit_by_code(session, code)
                session.execute(text("UPDATE channel_daily SET visits = visits + 7 "
                                     "WHERE unit_id = :u AND day = :d"),
                                {"u": outlet.id, "d": DEMO_END})
                data_changed(session, DEMO_END, DEMO_END, [outlet.id])
            session.commit()
        assert rollups.build(store.engine)  # resumes after the first chunk
        with Session(store.engine) as session:
            assert rollups.built(session) and session.get(Meta, rollups.THROUGH_KEY) is None
            resumed = _rollup_rows(session)
            rolled_up = _views(session)
            with facts_only():
                assert_same(rolled_up, _views(session))
            rollups.forget(session)
            rollups.refresh(session)  # the whole build in one transaction, for reference
            assert rollups.built(session)
            whole = _rollup_rows(session)
            session.rollback()
        assert_same(resumed, whole)
        assert not rollups.build(store.engine)  # nothing left to do
    finally:
        store.drop()
