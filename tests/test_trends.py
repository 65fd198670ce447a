"""Trend charts: monthly KPIs drawn by month; daily stocks carry late outlets forward."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from flask_login import login_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from components.i18n import name
from data.db import get_session
from data.models import OUTLET_TIER, OrgUnit, User
from data.units import unit_by_code
from metrics.compute import compute
from metrics.registry import KPIS, REGISTRY
from tests.conftest import app_over

START, END = dt.date(2026, 3, 1), dt.date(2026, 6, 30)  # four months of the tiny demo


def figures(component) -> list:
    """Every dcc.Graph figure in a component tree, in order."""
    if component is None or isinstance(component, (str, int, float)):
        return []
    if isinstance(component, (list, tuple)):
        return [f for c in component for f in figures(c)]
    found = [component.figure] if getattr(component, "figure", None) is not None else []
    return found + figures(getattr(component, "children", None))


def page_figures(app, module: str, lang: str, **query: str) -> list:
    page = importlib.import_module(f"pages.{module}")
    with app.test_request_context("/"):
        user = get_session().scalar(select(User).where(User.username == "admin"))
        user.language = lang
        login_user(user)
        return figures(page.layout(**query))


def trace_named(figs, text: str):
    for fig in figs:
        for trace in fig.data:
            if trace.name == text:
                return fig, trace
    raise AssertionError(f"no trace named {text!r}")


def test_monthly_kpis_are_the_registry_entries_with_a_monthly_source():
    assert {k.id for k in KPIS if k.monthly} == {"mau", "activity_rate"}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_monthly_kpi_trend_has_one_point_per_month(tiny_store, lang):
    with app_over(tiny_store) as app:
        figs = page_figures(app, "cores", lang, unit="ZJ", core="user",
                            start=START.isoformat(), end=END.isoformat())
        with Session(tiny_store.engine) as s:
            unit = unit_by_code(s, "ZJ")
            for kid in ("mau", "activity_rate"):
                kpi = REGISTRY[kid]
                expected = compute(s, [kid], unit, START, END, by="month")
                assert len(expected) == 4 and expected["value"].notna().all()
                fig, trace = trace_named(figs, name(kpi, lang))
                xs = [dt.date.fromisoformat(str(x)[:10]) for x in trace.x]
                assert xs == [dt.date(2026, m, 1) for m in (3, 4, 5, 6)]
                assert list(trace.y) == pytest.approx(list(expected.sort_values("period")["value"]))
                assert fig.layout.xaxis.tickformat == "%Y-%m"
                title = fig.layout.xaxis.title.text
                assert title == ("By month (a monthly KPI)" if lang == "en" else "按月（月度指标）")
                assert trace.hovertemplate.startswith("Month " if lang == "en" else "月份 ")


def test_monthly_kpi_trend_at_an_outlet_is_never_no_data(tiny_store):
    """The outlet view of /regions draws the chosen KPI over time: by month for MAU."""
    with Session(tiny_store.engine) as s:
        outlet = s.scalars(select(OrgUnit.code).where(OrgUnit.tier == OUTLET_TIER)
                           .order_by(OrgUnit.code).limit(1)).one()
        unit = unit_by_code(s, outlet)
        card = compute(s, ["mau"], unit, START, END)["value"].iloc[0]
    assert card is not None
    with app_over(tiny_store) as app:
        figs = page_figures(app, "regions", "en", unit=outlet, kpi="mau",
                            start=START.isoformat(), end=END.isoformat())
        _, trace = trace_named(figs, "Monthly active users")
        assert len(trace.x) == 4
        assert trace.y[-1] == pytest.approx(card)
