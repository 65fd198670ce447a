"""Indicator control: who may set targets, the cascade of what they set, the audit, the page."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from auth.admin import NotPermitted
from data.models import AuditEvent, User
from data.units import unit_by_code
from jobs.demo import seed_demo
from metrics.attainment import attainment_by_child, own_targets
from metrics.indicator_control import TargetError, clear_target, set_target
from metrics.targets import targets_for
from tests.conftest import DEMO_END, add_users, own_target

YEAR = (dt.date(2026, 1, 1), dt.date(2026, 12, 31))


@pytest.fixture
def store(empty_store):
    seed_demo(empty_store.engine, "tiny", 42, DEMO_END)
    add_users(empty_store)
    return empty_store


def _user(s, name):
    return s.scalar(select(User).where(User.username == name))


def test_managers_set_targets_in_their_subtree_and_they_cascade(store):
    with Session(store.engine) as s:
        manager = _user(s, "manager")  # county ZJ-HZ-01
        set_target(s, manager, "online_substitution", "ZJ-HZ-01", *YEAR, 0.9)
        s.commit()
        outlet = unit_by_code(s, "ZJ-HZ-01-01")
        got = targets_for(s, ["online_substitution"], outlet, dt.date(2026, 6, 1),
                          dt.date(2026, 6, 30))["online_substitution"]
        assert got.value == pytest.approx(0.9) and got.set_at == "ZJ-HZ-01" and got.inherited
        set_target(s, manager, "online_substitution", "ZJ-HZ-01-01", *YEAR, 0.95)
        s.commit()
        found = own_targets(s, "online_substitution",
                            [unit_by_code(s, "ZJ-HZ-01"), outlet], *YEAR)
        assert found["ZJ-HZ-01-01"] == {"value": 0.95, "set_at": "ZJ-HZ-01-01", "own": True}
        assert clear_target(s, manager, "online_substitution", "ZJ-HZ-01-01", *YEAR)  # remove
        s.commit()
        again = own_targets(s, "online_substitution", [outlet], *YEAR)["ZJ-HZ-01-01"]
        assert again["set_at"] == "ZJ-HZ-01" and not again["own"]
        changes = s.scalars(select(AuditEvent.detail).where(
            AuditEvent.action == "target_change", AuditEvent.username == "manager")).all()
        assert changes == ["None -> 0.9", "None -> 0.95", "0.95 -> None"]


@pytest.mark.parametrize("who, unit", [("manager", "ZJ-HZ-02"), ("manager", "ZJ-HZ"),
                                       ("viewer", "ZJ-HZ-01"), ("display", "ZJ-HZ")])
def test_others_may_not_set_targets(store, who, unit):
    with Session(store.engine) as s:
        with pytest.raises(NotPermitted):
            set_target(s, _user(s, who), "satisfaction", unit, *YEAR, 0.95)
        s.commit()
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "forbidden",
                                                 AuditEvent.username == who))


@pytest.mark.parametrize("kpi, unit, value", [("nonsense", "ZJ", 1.0), ("satisfaction", "NOPE", 0.9),
                                              ("satisfaction", "ZJ", 1.5),
                                              ("visits", "ZJ", -3)])
def test_bad_targets_are_refused(store, kpi, unit, value):
    with Session(store.engine) as s, pytest.raises(TargetError):
        set_target(s, _user(s, "admin"), kpi, unit, *YEAR, value)


def test_attainment_by_child_covers_every_kpi(store):
    from metrics.registry import KPIS

    with Session(store.engine) as s:
        frame = attainment_by_child(s, unit_by_code(s, "ZJ"), dt.date(2026, 6, 1),
                                    dt.date(2026, 6, 30))
    assert len(frame) == 2 * len(KPIS)
    row = frame[(frame.unit == "ZJ-HZ") & (frame.kpi == "online_substitution")].iloc[0]
    assert row["attainment"] == pytest.approx(row["value"] / row["target"])
    assert row["set_at"] == "ZJ-HZ"


@pytest.mark.writes
def test_targets_page_and_its_edit_callback(app, app_store):
    from flask_login import login_user

    from data.db import get_session
    from pages import targets
    from tests.test_pages import render

    page = render(app, "targets", "viewer", unit="ZJ-HZ")
    assert "targets-heatmap" in page and "targets-table" in page
    with app.test_request_context("/"):
        login_user(get_session().scalar(select(User).where(User.username == "viewer")))
        rows, message, _hide, colour = targets.change_target(
            [{"rowId": "ZJ-HZ-01", "value": 0.5}],
            {"kpi": "satisfaction", "year": 2026, "units": ["ZJ-HZ", "ZJ-HZ-01"]})
    assert (colour, message) == ("red", "您无权修改 上城区供电局 的目标。")  # a viewer may not
    assert [r["unit"] for r in rows] == ["ZJ-HZ", "ZJ-HZ-01"]


def test_targets_are_typed_as_read_and_bad_ones_keep_the_target(tmp_path):
    from tests.conftest import app_over, login, seeded_store
    from tests.security.dash_posts import outputs, post

    store = seeded_store("sqlite", tmp_path)
    context = {"kpi": "online_payment", "year": 2026, "units": ["ZJ-HZ-01", "ZJ-HZ-01-01"]}

    def edit(c, flask_app, value, row="ZJ-HZ-01", ctx=context):
        response = post(c, flask_app, "pages.targets", "change_target",
                        [[{"rowId": row, "value": value}]], [ctx])
        assert response.status_code == 200, value
        shown = outputs(response)
        own = {r["unit"]: r["own"] for r in shown[("{\"name\":\"targets-table\",\"type\":\"csv-grid\"}",
                                                   "rowData")]}
        return shown[("targets-message", "color")], shown[("targets-message", "children")], own

    with app_over(store) as flask_app:
        c = flask_app.test_client()
        login(c, "manager")
        colour, message, own = edit(c, flask_app, "72")  # a rate typed in percent
        assert (colour, own["ZJ-HZ-01"]) == ("green", "72") and "已保存" in message
        with Session(store.engine) as s:
            assert own_target(s, "online_payment", "ZJ-HZ-01") == [pytest.approx(0.72)]
        refused = {"abc": "“abc”不是数字", "": "空白不会删除目标", None: "空白不会删除目标",
                   "  ": "空白不会删除目标", "150": "“150”不在 0 到 100 之间",
                   "-5": "“-5”小于 0", "1,5": "“1,5”不是数字", "７２": "“７２”不是数字"}
        for value, reason in refused.items():
            colour, message, own = edit(c, flask_app, value)
            assert colour == "red" and reason in message and "原目标保留" in message, value
            assert "The " not in message, value  # the user's language only
            assert own["ZJ-HZ-01"] == "72", value
        with Session(store.engine) as s:
            assert own_target(s, "online_payment", "ZJ-HZ-01") == [pytest.approx(0.72)]
        # Typed with a percent sign, and a fraction of a percent: shown as typed, no float noise.
        assert edit(c, flask_app, "72.5 %")[2]["ZJ-HZ-01"] == "72.5"
        assert edit(c, flask_app, "0.72")[2]["ZJ-HZ-01"] == "0.72"
        with Session(store.engine) as s:
            assert own_target(s, "online_payment", "ZJ-HZ-01") == [pytest.approx(0.0072)]
        # A volume is typed as it is read.
        visits = {**context, "kpi": "visits"}
        assert edit(c, flask_app, "5000", ctx=visits)[2]["ZJ-HZ-01"] == "5000"
        # An English user is refused in English, naming the value.
        with Session(store.engine) as s:
            s.scalar(select(User).where(User.username == "manager")).language = "en"
            s.commit()
        colour, message, own = edit(c, flask_app, "abc")
        assert colour == "red" and "'abc' is not a number" in message and "不是" not in message
        colour, message, _own_ = edit(c, flask_app, "80", row="ZJ-HZ-01-01")
        assert colour == "green" and "Saved" in message
    with Session(store.engine) as s:
        assert own_target(s, "online_payment", "ZJ-HZ-01") == [pytest.approx(0.0072)]
        assert own_target(s, "online_payment", "ZJ-HZ-01-01") == [pytest.approx(0.8)]
        assert own_target(s, "visits", "ZJ-HZ-01") == [5000]
    store.drop()


def test_only_clear_target_removes_a_target(tmp_path):
    from tests.conftest import app_over, login, seeded_store
    from tests.security.dash_posts import audited, outputs, post

    store = seeded_store("sqlite", tmp_path)
    context = {"kpi": "satisfaction", "year": 2026, "units": ["ZJ-HZ-01", "ZJ-HZ-01-01"]}
    with Session(store.engine) as s:
        set_target(s, _user(s, "admin"), "satisfaction", "ZJ-HZ-01-01", *YEAR, 0.9)
        s.commit()
    with app_over(store) as flask_app:
        c = flask_app.test_client()
        login(c, "manager")

        def clear(unit):
            response = post(c, flask_app, "pages.targets", "clear_own_target", [1], [unit, context])
            assert response.status_code == 200
            shown = outputs(response)
            return shown[("targets-message", "color")], shown[("targets-message", "children")]

        assert clear("ZJ-HZ-01-01") == ("green", "已清除 上城城区供电所 的本单位目标，改为沿用上级目标。")
        assert clear("ZJ-HZ-01-01") == ("gray", "上城城区供电所 没有本单位目标，无需清除。")
        colour, message = clear("ZJ-NB")  # not a unit of the table (and out of scope)
        assert colour == "red" and "请求有误" in message
    with Session(store.engine) as s:
        assert own_target(s, "satisfaction", "ZJ-HZ-01-01") == []
    assert [e.detail for e in audited(store.engine, "target_change", username="manager")] == [
        "0.9 -> None"]
    store.drop()


def test_targets_are_shown_as_typed():
    from pages.targets import typed

    assert typed(0.7200000000000001, "%") == "72"
    assert typed(0.725, "%") == "72.5"
    assert typed(0.0072, "%") == "0.72"
    assert typed(5000.0, "count") == "5000"
    assert typed(12.5, "days") == "12.5"
    assert typed(None, "%") == ""
