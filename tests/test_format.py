"""Numbers, axes and times as people read them: no negative zero, units said, 万 ticks in Chinese,
tick labels that differ, whole ticks on counts, and times in the company's zone, labelled."""

from __future__ import annotations

import datetime as dt
import types

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from components.axes import nice_ticks, tick_text, value_axis
from components.format import change, number, pct
from data.clock import local_text, utc_bounds, zone_label


@pytest.mark.parametrize(("args", "shown"), [
    # a rate's change of -0.04 pp rounds to 0.0: no sign, never "-0.0 个百分点"
    ((-0.0004, "%", None, "zh"), "0.0 个百分点"),
    ((0.0004, "%", None, "en"), "0.0 pp"),
    ((-0.0123, "%", None, "zh"), "-1.2 个百分点"),
    ((0.0123, "%", None, "zh"), "+1.2 个百分点"),
    # a volume's relative change of -0.03 % rounds to 0.0 %
    ((None, "count", -0.0003, "zh"), "0.0%"),
    ((None, "count", 0.25, "zh"), "+25.0%"),
])
def test_changes_have_no_negative_zero(args, shown):
    assert change(*args) == shown


@pytest.mark.parametrize(("args", "shown"), [
    ((-0.0001, "%", "zh"), "0.0%"),
    ((-0.3, "count", "zh"), "0"),
    ((124.2, "per 10k", "zh"), "124.2 件/万户"),
    ((124.2, "per 10k", "en"), "124.2 per 10k customers"),
    ((85000, "count", "zh"), "8.5万"),
])
def test_numbers_say_their_unit_and_have_no_negative_zero(args, shown):
    assert number(*args) == shown


def test_a_share_rounding_to_zero_is_unsigned():
    assert pct(-0.00001) == "0.0%"


def test_chinese_volume_axes_use_wan_and_yi_like_the_cards():
    # 62,000..95,000: ticks every 10,000 from 60,000 to 100,000
    axis = value_axis([62000, 95000, None, float("nan")], "count", "zh")
    assert axis["tickvals"] == [60000, 70000, 80000, 90000, 100000]
    assert axis["ticktext"] == ["6万", "7万", "8万", "9万", "10万"]
    assert value_axis([62000, 95000], "count", "en")["ticktext"] == ["60k", "70k", "80k", "90k",
                                                                       "100k"]
    assert tick_text([0, 1e8, 2e8], "count", "zh") == ["0", "1亿", "2亿"]
    # 12,000..12,600 in steps of 200 needs two decimals of 万 to tell the ticks apart
    assert tick_text([12000, 12200, 12400], "count", "zh") == ["1.20万", "1.22万", "1.24万"]


def test_rate_ticks_differ_and_are_not_rounded():
    # 97.6 %..98.4 %: ".0%" would print 98 %, 98 %, 98 %, 98 %, 98 %; the step is 0.2 pp
    axis = value_axis([0.976, 0.984], "%", "zh")
    assert axis["tickvals"] == [0.976, 0.978, 0.98, 0.982, 0.984]
    assert axis["ticktext"] == ["97.6%", "97.8%", "98.0%", "98.2%", "98.4%"]
    assert value_axis([0.5, 0.95], "%", "zh")["ticktext"] == ["50%", "60%", "70%", "80%", "90%",
                                                              "100%"]


@pytest.mark.parametrize(("lo", "hi", "ticks"), [
    (0, 1, [0, 1]), (0, 3, [0, 1, 2, 3]), (0, 0, [0, 1]), (5, 5, [5, 6]), (0, 40, [0, 10, 20, 30, 40]),
])
def test_count_axes_have_whole_ticks(lo, hi, ticks):
    assert nice_ticks(lo, hi, integer=True) == ticks
    assert all(float(v).is_integer() for v in value_axis([lo, hi], "count", "zh",
                                                         integer=True)["tickvals"])


def test_no_values_no_axis_settings():
    assert value_axis([None, float("nan")], "%", "zh") == {}


def test_times_are_shown_in_the_company_zone_with_its_label():
    assert local_text(dt.datetime(2026, 11, 26, 4, 30), "Asia/Shanghai") == "2026-11-26 12:30"
    assert local_text(dt.datetime(2026, 11, 25, 20, 5, 9), "Asia/Shanghai", seconds=True) == \
        "2026-11-26 04:05:09"
    assert local_text(None, "Asia/Shanghai") == ""
    assert zone_label("Asia/Shanghai") == "UTC+8"
    assert zone_label("UTC") == "UTC"
    assert zone_label("Asia/Kolkata") == "UTC+5:30"
    assert zone_label("Europe/Berlin", dt.datetime(2026, 1, 15)) == "Europe/Berlin UTC+1"
    assert zone_label("Europe/Berlin", dt.datetime(2026, 7, 15)) == "Europe/Berlin UTC+2"
    # local day 2026-11-26 in Shanghai runs from 2026-11-25 16:00 to 2026-11-26 16:00 UTC
    assert utc_bounds(dt.date(2026, 11, 26), dt.date(2026, 11, 26), "Asia/Shanghai") == (
        dt.datetime(2026, 11, 25, 16), dt.datetime(2026, 11, 26, 16))


