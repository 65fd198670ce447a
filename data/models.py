"""The SQL store: typed SQLAlchemy 2.x models for the catalogue, the org tree and the fact tables.

Conventions
- Facts sit at the outlet (tier 5) grain; parents are never stored, they are rolled up in SQL.
  The one exception is the hotline's interval data (`HotlineInterval`): it belongs to the unit
  whose contact centre answers the calls (a city or a province), and rolls up from there.
- `day` columns are local days in the company's time zone (setting TIMEZONE); timestamps of work
  orders are naive local times in that zone, with their local day stored beside them so that
  grouping by day never depends on the database's time-zone functions.
- Monthly facts use the first day of the month as `month`.
- Money is in yuan.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import time
from typing import Annotated

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

from data.numbers import stored

# Reusable column types.
intpk = Annotated[int, mapped_column(Integer, primary_key=True)]
count = Annotated[int, mapped_column(Integer, nullable=False, default=0)]
bigcount = Annotated[int, mapped_column(BigInteger, nullable=False, default=0)]
yuan = Annotated[float, mapped_column(Numeric(16, 2, asdecimal=False), nullable=False, default=0)]
unit_fk = Annotated[int, mapped_column(ForeignKey("org_unit.id"), nullable=False)]
carrier_fk = Annotated[int, mapped_column(SmallInteger, ForeignKey("carrier.id"), nullable=False)]

TIERS = {
    1: ("网/总部", "Grid HQ"),
    2: ("省公司", "Province"),
    3: ("地市供电局", "City"),
    4: ("区县供电局", "County"),
    5: ("供电所/营业厅", "Outlet"),
}
OUTLET_TIER = 5


class Base(DeclarativeBase):
    pass


# ---------------------------------------------------------------------------------------------
# Catalogue
# ---------------------------------------------------------------------------------------------


class Core(Base):
    """One of the six operating cores (运营核心)."""

    __tablename__ = "core"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    question_zh: Mapped[str] = mapped_column(String(200), default="")
    question_en: Mapped[str] = mapped_column(String(200), default="")
    sort_order: Mapped[int] = mapped_column(SmallInteger, default=0)


class Carrier(Base):
    """One of the six supporting carriers (支撑载体); `kind` is online, remote or offline."""

    __tablename__ = "carrier"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    sort_order: Mapped[int] = mapped_column(SmallInteger, default=0)


# ---------------------------------------------------------------------------------------------
# Organisation
# ---------------------------------------------------------------------------------------------


# Unit codes go into URLs, file names (PDF packs), cache keys and CSV cells: ASCII letters and
# digits, '-' and '_', starting with a letter or digit (no '../', no '-option', no '=formula').
UNIT_CODE_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}"


def is_unit_code(code: str) -> bool:
    """Tell whether `code` follows the unit-code rule (UNIT_CODE_PATTERN)."""
    return isinstance(code, str) and re.fullmatch(UNIT_CODE_PATTERN, code) is not None


class OrgUnit(Base):
    """A unit of the five-tier organisation.

    `path` is a materialised path of zero-padded ids, "/000001/000004/000017/", so a unit's whole
    subtree is the single
    indexed range query `path >= p AND path < p[:-1] + "0"` (see `data.units.subtree_filter`).
    A range, not LIKE, so that it uses the index under any collation on both SQLite and PostgreSQL.
    """

    __tablename__ = "org_unit"

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    tier: Mapped[int] = mapped_column(SmallInteger, index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    path: Mapped[str] = mapped_column(
        String(255).with_variant(String(255, collation="C"), "postgresql"), unique=True
    )

    parent: Mapped[OrgUnit | None] = relationship(remote_side="OrgUnit.id")

    @validates("code")
    def _check_code(self, _key: str, code: str) -> str:
        if not is_unit_code(code):
            raise ValueError(f"not a unit code: {code!r} (letters, digits, '-' and '_' only)")
        return code

    def __repr__(self) -> str:
        return f"OrgUnit({self.code!r}, tier={self.tier})"


# ---------------------------------------------------------------------------------------------
# Facts
# ---------------------------------------------------------------------------------------------


class ChannelDaily(Base):
    """Traffic, availability, registrations, applications and payments per outlet, carrier and day.

    The primary key (unit, day, carrier) is the index every query uses: queries start from the
    unit's subtree in org_unit, then read each outlet's days. No day- or carrier-leading index on
    purpose: SQLite chose them for GROUP BY day and ran 20-100x slower on the province demo.
    """

    __tablename__ = "channel_daily"

    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    carrier_id: Mapped[int] = mapped_column(SmallInteger, ForeignKey("carrier.id"), primary_key=True)
    visits: Mapped[count]
    transactions: Mapped[count]
    minutes_scheduled: Mapped[count]
    minutes_available: Mapped[count]
    registrations: Mapped[count]
    applications_total: Mapped[count]
    applications_online: Mapped[count]
    applications_completed: Mapped[count]
    completion_days_sum: Mapped[float] = mapped_column(Float, nullable=False, default=0)
    payments_total: Mapped[count]
    payments_online: Mapped[count]
    payment_amount_total: Mapped[yuan]
    payment_amount_online: Mapped[yuan]


class ContentDaily(Base):
    """Pushed messages and their reach per outlet, carrier and day."""

    __tablename__ = "content_daily"

    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    carrier_id: Mapped[int] = mapped_column(SmallInteger, ForeignKey("carrier.id"), primary_key=True)
    pushes: Mapped[count]
    delivered: Mapped[count]
    opens: Mapped[count]
    clicks: Mapped[count]


class CampaignDaily(Base):
    """Campaign participants, conversions and cost per outlet, carrier and day."""

    __tablename__ = "campaign_daily"

    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    carrier_id: Mapped[int] = mapped_column(SmallInteger, ForeignKey("carrier.id"), primary_key=True)
    participants: Mapped[count]
    conversions: Mapped[count]
    cost: Mapped[yuan]


class UserStockDaily(Base):
    """End-of-day user stocks per outlet: customers served and their online accounts."""

    __tablename__ = "user_stock_daily"

    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    customers: Mapped[count]
    registered: Mapped[count]
    bound: Mapped[count]
    profiled: Mapped[count]
    ebill: Mapped[count]


class MonthlyActive(Base):
    """Distinct active users per outlet, carrier and month."""

    __tablename__ = "monthly_active"

    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    carrier_id: Mapped[int] = mapped_column(SmallInteger, ForeignKey("carrier.id"), primary_key=True)
    active_users: Mapped[count]


class MonthlyActiveTotal(Base):
    """Distinct active users per outlet and month over all carriers together.

    Not the sum of the per-carrier rows: one person active on the app and on WeChat is one user.
    """

    __tablename__ = "monthly_active_total"

    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    active_users: Mapped[count]


WORK_ORDER_CATEGORIES = {
    "consultation": ("咨询", "Consultation"),
    "repair": ("故障报修", "Fault repair"),
    "business": ("业务办理", "Service request"),
    "complaint": ("投诉", "Complaint"),
    "opinion": ("意见建议", "Opinion"),
}


class WorkOrder(Base):
    """A customer work order (95598 and online), at event grain.

    `response_minutes` is stored (first response minus creation) because interval arithmetic is
    spelled differently on each database; `created_day` and `closed_day` are the local days.
    """

    __tablename__ = "work_order"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    unit_id: Mapped[unit_fk]
    order_no: Mapped[str] = mapped_column(String(40))  # the source system's number (natural key)
    carrier_id: Mapped[carrier_fk]
    category: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    created_day: Mapped[dt.date] = mapped_column(Date)
    first_response_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    response_minutes: Mapped[float | None] = mapped_column(Float)
    sla_deadline: Mapped[dt.datetime] = mapped_column(DateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    closed_day: Mapped[dt.date | None] = mapped_column(Date)
    first_contact_resolved: Mapped[bool | None]
    rating: Mapped[int | None] = mapped_column(SmallInteger)

    __table_args__ = (
        # Only unit-leading indexes: with a day- or carrier-leading one the planners scan every
        # unit's rows of the date range (measured 20-100x slower on the province demo).
        Index("ix_work_order_unit_created", "unit_id", "created_day"),
        Index("ix_work_order_unit_closed", "unit_id", "closed_day"),
        # The natural key imports upsert on; unit-leading like every other fact index.
        Index("uq_work_order_unit_order_no", "unit_id", "order_no", unique=True),
    )


class HotlineInterval(Base):
    """The 95598 hotline as a contact centre: one queue's 15-minute interval (DOMAIN.md).

    A row belongs to the unit whose centre answers the calls: a city company (tier 3) usually,
    or a province (tier 2) where calls are answered centrally; never an outlet. Facts of this
    table therefore sit above the outlet grain, at the answering unit itself: a unit's subtree
    holds the centres at or below it, and a breakdown by child shows nothing for the children of
    a centre (counties answer no calls).

    `interval_start` is the naive local start time, on a quarter hour; `day` its local day.
    Short abandons (callers who hang up within 5 s) are counted neither in `offered` nor in
    `abandoned` (the rule the import states): every offered call is answered, abandoned, or still
    queued or transferred out at the interval's end, so answered + abandoned <= offered.
    `wait_seconds` is the total wait of the answered calls, `handle_seconds` their total talk and
    after-call work. `carrier_id` is the hotline carrier (the import sets it), kept so that the
    hotline KPIs split and filter by carrier like every other source.
    """

    __tablename__ = "hotline_interval"

    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), primary_key=True)
    interval_start: Mapped[dt.datetime] = mapped_column(DateTime, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date)
    carrier_id: Mapped[carrier_fk]
    offered: Mapped[count]
    answered: Mapped[count]
    answered_20s: Mapped[count]
    abandoned: Mapped[count]
    wait_seconds: Mapped[count]
    handle_seconds: Mapped[count]

    __table_args__ = (
        # unit-leading, like every fact index: a subtree's units, then their days
        Index("ix_hotline_interval_unit_day", "unit_id", "day"),
    )


HOTLINE_INTERVAL_MINUTES = 15


class DataLoad(Base):
    """When a unit's data for a day was loaded: the basis of completeness and timeliness."""

    __tablename__ = "data_load"

    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime)
    source: Mapped[str] = mapped_column(String(64), default="")

    __table_args__ = (Index("ix_data_load_day", "day"),)


