"""When a subscription is due: its slots (the scheduled local times in the company's zone), pure
functions of the schedule and a clock reading, no database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from data.clock import month_end, month_start

WEEKDAYS = 7
# The catalogue's names of the weekdays, Monday (0) first.
WEEKDAY_KEYS = ("weekday.0", "weekday.1", "weekday.2", "weekday.3", "weekday.4", "weekday.5",
                "weekday.6")


@dataclass(frozen=True)
class Schedule:
    """Monthly on `day` (1-31; the month's last day when it has fewer) or weekly on `weekday`
    (0 Monday - 6 Sunday), at local time `at`."""

    kind: str
    at: dt.time
    day: int | None = None
    weekday: int | None = None


def _monthly_slot(year: int, month: int, day: int, at: dt.time) -> dt.datetime:
    first = dt.date(year, month, 1)
    return dt.datetime.combine(first.replace(day=min(day, month_end(first).day)), at)


def latest_slot(schedule: Schedule, now: dt.datetime) -> dt.datetime:
    """The newest slot at or before local time `now` (naive, the company's zone)."""
    if schedule.kind == "weekly":
        assert schedule.weekday is not None
        back = (now.weekday() - schedule.weekday) % WEEKDAYS
        slot = dt.datetime.combine(now.date() - dt.timedelta(days=back), schedule.at)
        return slot if slot <= now else slot - dt.timedelta(days=WEEKDAYS)
    assert schedule.kind == "monthly" and schedule.day is not None
    slot = _monthly_slot(now.year, now.month, schedule.day, schedule.at)
    if slot <= now:
        return slot
    previous = month_start(now.date()) - dt.timedelta(days=1)
    return _monthly_slot(previous.year, previous.month, schedule.day, schedule.at)


def next_slot(schedule: Schedule, now: dt.datetime) -> dt.datetime:
    """The first slot after local time `now`."""
    if schedule.kind == "weekly":
        return latest_slot(schedule, now) + dt.timedelta(days=WEEKDAYS)
    assert schedule.day is not None
    following = month_end(now.date()) + dt.timedelta(days=1)
    slot = _monthly_slot(now.year, now.month, schedule.day, schedule.at)
    return slot if slot > now else _monthly_slot(following.year, following.month, schedule.day,
                                                 schedule.at)


def report_month(slot: dt.datetime) -> dt.date:
    """The month a report delivered at `slot` covers: the last whole month before the slot's day
    (first day of that month)."""
    return month_start(month_start(slot.date()) - dt.timedelta(days=1))


def backoff(base_seconds: float, attempt: int) -> dt.timedelta:
    """How long after failed attempt number `attempt` (1, 2, ...) the next one waits: the base,
    doubled for each attempt after the first."""
    return dt.timedelta(seconds=base_seconds * 2 ** (attempt - 1))
