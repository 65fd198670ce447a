"""The demo's 95598 contact centres have the shapes DOMAIN.md promises: a morning peak 9-11, an
afternoon shoulder, an evening peak; heavier Mondays and days after the bills; the surge on the
app-outage day; deterministic; today only up to now; a bounded national row count."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from jobs import demo_hotline
from jobs.demo import SCALES, Scale, hotline_frames, incidents, outlet_profiles, plan_units, seed_demo
from jobs.demo_facts import Calendar
from tests.conftest import DEMO_END, new_store


@pytest.fixture(scope="module")
def intervals(tiny_store) -> pd.DataFrame:
    with tiny_store.engine.connect() as conn:
        frame = pd.read_sql(text("""SELECT h.*, u.code FROM hotline_interval h
                                    JOIN org_unit u ON u.id = h.unit_id"""), conn)
        outage = conn.execute(text("""SELECT i.start_day, u.code FROM demo_incident i
            JOIN org_unit u ON u.id = i.unit_id WHERE i.kind = 'carrier_outage'""")).one()
    frame["interval_start"] = pd.to_datetime(frame["interval_start"])
    frame["day"] = frame["interval_start"].dt.normalize()
    frame["hour"] = frame["interval_start"].dt.hour + frame["interval_start"].dt.minute / 60
    frame.attrs["outage"] = (pd.Timestamp(str(outage[0])[:10]), outage[1])
    return frame


def test_every_city_has_every_interval_of_every_day(intervals):
    assert set(intervals["code"]) == {"ZJ-HZ", "ZJ-NB"}  # the centres are the cities
    assert len(intervals) == 2 * 180 * 96
    assert (intervals["interval_start"].dt.minute % 15 == 0).all()
    sums = intervals[["offered", "answered", "answered_20s", "abandoned"]]
    assert (sums["answered"] + sums["abandoned"] == sums["offered"]).all()
    assert (sums["answered_20s"] <= sums["answered"]).all()


def _ordinary(intervals) -> pd.DataFrame:
    day, _ = intervals.attrs["outage"]
    return intervals[intervals["day"] != day]


def test_the_intraday_curve_peaks_where_domain_md_says(intervals):
    by_slot = _ordinary(intervals).groupby("hour")["offered"].mean()
    hour = by_slot.index.to_numpy()

    def mean(lo: float, hi: float) -> float:
        return float(by_slot[(hour >= lo) & (hour < hi)].mean())

    assert 9 <= by_slot.idxmax() < 11  # the morning peak is the day's highest
    assert mean(14, 17) > 1.5 * mean(12, 13.5) or mean(14, 17) > mean(17, 18.5)  # a shoulder
    assert mean(14, 17) < mean(9, 11)
    evening = by_slot[(hour >= 19) & (hour < 21)].max()
    assert evening > 1.5 * mean(17.5, 18.5) and evening > 4 * mean(2, 5)  # a peak after work
    assert mean(0, 6) < 0.2 * mean(9, 11)  # quiet nights


def test_mondays_and_the_days_after_the_bills_are_heavier(intervals):
    daily = _ordinary(intervals).groupby("day")["offered"].sum()
    days = daily.index
    weekday = daily[(days.day_of_week.isin([1, 2, 3, 4])) & ~days.day.isin([2, 3, 4])].mean()
    monday = daily[(days.day_of_week == 0) & ~days.day.isin([2, 3, 4])].mean()
    assert monday > 1.1 * weekday
    after_bills = daily[days.day.isin([2, 3, 4]) & (days.day_of_week.isin([1, 2, 3, 4]))].mean()
    assert after_bills > 1.1 * weekday


def test_the_outage_surges_within_minutes_for_hours_and_service_suffers(intervals):
    day, code = intervals.attrs["outage"]
    city = intervals[intervals["code"] == code]
    same_weekday = city[(city["day"].dt.day_of_week == day.day_of_week) & (city["day"] != day)
                        & (city["day"] >= day - pd.Timedelta(days=56))]
    usual = same_weekday.groupby("hour")["offered"].mean()
    that = city[city["day"] == day].set_index("hour")["offered"]
    ratio = lambda lo, hi: that.loc[lo:hi].sum() / usual.loc[lo:hi].sum()  # noqa: E731
    assert ratio(6, 9) < 1.5  # nothing before the outage
    assert ratio(9.5, 10) > 2.0  # within minutes
    assert ratio(12, 15) > 1.5  # hours later still
    on = city[city["day"] == day]
    level = lambda f: f["answered_20s"].sum() / f["offered"].sum()  # noqa: E731
    abandon = lambda f: f["abandoned"].sum() / f["offered"].sum()  # noqa: E731
    assert level(on) < level(same_weekday) - 0.15 and abandon(on) > 2 * abandon(same_weekday)
    other = intervals[(intervals["code"] != code) & (intervals["day"] == day)]
    assert level(other) > 0.7  # the other city's centre was not hit


def test_the_kpis_sit_around_a_realistic_centre(intervals):
    ordinary = _ordinary(intervals)
    sums = ordinary[["offered", "answered", "answered_20s", "abandoned", "wait_seconds",
                     "handle_seconds"]].sum()
    assert 0.75 < sums["answered_20s"] / sums["offered"] < 0.95  # around 80/20
    assert 0.01 < sums["abandoned"] / sums["offered"] < 0.08
    assert 8 < sums["wait_seconds"] / sums["answered"] < 40
    assert 200 < sums["handle_seconds"] / sums["answered"] < 360


def _tiny_inputs(end: dt.date, scale: Scale = SCALES["tiny"]):
    units = plan_units(scale)
    days = np.arange(np.datetime64(end - dt.timedelta(days=scale.days - 1), "D"),
                     np.datetime64(end, "D") + 1)
    return units, outlet_profiles(units, 42), incidents(units, end), Calendar(days=days, end=end)


def test_deterministic_today_so_far_and_bounded_by_hotline_days():
    units, profiles, chosen, cal = _tiny_inputs(DEMO_END)
    one = pd.concat(hotline_frames(SCALES["tiny"], units, profiles, chosen, cal, 42, None))
    two = pd.concat(hotline_frames(SCALES["tiny"], units, profiles, chosen, cal, 42, None))
    pd.testing.assert_frame_equal(one, two)
    now = dt.datetime.combine(DEMO_END, dt.time(14, 37))
    today = pd.concat(hotline_frames(SCALES["tiny"], units, profiles, chosen, cal, 42, now))
    assert len(today) == len(one) - 2 * (96 - 58)  # each city: 00:00-14:15 ended by 14:37
    assert today["interval_start"].max() == f"{DEMO_END} 14:15:00.000000"
    pd.testing.assert_frame_equal(today.reset_index(drop=True),
                                  one[one["interval_start"] < f"{DEMO_END} 14:30"]
                                  .reset_index(drop=True))
    short = Scale(SCALES["tiny"].home, days=SCALES["tiny"].days, hotline_days=3)
    bounded = pd.concat(hotline_frames(short, units, profiles, chosen, cal, 42, None))
    assert len(bounded) == 2 * 3 * 96 and bounded["day"].min() == str(DEMO_END - dt.timedelta(days=2))
    assert SCALES["national"].hotline_days == 90


def test_intraday_shape_and_surge_are_what_the_docstring_says():
    shape = demo_hotline.intraday_shape()
    assert shape.sum() == pytest.approx(1) and len(shape) == 96
    lift = demo_hotline.surge()
    assert (lift[:37] == 1).all() and lift[37] == 1  # 09:15 itself: the outage has just begun
    assert lift[39] > 2.5 and lift[60] > 1.5 and lift[95] < 1.3


@pytest.mark.writes
def test_a_demo_ending_today_has_todays_intervals_up_to_now(tmp_path):
    store = new_store("sqlite", tmp_path)
    try:
        now = dt.datetime.combine(DEMO_END, dt.time(10, 5))
        seed_demo(store.engine, "tiny", 42, DEMO_END, now=now)
        with store.engine.connect() as conn:
            last, count = conn.execute(text("""SELECT max(interval_start), count(*)
                FROM hotline_interval WHERE day = :d"""), {"d": DEMO_END}).one()
        assert str(last).startswith(f"{DEMO_END} 09:45") and count == 2 * 40
    finally:
        store.drop()
