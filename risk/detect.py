"""Detection: whether a rule is breached on a day, from a unit's daily KPI series.

The series come from `metrics.compute(..., by="day")` (aggregated in SQL); these functions only
compare numbers, so each rule type is testable on constructed series. Their settings and defaults
are declared in `risk.params`.

- threshold: the KPI on the day (or over a trailing window of `window` days) against a value;
- change: the KPI over the last `window` days against the `window` days before (drop or rise); from
  a zero baseline (the window before had data and a value of 0) a rise cannot be a share, so it
  fires once the last window's numerator reaches `min_count` (when the rule sets it);
- anomaly: a robust z-score of the day's value against the unit's own trailing `weeks` weeks;
- silence: no traffic on a carrier on a day when its trailing 4-week median is at least `min_usual`;
- audit: repeated actions of one person in the audit log in a day (see `audit_breaches`).
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from dataclasses import dataclass
from typing import NamedTuple

from risk.params import PARAMS


class Day(NamedTuple):
    """One day of a unit's KPI: value, numerator and denominator (None when no data); a tuple, as
    a national scan makes a million of them."""

    value: float | None
    numerator: float | None
    denominator: float | None


@dataclass(frozen=True)
class Breach:
    """A rule breached on `day`: the value of that day and the threshold it passed that day."""

    day: dt.date
    value: float | None
    threshold: float | None


def excess(value: float | None, threshold: float | None) -> float:
    """How far a breach's value lies beyond its threshold, relative to the threshold.

    An event's worst day is the day with the largest excess (the earlier day on a tie). Every
    breach's value lies at or beyond its threshold in the breach's direction, so the distance is
    |value - threshold|, divided by |threshold|: 30 against 10 (2.0) is worse than 150 against
    140 (0.07). Beyond a threshold of 0 any distance is infinite; no value or threshold, -inf.
    """
    if value is None or threshold is None:
        return -math.inf
    gap = abs(value - threshold)
    if threshold == 0:
        return math.inf if gap else 0.0
    return gap / abs(threshold)


def _arg(params, rule_type: str, name: str):
    """A rule's setting, or its declared default."""
    return params.get(name, PARAMS[rule_type][name].default)


def _window(series: dict[dt.date, Day], end: dt.date, days: int, scale: float,
            ratio: bool) -> tuple[float | None, float | None]:
    """The KPI over `days` days ending on `end` (sum/sum for ratios), and its numerator."""
    num = den = 0.0
    seen = False
    for i in range(days):
        d = series.get(end - dt.timedelta(days=i))
        if d is None or d.numerator is None:
            continue
        seen = True
        num += d.numerator
        den += d.denominator or 0.0
    if not seen:
        return None, None
    if not ratio:
        return num, num
    return (scale * num / den if den else None), num


def threshold(series, day, params, scale=1.0, ratio=True) -> Breach | None:
    """Breach when the value (daily, or over `window` days) is beyond the limit."""
    window = int(_arg(params, "threshold", "window"))
    value = (series[day].value if day in series else None) if window == 1 else \
        _window(series, day, window, scale, ratio)[0]
    if value is None:
        return None
    limit = float(params["value"])
    hit = value < limit if _arg(params, "threshold", "op") == "<" else value > limit
    return Breach(day, value, limit) if hit else None


def change(series, day, params, scale=1.0, ratio=True) -> Breach | None:
    """Breach when the last window moved beyond max_drop (down) or max_rise (up) vs the one before.

    From a zero baseline (the window before had data: a value of 0, or a ratio with nothing to
    divide by) a rise fires when the last window's numerator reaches `min_count`; its threshold
    is then the value the last window would have had with exactly `min_count`.
    """
    w = int(_arg(params, "change", "window"))
    now, num = _window(series, day, w, scale, ratio)
    before, before_num = _window(series, day - dt.timedelta(days=w), w, scale, ratio)
    if now is None or num is None or num < float(_arg(params, "change", "min_numerator")):
        return None
    if not before:
        least = params.get("min_count")
        if (before_num is None or least is None or "max_rise" not in params
                or num < float(least) or num <= 0):
            return None  # no window before, or no minimum count to fire from zero
        return Breach(day, now, now * float(least) / num)
    rel = (now - before) / abs(before)
    if "max_drop" in params and rel <= -float(params["max_drop"]):
        return Breach(day, now, before * (1 - float(params["max_drop"])))
    if "max_rise" in params and rel >= float(params["max_rise"]):
        return Breach(day, now, before * (1 + float(params["max_rise"])))
    return None


def anomaly(series, day, params, scale=1.0, ratio=True) -> Breach | None:
    """Breach when the day's robust z-score against the trailing weeks passes `z`."""
    today = series.get(day)
    if today is None or today.value is None:
        return None
    history = [series[d].value for d in (day - dt.timedelta(days=i)
                                         for i in range(1, 7 * int(_arg(params, "anomaly", "weeks")) + 1))
               if d in series and series[d].value is not None]
    if len(history) < 14:
        return None
    median = statistics.median(history)
    mad = statistics.median(abs(x - median) for x in history)
    spread = mad / 0.6745 if mad else statistics.pstdev(history)
    if not spread:
        return None
    z = (today.value - median) / spread
    limit = float(_arg(params, "anomaly", "z"))
    side = _arg(params, "anomaly", "side")
    hit = (z <= -limit) if side == "low" else (z >= limit) if side == "high" else abs(z) >= limit
    bound = median - limit * spread if z < 0 else median + limit * spread
    return Breach(day, today.value, bound) if hit else None


SILENCE_DAYS = 28  # the trailing four weeks a carrier's usual traffic is judged over


def silence(series, day, params, scale=1.0, ratio=False) -> Breach | None:
    """Breach when a carrier that usually has traffic had none on a day with data."""
    today = series.get(day)
    if today is None or today.value is None or today.value > 0:
        return None
    usual = [series[d].value for d in (day - dt.timedelta(days=i) for i in range(1, SILENCE_DAYS + 1))
             if d in series and series[d].value is not None]
    if len(usual) < 14 or statistics.median(usual) < float(_arg(params, "silence", "min_usual")):
        return None
    return Breach(day, 0.0, statistics.median(usual))


def history_days(rule_type: str, params) -> int:
    """How many days before the day it judges the evaluator of `rule_type` reads: the series of
    a flow KPI need not reach further back (a stock's need: its carry-forward starts from the
    series' first day)."""
    if rule_type == "threshold":
        return int(_arg(params, "threshold", "window")) - 1
    if rule_type == "change":
        return 2 * int(_arg(params, "change", "window")) - 1
    if rule_type == "anomaly":
        return 7 * int(_arg(params, "anomaly", "weeks"))
    if rule_type == "silence":
        return SILENCE_DAYS
    raise ValueError(f"no history for rule type {rule_type!r}")


EVALUATORS = {"threshold": threshold, "change": change, "anomaly": anomaly, "silence": silence}


def audit_breaches(counts: dict[tuple[str, dt.date], int], params) -> list[tuple[str, Breach]]:
    """(username, breach) for each person and day whose count of an action reached `count`."""
    limit = int(_arg(params, "audit", "count"))
    return [(user, Breach(day, float(n), float(limit)))
            for (user, day), n in sorted(counts.items(), key=lambda kv: (kv[0][1], kv[0][0]))
            if n >= limit]