class Target(Base):
    """A KPI's target for a unit over a period (a year, quarter or month); cascades down the tree.

    `carrier_id` is NULL for the target over all carriers together, or names the one carrier it is
    for (a volume plan split by carrier, say).
    """

    __tablename__ = "target"

    id: Mapped[intpk]
    kpi: Mapped[str] = mapped_column(String(48), index=True)
    unit_id: Mapped[unit_fk]
    carrier_id: Mapped[int | None] = mapped_column(SmallInteger, ForeignKey("carrier.id"))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        # NULL carrier = all carriers; PostgreSQL enforces that as one key too (SQLite cannot, so
        # writers upsert on the natural key themselves).
        UniqueConstraint("kpi", "unit_id", "carrier_id", "period_start", "period_end",
                         name="uq_target_key", postgresql_nulls_not_distinct=True),
        Index("ix_target_unit", "unit_id"),
    )

    @validates("value")
    def _finite_value(self, _key: str, value: float) -> float:
        return stored(value, ("目标值", "target"))


# ---------------------------------------------------------------------------------------------
# Bookkeeping
# ---------------------------------------------------------------------------------------------


class Meta(Base):
    """Key-value facts about the store itself (e.g. whether and how it holds demo data)."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class StoreVersion(Base):
    """A version number per kind of stored data that cached results depend on, bumped in the
    transaction of every write: `facts` by `data.changes.data_changed`, the others by triggers
    on their tables (`data.changes.STAMPED`). Reading them all is one query of a few rows."""

    __tablename__ = "store_version"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class DemoIncident(Base):
    """An incident that `seed-demo` injected on purpose, for the risk rules to find."""

    __tablename__ = "demo_incident"

    id: Mapped[intpk]
    kind: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[unit_fk]
    carrier_id: Mapped[int | None] = mapped_column(SmallInteger, ForeignKey("carrier.id"))
    start_day: Mapped[dt.date] = mapped_column(Date)
    end_day: Mapped[dt.date] = mapped_column(Date)
    description_zh: Mapped[str] = mapped_column(String(200))
    description_en: Mapped[str] = mapped_column(String(200))


class StageCriterion(Base):
    """A threshold of the operating-stage rubric (admin-editable; defaults from DOMAIN.md)."""

    __tablename__ = "stage_criterion"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    stage: Mapped[int] = mapped_column(SmallInteger)
    threshold: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    updated_by: Mapped[str | None] = mapped_column(String(64))

    @validates("threshold")
    def _finite_threshold(self, _key: str, value: float) -> float:
        return stored(value, ("阈值", "threshold"))


# ---------------------------------------------------------------------------------------------
# Risk control
# ---------------------------------------------------------------------------------------------

RISK_STATES = ("open", "dispatched", "in_progress", "resolved", "closed", "reopened")


class RiskRule(Base):
    """A rule of the operational risk library (运营风险规则库); `params` is JSON per type."""

    __tablename__ = "risk_rule"

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(48), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(16))
    core: Mapped[str] = mapped_column(String(32))
    kpi: Mapped[str | None] = mapped_column(String(48))
    carrier: Mapped[str | None] = mapped_column(String(32))
    params: Mapped[str] = mapped_column(Text, default="{}")
    tiers: Mapped[str] = mapped_column(String(16), default="5")  # e.g. "3,4"
    severity: Mapped[str] = mapped_column(String(8), default="medium")
    owner_tier: Mapped[int] = mapped_column(SmallInteger, default=4)
    deadline_hours: Mapped[int] = mapped_column(Integer, default=72)
    active: Mapped[bool] = mapped_column(default=True)
    # Why the last scan skipped the rule (its settings cannot be used; risk.params), and when.
    skip_reason: Mapped[str | None] = mapped_column(Text)
    skipped_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class RiskIncident(Base):
    """Events of one rule (and carrier) on the same days at a unit and its descendants, worked as
    one (a WeChat outage seen at a county and its four outlets is one incident of five events).

    `unit` is the highest unit of its events (every other one lies in its subtree); `owner_unit`
    the unit that handles it (the rule's owner tier above `unit`). Who it is assigned to (a person,
    or a role at a unit), its escalation and when it was first dispatched and last resolved are
    the incident's; each event keeps its own state and steps (`risk.workflow` moves them together).
    """

    __tablename__ = "risk_incident"

    id: Mapped[intpk]
    rule_id: Mapped[int] = mapped_column(ForeignKey("risk_rule.id"))
    unit_id: Mapped[unit_fk]
    owner_unit_id: Mapped[unit_fk]
    carrier: Mapped[str | None] = mapped_column(String(32))
    first_day: Mapped[dt.date] = mapped_column(Date)
    last_day: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    deadline: Mapped[dt.datetime] = mapped_column(DateTime)  # the earliest of its events'
    # A person (assignee_id), or a role (assignee_role) at a unit (assignee_unit_id); none: nobody.
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    assignee_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    assignee_role: Mapped[str | None] = mapped_column(String(16))
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # first left "open"
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # all its events resolved
    # Overdue too long: raised to the owner unit's parent (it appears in their list).
    escalated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    escalated_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))

    rule: Mapped[RiskRule] = relationship(lazy="joined")
    unit: Mapped[OrgUnit] = relationship(foreign_keys="RiskIncident.unit_id", lazy="joined")

    __table_args__ = (
        Index("ix_risk_incident_rule_days", "rule_id", "first_day"),
        Index("ix_risk_incident_assignee", "assignee_id"),
        Index("ix_risk_incident_assignee_unit", "assignee_unit_id"),
        Index("ix_risk_incident_escalated_unit", "escalated_unit_id"),
        Index("ix_risk_incident_owner", "owner_unit_id"),
    )


class RiskEvent(Base):
    """A breach of a rule by a unit: one event per continuing breach, worked to closure."""

    __tablename__ = "risk_event"

    id: Mapped[intpk]
    rule_id: Mapped[int] = mapped_column(ForeignKey("risk_rule.id"), index=True)
    unit_id: Mapped[unit_fk]
    owner_unit_id: Mapped[unit_fk]
    carrier: Mapped[str | None] = mapped_column(String(32))
    first_day: Mapped[dt.date] = mapped_column(Date)
    last_day: Mapped[dt.date] = mapped_column(Date)
    value: Mapped[float | None] = mapped_column(Float)  # of last_day
    threshold: Mapped[float | None] = mapped_column(Float)  # of last_day
    # The worst day of the breach and its value and threshold (risk.scan.record says "worst").
    worst_day: Mapped[dt.date | None] = mapped_column(Date)
    worst_value: Mapped[float | None] = mapped_column(Float)
    worst_threshold: Mapped[float | None] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    deadline: Mapped[dt.datetime] = mapped_column(DateTime)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # The incident it is worked in (`RiskIncident`); None only until the scan (or `init-db`,
    # for events from before incidents) groups it.
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("risk_incident.id"), index=True)

    rule: Mapped[RiskRule] = relationship(lazy="joined")
    unit: Mapped[OrgUnit] = relationship(foreign_keys="RiskEvent.unit_id", lazy="joined")

    __table_args__ = (
        Index("ix_risk_event_unit_first", "unit_id", "first_day"),
        Index("ix_risk_event_state", "state"),
        Index("ix_risk_event_rule_unit", "rule_id", "unit_id", "carrier"),
    )


class RiskEventStep(Base):
    """One step of an event's closed loop: who moved it from which state to which, and why."""

    __tablename__ = "risk_event_step"

    id: Mapped[intpk]
    event_id: Mapped[int] = mapped_column(ForeignKey("risk_event.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    username: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    # "move" (a state change), "assign" (dispatched or reassigned to `assignee`) or "escalate"
    # (raised to the owner unit's parent, `assignee` naming it); the state stays on the last two.
    action: Mapped[str] = mapped_column(String(16), default="move", server_default="move")
    assignee: Mapped[str | None] = mapped_column(String(160))  # e.g. "zhang" or "manager@ZJ-HZ-01"

    # The notices' sweep reads the steps of the last day (`risk.notify.causes`).
    __table_args__ = (Index("ix_risk_event_step_at", "at"),)


class RiskNotification(Base):
    """One notice of an incident to one recipient by one channel: on dispatch (and reassignment),
    its deadline approaching, overdue, reopened, escalated (`kind`).

    Queued in the transaction of what caused it, sent by `flask --app app notify-due`. `trigger`
    makes a cause unique (the step's id for dispatch and reopen; the deadline for due-soon and
    overdue; the escalation's unit), so with (incident, kind, trigger, channel, recipient) unique a
    cause is queued once, however often it is looked for; a send is claimed (`state` pending ->
    sending) before it is made, so of two senders one sends.
    """

    __tablename__ = "risk_notification"

    id: Mapped[intpk]
    incident_id: Mapped[int] = mapped_column(ForeignKey("risk_incident.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # dispatched, due_soon, overdue, reopened, escalated
    trigger: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))  # email, webhook
    recipient: Mapped[str] = mapped_column(String(254))  # an address, or "webhook:<id>"
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    webhook_id: Mapped[int | None] = mapped_column(ForeignKey("risk_webhook.id"))
    # pending -> sending -> sent | failed (retried after the back-off while attempts remain) |
    # refused (cannot be sent: no address, the webhook removed; never retried)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)  # UTC
    next_try_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # UTC
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # UTC, when sent or given up
    error: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        UniqueConstraint("incident_id", "kind", "trigger", "channel", "recipient",
                         name="uq_risk_notification_cause"),
        Index("ix_risk_notification_state", "state", "next_try_at"),
    )


class RiskWebhook(Base):
    """Where an enterprise chat robot (WeCom, DingTalk and the like) takes the notices of a unit's
    subtree: one URL per unit, set by administrators; a notice goes to the nearest unit at or above
    the incident's owner unit that has one."""

    __tablename__ = "risk_webhook"

    id: Mapped[intpk]
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), unique=True)
    url: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)  # UTC

    unit: Mapped[OrgUnit] = relationship(lazy="joined")


