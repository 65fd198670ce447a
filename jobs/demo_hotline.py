"""The demo's 95598 contact centres: 15-minute interval data per city, shaped like a real queue.

Every city company (tier 3) runs the centre that answers its customers' calls (DOMAIN.md: "usually
a city or the province"); the provinces answer none themselves, so a province's figures are its
cities' together. Per centre and interval the generator draws calls offered around a demand curve
and lets a queue staffed for the *expected* demand answer them:

- intraday: a morning peak (9-11), an afternoon shoulder (14-17) and an evening peak after work
  (19-21), quiet nights (`intraday_shape`);
- by day: Mondays heavier, the three days after the bills go out (the 1st) heavier, weekends and the
  Spring Festival lighter, the summer and winter peaks of the work orders (`day_factors`);
- the injected carrier outage (an app outage, `jobs.demo.incidents`) sends customers to the phone:
  calls jump within minutes of OUTAGE_START and the surge decays over hours (`surge`). The centre is
  staffed for the usual day, so its service level falls and abandonment rises, as they would.

Load -> service: with load `rho` = offered / capacity, the share answered within 20 s falls and the
share abandoned and the wait rise smoothly past rho = 1. Short abandons (under 5 s) are in neither
offered nor abandoned, and offered = answered + abandoned. Deterministic: one random stream per
centre from the seed and the centre's position.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from jobs.demo_facts import HOTLINE, Calendar

SLOTS = 96  # 15-minute intervals a day
SLOT = np.timedelta64(15, "m")
CALLS_PER_CUSTOMER_DAY = 0.015  # offered calls a day per customer of the centre's subtree
BILL_DAY = 1  # bills go out on the 1st; the days after it are heavier
OUTAGE_START = 9.25  # local hour the injected outage begins (09:15)
SURGE_HEIGHT = 2.5  # extra calls at the surge's height, as a multiple of the usual
SURGE_RISE_HOURS = 0.25  # within minutes
SURGE_DECAY_HOURS = 4.0  # lasting hours


def intraday_shape() -> np.ndarray:
    """Each interval's share of a day's calls (sums to 1), interval 0 = 00:00-00:15."""
    hours = np.arange(SLOTS) / 4 + 0.125  # the middle of each interval

    def bump(mid: float, width: float) -> np.ndarray:
        return np.exp(-0.5 * ((hours - mid) / width) ** 2)

    weights = 0.04 + 1.0 * bump(10.0, 1.1) + 0.62 * bump(15.0, 1.5) + 0.72 * bump(20.25, 0.95)
    return weights / weights.sum()


def day_factors(cal: Calendar) -> np.ndarray:
    """Each day's calls relative to an ordinary weekday."""
    dow = pd.DatetimeIndex(cal.days).day_of_week.to_numpy()
    weekday = np.array([1.25, 1.05, 1.0, 1.0, 1.0, 0.8, 0.75])[dow]  # Monday first
    after_bills = np.where((cal.day_of_month > BILL_DAY) & (cal.day_of_month <= BILL_DAY + 3),
                           1.3, 1.0)
    festival = np.where(cal.festival, 0.6, 1.0)
    return weekday * after_bills * festival * cal.season_work_orders


def surge(start_hour: float = OUTAGE_START) -> np.ndarray:
    """Per interval, the multiple of the usual calls on an outage day (1 before the outage)."""
    after = np.arange(SLOTS) / 4 - start_hour
    rising = 1 - np.exp(-np.maximum(after, 0) / SURGE_RISE_HOURS)
    return np.where(after >= 0, 1 + SURGE_HEIGHT * rising * np.exp(-after / SURGE_DECAY_HOURS),
                    1.0)


def centre_frame(unit_id: int, index: int, customers: int, level: float, cal: Calendar,
                 seed: int, outage_day: np.datetime64 | None = None,
                 first_day: np.datetime64 | None = None,
                 until: dt.datetime | None = None) -> pd.DataFrame:
    """The `hotline_interval` rows of one centre: every interval of the calendar's days (from
    `first_day` on, if given) that has ended by `until` (None: every one)."""
    rng = np.random.default_rng([seed, 15485863, index])
    days = cal.days
    n = len(days)
    daily = customers * CALLS_PER_CUSTOMER_DAY * day_factors(cal) * rng.lognormal(0, 0.06, n)
    expected = daily[:, None] * intraday_shape()[None, :]
    lift = np.ones((n, SLOTS))
    if outage_day is not None:
        lift[days == outage_day] = surge()
    offered = rng.poisson(expected * lift)
    # staffed for the expected calls with a square-root safety margin (as Erlang staffing is;
    # better-run centres a little more generously), at least two calls' worth through the night
    capacity = np.maximum(expected * (1.02 + 0.15 * level) + 1.5 * np.sqrt(expected), 2.0)
    rho = offered / capacity
    abandon_p = 0.01 + 0.5 / (1 + np.exp(-8 * (rho - 1.25)))
    abandoned = rng.binomial(offered, abandon_p)
    answered = offered - abandoned
    within_p = 0.97 / (1 + np.exp(10 * (rho - 1.05))) / (1 - abandon_p)  # of offered -> of answered
    answered_20s = rng.binomial(answered, np.clip(within_p, 0, 1))
    asa = np.minimum(6 + 22 * np.exp(3 * (rho - 1)), 600) * (1.3 - 0.5 * level)
    wait = np.round(answered * asa * rng.lognormal(0, 0.15, (n, SLOTS)))
    aht = (300 - 40 * level) * lift ** -0.3 * rng.lognormal(0, 0.05, (n, SLOTS))  # repair calls are short
    handle = np.round(answered * aht)

    starts: np.ndarray = (days.astype("datetime64[m]")[:, None]
                          + np.arange(SLOTS) * SLOT).astype("datetime64[m]")
    keep = np.ones((n, SLOTS), dtype=bool)
    if first_day is not None:
        keep &= (days >= first_day)[:, None]
    if until is not None:
        keep &= starts + SLOT <= np.datetime64(until, "m")
    start_text = np.char.add(np.char.replace(
        np.datetime_as_string(starts[keep], unit="s"), "T", " "), ".000000")
    return pd.DataFrame({
        "unit_id": unit_id,
        "interval_start": start_text,
        "day": np.repeat(cal.day_str[:, None], SLOTS, axis=1)[keep],
        "carrier_id": HOTLINE,
        "offered": offered[keep].astype(np.int64),
        "answered": answered[keep].astype(np.int64),
        "answered_20s": answered_20s[keep].astype(np.int64),
        "abandoned": abandoned[keep].astype(np.int64),
        "wait_seconds": wait[keep].astype(np.int64),
        "handle_seconds": handle[keep].astype(np.int64),
    })
