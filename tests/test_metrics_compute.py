"""`metrics.compute.compute` against an independent oracle, on the tiny demo and on a store with
three provinces under HQ (the multi store), on each database.

The oracle below does not use `metrics` or `data.units`: it reads the raw fact rows with plain SQL
(`sqlalchemy.text`), finds a unit's subtree by walking `parent_id`, restates every KPI's formula,
and aggregates in Python:

- flows (channel, content, campaign; work orders by created or closed day) are summed over the
  subtree's outlets, the days of the range and the selected carriers; a row filter turns a row's
  contribution into 0; no row at all gives None (SQL's SUM), except that work orders are events:
  none over a period with customers (a per-10k denominator) is 0 work orders;
- levels (user stocks) take each outlet's row on its last day with data in the range, summed; by
  day, on each day some outlet of the subtree reported, each outlet's row on its last day with data
  from the range's start to that day (an outlet loaded late keeps its last known level);
- distinct actives use the all-carriers table with no carrier filter (or every carrier), the one
  carrier's rows with one carrier, and nothing (None) with several; months from the first of the
  start's month to the end, each outlet's (and carrier's) latest;
- ratio = scale * numerator / denominator, None when the denominator is 0 or missing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from data.changes import data_changed
from data.units import unit_by_code
from jobs.demo import seed_demo
from metrics.compute import compute, facts_only
from metrics.registry import KPIS
from tests.conftest import DEMO_END

DATA_START = DEMO_END - dt.timedelta(days=179)  # the tiny demo's 180 days: 2026-01-02 .. 2026-06-30
ALL_CODES = ("app", "wechat", "alipay", "web", "hotline", "hall")


def day(s: str) -> dt.date:
    return dt.date.fromisoformat(s)


# Ranges: the whole demo; 30 days ending on a day two Ningbo outlets have no data for; the Spring
# Festival (halls closed: zero scheduled minutes); a day one outlet has no data for; and a range
# across the end of May that ends on a day one outlet has no data for.
RANGES = {
    "full": (DATA_START, DEMO_END),
    "30d": (day("2026-04-01"), day("2026-04-30")),
    "festival": (day("2026-02-17"), day("2026-02-17")),
    "gap-day": (day("2026-06-12"), day("2026-06-12")),
    "cross-month": (day("2026-05-25"), day("2026-06-05")),
}


# -- reading values ------------------------------------------------------------------------------


def as_date(v) -> dt.date:
    if isinstance(v, dt.datetime):
        return v.date()
    return v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v)[:10])


def as_datetime(v) -> dt.datetime | None:
    if v is None or isinstance(v, dt.datetime):
        return v
    return dt.datetime.fromisoformat(str(v))


def as_number(v):
    return float(v) if isinstance(v, Decimal) else v


def days(start: dt.date, end: dt.date) -> Iterable[dt.date]:
    d = start
    while d <= end:
        yield d
        d += dt.timedelta(days=1)


# -- the raw store -------------------------------------------------------------------------------


class Raw:
    """Every row of the tiny demo, indexed by day (month), read with plain SQL."""

    def __init__(self, engine) -> None:
        with engine.connect() as conn:
            def rows(sql: str) -> list[dict]:
                return [{k: as_number(v) for k, v in r.items()}
                        for r in conn.execute(text(sql)).mappings()]

            self.units = {r["id"]: r for r in rows(
                "SELECT id, code, parent_id, tier, path FROM org_unit")}
            carriers = rows("SELECT id, code, kind FROM carrier")
            self.carrier_id = {r["code"]: r["id"] for r in carriers}
            self.carrier_code = {r["id"]: r["code"] for r in carriers}
            channel = rows("""SELECT c.unit_id, c.day, c.carrier_id, k.kind AS carrier_kind,
                c.visits, c.transactions, c.minutes_scheduled, c.minutes_available, c.registrations,
                c.applications_total, c.applications_online, c.applications_completed,
                c.completion_days_sum, c.payments_total, c.payments_online, c.payment_amount_total
                FROM channel_daily c JOIN carrier k ON k.id = c.carrier_id""")
            content = rows("""SELECT unit_id, day, carrier_id, pushes, delivered, opens, clicks
                FROM content_daily""")
            campaign = rows("""SELECT unit_id, day, carrier_id, participants, conversions, cost
                FROM campaign_daily""")
            stock = rows("""SELECT unit_id, day, customers, registered, bound, profiled, ebill
                FROM user_stock_daily""")
            actives = rows("SELECT unit_id, month AS day, carrier_id, active_users FROM monthly_active")
            actives_total = rows("""SELECT unit_id, month AS day, NULL AS carrier_id, active_users
                FROM monthly_active_total""")
            hotline = rows("""SELECT unit_id, day, carrier_id, offered, answered, answered_20s,
                abandoned, wait_seconds, handle_seconds FROM hotline_interval""")
            orders = rows("""SELECT unit_id, carrier_id, category, created_day, closed_day,
                closed_at, sla_deadline, first_contact_resolved, rating, response_minutes
                FROM work_order""")
        for r in orders:
            r["closed_at"] = as_datetime(r["closed_at"])
            r["sla_deadline"] = as_datetime(r["sla_deadline"])
        created = [{**r, "day": r["created_day"]} for r in orders]
        closed = [{**r, "day": r["closed_day"]} for r in orders if r["closed_day"] is not None]
        self.by_day: dict[str, dict[dt.date, list[dict]]] = {}
        for name, table in (("channel", channel), ("content", content), ("campaign", campaign),
                            ("stock", stock), ("actives", actives),
                            ("actives_total", actives_total), ("created", created),
                            ("closed", closed), ("hotline", hotline)):
            index: dict[dt.date, list[dict]] = {}
            for r in table:
                r["day"] = as_date(r["day"])
                index.setdefault(r["day"], []).append(r)
            self.by_day[name] = index

    def code_of(self, unit_id: int) -> str:
        return self.units[unit_id]["code"]

    def id_of(self, code: str) -> int:
        return next(i for i, u in self.units.items() if u["code"] == code)

    def children(self, code: str) -> list[str]:
        uid = self.id_of(code)
        return sorted(u["code"] for u in self.units.values() if u["parent_id"] == uid)

    def subtree(self, code: str) -> set[int]:
        """The unit and all units below it, by walking parent_id up from every unit."""
        root = self.id_of(code)
        found = set()
        for uid in self.units:
            at: int | None = uid
            while at is not None:
                if at == root:
                    found.add(uid)
                    break
                at = self.units[at]["parent_id"]
        return found

    def rows(self, source: str, start: dt.date, end: dt.date) -> Iterable[dict]:
        index = self.by_day[source]
        for d in days(start, end):
            yield from index.get(d, ())


@pytest.fixture(scope="module")
def raw(tiny_store) -> Raw:
    return Raw(tiny_store.engine)


# -- the KPIs, restated ----------------------------------------------------------------------------

Pred = Callable[[dict], bool]
ONLINE_CARRIER: Pred = lambda r: r["carrier_kind"] == "online"  # noqa: E731
COMPLAINT: Pred = lambda r: r["category"] == "complaint"  # noqa: E731
FIRST_CONTACT: Pred = lambda r: bool(r["first_contact_resolved"])  # noqa: E731
ON_TIME: Pred = lambda r: r["closed_at"] is not None and r["closed_at"] <= r["sla_deadline"]  # noqa: E731
SATISFIED: Pred = lambda r: r["rating"] is not None and r["rating"] >= 4  # noqa: E731
RATED: Pred = lambda r: r["rating"] is not None  # noqa: E731
RESPONDED: Pred = lambda r: r["response_minutes"] is not None  # noqa: E731

FLOWS = ("channel", "content", "campaign", "created", "closed", "hotline")
EVENTS = ("created", "closed")  # work orders: rows are events, not daily loads


@dataclass(frozen=True)
class M:
    """An aggregate: the sum of `column` (a count of rows when None) over rows passing `where`."""

    source: str  # one of FLOWS, "stock" or "actives"
    column: str | None = None
    where: Pred | None = None


@dataclass(frozen=True)
class K:
    kind: str
    num: M
    den: M | None = None
    scale: float = 1.0


def ch(column: str, where: Pred | None = None) -> M:
    return M("channel", column, where)


CUSTOMERS, REGISTERED = M("stock", "customers"), M("stock", "registered")
ORACLE: dict[str, K] = {
    "channel_availability": K("ratio", ch("minutes_available"), ch("minutes_scheduled")),
    "online_substitution": K("ratio", ch("transactions", ONLINE_CARRIER), ch("transactions")),
    "visits": K("sum", ch("visits")),
    "transactions": K("sum", ch("transactions")),
    "registered_users": K("stock", REGISTERED),
    "new_registrations": K("sum", ch("registrations")),
    "binding_rate": K("ratio", M("stock", "bound"), CUSTOMERS),
    "mau": K("distinct", M("actives", "active_users")),
    "activity_rate": K("ratio", M("actives", "active_users"), REGISTERED),
    "profile_coverage": K("ratio", M("stock", "profiled"), REGISTERED),
    "online_handling": K("ratio", ch("applications_online"), ch("applications_total")),
    "online_payment": K("ratio", ch("payments_online"), ch("payments_total")),
    "payment_amount": K("sum", ch("payment_amount_total")),
    "ebill_rate": K("ratio", M("stock", "ebill"), CUSTOMERS),
    "avg_handling_days": K("ratio", ch("completion_days_sum"), ch("applications_completed")),
    "pushes": K("sum", M("content", "pushes")),
    "open_rate": K("ratio", M("content", "opens"), M("content", "delivered")),
    "click_rate": K("ratio", M("content", "clicks"), M("content", "opens")),
    "participants": K("sum", M("campaign", "participants")),
    "conversion_rate": K("ratio", M("campaign", "conversions"), M("campaign", "participants")),
    "cost_per_conversion": K("ratio", M("campaign", "cost"), M("campaign", "conversions")),
    "work_orders_per_10k": K("ratio", M("created"), CUSTOMERS, 10_000),
    "complaints_per_10k": K("ratio", M("created", None, COMPLAINT), CUSTOMERS, 10_000),
    "first_contact_resolution": K("ratio", M("closed", None, FIRST_CONTACT), M("closed")),
    "on_time_rate": K("ratio", M("closed", None, ON_TIME), M("closed")),
    "avg_response_minutes": K("ratio", M("created", "response_minutes", RESPONDED),
                              M("created", None, RESPONDED)),
    "satisfaction": K("ratio", M("closed", None, SATISFIED), M("closed", None, RATED)),
    # the 95598 contact centres' intervals (at the cities, which are in their own subtrees)
    "service_level": K("ratio", M("hotline", "answered_20s"), M("hotline", "offered")),
    "abandonment_rate": K("ratio", M("hotline", "abandoned"), M("hotline", "offered")),
    "avg_speed_of_answer": K("ratio", M("hotline", "wait_seconds"), M("hotline", "answered")),
    "avg_handle_time": K("ratio", M("hotline", "handle_seconds"), M("hotline", "answered")),
}
KPI_IDS = [k.id for k in KPIS]
FLOW_KPIS = [k for k, v in ORACLE.items() if v.num.source in FLOWS
             and (v.den is None or v.den.source in FLOWS)]
LEVEL_KPIS = [k for k, v in ORACLE.items() if v.num.source == "stock"]


def has_carriers(m: M) -> bool:
    return m.source != "stock"


# -- the oracle ------------------------------------------------------------------------------------


class Selection:
    """One cell of the oracle: outlets, a date range, and a carrier choice (None = all)."""

    def __init__(self, raw: Raw, outlets: set[int], start: dt.date, end: dt.date,
                 carriers: Iterable[str] | None, carry_from: dt.date | None = None) -> None:
        self.raw, self.outlets, self.start, self.end = raw, outlets, start, end
        self.carry_from = carry_from  # one day of a daily series: levels carried from this day
        codes = set(carriers) if carriers else None
        self.carrier_ids = (None if codes is None or codes >= set(ALL_CODES)
                            else {raw.carrier_id[c] for c in codes})
        self._rows: dict[str, list[dict]] = {}

    def flow_rows(self, source: str) -> list[dict]:
        if source not in self._rows:
            self._rows[source] = [
                r for r in self.raw.rows(source, self.start, self.end)
                if r["unit_id"] in self.outlets
                and (self.carrier_ids is None or r["carrier_id"] in self.carrier_ids)]
        return self._rows[source]

    def latest_rows(self, source: str, start: dt.date) -> list[dict]:
        """Each outlet's (and carrier's) rows on its last day (month) from `start` to the end."""
        if source not in self._rows:
            last: dict[tuple, dt.date] = {}
            rows = [r for r in self.raw.rows(source, start, self.end) if r["unit_id"] in self.outlets
                    and (source != "actives" or r["carrier_id"] in (self.carrier_ids or ()))]
            for r in rows:
                key = (r["unit_id"], r["carrier_id"]) if "carrier_id" in r else r["unit_id"]
                last[key] = max(last.get(key, r["day"]), r["day"])
            self._rows[source] = [r for r in rows if r["day"] == last[
                (r["unit_id"], r["carrier_id"]) if "carrier_id" in r else r["unit_id"]]]
        return self._rows[source]

    def measure(self, m: M) -> float | None:
        if m.source in FLOWS:
            rows = self.flow_rows(m.source)
            if not rows:
                return None
            return sum((r[m.column] if m.column else 1) for r in rows
                       if m.where is None or m.where(r))
        if m.source == "stock" and self.carry_from is not None:
            if not any(r["unit_id"] in self.outlets for r in self.raw.rows("stock", self.end,
                                                                           self.end)):
                return None  # no outlet reported that day: no day in the series
            rows = self.latest_rows("stock", self.carry_from)
        elif m.source == "stock":
            rows = self.latest_rows("stock", self.start)
        else:  # distinct actives
            if self.carrier_ids is None:
                source = "actives_total"
            elif len(self.carrier_ids) == 1:
                source = "actives"
            else:
                return None  # several carriers' actives cannot be added up
            rows = self.latest_rows(source, self.start.replace(day=1))
        return sum(r[m.column] for r in rows) if rows else None

    def kpi(self, kpi_id: str) -> tuple[float | None, float | None, float | None]:
        """Return (value, numerator, denominator)."""
        k = ORACLE[kpi_id]
        num = self.measure(k.num)
        if k.den is None:
            return num, num, None
        den = self.measure(k.den)
        if num is None and den and k.num.source in EVENTS:
            num = 0  # no work order over a period with customers: zero work orders, not a gap
        value = k.scale * num / den if num is not None and den else None
        return value, num, den


def week_start(d: dt.date) -> dt.date:
    return d - dt.timedelta(days=d.weekday())


def month_start(d: dt.date) -> dt.date:
    return d.replace(day=1)


def periods(start: dt.date, end: dt.date, grain: str) -> list[tuple[dt.date, dt.date, dt.date]]:
    """Return (key, first day, last day) of each period of `grain`, clipped to [start, end]."""
    first = {"day": lambda d: d, "week": week_start, "month": month_start}[grain]
    out: dict[dt.date, list[dt.date]] = {}
    for d in days(start, end):
        out.setdefault(first(d), []).append(d)
    return [(k, ds[0], ds[-1]) for k, ds in out.items()]


Cell = tuple[float | None, float | None, float | None]


def expected(raw: Raw, kpis: list[str], unit: str, start: dt.date, end: dt.date,
             carriers: list[str] | None, by: str | None
             ) -> tuple[dict[tuple, Cell], set[tuple]]:
    """Return the oracle's {(key, kpi): (value, numerator, denominator)} and the (key, kpi) pairs
    that must be present (those with data behind them)."""
    outlets = raw.subtree(unit)
    cells: dict[tuple, Selection] = {}
    if by is None or by == "core":
        cells[(None,)] = Selection(raw, outlets, start, end, carriers)
    elif by == "child":
        for child in raw.children(unit):
            cells[(child,)] = Selection(raw, raw.subtree(child), start, end, carriers)
    elif by == "carrier":
        for code in carriers or ALL_CODES:
            cells[(code,)] = Selection(raw, outlets, start, end, [code])
    else:
        for key, lo, hi in periods(start, end, by):
            cells[(key,)] = Selection(raw, outlets, lo, hi, carriers,
                                      carry_from=start if by == "day" else None)
    out: dict[tuple, Cell] = {}
    required: set[tuple] = set()
    for (key,), sel in cells.items():
        for kpi in kpis:
            k = ORACLE[kpi]
            if by == "carrier" and not has_carriers(k.num):
                continue  # no value per carrier
            cell = sel.kpi(kpi)
            out[(key, kpi)] = cell
            num, den = sel.measure(k.num), cell[2]  # rows behind the numerator (before any 0)
            if num is not None or (den is not None and (by != "carrier" or has_carriers(k.den))):
                required.add((key, kpi))
    return out, required


# -- comparing -------------------------------------------------------------------------------------


def same(got, want) -> bool:
    if got is None or want is None:
        return got is None and want is None
    return got == pytest.approx(want, rel=1e-9)


KEY_COLUMN = {None: None, "child": "unit", "carrier": "carrier", "core": "core", "day": "period",
              "week": "period", "month": "period"}


def check(store, raw: Raw, kpis: list[str], unit: str, rng: tuple[dt.date, dt.date],
          carriers: list[str] | None = None, by: str | None = None):
    start, end = rng
    with Session(store.engine) as session:
        frame = compute(session, kpis, unit_by_code(session, unit), start, end, carriers, by)
    key_col = KEY_COLUMN[by]
    assert list(frame.columns) == ([key_col] if key_col else []) + [
        "kpi", "value", "numerator", "denominator"]
    want, required = expected(raw, kpis, unit, start, end, carriers, by)
    problems = []
    seen = set()
    for row in frame.to_dict("records"):
        key = row[key_col] if key_col else None
        if by == "core":
            if key != ORACLE_CORE[row["kpi"]]:
                problems.append(f"{row['kpi']}: core {key!r}")
            key = None
        if by in ("day", "week", "month") and type(key) is not dt.date:
            problems.append(f"period key {key!r} is a {type(key).__name__}, not a date")
        ident = (key, row["kpi"])
        if ident in seen:
            problems.append(f"{ident}: twice")
        seen.add(ident)
        if ident not in want:
            problems.append(f"{ident}: unexpected row {row}")
            continue
        got = (row["value"], row["numerator"], row["denominator"])
        if not all(same(g, w) for g, w in zip(got, want[ident], strict=True)):
            problems.append(f"{ident}: got (value, num, den) = {got}, want {want[ident]}")
    for ident in sorted(required - seen, key=str):
        problems.append(f"{ident}: missing, want {want[ident]}")
    if by not in (None, "core"):  # one row per key with data, and only those
        keys_seen, keys_with_data = {k for k, _ in seen}, {k for k, _ in required}
        if keys_seen != keys_with_data:
            problems.append(f"keys {sorted(keys_seen, key=str)}, want {sorted(keys_with_data, key=str)}")
    assert not problems, (f"{store.kind} {unit} {start}..{end} carriers={carriers} by={by}:\n  "
                          + "\n  ".join(problems[:40]))
    return frame


ORACLE_CORE = {k.id: k.core for k in KPIS}


def ids(value) -> str:
    if value is None:
        return "all"
    return "+".join(value) if isinstance(value, list | tuple) else str(value)


# -- the oracle itself -----------------------------------------------------------------------------


def test_the_oracle_restates_every_kpi():
    assert set(ORACLE) == set(KPI_IDS)
    for k in KPIS:
        assert (k.kind, k.scale) == (ORACLE[k.id].kind, ORACLE[k.id].scale), k.id


def test_parent_walk_finds_the_path_subtree(tiny_store, raw):
    with tiny_store.engine.connect() as conn:
        for code in ("HQ", "ZJ", "ZJ-NB", "ZJ-HZ-01", "ZJ-HZ-01-01"):
            by_path = set(conn.execute(text("""SELECT s.id FROM org_unit s, org_unit u
                WHERE u.code = :c AND s.path LIKE u.path || '%'"""), {"c": code}).scalars())
            assert by_path == raw.subtree(code)


def test_the_ranges_exercise_missing_days(raw):
    """Some outlet has no stock row on the last day of these ranges, so 'each outlet's last day'
    differs from 'the range's last day'."""
    for name in ("full", "30d", "gap-day", "cross-month"):
        end = RANGES[name][1]
        have = {r["unit_id"] for r in raw.by_day["stock"].get(end, [])}
        outlets = {i for i, u in raw.units.items() if u["tier"] == 5}
        assert outlets - have, name


