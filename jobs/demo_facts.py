"""Fact rows of one demo outlet: traffic, stocks, actives, content, campaigns, work orders, loads.

Everything is driven by the outlet's maturity `m` (0..1): its level of digital operation at the end
of the data, which sets where its KPIs sit against the stage thresholds of DOMAIN.md, and by
calendar effects (weekdays, the summer and winter peaks, the Spring-Festival dip). Online shares
rise over time, so older months sit at lower stages than recent ones.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from data.catalog import CARRIER_IDS, ONLINE_CARRIER_CODES

# carrier ids as seeded by data.catalog
APP, WECHAT, ALIPAY = CARRIER_IDS["app"], CARRIER_IDS["wechat"], CARRIER_IDS["alipay"]
WEB, HOTLINE, HALL = CARRIER_IDS["web"], CARRIER_IDS["hotline"], CARRIER_IDS["hall"]
ONLINE = tuple(CARRIER_IDS[c] for c in ONLINE_CARRIER_CODES)

# Spring Festival (lunar new year's day) for the years the demo can cover.
SPRING_FESTIVAL = {
    2019: "2019-02-05", 2020: "2020-01-25", 2021: "2021-02-12", 2022: "2022-02-01",
    2023: "2023-01-22", 2024: "2024-02-10", 2025: "2025-01-29", 2026: "2026-02-17",
    2027: "2027-02-06", 2028: "2028-01-26", 2029: "2029-02-13", 2030: "2030-02-03",
}

WO_CATEGORIES = np.array(["consultation", "repair", "business", "complaint", "opinion"])
WO_SLA_HOURS = np.array([24, 24, 120, 72, 120])
WO_CARRIERS = np.array([HOTLINE, APP, WECHAT, ALIPAY, WEB, HALL])
WO_CARRIER_P = np.array([0.62, 0.15, 0.12, 0.03, 0.03, 0.05])
WO_PER_CUSTOMER_DAY = 120 / 10_000 / 30  # about 120 work orders per 10k customers a month
TODAY_STREAM = 20_260_101  # seeds the random stream of today's orders (apart from the history's)


@dataclass
class Calendar:
    """Day-level calendar effects shared by every outlet of one seeding run."""

    days: np.ndarray  # datetime64[D]
    end: dt.date
    # The local time the demo is seeded at when it includes today so far (the day after `end`):
    # work orders are then answered and closed up to it, and today's are created up to it.
    now: dt.datetime | None = None
    years_before_end: np.ndarray = field(init=False)
    weekend: np.ndarray = field(init=False)
    festival: np.ndarray = field(init=False)  # days -2..+6 around the Spring Festival
    festival_closed: np.ndarray = field(init=False)  # halls closed, days 0..3
    day_of_month: np.ndarray = field(init=False)
    season_work_orders: np.ndarray = field(init=False)
    season_bills: np.ndarray = field(init=False)
    day_str: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        index = pd.DatetimeIndex(self.days)
        end64 = np.datetime64(self.end, "D")
        self.years_before_end = (end64 - self.days).astype(int) / 365.0
        self.weekend = index.day_of_week.to_numpy() >= 5
        self.day_of_month = index.day.to_numpy()
        doy = index.day_of_year.to_numpy()
        offset = np.full(len(self.days), 999)
        for date in SPRING_FESTIVAL.values():
            delta = (self.days - np.datetime64(date, "D")).astype(int)
            offset = np.where(np.abs(delta) < np.abs(offset), delta, offset)
        self.festival = (offset >= -2) & (offset <= 6)
        self.festival_closed = (offset >= 0) & (offset <= 3)
        summer = np.exp(-(((doy - 212) / 28.0) ** 2))
        winter = np.exp(-(((doy - 8) / 28.0) ** 2)) + np.exp(-(((doy - 373) / 28.0) ** 2))
        self.season_work_orders = 1 + 0.55 * summer + 0.4 * winter
        self.season_bills = 1 + 0.4 * summer + 0.25 * winter
        self.day_str = np.datetime_as_string(self.days, unit="D")

    @property
    def cutoff(self) -> np.datetime64:
        """Nothing is answered or closed at or after this instant: the end of the last day, or
        `now` when the demo includes today so far."""
        if self.now is not None:
            return np.datetime64(self.now.replace(microsecond=0), "s")
        return np.datetime64(self.end, "s") + np.timedelta64(24, "h")


@dataclass(frozen=True)
class OutletProfile:
    """What drives one outlet's data."""

    unit_id: int
    index: int  # position among all outlets; seeds the outlet's random stream
    maturity: float
    customers: int  # at the end of the data


