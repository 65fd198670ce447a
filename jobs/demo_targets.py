"""The demo's targets (指标管控): set at the top and passed down, as the paper describes.

- Ratio KPIs: one target per year at HQ that cascades to every unit, with overrides for the
  strongest and weakest cities so that the cascade has something to show.
- Per-10k service KPIs: monthly targets at HQ (their value depends on the period's length).
- Volume, stock and distinct KPIs: yearly plans per unit, in total and per carrier where the KPI
  splits by carrier (they scale with the unit's size), set from each unit's pace in the generated
  data, some above it and some below.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from jobs.demo_facts import Calendar

# kpi -> (level at the end of the data for a typical unit, yearly improvement)
RATIO_TARGETS = {
    "channel_availability": (0.99, 0.0),
    "online_substitution": (0.70, 0.08),
    "online_handling": (0.80, 0.06),
    "online_payment": (0.80, 0.07),
    "binding_rate": (0.68, 0.06),
    "profile_coverage": (0.60, 0.08),
    "activity_rate": (0.26, 0.04),
    "ebill_rate": (0.70, 0.08),
    "avg_handling_days": (4.5, -0.5),
    "open_rate": (0.16, 0.0),
    "click_rate": (0.23, 0.0),
    "conversion_rate": (0.17, 0.0),
    "cost_per_conversion": (12.0, 0.0),
    "first_contact_resolution": (0.75, 0.02),
    "on_time_rate": (0.93, 0.01),
    "avg_response_minutes": (20.0, -2.0),
    "satisfaction": (0.90, 0.01),
    "service_level": (0.80, 0.0),  # the contact centres' 80/20
    "abandonment_rate": (0.05, 0.0),
    "avg_speed_of_answer": (20.0, 0.0),
    "avg_handle_time": (300.0, 0.0),
}
# Per-10k KPIs, per month.
MONTHLY_TARGETS = {"work_orders_per_10k": 130.0, "complaints_per_10k": 5.5}
# Plans per unit (and per carrier where the KPI splits by carrier): flows are scaled to a full year.
PLAN_FLOWS = {"visits", "transactions", "new_registrations", "payment_amount", "pushes",
              "participants"}
CITY_OVERRIDES = {"ZJ-HZ": 0.03, "ZJ-LS": -0.05}  # added to HQ's ratio targets (higher-better ones)


def target_frame(units: list, yearly: pd.DataFrame, cal: Calendar, seed: int) -> pd.DataFrame:
    """Build every target row for the demo organisation."""
    rng = np.random.default_rng([seed, 104729])
    years = sorted({int(y) for y in yearly["year"]})
    hq = units[0]
    rows = []
    for year in years:
        start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
        t = (cal.end - dt.date(year, 7, 1)).days / 365.0
        for kpi, (level, per_year) in RATIO_TARGETS.items():
            value = level - per_year * t
            rows.append((kpi, hq.id, None, start, end, round(value, 4)))
            if per_year > 0:
                for u in units:
                    if u.code in CITY_OVERRIDES:
                        rows.append((kpi, u.id, None, start, end,
                                     round(value + CITY_OVERRIDES[u.code], 4)))
    months = pd.period_range(str(cal.days[0])[:7], str(cal.days[-1])[:7], freq="M")
    for month in months:
        for kpi, value in MONTHLY_TARGETS.items():
            rows.append((kpi, hq.id, None, month.start_time.date(), month.end_time.date(), value))
    rows.extend(_plans(units, yearly, rng))
    frame = pd.DataFrame(rows, columns=["kpi", "unit_id", "carrier_id", "period_start", "period_end",
                                        "value"]).astype({"carrier_id": "Int64"})
    frame["period_start"] = frame["period_start"].astype(str)
    frame["period_end"] = frame["period_end"].astype(str)
    frame.insert(0, "id", np.arange(1, len(frame) + 1))
    return frame


def _plans(units: list, yearly: pd.DataFrame, rng: np.random.Generator) -> list[tuple]:
    """Yearly plans per unit and carrier from the outlets' yearly figures, rolled up the tree."""
    ancestors = {u.id: [int(x) for x in u.path.strip("/").split("/")] for u in units}
    expanded = yearly.assign(ancestor=yearly["unit_id"].map(ancestors)).explode("ancestor")
    rolled = expanded.groupby(["ancestor", "year", "kpi", "carrier_id"]).agg(
        value=("value", "sum"), days=("days", "max"))
    # column-wise (iterating 1.1 M groups at national scale took 50 CPU seconds); the stretches
    # are drawn in the same order as one draw per plan would, so the plans are the same
    rolled = rolled[rolled["value"] > 0].reset_index()  # nothing flows there: no plan
    years = rolled["year"].astype(int).to_numpy()
    value = rolled["value"].to_numpy(dtype=float)
    full_year = np.where(years % 4 == 0, 366, 365) / np.maximum(rolled["days"].to_numpy(), 1)
    value = np.where(rolled["kpi"].isin(PLAN_FLOWS).to_numpy(), value * full_year, value)
    stretch = rng.uniform(0.92, 1.06, len(rolled))  # about half the plans are met
    rows = [(kpi, int(unit_id), int(carrier) or None, dt.date(y, 1, 1), dt.date(y, 12, 31),
             round(v, 2))
            for kpi, unit_id, carrier, y, v in zip(rolled["kpi"], rolled["ancestor"],
                                                   rolled["carrier_id"], years.tolist(),
                                                   (value * stretch).tolist(), strict=True)]
    return rows