# -- every KPI, by nothing ---------------------------------------------------------------------------

UNITS = ["HQ", "ZJ-HZ", "ZJ-NB-01", "ZJ-NB-02-01", "ZJ-HZ-02-01"]
CARRIER_CHOICES = [None, ["app"], ["hall"], ["app", "wechat"], list(ALL_CODES)]


@pytest.mark.parametrize("carriers", CARRIER_CHOICES, ids=ids)
@pytest.mark.parametrize("rng", list(RANGES), ids=str)
@pytest.mark.parametrize("unit", UNITS)
def test_every_kpi_matches_the_oracle(tiny_store, raw, unit, rng, carriers):
    check(tiny_store, raw, KPI_IDS, unit, RANGES[rng], carriers)


# -- grouped -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("carriers", [None, ["wechat"], ["app", "hall"]], ids=ids)
@pytest.mark.parametrize("rng", ["full", "cross-month", "gap-day"])
@pytest.mark.parametrize("unit", ["HQ", "ZJ", "ZJ-NB", "ZJ-HZ-02", "ZJ-NB-01-02"])
def test_by_child(tiny_store, raw, unit, rng, carriers):
    frame = check(tiny_store, raw, KPI_IDS, unit, RANGES[rng], carriers, by="child")
    assert set(frame["unit"]) == set(raw.children(unit))  # every child has data here