class RiskScanRun(Base):
    """One run of the risk scan: the days it evaluated, whether for every unit or only some (an
    import's), when it ran and what it found. The closed-on-time criterion trusts only the days
    that runs over every unit covered (`metrics.risk.scan_coverage`)."""

    __tablename__ = "risk_scan_run"

    id: Mapped[intpk]
    first_day: Mapped[dt.date] = mapped_column(Date)
    last_day: Mapped[dt.date] = mapped_column(Date)
    all_units: Mapped[bool] = mapped_column()
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    new: Mapped[int] = mapped_column(Integer, default=0)
    extended: Mapped[int] = mapped_column(Integer, default=0)
    # Active rules it skipped (bad settings, `risk.params`): their breaches were never looked for,
    # so such a run covers no day.
    skipped: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (Index("ix_risk_scan_run_all_first", "all_units", "first_day"),)


# ---------------------------------------------------------------------------------------------
# People, tokens and the audit log
# ---------------------------------------------------------------------------------------------

ROLES = ("admin", "manager", "viewer", "display")


class User(Base):
    """A person (or a wall display) who signs in; sees their home unit's subtree only."""

    __tablename__ = "app_user"
    __allow_unmapped__ = True  # sign_in_id below is a plain attribute, not a column

    id: Mapped[intpk]
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[unit_fk]
    language: Mapped[str] = mapped_column(String(8), default="zh")
    theme: Mapped[str] = mapped_column(String(8), default="light", server_default="light")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Goes up on sign-out, password change and deactivation: every session and remember-me cookie
    # issued before carries the old number and stops working (auth/sessions.py).
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Where subscriptions are delivered (export/subscriptions.py checks it); none: no delivery.
    email: Mapped[str | None] = mapped_column(String(254))

    unit: Mapped[OrgUnit] = relationship(lazy="joined")

    # The flask-login user protocol.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        """Whether the account may sign in (deactivated accounts stop on their next request)."""
        return self.active

    def get_id(self) -> str:
        """Return the sign-in id flask-login keeps in the session and the remember-me cookie.

        `user.version.issued.nonce`: the session version, the Unix time of the sign-in and a random
        nonce, so every sign-in gets its own value; auth/sessions.py checks version and age on
        each request. Made once per instance (the user loader sets the one it accepted).
        """
        if self.sign_in_id is None:
            self.sign_in_id = (f"{self.id}.{self.session_version}.{int(time.time())}."
                               f"{secrets.token_hex(8)}")
        return self.sign_in_id

    sign_in_id: str | None = None  # not a column: the id of this request's sign-in


