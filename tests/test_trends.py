"""Trend charts: monthly KPIs drawn by month; daily stocks carry late outlets forward."""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib

import pytest
from flask_login import login_user
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from components.i18n import name
from data.db import get_session
from data.models import OUTLET_TIER, OrgUnit, User
from data.units import unit_by_code
from metrics import sql
from metrics.compute import compute, facts_only
from metrics.registry import KPIS, REGISTRY
from tests.conftest import DB_KINDS, app_over, seeded_store

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


# -- item 4: one outlet loaded a day late ---------------------------------------------------------

CITY = "ZJ-HZ"
STOCK_KPIS = ["registered_users", "binding_rate"]


def late_outlet_store(tmp_path, kind: str):
    """A seeded store of the test's own in which one outlet of CITY has not loaded the last day:
    its facts of that day and its data_load row are deleted. Returns (store, last day, outlet id)."""
    from data.changes import data_changed

    store = seeded_store(kind, tmp_path)
    with store.engine.begin() as conn:
        last = sql.as_date(conn.execute(text("SELECT max(day) FROM data_load")).scalar())
        outlet = conn.execute(text("""
            SELECT o.id FROM org_unit o JOIN org_unit c ON o.path LIKE c.path || '%'
            JOIN user_stock_daily s ON s.unit_id = o.id AND s.day = :d
            JOIN data_load l ON l.unit_id = o.id AND l.day = :d
            WHERE c.code = :city AND o.tier = 5 ORDER BY o.id LIMIT 1"""),
            {"d": last, "city": CITY}).scalar_one()
        for table in ("user_stock_daily", "channel_daily", "content_daily", "campaign_daily",
                      "data_load"):
            conn.execute(text(f"DELETE FROM {table} WHERE unit_id = :u AND day = :d"),
                         {"u": outlet, "d": last})
        data_changed(conn)
    return store, last, outlet


def expected_levels(store, last: dt.date, start: dt.date) -> dict[str, float]:
    """Plain SQL: the sum over CITY's outlets of each one's level on its last day in start..last."""
    with store.engine.connect() as conn:
        row = conn.execute(text("""
            SELECT sum(s.registered) AS registered, sum(s.bound) AS bound,
                   sum(s.customers) AS customers
            FROM user_stock_daily s JOIN org_unit o ON o.id = s.unit_id
            JOIN org_unit c ON o.path LIKE c.path || '%' AND c.code = :city
            WHERE s.day = (SELECT max(s2.day) FROM user_stock_daily s2
                           WHERE s2.unit_id = s.unit_id AND s2.day >= :start AND s2.day <= :last)
        """), {"city": CITY, "start": start, "last": last}).mappings().one()
    return {k: float(v) for k, v in row.items()}


@pytest.mark.parametrize("facts", [False, True], ids=["rollups", "facts"])
@pytest.mark.parametrize("kind", DB_KINDS)
def test_daily_stock_carries_a_late_outlet_forward(tmp_path, kind, facts):
    store, last, outlet = late_outlet_store(tmp_path, kind)
    try:
        start = last - dt.timedelta(days=13)
        want = expected_levels(store, last, start)
        with store.engine.connect() as conn:
            on_last = float(conn.execute(text("""SELECT sum(s.registered) FROM user_stock_daily s
                JOIN org_unit o ON o.id = s.unit_id JOIN org_unit c ON o.path LIKE c.path || '%'
                WHERE c.code = :city AND s.day = :d"""), {"city": CITY, "d": last}).scalar())
        assert on_last < want["registered"]  # the late outlet's level is missing from that day
        with Session(store.engine) as s, (facts_only() if facts else contextlib.nullcontext()):
            city = unit_by_code(s, CITY)
            frame = compute(s, STOCK_KPIS, city, start, last, by="day")
            whole = compute(s, STOCK_KPIS, city, start, last)
        day = frame[frame["period"] == last].set_index("kpi")
        assert day.loc["registered_users", "value"] == pytest.approx(want["registered"])
        assert day.loc["binding_rate", "numerator"] == pytest.approx(want["bound"])
        assert day.loc["binding_rate", "denominator"] == pytest.approx(want["customers"])
        # the last day of the series is the card's value (each outlet's last day in the range)
        card = whole.set_index("kpi")
        assert day.loc["registered_users", "value"] == pytest.approx(
            card.loc["registered_users", "value"])
    finally:
        store.drop()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_partly_loaded_day_is_marked_in_the_as_of_line_and_the_charts(tmp_path, lang):
    store, last, outlet = late_outlet_store(tmp_path, "sqlite")
    try:
        with store.engine.connect() as conn:
            total = conn.execute(text("""SELECT count(*) FROM org_unit o JOIN org_unit c
                ON o.path LIKE c.path || '%' WHERE c.code = :city AND o.tier = 5"""),
                {"city": CITY}).scalar_one()
            n = conn.execute(text("""SELECT count(*) FROM data_load l JOIN org_unit o
                ON o.id = l.unit_id JOIN org_unit c ON o.path LIKE c.path || '%'
                WHERE c.code = :city AND o.tier = 5 AND l.day = :d"""),
                {"city": CITY, "d": last}).scalar_one()
        assert 0 < n < total
        start = last - dt.timedelta(days=13)
        with app_over(store) as app:
            page = importlib.import_module("pages.cores")
            with app.test_request_context("/"):
                user = get_session().scalar(select(User).where(User.username == "admin"))
                user.language = lang
                login_user(user)
                tree = page.layout(unit=CITY, core="user", start=start.isoformat(),
                                   end=last.isoformat())
                line = find_id(tree, "as-of").children
                figs = figures(tree)
        if lang == "zh":
            assert line == f"数据截至 {last.isoformat()}（{n}/{total} 个网点）"
            note = f"部分网点未加载 {n}/{total}"
        else:
            assert line == f"Data as of {last.isoformat()} ({n} of {total} outlets)"
            note = f"{n} of {total} outlets loaded"
        fig, _ = trace_named(figs, name(REGISTRY["registered_users"], lang))
        assert note in [a.text for a in fig.layout.annotations]
        marked = [tr for tr in fig.data if tr.marker.symbol == "circle-open"]
        assert len(marked) == 1 and note in list(marked[0].text)
        assert sql.as_date(marked[0].x[-1]) == last
        # a flow is not carried (the late outlet's registrations are not in yet): marked too
        fig, _ = trace_named(figs, name(REGISTRY["new_registrations"], lang))
        assert note in [a.text for a in fig.layout.annotations]
    finally:
        store.drop()


def find_id(component, wanted: str):
    if isinstance(component, (list, tuple)):
        for c in component:
            found = find_id(c, wanted)
            if found is not None:
                return found
        return None
    if component is None or isinstance(component, (str, int, float)):
        return None
    if getattr(component, "id", None) == wanted:
        return component
    return find_id(getattr(component, "children", None), wanted)