@pytest.mark.parametrize("carriers", [None, ["app", "hotline"], ["alipay"]], ids=ids)
@pytest.mark.parametrize("rng", ["full", "30d", "festival"])
@pytest.mark.parametrize("unit", ["HQ", "ZJ-NB-01", "ZJ-NB-01-02"])
def test_by_carrier(tiny_store, raw, unit, rng, carriers):
    frame = check(tiny_store, raw, KPI_IDS, unit, RANGES[rng], carriers, by="carrier")
    assert set(frame["carrier"]) <= set(carriers or ALL_CODES)
    assert not set(frame["kpi"]) & set(LEVEL_KPIS)  # stocks have no carrier


def test_by_carrier_denominators_without_carriers_are_the_total(tiny_store, raw):
    frame = check(tiny_store, raw, ["work_orders_per_10k"], "ZJ-HZ", RANGES["30d"], by="carrier")
    total = Selection(raw, raw.subtree("ZJ-HZ"), *RANGES["30d"], None).measure(CUSTOMERS)
    assert len(frame) == 6 and set(frame["denominator"]) == {total}


@pytest.mark.parametrize("carriers", [None, ["app"], ["app", "wechat"]], ids=ids)
@pytest.mark.parametrize("rng", ["full", "cross-month", "30d"])
@pytest.mark.parametrize("unit", ["HQ", "ZJ-HZ-01", "ZJ-NB-02-01"])
def test_by_month(tiny_store, raw, unit, rng, carriers):
    frame = check(tiny_store, raw, KPI_IDS, unit, RANGES[rng], carriers, by="month")
    start, end = RANGES[rng]
    assert set(frame["period"]) == {k for k, _, _ in periods(start, end, "month")}


