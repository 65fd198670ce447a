"""The KPI registry: every KPI of DOMAIN.md declared once, with how it is computed and rolled up.

A KPI is a numerator measure, optionally divided by a denominator measure (times a scale). A
measure is an aggregate of one column of one source (a fact table read a certain way):

- `flow` sources are summed over units, carriers and days;
- `level` sources (stocks) take each outlet's level on the last day of the range that has data, then
  sum over outlets;
- `distinct` sources (monthly actives) are levels over months: never summed over time, and only the
  all-carriers table is used when the selection is not exactly one carrier.

Adding a KPI is one `Kpi(...)` in `KPIS` plus its test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from data.catalog import CARRIER_CODES, CORE_CODES, ONLINE_CARRIER_CODES

Kind = Literal["sum", "ratio", "stock", "distinct"]
Better = Literal["higher", "lower"]

ALL_CARRIERS = CARRIER_CODES  # data.catalog declares the cores and carriers
ONLINE = ONLINE_CARRIER_CODES


@dataclass(frozen=True)
class Source:
    """A fact table read one way: which column dates it, whether it splits by carrier, how it rolls."""

    name: str
    table: str
    date_column: str
    carrier_column: str | None
    rollup: Literal["flow", "level", "distinct"]
    monthly: bool = False
    events: bool = False  # rows are events: none in a covered range means zero, not "no data"


SOURCES = {s.name: s for s in (
    Source("channel", "channel_daily", "day", "carrier_id", "flow"),
    Source("content", "content_daily", "day", "carrier_id", "flow"),
    Source("campaign", "campaign_daily", "day", "carrier_id", "flow"),
    Source("stock", "user_stock_daily", "day", None, "level"),
    Source("actives", "monthly_active", "month", "carrier_id", "distinct", monthly=True),
    Source("actives_total", "monthly_active_total", "month", None, "distinct", monthly=True),
    Source("orders_created", "work_order", "created_day", "carrier_id", "flow", events=True),
    Source("orders_closed", "work_order", "closed_day", "carrier_id", "flow", events=True),
    # 95598 contact-centre intervals, at the answering unit (a city or province), by local day
    Source("hotline", "hotline_interval", "day", "carrier_id", "flow"),
)}

# Not a KPI source: the data-load log that `metrics.quality` reads (completeness, timeliness).
LOAD = Source("load", "data_load", "day", None, "flow")


def rolled_up(source: Source) -> bool:
    """Whether `source` has a roll-up table, `rollup_<name>` (`metrics.rollups`): flows and levels
    add up over a subtree; distinct counts (monthly actives) do not."""
    return source.rollup in ("flow", "level")



@dataclass(frozen=True)
class Measure:
    """An aggregate over one source: the sum of `column` (or a count of rows when None)."""

    source: str
    column: str | None = None
    filter: str | None = None


@dataclass(frozen=True)
class Kpi:
    """One KPI: names, unit and format, core, applicable carriers, direction, roll-up and formula."""

    id: str
    core: str
    name_zh: str
    name_en: str
    kind: Kind
    unit: str  # "%", "count", "yuan", "days", "minutes", "seconds", "per 10k"
    fmt: str  # a d3/Python format spec for the value
    better: Better
    numerator: Measure
    denominator: Measure | None = None
    scale: float = 1.0
    carriers: tuple[str, ...] = ()  # carriers it is scored on in the 6x6 matrix; () = none
    formula_zh: str = ""
    formula_en: str = ""
    measures: tuple[Measure, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "measures", tuple(
            m for m in (self.numerator, self.denominator) if m is not None))
        if (self.kind == "ratio") != (self.denominator is not None):
            raise ValueError(f"{self.id}: a ratio has a denominator and nothing else has")

    @property
    def splits_by_carrier(self) -> bool:
        """Whether the KPI has a value per carrier (its numerator's source has carriers)."""
        src = SOURCES[self.numerator.source]
        return src.carrier_column is not None or src.name == "actives_total"

    @property
    def monthly(self) -> bool:
        """Whether a measure of it comes from a monthly source (MAU, activity rate): it has values
        by month only, so its trend is drawn by month, never by day or week."""
        return any(SOURCES[m.source].monthly for m in self.measures)

    @property
    def prorated_target(self) -> bool:
        """Whether its target scales with the length of the period (flows, per-10k ratios)."""
        if self.kind == "sum":
            return True
        num = SOURCES[self.numerator.source].rollup
        den = SOURCES[self.denominator.source].rollup if self.denominator else None
        return num == "flow" and den in ("level", "distinct")


def _m(source: str, column: str | None = None, filter: str | None = None) -> Measure:
    return Measure(source, column, filter)


PCT, COUNT = ".1%", ",.0f"
WITHOUT_HOTLINE = tuple(c for c in ALL_CARRIERS if c != "hotline")
CAMPAIGN_CARRIERS = tuple(c for c in ALL_CARRIERS if c in ("app", "wechat", "alipay", "hall"))
CONTENT_CARRIERS = tuple(c for c in ALL_CARRIERS if c in ("app", "wechat", "alipay"))
HOTLINE = tuple(c for c in ALL_CARRIERS if c == "hotline")  # the contact centre's own KPIs

KPIS: tuple[Kpi, ...] = (
    # channel
    Kpi("channel_availability", "channel", "渠道可用率", "Channel availability", "ratio", "%", ".2%",
        "higher", _m("channel", "minutes_available"), _m("channel", "minutes_scheduled"),
        carriers=ALL_CARRIERS, formula_zh="可用分钟数 / 计划服务分钟数",
        formula_en="available minutes / scheduled minutes"),
    Kpi("online_substitution", "channel", "线上业务替代率", "Online substitution rate", "ratio", "%",
        PCT, "higher", _m("channel", "transactions", "online_carrier"), _m("channel", "transactions"),
        formula_zh="线上载体业务量 / 全部载体业务量",
        formula_en="transactions on online carriers / transactions on all carriers"),
    Kpi("visits", "channel", "访问量", "Visits", "sum", "count", COUNT, "higher",
        _m("channel", "visits"), carriers=ALL_CARRIERS, formula_zh="访问（会话）次数之和",
        formula_en="sum of sessions"),
    Kpi("transactions", "channel", "业务量", "Transactions", "sum", "count", COUNT, "higher",
        _m("channel", "transactions"), carriers=ALL_CARRIERS, formula_zh="办理业务笔数之和",
        formula_en="sum of transactions handled"),
    # user
    Kpi("registered_users", "user", "注册用户数", "Registered users", "stock", "count", COUNT,
        "higher", _m("stock", "registered"), formula_zh="期末注册账户数",
        formula_en="registered accounts at period end"),
    Kpi("new_registrations", "user", "新增注册", "New registrations", "sum", "count", COUNT, "higher",
        _m("channel", "registrations"), carriers=WITHOUT_HOTLINE, formula_zh="新注册账户数之和",
        formula_en="sum of registrations"),
    Kpi("binding_rate", "user", "户号绑定率", "Account binding rate", "ratio", "%", PCT, "higher",
        _m("stock", "bound"), _m("stock", "customers"), formula_zh="期末已绑定线上账户的用户 / 期末用户数",
        formula_en="customers with a bound online account / customers, at period end"),
    Kpi("mau", "user", "月活跃用户", "Monthly active users", "distinct", "count", COUNT, "higher",
        _m("actives_total", "active_users"), carriers=ONLINE,
        formula_zh="期末月份的去重活跃用户数（不跨月、不跨载体相加）",
        formula_en="distinct active users in the period's last month (never summed over months or "
                   "carriers)"),
    Kpi("activity_rate", "user", "活跃率", "Activity rate", "ratio", "%", PCT, "higher",
        _m("actives_total", "active_users"), _m("stock", "registered"),
        formula_zh="月活跃用户 / 期末注册用户", formula_en="MAU / registered users at period end"),
    Kpi("profile_coverage", "user", "画像覆盖率", "Profile coverage", "ratio", "%", PCT, "higher",
        _m("stock", "profiled"), _m("stock", "registered"), formula_zh="已建画像用户 / 注册用户（期末）",
        formula_en="users with a customer profile / registered users, at period end"),
    # business
    Kpi("online_handling", "business", "线上办电率", "Online application rate", "ratio", "%", PCT,
        "higher", _m("channel", "applications_online"), _m("channel", "applications_total"),
        formula_zh="线上提交的业务申请 / 全部业务申请",
        formula_en="business applications submitted online / all applications"),
    Kpi("online_payment", "business", "线上交费率", "Online payment rate", "ratio", "%", PCT, "higher",
        _m("channel", "payments_online"), _m("channel", "payments_total"),
        formula_zh="线上交费笔数 / 全部交费笔数", formula_en="payments via online carriers / all payments"),
    Kpi("payment_amount", "business", "交费金额", "Amount paid", "sum", "yuan", ",.0f", "higher",
        _m("channel", "payment_amount_total"), carriers=WITHOUT_HOTLINE, formula_zh="交费金额之和（元）",
        formula_en="sum of amounts paid (yuan)"),
    Kpi("ebill_rate", "business", "电子账单率", "E-bill rate", "ratio", "%", PCT, "higher",
        _m("stock", "ebill"), _m("stock", "customers"), formula_zh="期末电子账单用户 / 期末用户数",
        formula_en="customers on e-bill / customers, at period end"),
    Kpi("avg_handling_days", "business", "平均办结时长", "Avg days to complete", "ratio", "days",
        ".1f", "lower", _m("channel", "completion_days_sum"), _m("channel", "applications_completed"),
        carriers=ALL_CARRIERS, formula_zh="办结天数之和 / 办结申请数",
        formula_en="sum of days to complete / completed applications"),
    # content
    Kpi("pushes", "content", "推送量", "Messages pushed", "sum", "count", COUNT, "higher",
        _m("content", "pushes"), carriers=CONTENT_CARRIERS, formula_zh="推送条数之和",
        formula_en="sum of pushes"),
    Kpi("open_rate", "content", "打开率", "Open rate", "ratio", "%", PCT, "higher",
        _m("content", "opens"), _m("content", "delivered"), carriers=CONTENT_CARRIERS,
        formula_zh="打开数 / 送达数", formula_en="opens / delivered"),
    Kpi("click_rate", "content", "点击率", "Click-through rate", "ratio", "%", PCT, "higher",
        _m("content", "clicks"), _m("content", "opens"), carriers=CONTENT_CARRIERS,
        formula_zh="点击数 / 打开数", formula_en="clicks / opens"),
    # campaign
    Kpi("participants", "campaign", "参与人数", "Participants", "sum", "count", COUNT, "higher",
        _m("campaign", "participants"), carriers=CAMPAIGN_CARRIERS, formula_zh="活动参与人数之和",
        formula_en="sum of participants"),
    Kpi("conversion_rate", "campaign", "转化率", "Conversion rate", "ratio", "%", PCT, "higher",
        _m("campaign", "conversions"), _m("campaign", "participants"), carriers=CAMPAIGN_CARRIERS,
        formula_zh="转化数 / 参与人数", formula_en="conversions / participants"),
    Kpi("cost_per_conversion", "campaign", "单次转化成本", "Cost per conversion", "ratio", "yuan",
        ",.2f", "lower", _m("campaign", "cost"), _m("campaign", "conversions"),
        carriers=CAMPAIGN_CARRIERS, formula_zh="活动成本 / 转化数", formula_en="cost / conversions"),
    # service
    Kpi("work_orders_per_10k", "service", "万户工单量", "Work orders per 10k customers", "ratio",
        "per 10k", ".1f", "lower", _m("orders_created"), _m("stock", "customers"), scale=10_000,
        carriers=ALL_CARRIERS, formula_zh="10000 × 期内受理工单数 / 期末用户数",
        formula_en="10000 x work orders created in the period / customers at period end"),
    Kpi("complaints_per_10k", "service", "万户投诉量", "Complaints per 10k customers", "ratio",
        "per 10k", ".2f", "lower", _m("orders_created", None, "complaint"),
        _m("stock", "customers"), scale=10_000, carriers=ALL_CARRIERS,
        formula_zh="10000 × 期内投诉工单数 / 期末用户数",
        formula_en="10000 x complaint work orders created in the period / customers at period end"),
    Kpi("first_contact_resolution", "service", "一次解决率", "First-contact resolution", "ratio",
        "%", PCT, "higher", _m("orders_closed", None, "first_contact"), _m("orders_closed"),
        carriers=ALL_CARRIERS, formula_zh="首次接触即解决的工单 / 期内办结工单",
        formula_en="work orders resolved at first contact / work orders closed in the period"),
    Kpi("on_time_rate", "service", "工单及时率", "On-time closure rate", "ratio", "%", PCT, "higher",
        _m("orders_closed", None, "on_time"), _m("orders_closed"), carriers=ALL_CARRIERS,
        formula_zh="时限内办结工单 / 期内办结工单",
        formula_en="work orders closed within SLA / work orders closed in the period"),
    Kpi("avg_response_minutes", "service", "平均响应时长", "Avg response time (min)", "ratio",
        "minutes", ".1f", "lower", _m("orders_created", "response_minutes", "responded"),
        _m("orders_created", None, "responded"), carriers=ALL_CARRIERS,
        formula_zh="响应分钟数之和 / 已响应工单数",
        formula_en="sum of response minutes / responded work orders"),
    Kpi("satisfaction", "service", "满意率", "Satisfaction rate", "ratio", "%", PCT, "higher",
        _m("orders_closed", None, "satisfied"), _m("orders_closed", None, "rated"),
        carriers=ALL_CARRIERS, formula_zh="4-5 分评价数 / 全部评价数（1-5 分）",
        formula_en="ratings of 4-5 / all ratings (1-5 scale)"),
    # service: the 95598 hotline as a contact centre (15-minute intervals; short abandons, hung
    # up within 5 s, are in neither calls offered nor abandoned)
    Kpi("service_level", "service", "服务水平", "Service level (20 s)", "ratio", "%", PCT, "higher",
        _m("hotline", "answered_20s"), _m("hotline", "offered"), carriers=HOTLINE,
        formula_zh="20 秒内接通的来电 / 呼入来电（不含 5 秒内挂机）",
        formula_en="calls answered within 20 s / calls offered (short abandons under 5 s "
                   "excluded)"),
    Kpi("abandonment_rate", "service", "呼损率", "Abandonment rate", "ratio", "%", PCT, "lower",
        _m("hotline", "abandoned"), _m("hotline", "offered"), carriers=HOTLINE,
        formula_zh="排队中挂机的来电 / 呼入来电（5 秒内挂机不计）",
        formula_en="calls abandoned while waiting / calls offered (abandons under 5 s not "
                   "counted)"),
    Kpi("avg_speed_of_answer", "service", "平均接通时长", "Avg speed of answer (s)", "ratio",
        "seconds", ".1f", "lower", _m("hotline", "wait_seconds"), _m("hotline", "answered"),
        carriers=HOTLINE, formula_zh="已接通来电的等待秒数之和 / 接通来电数",
        formula_en="total wait seconds of answered calls / calls answered"),
    Kpi("avg_handle_time", "service", "平均处理时长", "Avg handling time (s)", "ratio", "seconds",
        ".0f", "lower", _m("hotline", "handle_seconds"), _m("hotline", "answered"),
        carriers=HOTLINE, formula_zh="通话与话后处理秒数之和 / 接通来电数",
        formula_en="total talk and after-call work seconds / calls answered"),
)

REGISTRY: dict[str, Kpi] = {k.id: k for k in KPIS}
CORES = CORE_CODES


def get(kpi_id: str) -> Kpi:
    """Return the KPI with this id (KeyError names it when unknown)."""
    return REGISTRY[kpi_id]


def for_core(core: str) -> list[Kpi]:
    """Return the KPIs of one operating core, in declaration order."""
    return [k for k in KPIS if k.core == core]


def applicable(core: str, carrier: str) -> list[Kpi]:
    """Return the KPIs of `core` that are scored on `carrier` in the 6x6 matrix."""
    return [k for k in KPIS if k.core == core and carrier in k.carriers]
