"""The one clock and calendar (`data.clock`): company time zone, now, yesterday, months."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Flask

import settings
from data.clock import company_zone, local_now, month_end, month_start, months_between, utc_now, yesterday


def test_months():
    assert month_start(dt.date(2024, 2, 17)) == dt.date(2024, 2, 1)
    assert month_end(dt.date(2024, 2, 17)) == dt.date(2024, 2, 29)  # any day of the month
    assert month_end(dt.date(2023, 2, 1)) == dt.date(2023, 2, 28)
    assert month_end(dt.date(2024, 12, 31)) == dt.date(2024, 12, 31)
    assert months_between(dt.date(2023, 11, 30), dt.date(2024, 2, 1)) == [
        dt.date(2023, 11, 1), dt.date(2023, 12, 1), dt.date(2024, 1, 1), dt.date(2024, 2, 1)]
    assert months_between(dt.date(2024, 3, 2), dt.date(2024, 3, 1)) == [dt.date(2024, 3, 1)]
    assert months_between(dt.date(2024, 4, 1), dt.date(2024, 3, 31)) == []
    assert months_between(dt.date(9999, 11, 5), dt.date.max) == [dt.date(9999, 11, 1),
                                                                 dt.date(9999, 12, 1)]


def test_the_company_zone_is_the_apps_setting_else_shanghai():
    assert company_zone() == "Asia/Shanghai"
    app = Flask(__name__)
    settings.override(app, TIMEZONE="America/St_Johns")
    with app.app_context():
        assert company_zone() == "America/St_Johns"
        here = dt.datetime.now(ZoneInfo("America/St_Johns")).replace(tzinfo=None)
        assert abs(local_now() - here) < dt.timedelta(seconds=5)
        assert yesterday() in {here.date() - dt.timedelta(days=1),
                               local_now().date() - dt.timedelta(days=1)}  # across midnight
    shanghai = dt.datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    assert abs(local_now() - shanghai) < dt.timedelta(seconds=5)
    assert local_now().tzinfo is None and utc_now().tzinfo is None
    assert abs(utc_now() - dt.datetime.now(dt.UTC).replace(tzinfo=None)) < dt.timedelta(seconds=5)
    assert yesterday("UTC") in {utc_now().date() - dt.timedelta(days=1),
                                dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)}