@pytest.mark.parametrize("by", ["day", "week"])
@pytest.mark.parametrize("carriers", [None, ["hall"]], ids=ids)
@pytest.mark.parametrize("unit", ["HQ", "ZJ-NB-01-02"])
def test_by_day_and_week(tiny_store, raw, unit, carriers, by):
    kpis = ["visits", "channel_availability", "open_rate", "cost_per_conversion",
            "work_orders_per_10k", "satisfaction", "registered_users", "binding_rate"]
    for rng in ("cross-month", "festival"):
        check(tiny_store, raw, kpis, unit, RANGES[rng], carriers, by=by)


@pytest.mark.parametrize("unit", ["HQ", "ZJ-HZ"])
def test_daily_stocks_from_the_facts_match_the_oracle(tiny_store, raw, unit):
    """By day from the facts alone (not the roll-ups), stocks carry late outlets forward too."""
    kpis = ["registered_users", "binding_rate", "work_orders_per_10k"]
    with facts_only():
        for rng in ("cross-month", "gap-day", "30d"):
            check(tiny_store, raw, kpis, unit, RANGES[rng], None, by="day")


@pytest.mark.parametrize("carriers", [None, ["web"]], ids=ids)
def test_by_core(tiny_store, raw, carriers):
    frame = check(tiny_store, raw, KPI_IDS, "ZJ-NB", RANGES["30d"], carriers, by="core")
    assert len(frame) == len(KPI_IDS)


