"""NaN, infinity and other non-numbers never reach the store (issue #16 item 9).

A manager saved target `nan` on PostgreSQL (SQLite answered 500): it turned a unit's status red
and changed its stage-4 score. One parser (data/numbers.py) now reads every number entered: the
targets page and service, rubric thresholds, risk-rule settings and the import's numeric columns;
the models refuse non-finite targets and thresholds from any other writer.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from auth import admin
from auth.accounts import AccountError
from data.models import Meta, RiskRule, StageCriterion, Target, User
from data.numbers import BadNumber, finite, whole
from jobs.ingest.read import ROW
from jobs.ingest.spec import KINDS
from jobs.ingest.validate import Lookups, Problems, check_chunk
from metrics.indicator_control import TargetError, set_target
from risk import rules_admin
from tests.conftest import DB_KINDS, app_over, login, own_target, seeded_store
from tests.security.dash_posts import outputs, post

YEAR = (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
NOT_FINITE = [math.nan, math.inf, -math.inf, "nan", "NaN", " inf ", "-Infinity", "1e999", 10**400]


def _store(kind, tmp_path):
    s = seeded_store(kind, tmp_path)
    return s


@pytest.fixture(params=DB_KINDS)
def store(request, tmp_path):
    """A writable tiny demo on each database (NaN is storable on PostgreSQL, not on SQLite)."""
    s = _store(request.param, tmp_path)
    yield s
    s.drop()


@pytest.fixture
def sqlite_store(tmp_path):
    s = _store("sqlite", tmp_path)
    yield s
    s.drop()


def _user(s, name):
    return s.scalar(select(User).where(User.username == name))


# -- the parser ---------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("12", 12.0), (" 0.8 ", 0.8), (".5", 0.5), ("-3", -3.0), ("1e3", 1000.0), ("+4.", 4.0),
    (7, 7.0), (2.5, 2.5), (0, 0.0)])
def test_finite_numbers_are_read(raw, expected):
    assert finite(raw) == expected


@pytest.mark.parametrize("raw", NOT_FINITE)
def test_nan_and_infinity_are_refused_in_both_languages(raw):
    with pytest.raises(BadNumber) as caught:
        finite(raw, ("目标值", "target"))
    assert "目标值必须是有限的数字" in str(caught.value)
    assert "The target must be a finite number" in str(caught.value)


@pytest.mark.parametrize("raw", ["1_000", "１２", "1,000", "0x10", "abc", "1.2.3", True, [1], {}])
def test_what_float_would_stretch_to_read_is_refused(raw):
    with pytest.raises(BadNumber):
        finite(raw)


def test_blanks_are_refused_where_a_value_is_required():
    for raw in (None, "", "   "):
        with pytest.raises(BadNumber, match="不能为空。 The value is required"):
            finite(raw)
        assert finite(raw, required=False) is None
    assert whole("12") == 12 and whole(12.0) == 12
    with pytest.raises(BadNumber, match="whole number"):
        whole("12.5")


# -- targets ------------------------------------------------------------------------------------

def test_a_non_finite_target_is_refused_and_nothing_is_written(store):
    with Session(store.engine) as s:
        manager = _user(s, "manager")
        set_target(s, manager, "online_payment", "ZJ-HZ-01", *YEAR, 0.8)
        set_target(s, manager, "visits", "ZJ-HZ-01", *YEAR, 5000)  # a count: no upper bound
        s.commit()
        for kpi, kept in (("online_payment", 0.8), ("visits", 5000)):
            for value in NOT_FINITE:
                with pytest.raises(TargetError, match="finite number"):
                    set_target(s, manager, kpi, "ZJ-HZ-01", *YEAR, value)
                s.rollback()
                assert own_target(s, kpi, "ZJ-HZ-01") == [kept], value
        # The stored target stays finite in the database itself, too.
        stored = s.scalars(select(Target.value)).all()
        assert all(math.isfinite(v) for v in stored)


def test_the_models_refuse_non_finite_targets_and_thresholds():
    with pytest.raises(BadNumber):
        Target(kpi="visits", value=math.nan)
    with pytest.raises(BadNumber):
        StageCriterion(id="satisfaction", stage=4, threshold=math.inf)


def test_a_forged_nan_on_the_targets_page_is_refused_on_each_database(store):
    with app_over(store) as flask_app:
        c = flask_app.test_client()
        login(c, "manager")
        context = {"kpi": "online_payment", "year": 2026, "units": ["ZJ-HZ-01", "ZJ-HZ-01-01"]}
        for value in (math.nan, "NaN", math.inf, "1e999"):  # the JSON carries NaN and Infinity
            response = post(c, flask_app, "pages.targets", "change_target",
                            [[{"rowId": "ZJ-HZ-01", "value": value}]], [context])
            assert response.status_code == 200, value
            shown = outputs(response)
            assert shown[("targets-message", "color")] == "red", value
            assert f"“{value}”不是数字" in shown[("targets-message", "children")], value
        with Session(store.engine) as s:
            assert own_target(s, "online_payment", "ZJ-HZ-01") == []


# -- rubric and rules ---------------------------------------------------------------------------

def test_a_non_finite_rubric_threshold_is_refused_with_its_reason(sqlite_store):
    with Session(sqlite_store.engine) as s:
        for value in NOT_FINITE:
            with pytest.raises(AccountError, match="threshold must be a finite number"):
                admin.set_threshold(s, _user(s, "admin"), "satisfaction", value)
            s.rollback()
            assert s.get(StageCriterion, "satisfaction").threshold == 0.90
            assert s.get(Meta, "rubric_version").value == "1"


RULE_VALUES = [
    ("params", '{"op": "<", "value": NaN}'), ("params", '{"op": "<", "value": Infinity}'),
    ("params", '{"op": "<", "value": 1e999}'), ("params", '{"op": "<", "nested": [-Infinity]}'),
    ("params", {"op": "<", "value": math.nan}), ("deadline_hours", math.inf),
    ("deadline_hours", "1e999"), ("deadline_hours", math.nan), ("owner_tier", -math.inf),
    ("deadline_hours", 2.5)]


def test_non_finite_rule_settings_are_refused(sqlite_store):
    with Session(sqlite_store.engine) as s:
        before = s.scalar(select(RiskRule).where(RiskRule.code == "satisfaction_low"))
        kept = (before.params, before.deadline_hours, before.owner_tier)
        for field, value in RULE_VALUES:
            with pytest.raises(AccountError):
                rules_admin.update_rule(s, _user(s, "admin"), "satisfaction_low", field, value)
            s.rollback()
            after = s.scalar(select(RiskRule).where(RiskRule.code == "satisfaction_low"))
            assert (after.params, after.deadline_hours, after.owner_tier) == kept, value


def test_the_admin_page_shows_the_refusal_of_a_forged_threshold(sqlite_store):
    with app_over(sqlite_store) as flask_app:
        c = flask_app.test_client()
        login(c, "admin")
        response = post(c, flask_app, "pages.admin", "edit_cell",
                        [[{"rowId": "satisfaction", "colId": "threshold", "value": math.nan}], None],
                        [0], changed=["admin-rubric.cellValueChanged"])
        assert response.status_code == 200
        shown = outputs(response)
        assert shown[("admin-message", "color")] == "red"
        assert "finite number" in shown[("admin-message", "children")]


# -- import -------------------------------------------------------------------------------------

LOOKUPS = Lookups(units={"ZJ-HZ": (3, 3), "ZJ-HZ-01-01": (5, 5)},
                  carriers={"app": 1, "wechat": 2, "alipay": 3, "web": 4, "hotline": 5, "hall": 6})
TARGET_ROW = dict(kpi="visits", unit="ZJ-HZ", carrier="", period_start="2027-01-01",
                  period_end="2027-12-31", value="100")


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "Infinity", "1e999"])
def test_the_import_refuses_non_finite_values_with_a_clear_reason(value):
    frame = pd.DataFrame([{ROW: 2, **TARGET_ROW, "value": value}])
    problems = Problems()
    out = check_chunk(KINDS["targets"], frame, LOOKUPS, problems)
    assert out.empty
    assert [(p.row, p.column, p.reason) for p in problems.first] == [
        (2, "value", f"'{value}' is not a finite number (不是有限的数字)")]
