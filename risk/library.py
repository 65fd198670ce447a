"""The starter rule library: at least one rule per operating core and per rule type.

Seeded into `risk_rule` where missing (by code); admins edit the stored rules, never these. The
settings of each type are declared in `risk.params`. A rule of rises (`change` with `max_rise`)
sets `min_count`: a rise from a window of zero is no share, so it fires once the count reaches it.
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.models import RiskRule

# code, zh, en, type, core, kpi, carrier, params, tiers, severity, owner tier, deadline hours
STARTER = (
    ("availability_low", "渠道可用率低于 97%", "Channel availability below 97%", "threshold",
     "channel", "channel_availability", None, {"op": "<", "value": 0.97}, "3,4", "high", 3, 24),
    ("app_silent", "App 全天无业务", "App carried no traffic all day", "silence", "channel",
     "transactions", "app", {"min_usual": 5}, "4,5", "high", 4, 24),
    ("wechat_silent", "微信全天无业务", "WeChat carried no traffic all day", "silence", "channel",
     "transactions", "wechat", {"min_usual": 5}, "4,5", "high", 4, 24),
    ("substitution_drop", "线上替代率周环比下降超 10%", "Online substitution down >10% week on week",
     "change", "channel", "online_substitution", None, {"window": 7, "max_drop": 0.10}, "3,4",
     "medium", 3, 72),
    ("registrations_anomaly", "新增注册异常", "New registrations far from their usual level",
     "anomaly", "user", "new_registrations", None, {"weeks": 8, "z": 4.0, "side": "low"}, "4",
     "low", 4, 120),
    ("binding_low", "户号绑定率低于 40%", "Account binding rate below 40%", "threshold", "user",
     "binding_rate", None, {"op": "<", "value": 0.40}, "4", "medium", 3, 168),
    ("payment_drop", "线上交费率周环比下降超 10%", "Online payment rate down >10% week on week",
     "change", "business", "online_payment", None, {"window": 7, "max_drop": 0.10}, "3,4",
     "medium", 3, 72),
    ("handling_slow", "平均办结时长超过 8 天", "Average days to complete above 8", "threshold",
     "business", "avg_handling_days", None, {"op": ">", "value": 8.0, "window": 7}, "4", "medium",
     4, 120),
    ("open_rate_anomaly", "推送打开率异常偏低", "Open rate unusually low", "anomaly", "content",
     "open_rate", None, {"weeks": 8, "z": 4.0, "side": "low"}, "3,4", "low", 3, 120),
    ("conversion_drop", "活动转化率周环比下降超 40%", "Conversion rate down >40% week on week",
     "change", "campaign", "conversion_rate", None, {"window": 7, "max_drop": 0.40}, "3", "low",
     3, 120),
    ("cost_high", "单次转化成本超过 30 元", "Cost per conversion above 30 yuan", "threshold",
     "campaign", "cost_per_conversion", None, {"op": ">", "value": 30.0, "window": 7}, "3,4",
     "low", 3, 168),
    ("complaint_surge", "投诉周环比激增（3 倍以上，或上周为 0 本周达 8 件）",
     "Complaints tripled week on week (or 8 after a week with none)",
     "change", "service", "complaints_per_10k", None,
     {"window": 7, "max_rise": 2.0, "min_numerator": 8, "min_count": 8}, "3,4", "high", 3, 48),
    ("satisfaction_low", "满意率低于 70%", "Satisfaction below 70%", "threshold", "service",
     "satisfaction", None, {"op": "<", "value": 0.70, "window": 7}, "3,4", "medium", 3, 120),
    ("failed_logins", "同一账号当日登录失败 5 次以上", "5 or more failed sign-ins for one account in a day",
     "audit", "service", None, None, {"action": "login_failed", "count": 5}, "1", "high", 1, 24),
    ("export_volume", "单人当日导出超过 50 次", "More than 50 exports by one person in a day",
     "audit", "service", None, None, {"action": "export", "count": 50}, "1", "medium", 1, 48),
)


def ensure_rules(session: Session) -> int:
    """Insert the starter rules that the store lacks; return how many."""
    have = set(session.scalars(select(RiskRule.code)))
    added = 0
    for (code, zh, en, type_, core, kpi, carrier, params, tiers, severity, owner, hours) in STARTER:
        if code in have:
            continue
        session.add(RiskRule(code=code, name_zh=zh, name_en=en, type=type_, core=core, kpi=kpi,
                             carrier=carrier, params=json.dumps(params), tiers=tiers,
                             severity=severity, owner_tier=owner, deadline_hours=hours,
                             active=True))
        added += 1
    session.flush()
    return added