# -- plain SQL cross-checks --------------------------------------------------------------------------


def sql_scalar(store, sql: str, **params):
    with store.engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def computed(store, kpis, unit, start, end, carriers=None, by=None):
    with Session(store.engine) as session:
        frame = compute(session, kpis, unit_by_code(session, unit), start, end, carriers, by)
    return {r["kpi"]: r for r in frame.to_dict("records")}


SUBTREE = ("unit_id IN (SELECT s.id FROM org_unit s, org_unit u"
           " WHERE u.code = :u AND s.path LIKE u.path || '%')")


def test_stock_takes_each_outlets_last_day_in_sql(tiny_store):
    start, end = RANGES["30d"]
    last_days = sql_scalar(tiny_store, f"""SELECT sum(registered) FROM user_stock_daily s
        WHERE {SUBTREE} AND day = (SELECT max(day) FROM user_stock_daily t
          WHERE t.unit_id = s.unit_id AND t.day BETWEEN :a AND :b)""", u="ZJ-NB", a=start, b=end)
    on_end = sql_scalar(tiny_store, f"""SELECT sum(registered) FROM user_stock_daily
        WHERE {SUBTREE} AND day = :b""", u="ZJ-NB", b=end)
    assert last_days > on_end  # an outlet has no row on the range's last day
    got = computed(tiny_store, ["registered_users"], "ZJ-NB", start, end, ["app"])
    assert got["registered_users"]["value"] == pytest.approx(last_days, rel=1e-9)