class ApiToken(Base):
    """An API token: stored as a SHA-256 hash (the token itself is shown once), revocable."""

    __tablename__ = "api_token"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship()


class RenderToken(Base):
    """A single-use sign-in for the PDF renderer: one user, one view, a short life (export/tokens.py)."""

    __tablename__ = "render_token"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    path: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # SHA-256 of the per-render secret the server hands only to the Chromium it launched.
    secret_hash: Mapped[str | None] = mapped_column(String(64))


class LoginThrottle(Base):
    """Sign-in attempts counted per key (account+address, address, account); auth/throttle.py."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    window_start: Mapped[dt.datetime] = mapped_column(DateTime)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    lockouts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class AuditEvent(Base):
    """One line of the append-only audit log."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    username: Mapped[str | None] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(255), default="")
    outcome: Mapped[str] = mapped_column(String(32), default="ok")
    detail: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        Index("ix_audit_event_action_at", "action", "at"),
        Index("ix_audit_event_username_at", "username", "at"),
        Index("ix_audit_event_address_at", "address", "at"),
    )


# ---------------------------------------------------------------------------------------------
# Roll-ups: facts pre-summed per non-outlet unit (its whole subtree), day and carrier
# ---------------------------------------------------------------------------------------------
# Derived from the facts by `metrics.rollups` in the transaction that writes them (`data.changes`);
# `metrics.compute` reads them only where they give exactly the answer the facts give. Columns are
# the measures of `metrics.registry` on each source: a plain column keeps its name, a filtered
# count or sum is named `<column or rows>__<filter>`.