@dataclass
class Effects:
    """Injected incidents touching one outlet (days as datetime64[D])."""

    outage_app_day: np.datetime64 | None = None
    silence_wechat_day: np.datetime64 | None = None
    complaint_surge: tuple[np.datetime64, np.datetime64] | None = None
    load_delay: tuple[np.datetime64, np.datetime64] | None = None


def _trend(end_level: float, per_year: float, cal: Calendar, lo: float = 0.02,
           hi: float = 0.99) -> np.ndarray:
    return np.clip(end_level - per_year * cal.years_before_end, lo, hi)


def outlet_frames(profile: OutletProfile, cal: Calendar, seed: int, effects: Effects,
                  first_work_order_id: int) -> dict[str, pd.DataFrame]:
    """Generate every fact table's rows for one outlet."""
    rng = np.random.default_rng([seed, profile.index])
    m = profile.maturity
    n_days = len(cal.days)
    jitter = lambda: rng.normal(0, 0.012)  # noqa: E731 - a per-outlet offset per criterion

    customers = np.round(profile.customers * (1 - 0.02 * cal.years_before_end)).astype(np.int64)
    online_share = _trend(0.70 + 0.6 * (m - 0.6) + jitter(), 0.08, cal)
    online_apps = _trend(0.80 + 0.45 * (m - 0.6) + jitter(), 0.06, cal)
    online_pay = _trend(0.78 + 0.4 * (m - 0.5) + jitter(), 0.07, cal, hi=0.97)
    binding = _trend(0.60 + 0.5 * (m - 0.35) + jitter(), 0.06, cal)
    registered_share = np.clip(binding + 0.12, 0, 0.97)
    profiled_share = _trend(0.50 + 0.55 * (m - 0.35) + jitter(), 0.08, cal)
    activity = _trend(0.20 + 0.3 * (m - 0.35) + jitter(), 0.04, cal)
    ebill = _trend(0.45 + 0.45 * m + jitter(), 0.08, cal)
    availability = float(np.clip(0.99 + 0.05 * (m - 0.15), 0.975, 0.999))
    completeness = float(np.clip(0.95 + 0.3 * (m - 0.15), 0.90, 0.999))
    timeliness = float(np.clip(0.95 + 0.15 * (m - 0.6) + jitter(), 0.80, 0.995))
    # Below basic operation the Alipay and web channels are not launched at all.
    carriers = [c for c in (APP, WECHAT, ALIPAY, WEB, HOTLINE, HALL)
                if m >= 0.15 or c not in (ALIPAY, WEB)]
    online = [c for c in ONLINE if c in carriers]

    weekday = np.where(cal.weekend, 0.85, 1.0)
    festival = np.where(cal.festival, 0.55, 1.0)
    noise = lambda scale=0.08: rng.lognormal(0, scale, n_days)  # noqa: E731
    dom = np.select([cal.day_of_month <= 10, cal.day_of_month <= 20], [1.3, 1.0], 0.7)
    payments = customers / 30 * dom * weekday * festival * noise()
    applications = customers * 0.0006 * weekday * festival * noise(0.15)
    other = customers * 0.004 * weekday * festival * noise()
    amount_each = 160 * cal.season_bills

    online_w = {APP: 0.45, WECHAT: 0.30, ALIPAY: 0.15, WEB: 0.10}
    w_total = sum(online_w[c] for c in online)
    hall_schedule = np.where(cal.festival_closed, 0, np.where(cal.weekend, 240, 510))

    registered = np.round(customers * registered_share).astype(np.int64)
    new_regs = np.diff(registered, prepend=registered[0] - max(1, int(registered[0] * 0.0005)))
    new_regs = np.maximum(new_regs, 0)
    reg_p = np.array([0.50, 0.28, 0.10 if ALIPAY in carriers else 0, 0.04 if WEB in carriers else 0,
                      0.0, 0.08])
    reg_split = rng.multinomial(new_regs, reg_p / reg_p.sum())  # (days, 6) in carrier-id order

    channel = []
    for c in carriers:
        if c in ONLINE:
            share = online_w[c] / w_total
            pay_c = payments * online_pay * share
            apps_c = applications * online_apps * share
            apps_online_c = apps_c
            other_c = other * online_share * share
            visits_factor = rng.uniform(3.0, 5.0)
            scheduled = np.full(n_days, 1440)
        elif c == HOTLINE:
            pay_c = np.zeros(n_days)
            apps_c = applications * (1 - online_apps) * 0.15
            apps_online_c = np.zeros(n_days)
            other_c = other * (1 - online_share) * 0.35
            visits_factor = 1.6
            scheduled = np.full(n_days, 1440)
        else:  # hall: counters and self-service terminals; staff file some applications online (O2O)
            short_hours = np.where(cal.weekend, 0.5, 1.0)  # halls open half days at weekends
            pay_c = payments * (1 - online_pay) * short_hours
            apps_c = applications * (1 - online_apps) * 0.85 * short_hours
            apps_online_c = apps_c * 0.12 * m
            other_c = other * (1 - online_share) * 0.65 * short_hours
            visits_factor = 1.15
            scheduled = hall_schedule
        pay_n = np.round(pay_c).astype(np.int64)
        apps_n = np.round(apps_c).astype(np.int64)
        apps_online_n = np.minimum(np.round(apps_online_c).astype(np.int64), apps_n)
        transactions = pay_n + apps_n + np.round(other_c).astype(np.int64)
        if c == HALL:
            transactions = np.where(scheduled == 0, 0, transactions)
            pay_n = np.where(scheduled == 0, 0, pay_n)
            apps_n = np.where(scheduled == 0, 0, apps_n)
            apps_online_n = np.where(scheduled == 0, 0, apps_online_n)
        completed = np.round(apps_n * rng.uniform(0.9, 1.0, n_days)).astype(np.int64)
        days_each = (2 + 6 * (1 - m)) * rng.lognormal(0, 0.2, n_days)
        q = (1 - availability) * 1440 / 30  # daily chance of an outage of about 30 minutes
        downtime = np.where(rng.random(n_days) < q, rng.exponential(30, n_days), 0)
        available = scheduled - np.minimum(np.round(downtime), scheduled)
        visits = np.round(transactions * visits_factor * noise(0.05)).astype(np.int64)
        amount = np.round(pay_n * amount_each * noise(0.1), 2)
        frame = pd.DataFrame({
            "unit_id": profile.unit_id, "day": cal.day_str, "carrier_id": c,
            "visits": visits, "transactions": transactions,
            "minutes_scheduled": scheduled.astype(np.int64),
            "minutes_available": available.astype(np.int64),
            "registrations": reg_split[:, c - 1],
            "applications_total": apps_n, "applications_online": apps_online_n,
            "applications_completed": completed,
            "completion_days_sum": np.round(completed * days_each, 2),
            "payments_total": pay_n, "payments_online": pay_n if c in ONLINE else 0,
            "payment_amount_total": amount, "payment_amount_online": amount if c in ONLINE else 0.0,
        })
        channel.append(frame)
    channel_df = pd.concat(channel, ignore_index=True)
    _apply_channel_incidents(channel_df, effects)

    stocks = pd.DataFrame({
        "unit_id": profile.unit_id, "day": cal.day_str, "customers": customers,
        "registered": registered,
        "bound": np.round(customers * binding).astype(np.int64),
        "profiled": np.round(registered * profiled_share).astype(np.int64),
        "ebill": np.round(customers * ebill).astype(np.int64),
    })

    actives, actives_total = _monthly_actives(profile.unit_id, cal, registered, activity, online,
                                              rng)
    content = _content(profile.unit_id, cal, registered, online, m, rng)
    campaigns = _campaigns(profile.unit_id, cal, registered, carriers, m, rng)
    work_orders = _work_orders(profile, cal, customers, effects, rng, first_work_order_id)
    today = (orders_today(profile, cal, int(customers[-1]), seed,
                          first_work_order_id + len(work_orders)) if cal.now is not None else None)
    if today is not None:
        work_orders = pd.concat([work_orders, today], ignore_index=True)
    loads = _loads(profile.unit_id, cal, completeness, timeliness, effects, rng)

    # A day whose data never arrived has no daily facts; work orders come from the 95598 system.
    loaded_days = set(loads["day"])
    keep = lambda df: df[df["day"].isin(loaded_days)]  # noqa: E731
    return {
        "channel_daily": keep(channel_df),
        "user_stock_daily": keep(stocks),
        "content_daily": keep(content),
        "campaign_daily": keep(campaigns),
        "monthly_active": actives,
        "monthly_active_total": actives_total,
        "work_order": work_orders,
        "data_load": loads,
    }


