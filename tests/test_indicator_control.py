"""Indicator control: who may set targets, the cascade of what they set, the audit, the page."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from auth.admin import NotPermitted
from auth.indicator_control import TargetError, set_target
from data.demo import seed_demo
from data.models import AuditEvent, User
from data.units import unit_by_code
from metrics.attainment import attainment_by_child, own_targets
from metrics.targets import targets_for
from tests.conftest import DEMO_END, add_users

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
        set_target(s, manager, "online_substitution", "ZJ-HZ-01-01", *YEAR, None)  # remove
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


def test_targets_page_and_its_edit_callback(app, tiny_store):
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
    assert colour == "red" and "ZJ-HZ-01" in message  # a viewer may not
    assert [r["unit"] for r in rows] == ["ZJ-HZ", "ZJ-HZ-01"]
