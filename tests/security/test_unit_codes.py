"""Unit codes follow a strict pattern (letters, digits, '-', '_'; a letter or digit first; at most
32), wherever units are created: imports (row-level errors, nothing written), the demo generator,
the ORM. Codes already in the store that break it keep working, and `init-db` names them."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from data.models import OrgUnit, is_unit_code
from data.units import path_for
from jobs import demo, demo_geo
from jobs.demo import seed_demo
from jobs.ingest.load import import_file
from tests.conftest import DEMO_END, new_store

RULE_EN = "a unit code has only letters, digits, '-' and '_'"
RULE_ZH = "单位代码只能由字母、数字、“-”和“_”组成"


@pytest.mark.parametrize(("code", "ok"), [
    ("HQ", True), ("ZJ-HZ-01-02", True), ("zj_hz_7", True), ("0571", True), ("A" * 32, True),
    ("../../x", False), ("..", False), ("a/b", False), ("a\\b", False), ("a.b", False),
    ("-rf", False), ("_x", False), ("=1+1", False), ("ZJ HZ", False), (" ZJ", False),
    ("ZJ\n", False), ("杭州", False), ("Ｚ", False), ("", False), ("A" * 33, False),
    ("ZJ%2F..", False), ("{unit}", False),
])
def test_the_unit_code_rule(code, ok):
    assert is_unit_code(code) is ok


def _units_file(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["code", "name_zh", "name_en", "tier", "parent"], *rows])
    return path


def _count(store) -> int:
    with Session(store.engine) as s:
        return s.scalar(select(func.count()).select_from(OrgUnit))


def test_an_import_refuses_bad_codes_row_by_row_and_writes_nothing(empty_store, tmp_path):
    path = _units_file(tmp_path / "units.csv", [
        ["HQ", "总部", "HQ", "1", ""],                       # row 2: fine
        ["../../x", "坏", "Bad", "2", "HQ"],                 # row 3
        ["ZJ", "浙江", "Zhejiang", "2", "HQ"],               # row 4: fine
        ["ZJ/HZ", "杭州", "Hangzhou", "3", "ZJ"],            # row 5
        ["-rf", "选项", "Option", "3", "ZJ"],                # row 6
        ["=HYPERLINK(\"http://x\")", "公式", "Formula", "3", "ZJ"],  # row 7
        ["ZJ-NB", "宁波", "Ningbo", "3", "../ZJ"],           # row 8: the parent column
        ["ZJ-WZ", "温州", "Wenzhou", "3", "ZJ"],             # row 9: fine
    ])
    report = import_file(empty_store.engine, path, "units", username="test")
    assert not report.ok
    found = {(p.row, p.column) for p in report.problems}
    assert found == {(3, "code"), (5, "code"), (6, "code"), (7, "code"), (8, "parent")}
    lines = report.problem_lines()
    bad = next(line for line in lines if "row 3" in line)
    assert "'../../x'" in bad and RULE_EN in bad and RULE_ZH in bad
    assert _count(empty_store) == 0  # nothing half-written


def test_a_file_of_good_codes_imports(empty_store, tmp_path):
    path = _units_file(tmp_path / "units.csv", [
        ["HQ", "总部", "HQ", "1", ""], ["ZJ", "浙江", "Zhejiang", "2", "HQ"],
        ["ZJ_HZ-01", "杭州", "Hangzhou", "3", " ZJ "]])  # blanks around a code are trimmed
    report = import_file(empty_store.engine, path, "units", username="test")
    assert report.ok, report.problem_lines()
    assert _count(empty_store) == 3


def test_the_cli_names_the_row_and_the_rule(tmp_path, runner_for):
    store = new_store("sqlite", tmp_path)
    try:
        path = _units_file(tmp_path / "units.csv", [["HQ", "总部", "HQ", "1", ""],
                                                   ["../../x", "坏", "Bad", "2", "HQ"]])
        result = runner_for(store.url).invoke(args=["import-data", str(path)])
        assert result.exit_code == 1
        assert "units.csv, row 3, column code: '../../x'" in result.output
        assert RULE_EN in result.output
        assert _count(store) == 0
    finally:
        store.drop()


def test_the_orm_refuses_a_bad_code():
    with pytest.raises(ValueError, match="not a unit code"):
        OrgUnit(code="../x", name_zh="x", name_en="x", tier=1, path="/000001/")


def test_the_demo_generator_refuses_a_bad_code(monkeypatch):
    monkeypatch.setattr(demo_geo, "PROVINCE", ("../ZJ", *demo_geo.PROVINCE[1:]))
    with pytest.raises(ValueError, match=r"'\.\./ZJ'"):
        demo.plan_units(demo.SCALES["tiny"])


@pytest.mark.parametrize("scale", list(demo.SCALES))
def test_demo_codes_follow_the_rule(scale):
    assert all(is_unit_code(u.code) for u in demo.plan_units(demo.SCALES[scale]))


def test_a_bad_code_already_in_the_store_is_named_and_cannot_be_updated(tmp_path, runner_for):
    # A store filled before the rule: the unit stays usable, `init-db` names it at every upgrade,
    # and a units file cannot update it (the row is refused like a new one).
    store = new_store("sqlite", tmp_path)
    try:
        seed_demo(store.engine, "tiny", 42, DEMO_END)
        with Session(store.engine) as s:
            zj = s.scalar(select(OrgUnit).where(OrgUnit.code == "ZJ"))
            new_id = s.scalar(select(func.max(OrgUnit.id))) + 1
            s.execute(insert(OrgUnit), [{"id": new_id, "code": "../../old", "name_zh": "旧",
                                         "name_en": "Old", "tier": 3, "parent_id": zj.id,
                                         "path": path_for(zj.path, new_id)}])
            s.commit()
        runner = runner_for(store.url)
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        assert "1 unit code(s) break the rule" in result.output and "'../../old'" in result.output
        path = _units_file(tmp_path / "units.csv", [["../../old", "新", "New", "3", "ZJ"]])
        report = import_file(store.engine, path, "units", username="test")
        assert [(p.row, p.column) for p in report.problems] == [(2, "code")]
        with Session(store.engine) as s:
            assert s.scalar(select(OrgUnit.name_zh).where(OrgUnit.code == "../../old")) == "旧"
        clean = new_store("sqlite", tmp_path)
        try:
            result = runner_for(clean.url).invoke(args=["init-db"])
            assert result.exit_code == 0 and "break the rule" not in result.output
        finally:
            clean.drop()
    finally:
        store.drop()
