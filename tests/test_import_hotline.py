"""The `hotline_intervals` import: every rule refuses its row with the reason in Chinese and
English, a re-imported interval replaces the stored one, a bad row leaves nothing written, and
the roll-ups of the imported days (only) follow."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from data.models import HotlineInterval
from data.units import unit_by_code
from jobs.ingest import KINDS, import_file
from jobs.ingest.read import ROW
from jobs.ingest.validate import Problems, check_chunk
from metrics.compute import compute
from tests.conftest import DB_KINDS, new_store
from tests.test_import import add_tiny_units, snapshot, write_csv
from tests.test_import_rules import LOOKUPS, VALID

HEADER = [c.name for c in KINDS["hotline_intervals"].columns]
KIND = "hotline_intervals"


def _check(*rows: dict):
    frame = pd.DataFrame([{ROW: i, **VALID[KIND], **r} for i, r in enumerate(rows, start=2)])
    problems = Problems()
    return check_chunk(KINDS[KIND], frame, LOOKUPS, problems), problems


CASES = [
    # (column, bad values, English words, Chinese words)
    ("answered", dict(answered="61"), "answered (61) is greater than offered (60)",
     "接通量（61）大于呼入量（60）"),
    ("answered_20s", dict(answered_20s="56"), "answered_20s (56) is greater than answered (55)",
     "20 秒内接通量（56）大于接通量（55）"),
    ("abandoned", dict(abandoned="6"), "abandoned (6) is greater than offered - answered (60 - 55)",
     "放弃量（6）大于呼入量减接通量"),
    ("offered", dict(offered="-1", answered="0", answered_20s="0", abandoned="0"),
     "negative count -1", "数量不能为负数：-1"),
    ("wait_seconds", dict(wait_seconds="-5"), "negative count -5", "数量不能为负数"),
    ("interval_start", dict(interval_start="2026-07-01 09:10"), "is not on a 15-minute boundary",
     "不在 15 分钟整点上"),
    ("interval_start", dict(interval_start="2026-07-01 09:15:30"), "is not on a 15-minute boundary",
     "不在 15 分钟整点上"),
    ("interval_start", dict(interval_start="9:15"), "is not a date and time", "不是日期时间"),
    ("unit", dict(unit="ZJ-XX"), "unknown unit code 'ZJ-XX'", "未知的单位代码 'ZJ-XX'"),
    ("offered", dict(offered=""), "required value missing", "缺少必填值"),
]


@pytest.mark.parametrize("column,bad,en,zh", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_rule_refuses_its_row_in_both_languages(column, bad, en, zh):
    out, problems = _check({}, bad, {"interval_start": "2026-07-01 09:30"})
    assert list(out["row_no"]) == [2, 4], "the good rows stay, the bad one is refused"
    hits = [p for p in problems.first if p.row == 3 and p.column == column]
    assert hits and en in hits[0].reason and zh in hits[0].reason_zh, problems.first
    assert hits[0].reason_in("zh") == hits[0].reason_zh and hits[0].reason_in("en") == hits[0].reason


def test_a_valid_row_gets_its_day_and_the_hotline_carrier():
    out, problems = _check({"interval_start": "2026-07-01 23:45"}, {"abandoned": "5"})
    assert problems.count == 0
    assert str(out.iloc[0]["day"])[:10] == "2026-07-01" and set(out["carrier_id"]) == {5}
    assert str(out.iloc[0]["interval_start"]) == "2026-07-01 23:45:00"


@pytest.fixture(params=DB_KINDS)
def store(request, tmp_path):
    s = new_store(request.param, tmp_path)
    add_tiny_units(s.engine)
    yield s
    s.drop()


def rows(day: str = "2026-07-01", offered: int = 60) -> list[list]:
    return [[unit, f"{day} {h:02d}:{m:02d}", offered, offered - 5, offered - 12, 4, 900, 15000]
            for unit in ("ZJ-HZ", "ZJ-NB") for h in (9, 10) for m in (0, 15, 30, 45)]


def service_level(store, code: str, day: dt.date):
    with Session(store.engine) as s:
        frame = compute(s, ["service_level"], unit_by_code(s, code), day, day)
    return frame.iloc[0]["numerator"], frame.iloc[0]["denominator"]


@pytest.mark.writes
def test_reimporting_an_interval_replaces_it_and_refreshes_that_days_rollups(store, tmp_path):
    first = import_file(store.engine, write_csv(tmp_path / "hotline.csv", HEADER, rows()))
    other = import_file(store.engine, write_csv(tmp_path / "hotline_2.csv", HEADER,
                                                rows("2026-07-02")))
    assert first.ok and first.inserted == 16 and other.ok
    assert service_level(store, "ZJ", dt.date(2026, 7, 1)) == (16 * 48, 16 * 60)
    with store.engine.connect() as conn:
        before_other_day = conn.execute(text(
            "SELECT count(*), sum(offered) FROM rollup_hotline WHERE day = '2026-07-02'")).one()
    again = import_file(store.engine, write_csv(tmp_path / "hotline_3.csv", HEADER,
                                                rows(offered=70)[:3] + rows()[3:]))
    assert again.ok and (again.inserted, again.updated, again.unchanged) == (0, 3, 13)
    assert service_level(store, "ZJ", dt.date(2026, 7, 1)) == (13 * 48 + 3 * 58, 13 * 60 + 3 * 70)
    with Session(store.engine) as s:
        assert s.scalar(select(HotlineInterval.offered).where(
            HotlineInterval.interval_start == dt.datetime(2026, 7, 1, 9, 0),
            HotlineInterval.unit_id == unit_by_code(s, "ZJ-HZ").id)) == 70
    with store.engine.connect() as conn:
        assert conn.execute(text(
            "SELECT count(*), sum(offered) FROM rollup_hotline WHERE day = '2026-07-02'")).one() \
            == before_other_day
        # the centres' intervals are no outlet's daily load: completeness does not see them
        assert conn.execute(text("SELECT count(*) FROM data_load")).scalar() == 0


@pytest.mark.writes
def test_one_bad_row_leaves_nothing_written(store, tmp_path):
    import_file(store.engine, write_csv(tmp_path / "hotline.csv", HEADER, rows()))
    before = snapshot(store.engine)
    with store.engine.connect() as conn:
        stored = conn.execute(text("SELECT sum(offered) FROM hotline_interval")).scalar()
    good = rows(offered=80)
    bad = [*good, ["ZJ-HZ", "2026-07-01 11:00", 10, 11, 5, 0, 0, 0],  # answered > offered
           ["ZJ-HZ", "2026-07-01 09:00", 10, 8, 5, 1, 0, 0]]  # overlaps the file's first row
    report = import_file(store.engine, write_csv(tmp_path / "hotline_bad.csv", HEADER, bad))
    assert not report.ok and report.problem_count == 2
    assert [(p.row, p.column) for p in report.problems] == [
        (18, "answered"), (19, "unit, interval_start")]
    assert "overlaps row 2" in report.problems[1].reason
    assert "与第 2 行的时段重叠" in report.problems[1].reason_zh
    assert snapshot(store.engine) == before
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT sum(offered) FROM hotline_interval")).scalar() == stored


def test_the_sample_names_the_documented_columns():
    sample = Path(__file__).resolve().parent.parent / "data" / "formats" / f"{KIND}.csv"
    assert sample.read_text(encoding="utf-8").splitlines()[0].split(",") == HEADER
