"""Risk events marked on KPI trend charts (issue 23, part 5): per KPI and day the events of the
unit's subtree, the one a click opens, how many and how severe. Expected values come from the raw
risk_event rows (an event is on each day from its first to its last), restated here in Python; the
figures carry the marks as a trace of their own whose customdata is the event a click opens."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from components.charts import one_trend, trend_lines
from components.i18n import t
from data.units import unit_by_code
from metrics.registry import REGISTRY
from metrics.risk_marks import event_marks
from metrics.scope import OutOfScope, Scope
from risk.incidents import group_ungrouped
from tests.conftest import app_over
from tests.test_chart_colours import page_figures

SEVERITY = {"low": 1, "medium": 2, "high": 3}
KPIS = ["transactions", "channel_availability", "satisfaction", "complaints_per_10k"]


def _raw_marks(conn, code: str, kpis: list[str], start: dt.date, end: dt.date,
               carriers: list[str] | None = None) -> dict[tuple[str, dt.date], dict]:
    """Per (kpi, day): what the marks should say, from the raw rows: every event of the subtree
    on the day, the one to open (highest unit, then most severe, then first day, then id)."""
    top = conn.execute(text("SELECT path FROM org_unit WHERE code = :c"), {"c": code}).scalar()
    rows = conn.execute(text(
        "SELECT e.id, e.incident_id, e.first_day, e.last_day, e.carrier, r.kpi, r.severity, r.code AS rule, "
        "r.name_zh AS rule_zh, u.path, u.tier, u.code, u.name_zh FROM risk_event e "
        "JOIN risk_rule r ON r.id = e.rule_id JOIN org_unit u ON u.id = e.unit_id")).all()
    days: dict[tuple[str, dt.date], list] = {}
    for row in rows:
        if not row.path.startswith(top) or row.kpi not in kpis:
            continue
        if carriers is not None and row.carrier is not None and row.carrier not in carriers:
            continue
        first, last = (dt.date.fromisoformat(str(d)[:10]) for d in (row.first_day, row.last_day))
        day = max(first, start)
        while day <= min(last, end):
            days.setdefault((row.kpi, day), []).append((row, first))
            day += dt.timedelta(days=1)
    out = {}
    for key, found in days.items():
        lead, _ = min(found, key=lambda f: (f[0].tier, -SEVERITY[f[0].severity], f[1], f[0].id))
        rules = sorted({(-SEVERITY[r.severity], r.rule, r.rule_zh) for r, _ in found})
        out[key] = {"event": lead.id, "events": len(found),
                    "incidents": len({r.incident_id or -r.id for r, _ in found}), "unit": lead.code,
                    "unit_zh": lead.name_zh,
                    "severity": max((r.severity for r, _ in found), key=SEVERITY.__getitem__),
                    "rules_zh": "、".join(name for _, _, name in rules)}
    return out


def _got(marks: pd.DataFrame) -> dict[tuple[str, dt.date], dict]:
    return {(r.kpi, r.day): {"event": r.event, "events": r.events, "incidents": r.incidents,
                             "unit": r.unit,
                             "unit_zh": r.unit_zh, "severity": r.severity, "rules_zh": r.rules_zh}
            for r in marks.itertuples()}


def _add_events(conn) -> dict[str, int]:
    """Events that make the choice of the lead matter: an outage at a county and its outlets on
    one day (the county leads), a medium and a high event at one outlet on one day (the high one
    leads), one that began before the range, one of another carrier, one in another city."""
    ids = dict(conn.execute(text("SELECT code, id FROM org_unit")).all())
    rule = dict(conn.execute(text("SELECT code, id FROM risk_rule")).all())
    conn.execute(text(
        "INSERT INTO risk_rule (code, name_zh, name_en, type, core, kpi, carrier, params, tiers, "
        "severity, owner_tier, deadline_hours, active) VALUES ('transactions_low', '业务量偏低', "
        "'Transactions low', 'threshold', 'channel', 'transactions', NULL, '{}', '4,5', 'medium', "
        "4, 72, true)"))
    rule["transactions_low"] = conn.execute(text(
        "SELECT id FROM risk_rule WHERE code = 'transactions_low'")).scalar()
    made = {}
    for name, rule_code, unit, carrier, first, last in (
            ("county", "wechat_silent", "ZJ-HZ-01", "wechat", "2026-06-20", "2026-06-20"),
            ("outlet_a", "wechat_silent", "ZJ-HZ-01-01", "wechat", "2026-06-20", "2026-06-20"),
            ("outlet_b", "wechat_silent", "ZJ-HZ-01-02", "wechat", "2026-06-20", "2026-06-20"),
            ("medium", "transactions_low", "ZJ-HZ-02-01", None, "2026-06-24", "2026-06-24"),
            ("high", "app_silent", "ZJ-HZ-02-01", "app", "2026-06-24", "2026-06-24"),
            ("before", "transactions_low", "ZJ-HZ-02", None, "2026-05-28", "2026-06-02"),
            ("alipay", "transactions_low", "ZJ-HZ-01", "alipay", "2026-06-26", "2026-06-26"),
            ("ningbo", "app_silent", "ZJ-NB-01", "app", "2026-06-24", "2026-06-24")):
        made[name] = conn.execute(text(
            "INSERT INTO risk_event (rule_id, unit_id, owner_unit_id, carrier, first_day, last_day, "
            "value, threshold, state, created_at, deadline) VALUES (:rule, :unit, :unit, :carrier, "
            ":first, :last, 0, 5, 'open', :at, :due) RETURNING id"),
            {"rule": rule[rule_code], "unit": ids[unit], "carrier": carrier,
             "first": dt.date.fromisoformat(first), "last": dt.date.fromisoformat(last),
             "at": dt.datetime(2026, 6, 28, 8), "due": dt.datetime(2026, 7, 1, 8)}).scalar()
    return made


@pytest.mark.writes
def test_marks_are_the_events_of_each_kpi_and_day(own_store):
    with own_store.engine.begin() as conn:
        made = _add_events(conn)
    with Session(own_store.engine) as s:  # as the scan would: the county's outage is one incident
        assert group_ungrouped(s) == len(made)
        s.commit()
    cases = [("HQ", dt.date(2026, 3, 1), dt.date(2026, 6, 30), None),
             ("ZJ", dt.date(2026, 6, 1), dt.date(2026, 6, 30), None),
             ("ZJ-HZ", dt.date(2026, 6, 1), dt.date(2026, 6, 30), None),
             ("ZJ-HZ", dt.date(2026, 6, 1), dt.date(2026, 6, 30), ["app", "wechat"]),
             ("ZJ-HZ-01", dt.date(2026, 6, 20), dt.date(2026, 6, 20), None),
             ("ZJ-HZ-02-01", dt.date(2026, 6, 1), dt.date(2026, 6, 30), None)]
    with own_store.engine.connect() as conn:
        expected = [_raw_marks(conn, code, KPIS, start, end, carriers)
                    for code, start, end, carriers in cases]
    with Session(own_store.engine) as s:
        got = [event_marks(s, unit_by_code(s, code), KPIS, start, end, None, carriers)
               for code, start, end, carriers in cases]
    for case, want, marks in zip(cases, expected, got, strict=True):
        assert _got(marks) == want, case
        assert list(marks["day"]) == sorted(marks["day"]) or marks["kpi"].nunique() > 1
    # The cases mean something: the county leads its outlets' outage, the high event the medium
    # one, the event begun before the range is marked from the range's first day, another
    # carrier's event goes when carriers are chosen, Ningbo's never shows under Hangzhou.
    hz, hz_app = expected[2], expected[3]
    assert hz[("transactions", dt.date(2026, 6, 20))]["event"] == made["county"]
    assert hz[("transactions", dt.date(2026, 6, 20))]["events"] == 3
    assert hz[("transactions", dt.date(2026, 6, 20))]["incidents"] == 1
    assert hz[("transactions", dt.date(2026, 6, 24))] | {"rules_zh": ""} == {
        "event": made["high"], "events": 2, "incidents": 2, "unit": "ZJ-HZ-02-01", "severity": "high",
        "unit_zh": hz[("transactions", dt.date(2026, 6, 24))]["unit_zh"], "rules_zh": ""}
    assert hz[("transactions", dt.date(2026, 6, 24))]["rules_zh"] == "App 全天无业务、业务量偏低"
    assert hz[("transactions", dt.date(2026, 6, 1))]["event"] == made["before"]
    assert ("transactions", dt.date(2026, 5, 31)) not in hz
    assert ("transactions", dt.date(2026, 6, 26)) in hz and ("transactions",
                                                              dt.date(2026, 6, 26)) not in hz_app
    assert all(v["event"] != made["ningbo"] for v in hz.values())
    assert any(v["event"] == made["ningbo"] for v in expected[0].values())
    assert len(got[0]) > 30  # the demo's own events, at HQ over four months


@pytest.mark.writes
def test_marks_follow_new_events_through_the_cache(own_store):
    """Cached like the other risk reads: a new event shows at once (the risk stamp moves)."""
    day = dt.date(2026, 6, 27)
    with app_over(own_store) as flask_app, flask_app.app_context():
        from data.db import get_session

        s = get_session()
        unit = unit_by_code(s, "ZJ-HZ")
        before = event_marks(s, unit, ["transactions"], day, day, Scope.of(unit))
        assert before.empty
        s.rollback()
        with own_store.engine.begin() as conn:
            made = _add_events(conn)
            conn.execute(text("UPDATE risk_event SET first_day = :d, last_day = :d WHERE id = :id"),
                         {"d": day, "id": made["medium"]})
        after = event_marks(s, unit, ["transactions"], day, day, Scope.of(unit))
        assert list(after["event"]) == [made["medium"]]


def test_marks_refuse_a_unit_outside_the_scope(tiny_store):
    with Session(tiny_store.engine) as s:
        hangzhou = unit_by_code(s, "ZJ-HZ")
        for code in ("ZJ", "ZJ-NB", "HQ"):
            with pytest.raises(OutOfScope):
                event_marks(s, unit_by_code(s, code), KPIS, dt.date(2026, 6, 1),
                            dt.date(2026, 6, 30), Scope.of(hangzhou))
    with app_over(tiny_store) as flask_app, flask_app.app_context():
        from data.db import get_session

        s = get_session()  # with the result cache: refused before it is asked
        for _ in range(2):
            with pytest.raises(OutOfScope):
                event_marks(s, unit_by_code(s, "ZJ"), KPIS, dt.date(2026, 6, 1),
                            dt.date(2026, 6, 30), Scope.of(unit_by_code(s, "ZJ-HZ")))


MARKS = pd.DataFrame([
    {"kpi": "transactions", "day": dt.date(2026, 6, 15), "event": 6, "events": 3,
     "incidents": 1, "severity": "high",
     "unit": "ZJ-HZ-01", "unit_zh": "上城区供电局", "unit_en": "Shangcheng",
     "rules_zh": "微信全天无业务", "rules_en": "WeChat carried no traffic all day"},
    {"kpi": "transactions", "day": dt.date(2026, 6, 24), "event": 41, "events": 1,
     "incidents": 1, "severity": "medium",
     "unit": "ZJ-HZ-02", "unit_zh": "拱墅区供电局", "unit_en": "Gongshu",
     "rules_zh": "业务量偏低", "rules_en": "Transactions low"}])
TREND = pd.DataFrame({"period": [dt.date(2026, 6, 1) + dt.timedelta(days=i) for i in range(30)],
                      "kpi": "transactions", "value": [100.0 + i for i in range(30)]})


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_trend_carries_its_marks_as_a_trace_that_opens_the_event(lang):
    kpi = REGISTRY["transactions"]
    for fig in (one_trend(TREND, kpi, lang, "x", marks=MARKS),
                trend_lines(TREND.assign(carrier="app"), "carrier", kpi, lang, marks=MARKS)):
        [marks] = [tr for tr in fig.data if tr.name == t("marks.name", lang)]
        assert list(marks.customdata) == [6, 41]
        assert list(marks.x) == [dt.date(2026, 6, 15), dt.date(2026, 6, 24)]
        assert marks.yaxis == "y2" and fig.layout.yaxis2.overlaying == "y"
        assert list(fig.layout.yaxis2.range) == [0, 1] and list(marks.y) == [1.0, 1.0]
        assert list(marks.marker.color) == ["#C92A2A", "#E69F00"]  # high red, medium amber
        unit, rule = ("Shangcheng", "WeChat carried") if lang == "en" else ("上城区供电局", "微信全天")
        assert unit in marks.text[0] and rule in marks.text[0]
        assert t("marks.events", lang).format(n=1, events=3) in marks.text[0]
    # No events, no marks trace (and no second axis).
    plain = one_trend(TREND, kpi, lang, "x", marks=MARKS.iloc[0:0])
    assert [tr.name for tr in plain.data] == ["x"] and "yaxis2" not in plain.layout.to_plotly_json()


def test_the_cores_trends_mark_the_events_of_their_kpi(app, tiny_store):
    """On the page: each KPI's trend has the marks of its own KPI, one per day with events,
    customdata the lead event of the raw rows."""
    with tiny_store.engine.connect() as conn:
        want = _raw_marks(conn, "ZJ", list(REGISTRY), dt.date(2026, 6, 1), dt.date(2026, 6, 30))
    figures = page_figures(app, "cores", "admin", unit="ZJ", start="2026-06-01", end="2026-06-30",
                           core="channel")
    marked = 0
    for key, fig in figures.items():
        if not key.startswith("{"):
            continue
        kpi = json.loads(key.replace("'", '"'))["kpi"]
        traces = [tr for tr in fig["data"] if tr.get("name") == t("marks.name", "zh")]
        days = sorted(d for k, d in want if k == kpi)
        if not days:
            assert traces == [], kpi
            continue
        [trace] = traces
        assert [dt.date.fromisoformat(x[:10]) for x in trace["x"]] == days
        assert trace["customdata"] == [want[(kpi, d)]["event"] for d in days]
        marked += 1
    assert marked >= 2  # channel availability and transactions have events in June
