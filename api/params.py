"""Parsing and validating API query parameters; every failure names the parameter."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Mapping

from sqlalchemy.orm import Session

from data.models import OrgUnit
from data.units import unit_by_code
from metrics.compute import BY_OPTIONS
from metrics.registry import REGISTRY
from metrics.scope import Scope

MAX_RANGE_DAYS = 5 * 366
# Dates the API accepts: far from the calendar's ends, so weeks and months around them always exist.
FIRST_DATE = dt.date(1900, 1, 1)
LAST_DATE = dt.date(2999, 12, 31)


class BadParameter(ValueError):
    """A query parameter is missing or wrong; answered with 400 and the parameter's name."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.message = message


def text(args: Mapping[str, str], name: str) -> str:
    """Return a parameter's value stripped ("" when absent), refusing control characters such as NUL."""
    value = (args.get(name) or "").strip()
    bad = next((c for c in value if unicodedata.category(c) in ("Cc", "Cs")), None)
    if bad is not None:
        raise BadParameter(name, f"'{name}' contains a control character (U+{ord(bad):04X})")
    return value


def required(args: Mapping[str, str], name: str) -> str:
    """Return a required parameter's value."""
    value = text(args, name)
    if not value:
        raise BadParameter(name, f"'{name}' is required")
    return value


class UnitUnavailable(PermissionError):
    """A unit parameter names a unit that does not exist or lies outside the caller's scope;
    both are answered alike (403, no detail), so the answer does not tell them apart."""

    def __init__(self, parameter: str, code: str, exists: bool) -> None:
        super().__init__(UNAVAILABLE)
        self.parameter, self.code, self.exists = parameter, code, exists


UNAVAILABLE = "unit not found or not permitted"


def unit(session: Session, args: Mapping[str, str], scope: Scope, name: str = "unit") -> OrgUnit:
    """Return the unit named by a required code parameter, if it lies in `scope`."""
    code = required(args, name)
    found = unit_by_code(session, code)
    if found is None or not scope.allows(found):
        raise UnitUnavailable(name, code, found is not None)
    return found


def date(args: Mapping[str, str], name: str) -> dt.date:
    """Return a required YYYY-MM-DD date parameter."""
    raw = required(args, name)
    try:
        day = dt.date.fromisoformat(raw) if len(raw) == 10 else _bad_date(name, raw)
    except ValueError:
        return _bad_date(name, raw)
    return _within_calendar(name, day)


def _within_calendar(name: str, day: dt.date) -> dt.date:
    if not FIRST_DATE <= day <= LAST_DATE:
        raise BadParameter(name, f"'{name}' must be between {FIRST_DATE} and {LAST_DATE}, not {day}")
    return day


def _bad_date(name: str, raw: str) -> dt.date:
    raise BadParameter(name, f"'{name}' must be a date YYYY-MM-DD, not '{raw}'")


def date_range(args: Mapping[str, str]) -> tuple[dt.date, dt.date]:
    """Return start and end, in order and at most five years apart."""
    start, end = date(args, "start"), date(args, "end")
    if end < start:
        raise BadParameter("end", f"'end' ({end}) is before 'start' ({start})")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise BadParameter("start", "the range from 'start' to 'end' is longer than 5 years")
    return start, end


def listed(args: Mapping[str, str], name: str, allowed: set[str] | dict) -> list[str] | None:
    """Return a comma-separated list parameter checked against `allowed` (None when absent)."""
    raw = text(args, name)
    if not raw:
        return None
    items = [x.strip() for x in raw.split(",") if x.strip()]
    unknown = [x for x in items if x not in allowed]
    if unknown:
        raise BadParameter(name, f"unknown {name} value(s): {', '.join(unknown)}")
    return list(dict.fromkeys(items))


def kpis(args: Mapping[str, str]) -> list[str]:
    """Return the requested KPI ids (all of them when the parameter is absent)."""
    return listed(args, "kpi", REGISTRY) or list(REGISTRY)


def by(args: Mapping[str, str]) -> str | None:
    """Return the grouping, or None."""
    raw = text(args, "by") or None
    if raw is not None and raw not in BY_OPTIONS:
        raise BadParameter("by", f"'by' must be one of {', '.join(BY_OPTIONS)}, not '{raw}'")
    return raw


def month(args: Mapping[str, str], name: str = "period") -> dt.date:
    """Return a required YYYY-MM month parameter as its first day."""
    raw = required(args, name)
    try:
        if len(raw) != 7:
            raise ValueError
        first = dt.date.fromisoformat(raw + "-01")
    except ValueError:
        raise BadParameter(name, f"'{name}' must be a month YYYY-MM, not '{raw}'") from None
    return _within_calendar(name, first)
