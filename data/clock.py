"""Times as the company reads them: stored UTC times shown in the company's time zone (setting
TIMEZONE), with a label derived from that zone ("UTC+8")."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

TIME_FORMAT = "%Y-%m-%d %H:%M"


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