def _apply_channel_incidents(df: pd.DataFrame, effects: Effects) -> None:
    if effects.outage_app_day is not None:
        hit = (df["carrier_id"] == APP) & (df["day"] == str(effects.outage_app_day))
        df.loc[hit, "minutes_available"] = (df.loc[hit, "minutes_scheduled"] * 0.35).round()
        for col in ("visits", "transactions", "payments_total", "payments_online"):
            df.loc[hit, col] = (df.loc[hit, col] * 0.3).round()
        df.loc[hit, ["payment_amount_total", "payment_amount_online"]] = (
            df.loc[hit, ["payment_amount_total", "payment_amount_online"]] * 0.3).round(2)
    if effects.silence_wechat_day is not None:
        hit = (df["carrier_id"] == WECHAT) & (df["day"] == str(effects.silence_wechat_day))
        # Whoever would have registered on WeChat that day did so on the app instead, so the
        # registered-user stock still grows by exactly the day's registrations.
        app_row = (df["carrier_id"] == APP) & (df["day"] == str(effects.silence_wechat_day))
        df.loc[app_row, "registrations"] += int(df.loc[hit, "registrations"].sum())
        zero = ["visits", "transactions", "minutes_available", "registrations",
                "applications_total", "applications_online", "applications_completed",
                "completion_days_sum", "payments_total", "payments_online",
                "payment_amount_total", "payment_amount_online"]
        df.loc[hit, zero] = 0


