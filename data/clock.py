"""The one clock and calendar: now (UTC, and in the company's time zone, setting TIMEZONE),
yesterday, month arithmetic, and stored UTC times shown in the company's zone with a label derived
from it ("UTC+8"). Every layer above asks here rather than calling `datetime.now` or counting days
of months itself."""

from __future__ import annotations

import calendar
import datetime as dt
from zoneinfo import ZoneInfo

from flask import has_app_context

import settings

TIME_FORMAT = "%Y-%m-%d %H:%M"
DEFAULT_ZONE = settings.DEFAULTS.TIMEZONE


def company_zone() -> str:
    """The company's time zone: setting TIMEZONE of the running app, else its default."""
    return settings.current().TIMEZONE if has_app_context() else DEFAULT_ZONE


def utc_now() -> dt.datetime:
    """Now in UTC, naive (how the audit log, accounts, tokens and imports store times)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def local_now(tz: str | None = None) -> dt.datetime:
    """Now in zone `tz` (default: the company's), naive (how risk events and loads keep times)."""
    return dt.datetime.now(ZoneInfo(tz or company_zone())).replace(tzinfo=None)


def yesterday(tz: str | None = None) -> dt.date:
    """Yesterday's date in zone `tz` (default: the company's)."""
    return local_now(tz).date() - dt.timedelta(days=1)


def month_start(day: dt.date) -> dt.date:
    """The first day of `day`'s month."""
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    """The last day of `day`'s month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def months_between(start: dt.date, end: dt.date) -> list[dt.date]:
    """The first day of every month from `start`'s to `end`'s, both included."""
    months, m = [], month_start(start)
    while m <= end:
        months.append(m)
        if m.year == dt.MAXYEAR and m.month == 12:  # no month follows (a stored 9999-12-31)
            break
        m = month_end(m) + dt.timedelta(days=1)
    return months


def to_local(value: dt.datetime | None, tz: str) -> dt.datetime | None:
    """A naive UTC time (how the audit log, accounts and imports store them) in zone `tz`, naive."""
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(tz)).replace(tzinfo=None)


def local_text(value: dt.datetime | None, tz: str, seconds: bool = False) -> str:
    """A naive UTC time as 'YYYY-MM-DD HH:MM[:SS]' in zone `tz'; '' for none."""
    local = to_local(value, tz)
    return local.strftime(TIME_FORMAT + (":%S" if seconds else "")) if local else ""


def utc_bounds(first: dt.date | None, last: dt.date | None,
               tz: str) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The naive UTC instants where local day `first` begins and local day `last` ends."""
    def start_of(day: dt.date) -> dt.datetime:
        local = dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(tz))
        return local.astimezone(dt.UTC).replace(tzinfo=None)
    return (start_of(first) if first else None,
            start_of(last + dt.timedelta(days=1)) if last else None)


def zone_label(tz: str, when: dt.datetime | None = None) -> str:
    """'UTC+8', 'UTC-3:30', 'UTC' for a zone with one offset all year; the zone's name with its
    offset at `when` (default now) for a zone with summer time ('Europe/Berlin UTC+1')."""
    zone = ZoneInfo(tz)
    year = (when or dt.datetime.now(dt.UTC)).year
    winter = dt.datetime(year, 1, 1, tzinfo=zone).utcoffset()
    summer = dt.datetime(year, 7, 1, tzinfo=zone).utcoffset()
    now = (when or dt.datetime.now(dt.UTC)).replace(tzinfo=dt.UTC).astimezone(zone).utcoffset()
    label = _offset_text(now or dt.timedelta())
    return label if winter == summer else f"{tz} {label}"


def _offset_text(offset: dt.timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    if minutes == 0:
        return "UTC"
    sign, minutes = ("+" if minutes > 0 else "-"), abs(minutes)
    hours, rest = divmod(minutes, 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")