rollup_count = Annotated[int, mapped_column(BigInteger, nullable=False, default=0)]
rollup_yuan = Annotated[float, mapped_column(Numeric(18, 2, asdecimal=False), nullable=False,
                                             default=0)]
rollup_float = Annotated[float, mapped_column(Float, nullable=False, default=0)]


class RollupChannel(Base):
    """`channel_daily` summed over a unit's subtree per day and carrier.

    Measures filtered by the carrier's kind (online transactions) have no column of their own: the
    row's carrier is the filter, applied when read, so re-classifying a carrier needs no rebuild.
    """

    __tablename__ = "rollup_channel"

    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    carrier_id: Mapped[int] = mapped_column(SmallInteger, ForeignKey("carrier.id"), primary_key=True)
    visits: Mapped[rollup_count]
    transactions: Mapped[rollup_count]
    minutes_scheduled: Mapped[rollup_count]
    minutes_available: Mapped[rollup_count]
    registrations: Mapped[rollup_count]
    applications_total: Mapped[rollup_count]
    applications_online: Mapped[rollup_count]
    applications_completed: Mapped[rollup_count]
    completion_days_sum: Mapped[rollup_float]
    payments_total: Mapped[rollup_count]
    payments_online: Mapped[rollup_count]
    payment_amount_total: Mapped[rollup_yuan]


