"""The import formats: one declared spec per kind of data (columns, natural key, where rows go).

Files name units and carriers by code, never by id. Each spec says which file columns exist (with
their type, whether they are required, and a help text the README documents), the storage columns
that form the natural key (the upsert key), and the checks between columns ("online payments
cannot exceed all payments").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from data.models import HOTLINE_INTERVAL_MINUTES, WORK_ORDER_CATEGORIES

# Column types a file may hold; validate.py parses each.
TYPES = ("outlet", "unit", "carrier", "carrier_or_all", "int", "decimal", "date", "month",
         "datetime", "bool", "choice", "kpi", "text", "tier", "unit_code")


@dataclass(frozen=True)
class Col:
    """One column of a file."""

    name: str
    type: str
    required: bool = True
    help: str = ""
    choices: tuple[str, ...] = ()
    max_length: int = 0
    ahead: bool = False  # a plan (target period, SLA deadline): may lie years ahead, not only days

    @property
    def store(self) -> str:
        """The storage column the parsed value goes to."""
        if self.type in ("outlet", "unit"):
            return "unit_id"
        if self.type in ("carrier", "carrier_or_all"):
            return "carrier_id"
        return self.name


@dataclass(frozen=True)
class Destination:
    """A table that staged rows are written to, and which of them it takes."""

    table: str
    key: tuple[str, ...]
    columns: tuple[str, ...]
    carrier_null: bool | None = None  # True: rows without carrier only; False: with carrier only


@dataclass(frozen=True)
class Kind:
    """One documented file format."""

    name: str
    title: str
    columns: tuple[Col, ...]
    key: tuple[str, ...]  # storage columns that identify a row (duplicates in a file are errors)
    destinations: tuple[Destination, ...] = ()
    day: str | None = None  # storage column with the local day each row is about (data-load log)
    loads: bool = True  # record the unit-days in the data-load log (outlets' daily loads only)
    month: bool = False  # rows are about months: affected days are whole months
    not_greater: tuple[tuple[str, str], ...] = ()  # (a, b): a <= b on every row
    aliases: tuple[str, ...] = ()
    stage_only: tuple[str, ...] = field(default=())  # derived storage columns not in the file

    @property
    def storage_columns(self) -> list[str]:
        """Storage columns of a validated row, in order (file columns, then derived ones)."""
        out: list[str] = []
        for c in self.columns:
            if c.store not in out:
                out.append(c.store)
        return out + [c for c in self.stage_only if c not in out]


def _counts(*names: str, help: str = "") -> tuple[Col, ...]:
    return tuple(Col(n, "int", help=help or n.replace("_", " ")) for n in names)


OUTLET = Col("unit", "outlet", help="outlet code (tier 5), e.g. ZJ-HZ-01-01")
DAY = Col("day", "date", help="local day, YYYY-MM-DD")
CARRIER = Col("carrier", "carrier", help="carrier code: app, wechat, alipay, web, hotline, hall")
UNIT_DAY_CARRIER = ("unit_id", "day", "carrier_id")

CHANNEL_VALUES = ("visits", "transactions", "minutes_scheduled", "minutes_available", "registrations",
                  "applications_total", "applications_online", "applications_completed",
                  "completion_days_sum", "payments_total", "payments_online",
                  "payment_amount_total", "payment_amount_online")

HOTLINE_VALUES = ("day", "carrier_id", "offered", "answered", "answered_20s", "abandoned",
                  "wait_seconds", "handle_seconds")

WORK_ORDER_VALUES = ("carrier_id", "category", "created_at", "created_day", "first_response_at",
                     "response_minutes", "sla_deadline", "closed_at", "closed_day",
                     "first_contact_resolved", "rating")

KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("units", "Organisation units", (
        Col("code", "unit_code", help="stable unit code: letters, digits, `-` and `_`, starting "
                                      "with a letter or digit, at most 32 characters"),
        Col("name_zh", "text", help="Chinese name", max_length=100),
        Col("name_en", "text", help="English name", max_length=100),
        Col("tier", "tier", help="1 HQ, 2 province, 3 city, 4 county, 5 outlet"),
        Col("parent", "unit_code", required=False,
            help="parent unit's code (empty only for tier 1); in the store or earlier in the file"),
    ), key=("code",), aliases=("org_units", "org_unit")),
    Kind("channel_daily", "Daily carrier activity", (
        OUTLET, DAY, CARRIER,
        *_counts("visits", "transactions", help=""),
        Col("minutes_scheduled", "int", help="minutes the carrier was scheduled to serve"),
        Col("minutes_available", "int", help="minutes it was available (<= scheduled)"),
        Col("registrations", "int", help="new online registrations"),
        Col("applications_total", "int", help="business applications received"),
        Col("applications_online", "int", help="of which submitted online (<= total)"),
        Col("applications_completed", "int", help="applications completed (<= total)"),
        Col("completion_days_sum", "decimal", help="sum of days to complete them"),
        Col("payments_total", "int", help="payments (count)"),
        Col("payments_online", "int", help="of which via online carriers (<= total)"),
        Col("payment_amount_total", "decimal", help="amount paid, yuan"),
        Col("payment_amount_online", "decimal", help="of which online, yuan (<= total)"),
    ), key=UNIT_DAY_CARRIER, day="day",
        destinations=(Destination("channel_daily", UNIT_DAY_CARRIER, CHANNEL_VALUES),),
        not_greater=(("minutes_available", "minutes_scheduled"),
                     ("applications_online", "applications_total"),
                     ("applications_completed", "applications_total"),
                     ("payments_online", "payments_total"),
                     ("payment_amount_online", "payment_amount_total")),
        aliases=("carrier_activity", "channel")),
    Kind("user_stocks", "User stocks (end-of-day levels)", (
        OUTLET, DAY,
        Col("customers", "int", help="customers (accounts served)"),
        Col("registered", "int", help="registered online users (<= customers)"),
        Col("bound", "int", help="customers with a bound online account (<= registered)"),
        Col("profiled", "int", help="users with a customer profile (<= registered)"),
        Col("ebill", "int", help="customers on e-bill (<= customers)"),
    ), key=("unit_id", "day"), day="day",
        destinations=(Destination("user_stock_daily", ("unit_id", "day"),
                        ("customers", "registered", "bound", "profiled", "ebill")),),
        not_greater=(("registered", "customers"), ("bound", "customers"), ("bound", "registered"),
                     ("profiled", "registered"), ("ebill", "customers")),
        aliases=("user_stock", "stocks", "user_stock_daily")),
    Kind("monthly_actives", "Monthly active users", (
        OUTLET,
        Col("month", "month", help="YYYY-MM"),
        Col("carrier", "carrier_or_all",
            help="carrier code, or 'all' for distinct users over all carriers together"),
        Col("active_users", "int", help="distinct active users in the month"),
    ), key=("unit_id", "month", "carrier_id"), month=True,
        destinations=(Destination("monthly_active", ("unit_id", "month", "carrier_id"), ("active_users",),
                        carrier_null=False),
                 Destination("monthly_active_total", ("unit_id", "month"), ("active_users",),
                        carrier_null=True)),
        aliases=("monthly_active", "mau", "actives")),
    Kind("work_orders", "Work orders (one row per order)", (
        Col("order_no", "text", help="the source system's order number (unique per outlet)",
            max_length=40),
        OUTLET, CARRIER,
        Col("category", "choice", choices=tuple(WORK_ORDER_CATEGORIES),
            help="consultation, repair, business, complaint or opinion"),
        Col("created_at", "datetime", help="local time, YYYY-MM-DD HH:MM:SS"),
        Col("first_response_at", "datetime", required=False, help="empty if not yet answered"),
        Col("sla_deadline", "datetime", help="when it must be closed by", ahead=True),
        Col("closed_at", "datetime", required=False, help="empty while open"),
        Col("first_contact_resolved", "bool", required=False,
            help="1/0 (true/false, yes/no); closed orders only"),
        Col("rating", "int", required=False, help="1-5; closed orders only"),
    ), key=("unit_id", "order_no"), day="created_day",
        destinations=(Destination("work_order", ("unit_id", "order_no"), WORK_ORDER_VALUES),),
        stage_only=("created_day", "closed_day", "response_minutes"),
        aliases=("work_order", "orders", "workorders")),
    Kind("content_daily", "Content pushes", (
        OUTLET, DAY, CARRIER,
        Col("pushes", "int", help="messages pushed"),
        Col("delivered", "int", help="delivered (<= pushes)"),
        Col("opens", "int", help="opened (<= delivered)"),
        Col("clicks", "int", help="clicked (<= opens)"),
    ), key=UNIT_DAY_CARRIER, day="day",
        destinations=(Destination("content_daily", UNIT_DAY_CARRIER,
                        ("pushes", "delivered", "opens", "clicks")),),
        not_greater=(("delivered", "pushes"), ("opens", "delivered"), ("clicks", "opens")),
        aliases=("content",)),
    Kind("campaign_daily", "Campaigns", (
        OUTLET, DAY, CARRIER,
        Col("participants", "int", help="participants"),
        Col("conversions", "int", help="conversions (<= participants)"),
        Col("cost", "decimal", help="cost, yuan"),
    ), key=UNIT_DAY_CARRIER, day="day",
        destinations=(Destination("campaign_daily", UNIT_DAY_CARRIER,
                                  ("participants", "conversions", "cost")),),
        not_greater=(("conversions", "participants"),),
        aliases=("campaigns", "campaign")),
    # The unit whose contact centre answers the calls (a city or a province), one row per
    # 15-minute interval. Short abandons (hung up within 5 s) are left out of offered and abandoned.
    Kind("hotline_intervals", "95598 hotline intervals (contact centre)", (
        Col("unit", "unit", help="code of the unit whose centre answers the calls (a city or "
                                 "province), e.g. ZJ-HZ"),
        Col("interval_start", "datetime",
            help=f"local start of the {HOTLINE_INTERVAL_MINUTES}-minute interval, on a quarter "
                 "hour: YYYY-MM-DD HH:MM (:00, :15, :30, :45)"),
        Col("offered", "int", help="calls offered (short abandons under 5 s not counted)"),
        Col("answered", "int", help="calls answered (<= offered)"),
        Col("answered_20s", "int", help="of which answered within 20 s (<= answered)"),
        Col("abandoned", "int",
            help="calls abandoned while waiting, 5 s or more (<= offered - answered)"),
        Col("wait_seconds", "int", help="total wait of the answered calls, seconds"),
        Col("handle_seconds", "int", help="total talk and after-call work, seconds"),
    ), key=("unit_id", "interval_start"), day="day", loads=False,
        destinations=(Destination("hotline_interval", ("unit_id", "interval_start"),
                                  HOTLINE_VALUES),),
        stage_only=("day", "carrier_id"),
        aliases=("hotline", "call_intervals", "contact_centre")),
    Kind("targets", "KPI targets", (
        Col("kpi", "kpi", help="KPI id from the catalogue, e.g. online_payment"),
        Col("unit", "unit", help="unit code at any tier (the target cascades down)"),
        Col("carrier", "carrier", required=False, help="carrier code; empty = all carriers"),
        Col("period_start", "date", help="first day, YYYY-MM-DD", ahead=True),
        Col("period_end", "date", help="last day, YYYY-MM-DD (>= period_start)", ahead=True),
        Col("value", "decimal", help="target value; rates as fractions (0.8 = 80%)"),
    ), key=("kpi", "unit_id", "carrier_id", "period_start", "period_end"),
        destinations=(Destination("target", ("kpi", "unit_id", "carrier_id", "period_start", "period_end"),
                        ("value",)),),
        aliases=("target", "kpi_targets")),
)}


def guess_kind(file_name: str, header: list[str]) -> Kind | None:
    """Guess the kind from the file name (kind name or alias in it), else from the header."""
    stem = file_name.rsplit("/", 1)[-1].rsplit(".", 1)[0].lower().replace("-", "_").replace(" ", "_")
    names = sorted(((n, k) for k in KINDS.values() for n in (k.name, *k.aliases)),
                   key=lambda p: -len(p[0]))
    for n, kind in names:
        if n in stem:
            return kind
    have = set(header)
    fits = [k for k in KINDS.values()
            if {c.name for c in k.columns if c.required} <= have <= {c.name for c in k.columns}]
    return fits[0] if len(fits) == 1 else None