def test_complaints_per_10k_in_sql(tiny_store):
    start, end = RANGES["cross-month"]
    complaints = sql_scalar(tiny_store, f"""SELECT count(*) FROM work_order WHERE {SUBTREE}
        AND category = 'complaint' AND created_day BETWEEN :a AND :b
        AND carrier_id IN (SELECT id FROM carrier WHERE code IN ('hotline', 'app'))""",
                            u="ZJ-HZ", a=start, b=end)
    customers = sql_scalar(tiny_store, f"""SELECT sum(customers) FROM user_stock_daily s
        WHERE {SUBTREE} AND day = (SELECT max(day) FROM user_stock_daily t
          WHERE t.unit_id = s.unit_id AND t.day BETWEEN :a AND :b)""", u="ZJ-HZ", a=start, b=end)
    got = computed(tiny_store, ["complaints_per_10k"], "ZJ-HZ", start, end, ["hotline", "app"])
    row = got["complaints_per_10k"]
    assert (row["numerator"], row["denominator"]) == (complaints, customers)
    assert row["value"] == pytest.approx(10_000 * complaints / customers, rel=1e-9)


def test_mau_of_one_carrier_in_sql(tiny_store):
    start, end = day("2026-03-15"), day("2026-05-10")
    mau = sql_scalar(tiny_store, f"""SELECT sum(active_users) FROM monthly_active a
        WHERE {SUBTREE} AND carrier_id = (SELECT id FROM carrier WHERE code = 'wechat')
        AND month = (SELECT max(month) FROM monthly_active b WHERE b.unit_id = a.unit_id
          AND b.carrier_id = a.carrier_id AND b.month BETWEEN :a AND :b)""",
                     u="HQ", a=day("2026-03-01"), b=end)
    total = sql_scalar(tiny_store, f"""SELECT sum(active_users) FROM monthly_active_total
        WHERE {SUBTREE} AND month = :m""", u="HQ", m=day("2026-05-01"))
    assert computed(tiny_store, ["mau"], "HQ", start, end, ["wechat"])["mau"]["value"] == mau
    assert computed(tiny_store, ["mau"], "HQ", start, end)["mau"]["value"] == total
    assert computed(tiny_store, ["mau"], "HQ", start, end, ["wechat", "app"])["mau"]["value"] is None


HOTLINE_KPIS = {"service_level": ("answered_20s", "offered"),
                "abandonment_rate": ("abandoned", "offered"),
                "avg_speed_of_answer": ("wait_seconds", "answered"),
                "avg_handle_time": ("handle_seconds", "answered")}


@pytest.mark.parametrize("unit", ["HQ", "ZJ", "ZJ-NB", "ZJ-NB-01"])
def test_hotline_kpis_in_sql(tiny_store, unit):
    """sum / sum over every interval of the centres in the subtree (a city's own centre included;
    a county has none: no value, never 0), and nothing under another carrier."""
    start, end = RANGES["30d"]
    got = computed(tiny_store, list(HOTLINE_KPIS), unit, start, end)
    for kpi, (num, den) in HOTLINE_KPIS.items():
        n, d = (sql_scalar(tiny_store, f"""SELECT sum({c}) FROM hotline_interval
            WHERE {SUBTREE} AND day BETWEEN :a AND :b""", u=unit, a=start, b=end)
                for c in (num, den))
        row = got[kpi]
        if unit == "ZJ-NB-01":
            assert n is None and (row["value"], row["numerator"], row["denominator"]) == (
                None, None, None)
            continue
        assert (row["numerator"], row["denominator"]) == (n, d) and d > 0
        assert row["value"] == pytest.approx(n / d, rel=1e-9)
    on_app = computed(tiny_store, list(HOTLINE_KPIS), unit, start, end, ["app"])
    assert all(on_app[k]["value"] is None for k in HOTLINE_KPIS)


def test_online_substitution_in_sql(tiny_store):
    start, end = RANGES["full"]
    online, every = (sql_scalar(tiny_store, f"""SELECT sum(transactions) FROM channel_daily
        WHERE {SUBTREE} AND day BETWEEN :a AND :b AND carrier_id IN
        (SELECT id FROM carrier WHERE kind IN {kinds})""", u="ZJ", a=start, b=end)
                     for kinds in ("('online')", "('online', 'remote', 'offline')"))
    row = computed(tiny_store, ["online_substitution"], "ZJ", start, end)["online_substitution"]
    assert (row["numerator"], row["denominator"]) == (online, every)
    assert row["value"] == pytest.approx(online / every, rel=1e-9)


# -- zero and missing denominators --------------------------------------------------------------


def test_zero_scheduled_minutes_give_no_availability(tiny_store, raw):
    start, end = RANGES["festival"]
    scheduled = sql_scalar(tiny_store, f"""SELECT sum(minutes_scheduled) FROM channel_daily
        WHERE {SUBTREE} AND day = :d AND carrier_id = (SELECT id FROM carrier WHERE code = 'hall')""",
                           u="ZJ-HZ-01-01", d=start)
    assert scheduled == 0  # halls are closed on the Spring Festival
    row = computed(tiny_store, ["channel_availability"], "ZJ-HZ-01-01", start, end,
                   ["hall"])["channel_availability"]
    assert (row["value"], row["numerator"], row["denominator"]) == (None, 0, 0)
    frame = check(tiny_store, raw, ["channel_availability"], "ZJ-HZ-01-01",
                  (start, end), by="carrier")
    hall = frame[frame["carrier"] == "hall"].iloc[0]
    assert (hall["value"], hall["denominator"]) == (None, 0)