class RollupContent(Base):
    """`content_daily` summed over a unit's subtree per day and carrier."""

    __tablename__ = "rollup_content"

    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    carrier_id: Mapped[int] = mapped_column(SmallInteger, ForeignKey("carrier.id"), primary_key=True)
    pushes: Mapped[rollup_count]
    delivered: Mapped[rollup_count]
    opens: Mapped[rollup_count]
    clicks: Mapped[rollup_count]


class RollupCampaign(Base):
    """`campaign_daily` summed over a unit's subtree per day and carrier."""

    __tablename__ = "rollup_campaign"

    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    carrier_id: Mapped[int] = mapped_column(SmallInteger, ForeignKey("carrier.id"), primary_key=True)
    participants: Mapped[rollup_count]
    conversions: Mapped[rollup_count]
    cost: Mapped[rollup_yuan]


class RollupStock(Base):
    """`user_stock_daily` summed over a unit's subtree per day, with how many outlets reported.

    Only a day on which every outlet of the subtree reported answers a stock exactly.
    """

    __tablename__ = "rollup_stock"

    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    outlets: Mapped[rollup_count]
    customers: Mapped[rollup_count]
    registered: Mapped[rollup_count]
    bound: Mapped[rollup_count]
    profiled: Mapped[rollup_count]
    ebill: Mapped[rollup_count]