def _monthly_actives(unit_id: int, cal: Calendar, registered: np.ndarray, activity: np.ndarray,
                     online: list[int], rng: np.random.Generator
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    months = cal.days.astype("datetime64[M]")
    last_idx = np.flatnonzero(np.r_[months[1:] != months[:-1], True])  # last day of each month
    month_str = np.datetime_as_string(months[last_idx], unit="D")
    days_in = pd.DatetimeIndex(months[last_idx]).days_in_month.to_numpy()
    elapsed = pd.DatetimeIndex(cal.days[last_idx]).day.to_numpy()
    partial = (elapsed / days_in) ** 0.4  # a month to date has fewer distinct actives
    total = np.round(registered[last_idx] * activity[last_idx] * partial
                     * rng.lognormal(0, 0.04, len(last_idx))).astype(np.int64)
    share = {APP: 0.62, WECHAT: 0.48, ALIPAY: 0.20, WEB: 0.08}
    per_carrier = [pd.DataFrame({
        "unit_id": unit_id, "month": month_str, "carrier_id": c,
        "active_users": np.round(total * share[c] * rng.lognormal(0, 0.05, len(total))
                                 ).astype(np.int64),
    }) for c in online]
    totals = pd.DataFrame({"unit_id": unit_id, "month": month_str, "active_users": total})
    return pd.concat(per_carrier, ignore_index=True), totals


def _content(unit_id: int, cal: Calendar, registered: np.ndarray, online: list[int], m: float,
             rng: np.random.Generator) -> pd.DataFrame:
    n = len(cal.days)
    dow = pd.DatetimeIndex(cal.days).day_of_week.to_numpy()
    burst = np.where(np.isin(dow, (1, 3)), 2.0, 1.0)  # pushes go out on Tuesdays and Thursdays
    frames = []
    for c, push_rate, open_factor in ((APP, 0.012, 1.0), (WECHAT, 0.015, 1.2), (ALIPAY, 0.006, 0.7)):
        if c not in online:
            continue
        pushes = np.round(registered * push_rate * burst * rng.lognormal(0, 0.2, n)).astype(np.int64)
        delivered = np.round(pushes * rng.uniform(0.95, 0.99, n)).astype(np.int64)
        opens = np.round(delivered * (0.08 + 0.15 * m) * open_factor
                         * rng.lognormal(0, 0.1, n)).astype(np.int64)
        opens = np.minimum(opens, delivered)
        clicks = np.round(opens * (0.12 + 0.2 * m) * rng.lognormal(0, 0.1, n)).astype(np.int64)
        frames.append(pd.DataFrame({"unit_id": unit_id, "day": cal.day_str, "carrier_id": c,
                                    "pushes": pushes, "delivered": delivered, "opens": opens,
                                    "clicks": np.minimum(clicks, opens)}))
    return pd.concat(frames, ignore_index=True)


def _campaigns(unit_id: int, cal: Calendar, registered: np.ndarray, carriers: list[int],
               m: float, rng: np.random.Generator) -> pd.DataFrame:
    n = len(cal.days)
    in_window = (cal.day_of_month >= 5) & (cal.day_of_month <= 14)  # a campaign each month
    frames = []
    for c, rate in ((APP, 0.0020), (WECHAT, 0.0015), (ALIPAY, 0.0006), (HALL, 0.0004)):
        if c not in carriers:
            continue
        base = registered * rate * np.where(in_window, 1.0, 0.15)
        participants = np.round(base * rng.lognormal(0, 0.2, n)).astype(np.int64)
        conversions = np.round(participants * (0.06 + 0.2 * m) * rng.lognormal(0, 0.15, n)
                               ).astype(np.int64)
        conversions = np.minimum(conversions, participants)
        cost = np.round(participants * 0.8 + conversions * (12 - 6 * m), 2)
        frames.append(pd.DataFrame({"unit_id": unit_id, "day": cal.day_str, "carrier_id": c,
                                    "participants": participants, "conversions": conversions,
                                    "cost": cost}))
    return pd.concat(frames, ignore_index=True)


def _work_orders(profile: OutletProfile, cal: Calendar, customers: np.ndarray, effects: Effects,
                 rng: np.random.Generator, first_id: int) -> pd.DataFrame:
    m = profile.maturity
    rate = (customers * WO_PER_CUSTOMER_DAY * (1.4 - 0.6 * m) * cal.season_work_orders
            * np.where(cal.weekend, 0.8, 1.0) * np.where(cal.festival, 0.6, 1.0))
    per_day = rng.poisson(rate)
    n = int(per_day.sum())
    day_idx = np.repeat(np.arange(len(cal.days)), per_day)
    cat_p = np.array([0.40, 0.28, 0.17, 0.05 * (1.5 - m), 0.10])
    category = rng.choice(len(WO_CATEGORIES), n, p=cat_p / cat_p.sum())
    if effects.complaint_surge is not None:
        lo, hi = effects.complaint_surge
        in_surge = (cal.days >= lo) & (cal.days <= hi)
        extra_per_day = rng.poisson(rate * 0.35 * in_surge)  # complaints about 6x their usual level
        extra_idx = np.repeat(np.arange(len(cal.days)), extra_per_day)
        day_idx = np.concatenate([day_idx, extra_idx])
        category = np.concatenate([category, np.full(len(extra_idx), 3)])
        order = np.argsort(day_idx, kind="stable")
        day_idx, category = day_idx[order], category[order]
        n = len(day_idx)

    day0 = cal.days[day_idx].astype("datetime64[s]")
    minute_of_day = np.clip(rng.normal(13 * 60, 200, n), 0, 1439).astype(np.int64)
    created = day0 + (minute_of_day * 60 + rng.integers(0, 60, n)).astype("timedelta64[s]")
    response_min = np.round(rng.lognormal(np.log(6 + 30 * (1 - m)), 0.6, n), 1)
    first_response = created + np.round(response_min * 60).astype("timedelta64[s]")
    sla_h = WO_SLA_HOURS[category]
    sla = created + (sla_h * 3600).astype("timedelta64[s]")
    on_time = rng.random(n) < (0.82 + 0.16 * m)
    fraction = np.where(on_time, rng.uniform(0.05, 0.95, n), rng.uniform(1.05, 2.5, n))
    closed = created + np.round(sla_h * 3600 * fraction).astype("timedelta64[s]")
    # The data ends with its last day (or now, with today so far): nothing is answered or closed
    # after it (an order closed the morning after would count in views of a day the data does not
    # have); later ones stay open.
    responded = first_response < cal.cutoff
    is_closed = closed < cal.cutoff
    fcr = rng.random(n) < (0.6 + 0.3 * m)
    rated = rng.random(n) < 0.65
    satisfied = rng.random(n) < (0.90 + 0.25 * (m - 0.8))
    rating = np.where(satisfied, np.where(rng.random(n) < 0.7, 5, 4), rng.integers(1, 4, n))

    carrier = rng.choice(WO_CARRIERS, n, p=WO_CARRIER_P)
    return pd.DataFrame({
        "id": np.arange(first_id, first_id + n),
        "unit_id": profile.unit_id,
        "order_no": order_numbers(np.arange(first_id, first_id + n)),
        "carrier_id": carrier,
        "category": WO_CATEGORIES[category],
        "created_at": _ts(created),
        "created_day": cal.day_str[day_idx],
        "first_response_at": pd.Series(_ts(first_response)).where(responded, None),
        "response_minutes": pd.Series(response_min).where(responded, None),
        "sla_deadline": _ts(sla),
        "closed_at": pd.Series(_ts(closed)).where(is_closed, None),
        "closed_day": pd.Series(np.datetime_as_string(closed.astype("datetime64[D]"))
                                ).where(is_closed, None),
        "first_contact_resolved": _nullable_int(fcr, is_closed),
        "rating": _nullable_int(rating, is_closed & rated),
    })


def orders_today(profile: OutletProfile, cal: Calendar, customers: int, seed: int,
                 first_id: int) -> pd.DataFrame | None:
    """The outlet's work orders of today (the day of `cal.now`) created up to `cal.now`: the whole
    day is drawn from a stream of its own (the history's rows stay as they were) and cut at
    `now`, so a later `now` gives the same orders and more. Open, answered and closed as of now;
    with the history's open orders they make a backlog with some due soon and some overdue.
    None when the outlet has none yet."""
    assert cal.now is not None
    now = np.datetime64(cal.now.replace(microsecond=0), "s")
    day = Calendar(days=np.array([np.datetime64(cal.now.date(), "D")]), end=cal.now.date())
    rng = np.random.default_rng([seed, profile.index, TODAY_STREAM])
    m = profile.maturity
    rate = (customers * WO_PER_CUSTOMER_DAY * (1.4 - 0.6 * m) * day.season_work_orders[0]
            * (0.8 if day.weekend[0] else 1.0) * (0.6 if day.festival[0] else 1.0))
    n = int(rng.poisson(rate))
    cat_p = np.array([0.40, 0.28, 0.17, 0.05 * (1.5 - m), 0.10])
    category = rng.choice(len(WO_CATEGORIES), n, p=cat_p / cat_p.sum())
    minute_of_day = np.clip(rng.normal(13 * 60, 200, n), 0, 1439).astype(np.int64)
    created = (day.days[0].astype("datetime64[s]")
               + (minute_of_day * 60 + rng.integers(0, 60, n)).astype("timedelta64[s]"))
    response_min = np.round(rng.lognormal(np.log(6 + 30 * (1 - m)), 0.6, n), 1)
    first_response = created + np.round(response_min * 60).astype("timedelta64[s]")
    sla_h = WO_SLA_HOURS[category]
    on_time = rng.random(n) < (0.82 + 0.16 * m)
    fraction = np.where(on_time, rng.uniform(0.05, 0.95, n), rng.uniform(1.05, 2.5, n))
    closed = created + np.round(sla_h * 3600 * fraction).astype("timedelta64[s]")
    fcr = rng.random(n) < (0.6 + 0.3 * m)
    rated = rng.random(n) < 0.65
    satisfied = rng.random(n) < (0.90 + 0.25 * (m - 0.8))
    rating = np.where(satisfied, np.where(rng.random(n) < 0.7, 5, 4), rng.integers(1, 4, n))
    carrier = rng.choice(WO_CARRIERS, n, p=WO_CARRIER_P)
    order = np.argsort(created, kind="stable")
    keep = order[created[order] < now]  # not yet created: not in the store
    created, first_response, closed = created[keep], first_response[keep], closed[keep]
    responded, is_closed = first_response < now, closed < now
    k = len(keep)
    if k == 0:
        return None
    return pd.DataFrame({
        "id": np.arange(first_id, first_id + k),
        "unit_id": profile.unit_id,
        "order_no": order_numbers(np.arange(first_id, first_id + k)),
        "carrier_id": carrier[keep],
        "category": WO_CATEGORIES[category[keep]],
        "created_at": _ts(created),
        "created_day": np.datetime_as_string(created.astype("datetime64[D]")),
        "first_response_at": pd.Series(_ts(first_response)).where(responded, None),
        "response_minutes": pd.Series(response_min[keep]).where(responded, None),
        "sla_deadline": _ts(created + (sla_h[keep] * 3600).astype("timedelta64[s]")),
        "closed_at": pd.Series(_ts(closed)).where(is_closed, None),
        "closed_day": pd.Series(np.datetime_as_string(closed.astype("datetime64[D]"))
                                ).where(is_closed, None),
        "first_contact_resolved": _nullable_int(fcr[keep], is_closed),
        "rating": _nullable_int(rating[keep], is_closed & rated[keep]),
    })


def order_numbers(ids: np.ndarray) -> np.ndarray:
    """The work orders' numbers in the 95598 system for their ids: DEMO0000000001, ..."""
    return np.char.add("DEMO", np.char.zfill(ids.astype(str), 10))


def _nullable_int(values: np.ndarray, present: np.ndarray) -> pd.Series:
    return pd.Series(values.astype(np.int64), dtype="Int64").where(present)


def _ts(values: np.ndarray) -> np.ndarray:
    # SQLAlchemy's SQLite DATETIME storage format, also valid PostgreSQL input.
    return np.char.add(np.char.replace(np.datetime_as_string(values, unit="s"), "T", " "), ".000000")


def _loads(unit_id: int, cal: Calendar, completeness: float, timeliness: float, effects: Effects,
           rng: np.random.Generator) -> pd.DataFrame:
    n = len(cal.days)
    arrived = rng.random(n) < completeness
    late_days = np.where(rng.random(n) < timeliness, 1, rng.integers(2, 5, n))
    if effects.load_delay is not None:
        lo, hi = effects.load_delay
        late_days = np.where((cal.days >= lo) & (cal.days <= hi), 3, late_days)
    seconds = 5400 + rng.integers(0, 5400, n)  # 01:30-03:00 on the day it arrives
    loaded = (cal.days.astype("datetime64[s]") + (late_days * 86400 + seconds)
              .astype("timedelta64[s]"))
    as_of = np.datetime64(cal.end, "s") + np.timedelta64(30, "h")
    keep = arrived & (loaded <= as_of)
    if cal.now is not None:  # loads that would arrive later than now have not arrived yet
        keep &= loaded < cal.cutoff
    return pd.DataFrame({"unit_id": unit_id, "day": cal.day_str[keep],
                         "loaded_at": _ts(loaded[keep]), "source": "demo"})
