"""The operating-stage rubric of DOMAIN.md as seed data: criteria, their stage and default threshold.

Thresholds live in the store (`stage_criterion`) and admins may change them; these declarations
seed a store that lacks them and carry the names and next-step advice shown with each criterion.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import Meta, StageCriterion


@dataclass(frozen=True)
class Criterion:
    id: str
    stage: int
    threshold: float
    unit: str  # "%" or "count"
    name_zh: str
    name_en: str
    next_zh: str
    next_en: str


STAGES = {
    0: ("未达基础运营", "Below basic operation"),
    1: ("基础运营", "Basic operation"),
    2: ("深化运营", "Deepening operation"),
    3: ("数字运营", "Digital operation"),
    4: ("智慧运营", "Smart operation"),
}
TOP_STAGE = max(STAGES)

CRITERIA: tuple[Criterion, ...] = (
    Criterion("carriers_active", 1, 5, "count", "在用载体数（共 6 个）", "Carriers active (of 6)",
              "开通并运营尚未承载业务的载体（如支付宝生活号、网上营业厅）。",
              "Launch and run the carriers that carry no traffic yet (e.g. Alipay, web hall)."),
    Criterion("data_completeness", 1, 0.95, "%", "数据完整率", "Data completeness",
              "补齐缺失日期的数据报送，建立每日数据报送核查。",
              "Fill the days with no data and check the daily data feed every day."),
    Criterion("channel_availability", 1, 0.99, "%", "渠道可用率", "Channel availability",
              "加强渠道监控与故障处置，缩短中断时长。",
              "Monitor the channels and fix outages faster to cut downtime."),
    Criterion("binding_rate", 2, 0.60, "%", "户号绑定率", "Account binding rate",
              "在营业厅和线上引导客户绑定户号。",
              "Guide customers to bind their account numbers, in halls and online."),
    Criterion("profile_coverage", 2, 0.50, "%", "画像覆盖率", "Profile coverage",
              "完善客户信息采集，扩大用户画像覆盖。",
              "Collect customer information and extend customer profiles."),
    Criterion("activity_rate", 2, 0.20, "%", "活跃率", "Activity rate",
              "以内容和活动提升注册用户的月活跃度。",
              "Raise monthly activity of registered users with content and campaigns."),
    Criterion("online_substitution", 3, 0.70, "%", "线上业务替代率", "Online substitution rate",
              "把高频业务引导到线上载体办理。",
              "Move high-volume transactions to the online carriers."),
    Criterion("online_handling", 3, 0.80, "%", "线上办电率", "Online application rate",
              "推广线上办电，营业厅协助客户线上提交申请。",
              "Promote online applications; have hall staff help customers apply online."),
    Criterion("data_timeliness", 3, 0.95, "%", "数据及时率", "Data timeliness",
              "确保数据在次日内完成加载。", "Make sure each day's data is loaded by the next day."),
    Criterion("kpis_on_target", 4, 0.80, "%", "指标达标占比", "Share of KPIs on target",
              "针对未达标指标制定改进措施并跟踪。",
              "Act on the KPIs below target and follow them up."),
    Criterion("risk_closed_on_time", 4, 0.90, "%", "风险事件按期闭环率",
              "Risk events closed within deadline",
              "按期处置并闭环风险事件。", "Work risk events to closure within their deadline."),
    Criterion("satisfaction", 4, 0.90, "%", "满意率", "Satisfaction rate",
              "分析低分评价原因，改进服务。", "Analyse low ratings and improve the service."),
)
BY_ID = {c.id: c for c in CRITERIA}


def stage_label(stage: int, lang: str) -> str:
    """Return '2 · Deepening operation' (or its Chinese) for a stage number."""
    zh, en = STAGES[stage]
    return f"{stage} · {en}" if lang == "en" else f"{stage} · {zh}"


def ensure_rubric(session: Session) -> int:
    """Insert the criteria the store lacks, with their default thresholds; return how many."""
    have = set(session.scalars(select(StageCriterion.id)))
    added = 0
    for c in CRITERIA:
        if c.id not in have:
            session.add(StageCriterion(id=c.id, stage=c.stage, threshold=c.threshold))
            added += 1
    if session.get(Meta, "rubric_version") is None:
        session.add(Meta(key="rubric_version", value="1"))
    session.flush()
    return added


def thresholds(session: Session) -> tuple[dict[str, float], int]:
    """Return the stored thresholds by criterion and the rubric version."""
    rows = dict(session.execute(select(StageCriterion.id, StageCriterion.threshold)).all())
    version = session.get(Meta, "rubric_version")
    return ({c.id: rows.get(c.id, c.threshold) for c in CRITERIA},
            int(version.value) if version else 1)