class RollupOrdersCreated(Base):
    """Work orders counted per unit's subtree, day created and carrier."""

    __tablename__ = "rollup_orders_created"

    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    carrier_id: Mapped[int] = mapped_column(SmallInteger, ForeignKey("carrier.id"), primary_key=True)
    rows: Mapped[rollup_count]
    rows__complaint: Mapped[rollup_count]
    rows__responded: Mapped[rollup_count]
    response_minutes__responded: Mapped[rollup_float]


class RollupOrdersClosed(Base):
    """Work orders counted per unit's subtree, day closed and carrier."""

    __tablename__ = "rollup_orders_closed"

    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    carrier_id: Mapped[int] = mapped_column(SmallInteger, ForeignKey("carrier.id"), primary_key=True)
    rows: Mapped[rollup_count]
    rows__first_contact: Mapped[rollup_count]
    rows__on_time: Mapped[rollup_count]
    rows__satisfied: Mapped[rollup_count]
    rows__rated: Mapped[rollup_count]


class RollupLoad(Base):
    """`data_load` counted per unit's subtree and day: unit-days loaded, and loaded in time (by the
    end of the next day), the basis of data completeness and timeliness."""

    __tablename__ = "rollup_load"

    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    rows: Mapped[rollup_count]
    rows__timely: Mapped[rollup_count]


class RollupHotline(Base):
    """`hotline_interval` summed over a unit's subtree (its own centre included) per day and
    carrier."""

    __tablename__ = "rollup_hotline"

    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    carrier_id: Mapped[int] = mapped_column(SmallInteger, ForeignKey("carrier.id"), primary_key=True)
    offered: Mapped[rollup_count]
    answered: Mapped[rollup_count]
    answered_20s: Mapped[rollup_count]
    abandoned: Mapped[rollup_count]
    wait_seconds: Mapped[rollup_count]
    handle_seconds: Mapped[rollup_count]


ROLLUP_TABLES = (RollupChannel, RollupContent, RollupCampaign, RollupStock, RollupOrdersCreated,
                 RollupOrdersClosed, RollupLoad, RollupHotline)

OPEN_GAP = dt.date(9999, 12, 31)  # `RollupStockGap.until` of a unit with no later stock row (yet)


class RollupStockGap(Base):
    """The stock levels carried over gaps, summed over a non-outlet unit's subtree: for each
    (`day`, `until`), the levels on `day` of the subtree's reporting units whose next stock row is
    on `until`, more than a day later (`OPEN_GAP`: none yet), and how many such units.

    A stock takes each unit's level on its last day with data (DOMAIN.md), so a unit that missed
    day D counts with its level of the day its gap began: the carry-forward onto D of the subtree,
    from day F on, is the sum of the rows with F <= `day` < D < `until`. A few hundred rows answer
    what reading every outlet's stock rows answered (at HQ, eleven thousand outlets' rows a day).
    Kept by `metrics.rollups` with the other roll-ups, for the same changed days.
    """

    __tablename__ = "rollup_stock_gap"

    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    until: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    outlets: Mapped[rollup_count]
    customers: Mapped[rollup_count]
    registered: Mapped[rollup_count]
    bound: Mapped[rollup_count]
    profiled: Mapped[rollup_count]
    ebill: Mapped[rollup_count]


DERIVED_TABLES = (*ROLLUP_TABLES, RollupStockGap)  # every table `metrics.rollups` keeps