def test_a_carrier_without_rows_gives_none(tiny_store):
    got = computed(tiny_store, ["open_rate", "pushes", "conversion_rate", "mau", "activity_rate"],
                   "HQ", *RANGES["full"], ["hall"])
    for kpi in ("open_rate", "pushes", "mau"):
        assert (got[kpi]["value"], got[kpi]["numerator"], got[kpi]["denominator"]) == (
            None, None, None), kpi
    assert got["conversion_rate"]["value"] is not None  # halls do run campaigns
    assert got["activity_rate"]["value"] is None and got["activity_rate"]["denominator"] > 0


def test_zeroed_deleted_and_edge_rows(empty_store):
    """In a store of our own: zero customers and registrations on the last day, no ratings, no
    content rows, for a county whose outlets all have data on the last day (None, never 0); and in
    another county, late work orders whose deadline is moved to the moment they closed (on time)."""
    engine = empty_store.engine
    seed_demo(engine, "tiny", 42, DEMO_END)
    raw = Raw(engine)
    outlets = [i for i in raw.subtree("ZJ-HZ-01") if raw.units[i]["tier"] == 5]
    assert {r["unit_id"] for r in raw.by_day["stock"][DEMO_END]} >= set(outlets)
    start, end = DEMO_END - dt.timedelta(days=6), DEMO_END
    with engine.begin() as conn:
        params = {"u": "ZJ-HZ-01", "d": DEMO_END}
        conn.execute(text(f"UPDATE user_stock_daily SET customers = 0, registered = 0, bound = 0,"
                          f" profiled = 0, ebill = 0 WHERE {SUBTREE} AND day = :d"), params)
        conn.execute(text(f"UPDATE work_order SET rating = NULL WHERE {SUBTREE}"), params)
        conn.execute(text(f"DELETE FROM content_daily WHERE {SUBTREE}"), params)
        late = conn.execute(text(f"""UPDATE work_order SET sla_deadline = closed_at
            WHERE {SUBTREE} AND closed_at > sla_deadline"""), {"u": "ZJ-NB-01"}).rowcount
        data_changed(conn)  # as every writer of facts does (refreshes the roll-ups)
    assert late > 0
    with Session(engine) as session:
        on_time = compute(session, ["on_time_rate"], unit_by_code(session, "ZJ-NB-01"),
                          *RANGES["full"]).iloc[0]
    assert on_time["value"] == 1.0 and on_time["numerator"] == on_time["denominator"] > 0
    kpis = ["binding_rate", "ebill_rate", "profile_coverage", "activity_rate", "work_orders_per_10k",
            "complaints_per_10k", "satisfaction", "open_rate", "click_rate", "pushes"]
    with Session(engine) as session:
        frame = compute(session, kpis, unit_by_code(session, "ZJ-HZ-01"), start, end)
    got = {r["kpi"]: r for r in frame.to_dict("records")}
    for kpi in ("binding_rate", "ebill_rate", "profile_coverage", "activity_rate",
                "work_orders_per_10k", "complaints_per_10k", "satisfaction"):
        assert got[kpi]["value"] is None and got[kpi]["denominator"] == 0, got[kpi]
    assert got["work_orders_per_10k"]["numerator"] > 0
    assert got["satisfaction"]["numerator"] == 0
    for kpi in ("open_rate", "click_rate", "pushes"):
        assert (got[kpi]["value"], got[kpi]["numerator"], got[kpi]["denominator"]) == (
            None, None, None), kpi
    # The city still has its other county's customers: values, and the oracle agrees throughout.
    after = Raw(engine)
    check(empty_store, after, kpis, "ZJ-HZ", (start, end), by="child")
    check(empty_store, after, kpis, "ZJ-HZ", (start, end))
    check(empty_store, after, ["on_time_rate"], "ZJ-NB", RANGES["full"], by="child")


def test_a_day_without_work_orders_counts_zero(tiny_store, raw):
    """Work orders are events: an outlet-day with customers and no work order has 0 work orders
    and 0 complaints per 10k customers ("a measure with no column counts rows"), not a gap."""
    quiet = [(uid, d) for d, rows in sorted(raw.by_day["stock"].items()) for uid in
             sorted(r["unit_id"] for r in rows)
             if not any(o["unit_id"] == uid for o in raw.by_day["created"].get(d, []))]
    assert quiet
    uid, d = quiet[0]
    got = computed(tiny_store, ["work_orders_per_10k", "complaints_per_10k"], raw.code_of(uid), d, d)
    for kpi in ("work_orders_per_10k", "complaints_per_10k"):
        row = got[kpi]
        assert row["denominator"] > 0
        assert (row["numerator"], row["value"]) == (0, 0), (raw.code_of(uid), d, row)


# -- three provinces under HQ (the multi store) ----------------------------------------------------
# The same oracle over a store where HQ has three provincial companies: HQ and every province, each
# grouping, on each database. Zhejiang is the tiny demo's layout; Jiangsu and Anhui are 2 cities x
# 1 county x 2 outlets each (tests/conftest.py MULTI).