def test_accounts_and_audit_show_company_time_and_filter_by_company_days(tmp_path):
    from auth import admin
    from data.models import AuditEvent, User
    from tests.conftest import seeded_store

    store = seeded_store("sqlite", tmp_path)
    try:
        with Session(store.engine) as s:
            root = s.scalar(select(User).where(User.username == "admin"))
            root.last_login_at = dt.datetime(2026, 11, 25, 17, 30)  # UTC: 01:30 on the 26th in UTC+8
            s.add(AuditEvent(at=dt.datetime(2026, 11, 25, 17, 30), username="admin",
                             action="probe_tz", target="", outcome="ok", detail=""))
            s.flush()
            row = next(u for u in admin.list_users(s, root, tz="Asia/Shanghai")
                       if u["username"] == "admin")
            assert row["last_login_at"] == "2026-11-26 01:30"
            on_26th = admin.audit_events(s, root, "probe_tz", start=dt.date(2026, 11, 26),
                                         end=dt.date(2026, 11, 26), tz="Asia/Shanghai")
            on_25th = admin.audit_events(s, root, "probe_tz", start=dt.date(2026, 11, 25),
                                         end=dt.date(2026, 11, 25), tz="Asia/Shanghai")
            assert [e["at"] for e in on_26th] == ["2026-11-26 01:30:00"] and on_25th == []
            s.rollback()
    finally:
        store.drop()


def test_the_admin_tables_label_their_times_with_the_zone(app):
    from pages import admin as admin_page

    with app.test_request_context("/"):
        headers = {c["field"]: c["headerName"] for c in admin_page.user_columns("zh")}
        assert headers["last_login_at"] == "最近登录（UTC+8）"
        assert admin_page.audit_columns("en")[0]["headerName"] == "Time (UTC+8)"
        rows = admin_page.user_rows([{"role": "viewer", "active": False}], "zh")
        assert (rows[0]["role_name"], rows[0]["active_text"]) == ("查看者", "否")


def test_the_top_stage_says_so_instead_of_a_next_stage(app):  # pages register with an app
    from components.i18n import t
    from pages.stages import _next_steps
    from tests.test_pages import texts

    top = texts(_next_steps(types.SimpleNamespace(stage=4, missing=[]), "zh"))
    assert t("stages.top", "zh") in top and "迈向" not in top


def test_charts_draw_their_value_axes_like_the_cards():
    import pandas as pd

    from components.charts import ranking_bars, trend_lines
    from metrics.registry import REGISTRY

    days = [dt.date(2026, 6, 1), dt.date(2026, 6, 2)]
    volume = pd.DataFrame({"period": days, "value": [62000, 95000], "series": ["x", "x"]})
    fig = trend_lines(volume, "series", REGISTRY["transactions"], "zh")
    assert list(fig.layout.yaxis.ticktext) == ["6万", "7万", "8万", "9万", "10万"]
    rate = pd.DataFrame({"period": days, "value": [0.976, 0.984], "series": ["x", "x"]})
    fig = trend_lines(rate, "series", REGISTRY["online_substitution"], "zh")
    assert list(fig.layout.yaxis.ticktext) == ["97.6%", "97.8%", "98.0%", "98.2%", "98.4%"]
    ranked = pd.DataFrame({"value": [95000.0, 62000.0], "name_zh": ["甲", "乙"],
                           "name_en": ["A", "B"], "unit": ["A", "B"], "status": [None, None]})
    fig = ranking_bars(ranked, REGISTRY["transactions"], "zh")
    assert fig.layout.xaxis.ticktext[-1] == "10万" and fig.layout.xaxis.tickvals[0] == 0


@pytest.mark.parametrize("value, unit", [(0.293, "%"), (26000, "count"), (0.0, "%"), (-3.0, "count")])
def test_a_lone_value_gets_a_range_that_shows_its_ticks(value, unit):
    """A monthly KPI over one month is one point: the axis range spans its ticks (Plotly's own
    range around a lone point is a few units wide, and a rate's ticks all print on one spot)."""
    axis = value_axis([value], unit, "zh")
    low, high = axis["range"]
    assert low <= value <= high
    assert low <= min(axis["tickvals"]) and max(axis["tickvals"]) <= high
    assert high - low < 2 * (max(axis["tickvals"]) - min(axis["tickvals"]))
    assert len(set(axis["ticktext"])) == len(axis["ticktext"]) >= 2


def test_a_spread_of_values_keeps_plotlys_range():
    assert "range" not in value_axis([0.2, 0.3], "%", "zh")