class ImportLog(Base):
    """One run of `import-data` or the upload page: who loaded which file, and what it changed.

    Rejected files are recorded too (outcome "rejected", nothing written); dry runs are not.
    Times are UTC, like the audit log.
    """

    __tablename__ = "import_log"

    id: Mapped[intpk]
    kind: Mapped[str] = mapped_column(String(32))
    file_name: Mapped[str] = mapped_column(String(255))
    file_hash: Mapped[str] = mapped_column(String(64))
    username: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    duration_seconds: Mapped[float] = mapped_column(Float, default=0)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    inserted: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str] = mapped_column(String(16))
    first_day: Mapped[dt.date | None] = mapped_column(Date)
    last_day: Mapped[dt.date | None] = mapped_column(Date)
    detail: Mapped[str] = mapped_column(Text, default="")


FACT_TABLES = (
    ChannelDaily,
    ContentDaily,
    CampaignDaily,
    UserStockDaily,
    MonthlyActive,
    MonthlyActiveTotal,
    WorkOrder,
    DataLoad,
    HotlineInterval,
)


class Playlist(Base):
    """A wall-display playlist: views shown in turn, each for its dwell time, refreshed on an
    interval. Edited by admins; a display shows it at `/display?playlist=ID`."""

    __tablename__ = "playlist"

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(100), unique=True)
    refresh_seconds: Mapped[int] = mapped_column(Integer, default=60)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_by: Mapped[str] = mapped_column(String(64), default="")

    items: Mapped[list[PlaylistItem]] = relationship(
        order_by="PlaylistItem.position", cascade="all, delete-orphan", lazy="selectin")


class PlaylistItem(Base):
    """One view of a playlist: a dashboard URL (page path and query) and how long it stays."""

    __tablename__ = "playlist_item"

    playlist_id: Mapped[int] = mapped_column(ForeignKey("playlist.id", ondelete="CASCADE"),
                                             primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    dwell_seconds: Mapped[int] = mapped_column(Integer, default=30)


# ---------------------------------------------------------------------------------------------
# Subscriptions: PDFs delivered by email on a schedule (export/subscriptions.py, export/delivery.py)
# ---------------------------------------------------------------------------------------------

SUBSCRIPTION_KINDS = ("report", "snapshot")
SCHEDULES = ("monthly", "weekly")
OUTCOMES = ("sent", "failed", "refused")


class Subscription(Base):
    """A user's standing order for a PDF by email: the monthly report of a unit (`kind` report) or
    a view's snapshot (`kind` snapshot, `view` its path and query), monthly on `day` (1-31, the
    month's last day when shorter) or weekly on `weekday` (0 Monday - 6 Sunday), at `at` in the
    company's time zone, in `language`."""

    __tablename__ = "subscription"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[unit_fk]
    view: Mapped[str | None] = mapped_column(String(500))
    language: Mapped[str] = mapped_column(String(8), default="zh")
    schedule: Mapped[str] = mapped_column(String(16))
    day: Mapped[int | None] = mapped_column(SmallInteger)
    weekday: Mapped[int | None] = mapped_column(SmallInteger)
    at: Mapped[dt.time] = mapped_column(Time)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)  # UTC

    user: Mapped[User] = relationship(lazy="joined")
    unit: Mapped[OrgUnit] = relationship(lazy="joined")


class DeliveryAttempt(Base):
    """One attempt to deliver one slot (the scheduled local time it is for) of a subscription.

    Claimed before anything is sent (`outcome` None until it ends): (subscription, slot, attempt)
    is unique, so of two processes claiming the same attempt one fails and sends nothing; and at
    most one attempt of a slot is `sent` (a partial unique index), so a slot is never sent twice.
    """

    __tablename__ = "delivery_attempt"

    id: Mapped[intpk]
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("subscription.id", ondelete="CASCADE"))
    slot: Mapped[dt.datetime] = mapped_column(DateTime)  # local time in the company's zone
    attempt: Mapped[int] = mapped_column(SmallInteger)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)  # UTC
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    outcome: Mapped[str | None] = mapped_column(String(16))
    error: Mapped[str] = mapped_column(Text, default="")
    message_id: Mapped[str | None] = mapped_column(String(255))
    next_retry_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # UTC

    __table_args__ = (
        UniqueConstraint("subscription_id", "slot", "attempt", name="uq_delivery_attempt_slot"),
        Index("uq_delivery_attempt_sent", "subscription_id", "slot", unique=True,
              postgresql_where=text("outcome = 'sent'"), sqlite_where=text("outcome = 'sent'")),
    )
