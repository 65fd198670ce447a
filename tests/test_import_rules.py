"""Every validation rule of the import formats, as a table: one bad value, the problem it gives.

Pure: `check_header` and `check_chunk` against the tiny demo's codes, no store needed.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from jobs.ingest.read import ROW
from jobs.ingest.spec import KINDS, guess_kind
from jobs.ingest.validate import Lookups, Problems, Window, check_chunk, check_header

LOOKUPS = Lookups(units={"HQ": (1, 1), "ZJ-HZ": (3, 3), "ZJ-HZ-01-01": (5, 5), "ZJ-HZ-01-02": (6, 5)},
                  carriers={"app": 1, "wechat": 2, "alipay": 3, "web": 4, "hotline": 5, "hall": 6})

VALID = {
    "channel_daily": dict(unit="ZJ-HZ-01-01", day="2026-07-01", carrier="app", visits="10",
                          transactions="8", minutes_scheduled="1440", minutes_available="1400",
                          registrations="2", applications_total="5", applications_online="4",
                          applications_completed="3", completion_days_sum="6.5",
                          payments_total="7", payments_online="6", payment_amount_total="100.5",
                          payment_amount_online="90"),
    "user_stocks": dict(unit="ZJ-HZ-01-01", day="2026-07-01", customers="100", registered="80",
                        bound="70", profiled="50", ebill="60"),
    "monthly_actives": dict(unit="ZJ-HZ-01-01", month="2026-07", carrier="app", active_users="30"),
    "work_orders": dict(order_no="A-1", unit="ZJ-HZ-01-01", carrier="hotline", category="repair",
                        created_at="2026-07-01 08:00:00", first_response_at="2026-07-01 08:05:00",
                        sla_deadline="2026-07-02 08:00:00", closed_at="2026-07-01 12:00:00",
                        first_contact_resolved="1", rating="5"),
    "content_daily": dict(unit="ZJ-HZ-01-01", day="2026-07-01", carrier="app", pushes="100",
                          delivered="90", opens="30", clicks="10"),
    "campaign_daily": dict(unit="ZJ-HZ-01-01", day="2026-07-01", carrier="app", participants="50",
                           conversions="5", cost="80.5"),
    "targets": dict(kpi="online_payment", unit="ZJ-HZ", carrier="", period_start="2027-01-01",
                    period_end="2027-12-31", value="0.85"),
    "units": dict(code="ZJ-HZ-09", name_zh="测试区供电局", name_en="Test", tier="4", parent="ZJ-HZ"),
    "hotline_intervals": dict(unit="ZJ-HZ", interval_start="2026-07-01 09:15", offered="60",
                              answered="55", answered_20s="48", abandoned="4", wait_seconds="900",
                              handle_seconds="15000"),
}


def _check(kind: str, **changes: str):
    row = {**VALID[kind], **changes}
    frame = pd.DataFrame([{ROW: 2, **row}])
    problems = Problems()
    out = check_chunk(KINDS[kind], frame, LOOKUPS, problems)
    return out, problems


@pytest.mark.parametrize("kind", list(VALID))
def test_valid_rows_pass(kind):
    out, problems = _check(kind)
    assert problems.count == 0, problems.first
    assert len(out) == 1 and int(out["row_no"][0]) == 2


CASES = [
    # (kind, column, bad value, words the reason must contain)
    ("channel_daily", "visits", "", "required value missing"),
    ("channel_daily", "visits", "ten", "'ten' is not a whole number"),
    ("channel_daily", "visits", "1.5", "'1.5' is not a whole number"),
    ("channel_daily", "visits", "-3", "negative count -3"),
    ("channel_daily", "payment_amount_total", "abc", "'abc' is not a number"),
    ("channel_daily", "payment_amount_online", "-1", "negative amount -1"),
    ("channel_daily", "day", "2026-02-30", "is not a date (YYYY-MM-DD)"),
    ("channel_daily", "day", "07/01/2026", "is not a date"),
    ("channel_daily", "unit", "ZJ-XX-99", "unknown unit code 'ZJ-XX-99'"),
    ("channel_daily", "unit", "ZJ-HZ", "is not an outlet (tier 3)"),
    ("channel_daily", "carrier", "sms", "unknown carrier code 'sms'"),
    ("monthly_actives", "month", "2026-07-15", "is not a month (YYYY-MM)"),
    ("monthly_actives", "carrier", "every", "unknown carrier code 'every'"),
    ("work_orders", "created_at", "yesterday", "is not a date and time"),
    ("work_orders", "category", "praise", "unknown category 'praise'"),
    ("work_orders", "first_contact_resolved", "maybe", "is not 1/0"),
    ("work_orders", "order_no", "X" * 41, "longer than 40 characters"),
    ("work_orders", "order_no", "A\\1", "control characters and backslashes"),
    ("work_orders", "rating", "6", "rating 6 is not 1-5"),
    ("work_orders", "first_response_at", "2026-07-01 07:00:00", "is before created_at"),
    ("work_orders", "closed_at", "2026-06-30 23:00:00", "is before created_at"),
    ("work_orders", "sla_deadline", "2026-07-01 07:59:59", "is before created_at"),
    ("targets", "kpi", "happiness", "unknown KPI 'happiness'"),
    ("targets", "unit", "NOWHERE", "unknown unit code 'NOWHERE'"),
    ("targets", "period_end", "2026-12-31", "is before period_start"),
    ("targets", "value", "85", "is a rate: its target is a fraction between 0 and 1"),
    ("units", "tier", "6", "is not a tier"),
    ("units", "name_zh", "", "required value missing"),
]


@pytest.mark.parametrize("kind,column,value,reason", CASES)
def test_each_rule_names_row_column_and_reason(kind, column, value, reason):
    out, problems = _check(kind, **{column: value})
    assert out.empty, "an invalid row must not be staged"
    assert problems.count >= 1
    assert any(p.row == 2 and p.column == column and reason in p.reason for p in problems.first), \
        problems.first


RATIOS = [(kind, a, b) for kind in VALID for a, b in KINDS[kind].not_greater]


@pytest.mark.parametrize("kind,smaller,larger", RATIOS)
def test_impossible_ratios_are_refused(kind, smaller, larger):
    big = str(int(float(VALID[kind][larger])) + 1)
    out, problems = _check(kind, **{smaller: big})
    assert out.empty
    assert any(p.column == smaller and f"is greater than {larger}" in p.reason
               for p in problems.first), problems.first


@pytest.mark.parametrize("column", ["first_contact_resolved", "rating"])
def test_an_open_order_has_no_resolution_or_rating(column):
    out, problems = _check("work_orders", closed_at="")
    assert problems.first and all(p.column in ("first_contact_resolved", "rating")
                                  for p in problems.first)
    assert any(p.column == column and "not closed" in p.reason for p in problems.first)
    ok, none = _check("work_orders", closed_at="", first_contact_resolved="", rating="")
    assert none.count == 0 and len(ok) == 1


def test_values_are_converted_to_storage():
    out, _ = _check("work_orders", created_at="2026-07-01T08:00", first_contact_resolved="no",
                    carrier=" Hotline ")
    row = out.iloc[0]
    assert row["unit_id"] == 5 and row["carrier_id"] == 5 and row["first_contact_resolved"] == 0
    assert str(row["created_day"])[:10] == "2026-07-01" and row["response_minutes"] == 5.0
    totals, _ = _check("monthly_actives", carrier="all", month="2026-07-01")
    assert pd.isna(totals.iloc[0]["carrier_id"]) and str(totals.iloc[0]["month"])[:10] == "2026-07-01"


def test_header_problems():
    problems = check_header(KINDS["user_stocks"], ["unit", "day", "customers", "registered",
                                                    "bound", "profiled", "e_bill"])
    assert [(p.row, p.column) for p in problems] == [(1, "ebill"), (1, "e_bill")]
    assert "required column missing" in problems[0].reason
    assert "unknown column" in problems[1].reason
    optional_left_out = [c.name for c in KINDS["work_orders"].columns if c.required]
    assert check_header(KINDS["work_orders"], optional_left_out) == []


def test_only_the_first_hundred_problems_are_kept_but_all_are_counted():
    rows = [{ROW: i + 2, **VALID["content_daily"], "clicks": "-1"} for i in range(150)]
    problems = Problems()
    check_chunk(KINDS["content_daily"], pd.DataFrame(rows), LOOKUPS, problems)
    assert problems.count == 150 and len(problems.first) == 100
    assert [p.row for p in problems.first] == list(range(2, 102))


@pytest.mark.parametrize("name,header,kind", [
    ("work_orders_2026-07-01.csv", [], "work_orders"),
    ("营销/channel_daily.xlsx", [], "channel_daily"),
    ("extract.csv", list(VALID["user_stocks"]), "user_stocks"),
    ("extract.csv", list(VALID["campaign_daily"]), "campaign_daily"),
    ("extract.csv", ["a", "b"], None),
])
def test_kind_is_guessed_from_name_then_header(name, header, kind):
    guessed = guess_kind(name, header)
    assert (guessed.name if guessed else None) == kind


def test_every_column_type_has_a_parser():
    from jobs.ingest.spec import TYPES
    from jobs.ingest.validate import PARSERS

    assert set(PARSERS) == set(TYPES)
    assert {c.type for k in KINDS.values() for c in k.columns} <= set(TYPES)


# -- the window of days a store accepts (DATA_START .. tomorrow; plans up to 10 years ahead) ------

WINDOW = Window(dt.date(2000, 1, 1), dt.date(2026, 7, 2))  # "tomorrow" is 2026-07-02 here
IN_WINDOW = Lookups(LOOKUPS.units, LOOKUPS.carriers, WINDOW)
DATED = [(kind, c.name) for kind in VALID for c in KINDS[kind].columns
         if c.type in ("date", "month", "datetime")]


def _value(kind: str, column: str, day: dt.date) -> str:
    col = next(c for c in KINDS[kind].columns if c.name == column)
    return {"date": f"{day}", "month": f"{day:%Y-%m}", "datetime": f"{day} 08:00:00"}[col.type]


def _check_in_window(kind: str, **changes: str):
    frame = pd.DataFrame([{ROW: 2, **{**VALID[kind], **changes}}])
    problems = Problems()
    return check_chunk(KINDS[kind], frame, IN_WINDOW, problems), problems


@pytest.mark.parametrize("kind,column", DATED)
@pytest.mark.parametrize("day", [dt.date(9999, 12, 31), dt.date(1999, 12, 31), dt.date(2099, 1, 1)])
def test_a_date_outside_the_window_is_refused_in_every_dated_column(kind, column, day):
    changes = {column: _value(kind, column, day)}
    if kind == "work_orders" and column == "created_at":  # keep the later times after it
        changes.update(first_response_at="", closed_at="", first_contact_resolved="", rating="",
                       sla_deadline=_value(kind, column, day))
    if kind == "targets" and column == "period_start":
        changes.update(period_end=_value(kind, column, day))
    out, problems = _check_in_window(kind, **changes)
    assert out.empty, f"{kind}.{column} = {day} must be refused"
    assert any(p.column == column and "is outside the days this store accepts" in p.reason
               for p in problems.first), problems.first


def test_year_zero_is_refused_not_a_traceback():
    out, problems = _check_in_window("channel_daily", day="0000-01-01")
    assert out.empty and problems.first[0].reason == (
        "'0000-01-01' is outside the days this store accepts, 2000-01-01 (DATA_START) to 2026-07-02")


def test_the_window_is_inclusive_and_plans_may_lie_ahead():
    for day in ("2000-01-01", "2026-07-02"):
        out, problems = _check_in_window("channel_daily", day=day)
        assert problems.count == 0 and len(out) == 1, (day, problems.first)
    out, problems = _check_in_window("channel_daily", day="2026-07-03")
    assert out.empty and "to 2026-07-02" in problems.first[0].reason
    # a five-year plan, an SLA deadline a year ahead: plans reach 10 years past this year
    plan, none = _check_in_window("targets", period_start="2027-01-01", period_end="2031-12-31")
    assert none.count == 0 and len(plan) == 1
    far, refused = _check_in_window("targets", period_start="2027-01-01", period_end="2037-01-01")
    assert far.empty and "to 2036-12-31" in refused.first[0].reason
    late, ok = _check_in_window("work_orders", created_at="2026-07-02 23:00:00",
                                first_response_at="", closed_at="", first_contact_resolved="",
                                rating="", sla_deadline="2027-07-02 23:00:00")
    assert ok.count == 0 and len(late) == 1


def test_window_of_the_settings_uses_the_company_time_zone():
    from zoneinfo import ZoneInfo

    window = Window.of("2000-01-01", "Pacific/Kiritimati")  # UTC+14: its tomorrow comes first
    assert window.first == dt.date(2000, 1, 1)
    assert window.last == dt.datetime.now(ZoneInfo("Pacific/Kiritimati")).date() + dt.timedelta(days=1)


def test_echoed_values_are_cut():
    out, problems = _check("channel_daily", unit="Q" * 5000, visits="7" * 3000 + "x")
    reasons = [p.reason for p in problems.first]
    assert all(len(r) <= 400 for r in reasons)
    assert any(("Q" * 119 + "…") in r for r in reasons) and not any("Q" * 120 in r for r in reasons)
