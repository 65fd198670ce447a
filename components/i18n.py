"""The UI's message catalogue, Chinese and English; every label on screen comes from here.

`t(key, lang)` returns the message in the user's language (zh by default). Keys are stable ids, so a
gettext catalogue could replace this table without touching the pages.
"""

from __future__ import annotations

LANGS = ("zh", "en")

MESSAGES: dict[str, tuple[str, str]] = {
    "app.title": ("互联网+营销服务渠道运营", "Internet+ Channel Operations"),
    "nav.overview": ("总览 6+6", "Overview 6+6"),
    "nav.carriers": ("载体", "Carriers"),
    "nav.cores": ("运营核心", "Operating cores"),
    "nav.regions": ("区域", "Regions"),
    "nav.stages": ("运营阶段", "Stages"),
    "nav.risk": ("风险", "Risk"),
    "nav.admin": ("管理", "Admin"),
    "nav.signout": ("退出", "Sign out"),
    "demo": ("演示数据", "Demo data"),
    "asof": ("数据截至", "Data as of"),
    "filter.unit": ("单位", "Unit"),
    "filter.child": ("下钻到", "Drill down to"),
    "filter.period": ("期间", "Period"),
    "filter.carriers": ("载体", "Carriers"),
    "filter.all_carriers": ("全部载体", "All carriers"),
    "filter.compare": ("对比", "Compare with"),
    "filter.start": ("开始", "Start"),
    "filter.end": ("结束", "End"),
    "period.last7": ("近 7 天", "Last 7 days"),
    "period.last30": ("近 30 天", "Last 30 days"),
    "period.mtd": ("本月至今", "Month to date"),
    "period.last_month": ("上月", "Last month"),
    "period.qtd": ("本季度", "Quarter to date"),
    "period.ytd": ("本年至今", "Year to date"),
    "period.custom": ("自定义", "Custom"),
    "compare.previous": ("上一期", "Previous period"),
    "compare.last_year": ("去年同期", "Same period last year"),
    "card.target": ("目标", "Target"),
    "card.attainment": ("达成", "Attainment"),
    "card.vs_previous": ("较上期", "vs previous"),
    "card.vs_last_year": ("较去年", "vs last year"),
    "card.no_target": ("无目标", "No target"),
    "explain.formula": ("公式", "Formula"),
    "explain.numerator": ("分子", "Numerator"),
    "explain.denominator": ("分母", "Denominator"),
    "explain.kind": ("汇总方式", "Roll-up"),
    "explain.target_from": ("目标来源", "Target set at"),
    "explain.loaded": ("最近加载", "Last loaded"),
    "overview.matrix": ("6+6 运营矩阵（得分 0-100）", "6+6 operating matrix (score 0-100)"),
    "overview.matrix_hint": ("点击单元格查看该核心在该载体上的指标。",
                             "Click a cell to open that core on that carrier."),
    "overview.headline": ("核心指标", "Headline KPIs"),
    "overview.stage": ("运营阶段", "Operating stage"),
    "overview.risk": ("未关闭风险事件", "Open risk events"),
    "pending.stages": ("运营阶段评估将随“运营阶段”功能上线。",
                       "The stage assessment arrives with the Stages feature."),
    "pending.risk": ("风险事件将随“风险管控”功能上线。",
                     "Risk events arrive with the Risk-control feature."),
    "carriers.table": ("各载体指标", "KPIs by carrier"),
    "carriers.mix": ("载体结构（业务量与交费笔数占比）", "Carrier mix (share of transactions and payments)"),
    "stages.partial": ("本月至今", "month to date"),
    "stages.current": ("当前运营阶段", "Current operating stage"),
    "stages.rubric": ("评估规则版本", "Rubric version"),
    "stages.top": ("已达到最高阶段：保持各项指标。", "At the top stage: keep every criterion met."),
    "stages.next": ("迈向 {stage} 还需：", "To reach {stage}:"),
    "stages.unknown": ("暂无数据，无法判定（未满足）。", "no data yet, so it cannot count as met."),
    "stages.history": ("近 24 个月阶段变化", "Stage over the last 24 months"),
    "stages.children": ("下级单位的运营阶段", "Child units by stage"),
    "stages.movers": ("本月阶段变化", "Moved this month"),
    "carriers.payments": ("交费笔数", "Payments"),
    "carriers.substitution": ("线上业务替代率趋势", "Online substitution over time"),
    "carriers.trend": ("各载体业务量趋势", "Transactions by carrier over time"),
    "cores.choose": ("运营核心", "Operating core"),
    "cores.by_carrier": ("各载体表现", "Across carriers"),
    "cores.trend": ("趋势", "Over time"),
    "regions.kpi": ("指标", "KPI"),
    "regions.ranking": ("下级单位排名", "Ranking of child units"),
    "regions.league": ("对标目标的排行榜", "League table against targets"),
    "regions.distribution": ("分布", "Distribution"),
    "regions.outlet": ("供电所无下级单位：按载体和按日查看。",
                       "An outlet has no child units: shown by carrier and by day."),
    "regions.click": ("点击条形或表格行下钻。", "Click a bar or a table row to drill down."),
    "col.unit": ("单位", "Unit"),
    "col.kpi": ("指标", "KPI"),
    "col.value": ("数值", "Value"),
    "col.target": ("目标", "Target"),
    "col.attainment": ("达成率", "Attainment"),
    "col.status": ("状态", "Status"),
    "col.rank": ("排名", "Rank"),
    "col.carrier": ("载体", "Carrier"),
    "col.numerator": ("分子", "Numerator"),
    "col.denominator": ("分母", "Denominator"),
    "col.period": ("期间", "Period"),
    "status.green": ("达标", "On target"),
    "status.amber": ("接近", "Near target"),
    "status.red": ("未达标", "Below target"),
    "status.n/a": ("不适用", "n/a"),
    "status.no_data": ("无数据", "No data"),
    "error.figure": ("此图暂时无法显示：", "This chart could not be drawn: "),
    "error.bad_param": ("参数有误：", "Wrong parameter: "),
    "nodata": ("所选范围无数据", "No data in the selected range"),
    "export.csv": ("导出 CSV", "Export CSV"),
    "lang": ("English", "中文"),
    "theme.dark": ("深色", "Dark"),
    "theme.light": ("浅色", "Light"),
}


def t(key: str, lang: str = "zh") -> str:
    """Return the message `key` in `lang` (Chinese unless 'en')."""
    zh, en = MESSAGES[key]
    return en if lang == "en" else zh


def name(obj, lang: str) -> str:
    """Return an object's name_zh or name_en (units, cores, carriers, KPIs)."""
    return obj.name_en if lang == "en" else obj.name_zh