PROVINCES = ["ZJ", "JS", "AH"]
# As RANGES, for this store: the whole demo and the 30 days end on a day a Jiangsu and an Anhui
# outlet have no data for; the gap day and the cross-month range on days a Zhejiang outlet has none.
MULTI_RANGES = {
    "full": (DATA_START, DEMO_END),
    "30d": (day("2026-03-16"), day("2026-04-14")),
    "festival": (day("2026-02-17"), day("2026-02-17")),
    "gap-day": (day("2026-05-17"), day("2026-05-17")),
    "cross-month": (day("2026-05-25"), day("2026-06-07")),
}


@pytest.fixture(scope="module")
def multi_raw(multi_store) -> Raw:
    return Raw(multi_store.engine)


def test_hq_has_three_provinces_with_outlets(multi_store, multi_raw):
    assert multi_raw.children("HQ") == sorted(PROVINCES)
    with multi_store.engine.connect() as conn:
        for code in ("HQ", *PROVINCES, "JS-01", "AH-02-01"):
            by_path = set(conn.execute(text("""SELECT s.id FROM org_unit s, org_unit u
                WHERE u.code = :c AND s.path LIKE u.path || '%'"""), {"c": code}).scalars())
            assert by_path == multi_raw.subtree(code), code
    with_data = {r["unit_id"] for rows in multi_raw.by_day["channel"].values() for r in rows}
    for code in PROVINCES:
        outlets = {i for i in multi_raw.subtree(code) if multi_raw.units[i]["tier"] == 5}
        assert len(outlets) >= 4 and outlets <= with_data, code


def test_the_ranges_exercise_missing_days_in_every_province(multi_raw):
    """Every range but the festival ends on a day some outlet has no stock row for, and in every
    province some range does."""
    short: dict[str, set[str]] = {code: set() for code in PROVINCES}
    for name in ("full", "30d", "gap-day", "cross-month"):
        end = MULTI_RANGES[name][1]
        have = {r["unit_id"] for r in multi_raw.by_day["stock"].get(end, [])}
        outlets = {i for i, u in multi_raw.units.items() if u["tier"] == 5}
        assert outlets - have, name
        for code in PROVINCES:
            if multi_raw.subtree(code) & (outlets - have):
                short[code].add(name)
    assert all(short.values()), short


@pytest.mark.parametrize("carriers", CARRIER_CHOICES, ids=ids)
@pytest.mark.parametrize("rng", list(MULTI_RANGES), ids=str)
@pytest.mark.parametrize("unit", ["HQ", *PROVINCES])
def test_every_kpi_matches_the_oracle_at_hq_and_each_province(multi_store, multi_raw, unit, rng,
                                                                carriers):
    check(multi_store, multi_raw, KPI_IDS, unit, MULTI_RANGES[rng], carriers)


@pytest.mark.parametrize("unit", ["JS-02", "AH-01-01", "JS-01-01-02"])
def test_every_kpi_matches_the_oracle_below_the_other_provinces(multi_store, multi_raw, unit):
    for rng, carriers in (("full", None), ("cross-month", ["app", "wechat"]), ("gap-day", ["hall"])):
        check(multi_store, multi_raw, KPI_IDS, unit, MULTI_RANGES[rng], carriers)


@pytest.mark.parametrize("carriers", [None, ["wechat"], ["app", "hall"]], ids=ids)
@pytest.mark.parametrize("rng", ["full", "cross-month", "gap-day"])
@pytest.mark.parametrize("unit", ["HQ", *PROVINCES])
def test_by_child_at_hq_and_each_province(multi_store, multi_raw, unit, rng, carriers):
    frame = check(multi_store, multi_raw, KPI_IDS, unit, MULTI_RANGES[rng], carriers, by="child")
    assert set(frame["unit"]) == set(multi_raw.children(unit))  # every child has data here
    if unit == "HQ":
        assert set(frame["unit"]) == set(PROVINCES)


@pytest.mark.parametrize("unit", ["HQ", "JS"])
def test_by_carrier_month_core_at_hq_and_a_province(multi_store, multi_raw, unit):
    for rng, carriers in (("full", None), ("30d", ["app", "hotline"]), ("festival", ["alipay"])):
        check(multi_store, multi_raw, KPI_IDS, unit, MULTI_RANGES[rng], carriers, by="carrier")
    for rng, carriers in (("full", None), ("cross-month", ["app"]), ("30d", ["app", "wechat"])):
        check(multi_store, multi_raw, KPI_IDS, unit, MULTI_RANGES[rng], carriers, by="month")
    check(multi_store, multi_raw, KPI_IDS, unit, MULTI_RANGES["30d"], None, by="core")


@pytest.mark.parametrize("by", ["day", "week"])
@pytest.mark.parametrize("unit", ["HQ", "AH"])
def test_by_day_and_week_at_hq_and_a_province(multi_store, multi_raw, unit, by):
    kpis = ["visits", "channel_availability", "open_rate", "cost_per_conversion",
            "work_orders_per_10k", "satisfaction", "registered_users", "binding_rate"]
    for rng, carriers in (("cross-month", None), ("festival", ["hall"])):
        check(multi_store, multi_raw, kpis, unit, MULTI_RANGES[rng], carriers, by=by)


@pytest.mark.parametrize("unit", ["HQ", "JS"])
def test_daily_stocks_from_the_facts_at_hq_and_a_province(multi_store, multi_raw, unit):
    kpis = ["registered_users", "binding_rate", "work_orders_per_10k"]
    with facts_only():
        for rng in ("cross-month", "gap-day"):
            check(multi_store, multi_raw, kpis, unit, MULTI_RANGES[rng], None, by="day")
