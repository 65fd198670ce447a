"""The demo has the shapes DOMAIN.md promises: weekly and seasonal patterns, rising online share,
regional differences across the stage thresholds, consistent facts, and the injected incidents."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from tests.conftest import DEMO_END


def q(store, sql: str, **params):
    with store.engine.connect() as conn:
        return conn.execute(text(sql), params).all()


def scalar(store, sql: str, **params):
    return q(store, sql, **params)[0][0]


# -- calendar -----------------------------------------------------------------------------------


def test_halls_are_busier_on_weekdays(small_store):
    rows = q(small_store, """
        SELECT strftime('%w', day) AS dow, avg(transactions) FROM channel_daily
        WHERE carrier_id = 6 GROUP BY dow""")
    by_dow = {int(d): v for d, v in rows}
    weekday = sum(by_dow[d] for d in range(1, 6)) / 5
    weekend = (by_dow[0] + by_dow[6]) / 2
    assert weekend < 0.6 * weekday


def test_work_orders_peak_in_summer_and_winter(small_store):
    rows = q(small_store, """
        SELECT CAST(strftime('%m', created_day) AS INTEGER) AS month, count(*) * 1.0
               / count(DISTINCT created_day) FROM work_order GROUP BY month""")
    per_day = dict(rows)
    spring_autumn = (per_day[4] + per_day[5] + per_day[10] + per_day[11]) / 4
    assert per_day[7] > 1.3 * spring_autumn and per_day[8] > 1.2 * spring_autumn
    assert per_day[1] > 1.1 * spring_autumn and per_day[12] > 1.1 * spring_autumn


def test_spring_festival_dips_transactions(small_store):
    festival = dt.date(2026, 2, 17)

    def per_day(lo, hi):
        return scalar(small_store, """SELECT sum(transactions) * 1.0 / count(DISTINCT day)
            FROM channel_daily WHERE day BETWEEN :lo AND :hi""", lo=lo, hi=hi)

    during = per_day(festival, festival + dt.timedelta(days=6))
    before = per_day(festival - dt.timedelta(days=30), festival - dt.timedelta(days=10))
    after = per_day(festival + dt.timedelta(days=20), festival + dt.timedelta(days=40))
    assert during < 0.7 * before and during < 0.7 * after


def test_online_share_rises_over_time(small_store):
    rows = q(small_store, """
        SELECT unit_id,
          sum(CASE WHEN day < :early AND carrier_id <= 4 THEN transactions END) * 1.0
            / sum(CASE WHEN day < :early THEN transactions END),
          sum(CASE WHEN day > :late AND carrier_id <= 4 THEN transactions END) * 1.0
            / sum(CASE WHEN day > :late THEN transactions END)
        FROM channel_daily GROUP BY unit_id""",
        early=DEMO_END - dt.timedelta(days=640), late=DEMO_END - dt.timedelta(days=90))
    rising = [late - early for _, early, late in rows]
    assert all(r > 0.05 for r in rising), rising
    assert sum(rising) / len(rising) > 0.1


# -- regional differences -------------------------------------------------------------------


def test_outlets_land_on_both_sides_of_every_stage_threshold(small_store):
    last30 = DEMO_END - dt.timedelta(days=29)
    channel = q(small_store, """
        SELECT unit_id,
          sum(CASE WHEN carrier_id <= 4 THEN transactions END) * 1.0 / sum(transactions),
          sum(minutes_available) * 1.0 / sum(minutes_scheduled),
          count(DISTINCT CASE WHEN transactions > 0 THEN carrier_id END),
          sum(applications_online) * 1.0 / sum(applications_total)
        FROM channel_daily WHERE day >= :d GROUP BY unit_id""", d=last30)
    stocks = q(small_store, """SELECT unit_id, bound * 1.0 / customers,
        profiled * 1.0 / registered FROM user_stock_daily WHERE day = :d""", d=DEMO_END)
    sat = q(small_store, """SELECT unit_id, avg(CASE WHEN rating >= 4 THEN 1.0 ELSE 0 END)
        FROM work_order WHERE rating IS NOT NULL AND created_day >= :d GROUP BY unit_id""",
            d=DEMO_END - dt.timedelta(days=89))

    def both_sides(values, threshold):
        return min(values) < threshold <= max(values)

    assert both_sides([r[1] for r in channel], 0.70)  # online substitution (stage 3)
    assert both_sides([r[2] for r in channel], 0.99)  # availability (stage 1)
    assert min(r[3] for r in channel) < 5 <= max(r[3] for r in channel)  # carriers (stage 1)
    assert both_sides([r[4] for r in channel], 0.80)  # online applications (stage 3)
    assert both_sides([r[1] for r in stocks], 0.60)  # binding (stage 2)
    assert both_sides([r[2] for r in stocks], 0.50)  # profile coverage (stage 2)
    assert both_sides([r[1] for r in sat], 0.90)  # satisfaction (stage 4)


def test_data_completeness_and_timeliness_vary(small_store):
    rows = q(small_store, """
        SELECT unit_id, count(*),
          sum(CASE WHEN julianday(loaded_at) - julianday(day) < 2 THEN 1 ELSE 0 END)
        FROM data_load GROUP BY unit_id""")
    completeness = [n / 730 for _, n, _ in rows]
    timeliness = [t / n for _, n, t in rows]
    assert min(completeness) < 0.95 <= max(completeness)
    assert min(timeliness) < 0.95 <= max(timeliness)


# -- consistency of the facts (both databases) ----------------------------------------------


@pytest.mark.parametrize("check", [
    "SELECT count(*) FROM channel_daily WHERE payments_online > payments_total",
    "SELECT count(*) FROM channel_daily WHERE applications_online > applications_total",
    "SELECT count(*) FROM channel_daily WHERE minutes_available > minutes_scheduled",
    "SELECT count(*) FROM channel_daily WHERE payment_amount_online > payment_amount_total",
    "SELECT count(*) FROM content_daily WHERE delivered > pushes OR opens > delivered "
    "OR clicks > opens",
    "SELECT count(*) FROM campaign_daily WHERE conversions > participants",
    "SELECT count(*) FROM user_stock_daily WHERE bound > customers OR registered > customers "
    "OR profiled > registered OR ebill > customers",
    "SELECT count(*) FROM work_order WHERE closed_at < created_at OR first_response_at < created_at",
    "SELECT count(*) FROM work_order WHERE closed_at IS NULL AND (rating IS NOT NULL "
    "OR first_contact_resolved IS NOT NULL)",
    "SELECT count(*) FROM channel_daily c WHERE NOT EXISTS (SELECT 1 FROM data_load d "
    "WHERE d.unit_id = c.unit_id AND d.day = c.day)",
    "SELECT count(*) FROM channel_daily c JOIN org_unit u ON u.id = c.unit_id WHERE u.tier <> 5",
])
def test_facts_are_consistent(tiny_store, check):
    assert scalar(tiny_store, check) == 0


def test_registered_users_grow_by_the_registrations(tiny_store):
    rows = q(tiny_store, """
        SELECT s.unit_id, s.day, s.registered, (SELECT sum(registrations) FROM channel_daily c
          WHERE c.unit_id = s.unit_id AND c.day = s.day)
        FROM user_stock_daily s ORDER BY s.unit_id, s.day""")
    checked = 0
    for prev, cur in zip(rows, rows[1:], strict=False):
        if prev[0] == cur[0] and (as_date(cur[1]) - as_date(prev[1])).days == 1:
            assert cur[2] - prev[2] == cur[3]
            checked += 1
    assert checked > 1000


def test_monthly_actives_are_distinct_not_summed(tiny_store):
    rows = q(tiny_store, """
        SELECT t.active_users, (SELECT sum(active_users) FROM monthly_active a
          WHERE a.unit_id = t.unit_id AND a.month = t.month)
        FROM monthly_active_total t""")
    assert all(total <= per_carrier for total, per_carrier in rows)
    assert sum(1 for total, per_carrier in rows if total < per_carrier) > 0.9 * len(rows)


def test_customers_per_outlet_in_the_thousands(tiny_store):
    lo, hi = q(tiny_store, "SELECT min(customers), max(customers) FROM user_stock_daily")[0]
    assert lo >= 2000 and hi <= 80000


# -- injected incidents (both databases) ---------------------------------------------------


def as_date(value) -> dt.date:
    """Dates come back as strings from SQLite through text(); make them dates."""
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _incident(store, kind):
    start, end, path, carrier = q(store, """SELECT i.start_day, i.end_day, u.path, i.carrier_id
        FROM demo_incident i JOIN org_unit u ON u.id = i.unit_id WHERE i.kind = :k""", k=kind)[0]
    return as_date(start), as_date(end), path, carrier


def _in_subtree(path):
    return f"unit_id IN (SELECT id FROM org_unit WHERE path >= '{path}' AND path < '{path[:-1]}0')"


def test_app_outage_is_in_the_data(tiny_store):
    start, _, path, carrier = _incident(tiny_store, "carrier_outage")
    avail = dict(q(tiny_store, f"""SELECT day = :d AS hit, sum(minutes_available) * 1.0
        / sum(minutes_scheduled) FROM channel_daily WHERE carrier_id = :c AND {_in_subtree(path)}
        GROUP BY day = :d""", d=start, c=carrier))
    assert avail[True] < 0.5 and avail[False] > 0.98


def test_wechat_silence_is_in_the_data(tiny_store):
    start, _, path, carrier = _incident(tiny_store, "carrier_silence")
    rows = q(tiny_store, f"""SELECT day, sum(transactions) FROM channel_daily
        WHERE carrier_id = :c AND {_in_subtree(path)} AND day BETWEEN :lo AND :d GROUP BY day""",
        c=carrier, lo=start - dt.timedelta(days=7), d=start)
    traffic = {as_date(day): n for day, n in rows}
    assert traffic[start] == 0
    assert all(n > 0 for day, n in traffic.items() if day != start)


def test_complaint_surge_is_in_the_data(tiny_store):
    start, end, path, _ = _incident(tiny_store, "complaint_surge")
    during = scalar(tiny_store, f"""SELECT count(*) FROM work_order WHERE category = 'complaint'
        AND {_in_subtree(path)} AND created_day BETWEEN :a AND :b""", a=start, b=end) / 7
    before = scalar(tiny_store, f"""SELECT count(*) FROM work_order WHERE category = 'complaint'
        AND {_in_subtree(path)} AND created_day BETWEEN :a AND :b""",
        a=start - dt.timedelta(days=56), b=start - dt.timedelta(days=1)) / 56
    assert during > 3 * before


def test_load_delay_is_in_the_data(tiny_store):
    start, end, path, _ = _incident(tiny_store, "load_delay")
    rows = q(tiny_store, f"""SELECT day, loaded_at FROM data_load WHERE {_in_subtree(path)}
        AND day BETWEEN :a AND :b""", a=start, b=end)
    assert rows and all((as_date(loaded) - as_date(day)).days == 3 for day, loaded in rows)
