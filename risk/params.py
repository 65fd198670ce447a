"""The settings of each rule type, declared once: kind, range, default and whether required.

`check_params(rule_type, params)` returns the settings with their defaults filled in, or raises
`BadRule` naming the field; `check_rule(rule)` also checks the rule's type, KPI and tiers. The
admin editor refuses an edit that fails (nothing is saved); the scan skips a stored rule that
fails, says why on the rule, and scans the rest. The evaluators (`risk.detect`) take their
defaults from here. Messages come in Chinese and English (`BadRule.message(lang)`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from metrics.registry import REGISTRY

# The days before a scan's first day that the scan reads (`risk.scan.LOOKBACK_DAYS`): eight weeks
# of anomaly history plus two change windows. Windows and histories are bounded so they fit.
HISTORY_DAYS = 8 * 7 + 14
AUDIT_ACTION_CHARS = 32  # audit_event.action


@dataclass(frozen=True)
class Param:
    """One setting of a rule type."""

    kind: str  # "number", "whole", "choice" or "text"
    zh: str
    en: str
    required: bool = False
    default: object = None
    low: float | None = None
    high: float | None = None
    above: bool = False  # the value must be above `low`, not at it
    choices: tuple[str, ...] = ()

    def bounds(self) -> str:
        """The allowed range as text, e.g. '> 0, <= 1'."""
        parts = []
        if self.low is not None:
            parts.append(f"{'>' if self.above else '>='} {self.low:g}")
        if self.high is not None:
            parts.append(f"<= {self.high:g}")
        return ", ".join(parts)


PARAMS: dict[str, dict[str, Param]] = {
    "threshold": {
        "op": Param("choice", "方向：< 低于阈值时告警，> 高于阈值时告警",
                    "direction: < fires below the value, > above it", default="<",
                    choices=("<", ">")),
        "value": Param("number", "阈值（比率填小数，如 0.97）", "the threshold (rates as fractions, "
                       "e.g. 0.97)", required=True),
        "window": Param("whole", "统计天数（1 = 当天；多天按分子合计/分母合计）",
                        "days in the trailing window (1 = the day; ratios sum/sum)", default=1,
                        low=1, high=HISTORY_DAYS),
    },
    "change": {
        "window": Param("whole", "窗口天数：最近 N 天对比再之前的 N 天",
                        "window in days: the last N days against the N before", default=7,
                        low=1, high=HISTORY_DAYS // 2),
        "max_drop": Param("number", "下降超过此比例时告警（0.1 = 10%）",
                          "fires on a fall of this share or more (0.1 = 10%)", low=0, above=True,
                          high=1),
        "max_rise": Param("number", "上升超过此比例时告警（2 = 增至 3 倍）",
                          "fires on a rise of this share or more (2 = tripled)", low=0,
                          above=True, high=1000),
        "min_numerator": Param("number", "最近窗口分子合计至少为此数才判断（排除小数字波动）",
                               "the last window's numerator must reach this (ignores small "
                               "numbers)", default=0, low=0),
        "min_count": Param("number", "上一窗口为 0 时，最近窗口分子合计达到此数即告警（不设则从 0 "
                           "起不告警）", "when the window before was zero, fires once the last "
                           "window's numerator reaches this (unset: never fires from zero)",
                           low=1),
    },
    "anomaly": {
        "weeks": Param("whole", "对比本单位最近几周的历史", "weeks of the unit's own history",
                       default=8, low=2, high=HISTORY_DAYS // 7),
        "z": Param("number", "稳健 z 分数达到此值时告警", "fires at this robust z-score",
                   default=3.5, low=0, above=True, high=100),
        "side": Param("choice", "方向：low 偏低，high 偏高，both 两者", "direction: low, high or "
                      "both", default="both", choices=("low", "high", "both")),
    },
    "silence": {
        "min_usual": Param("number", "近 4 周日中位数至少为此数的载体当日无业务时告警",
                           "fires when a carrier whose 4-week daily median is at least this "
                           "carried nothing", default=1, low=0, above=True),
    },
    "audit": {
        "action": Param("text", "审计日志中的动作（如 login_failed）",
                        "the audit-log action counted (e.g. login_failed)", required=True),
        "count": Param("whole", "同一人当日达到此次数时告警",
                       "fires when one person reaches this many in a day", default=5, low=1),
    },
}
ONE_OF = {"change": ("max_drop", "max_rise")}  # at least one of these
NEEDS = {("change", "min_count"): "max_rise"}  # this setting only means something with that one
TIERS = {"1", "2", "3", "4", "5"}

MESSAGES: dict[str, tuple[str, str]] = {
    "json": ("参数（{field}）必须是 JSON 对象：{detail}", "{field} must be a JSON object: {detail}"),
    "unknown": ("未知参数 {field}（{type} 规则的参数：{known}）",
                "unknown setting {field} (a {type} rule takes: {known})"),
    "required": ("缺少必填参数 {field}", "{field} is required"),
    "number": ("参数 {field} 必须是有限的数字，不能是 {got}",
               "{field} must be a finite number, not {got}"),
    "whole": ("参数 {field} 必须是整数，不能是 {got}", "{field} must be a whole number, not {got}"),
    "range": ("参数 {field} 须 {bounds}，不能是 {got}", "{field} must be {bounds}, not {got}"),
    "choice": ("参数 {field} 只能是 {choices}，不能是 {got}",
               "{field} must be one of {choices}, not {got}"),
    "text": ("参数 {field} 须为 1-{chars} 个字符的文字，不能是 {got}",
             "{field} must be text of 1-{chars} characters, not {got}"),
    "one_of": ("至少需要参数 {fields} 之一", "at least one of {fields} is required"),
    "needs": ("参数 {field} 需与 {other} 一起设置", "{field} needs {other} as well"),
    "type": ("未知规则类型（{field}）{got}（可用：{known}）", "unknown rule {field} {got} (known: {known})"),
    "kpi": ("未知指标（{field}）{got}", "unknown KPI ({field}) {got}"),
    "tiers": ("层级（{field}）须为 1-5 的数字，用逗号分隔，不能是 {got}",
              "{field} must be numbers 1-5 separated by commas, not {got}"),
}


class BadRule(ValueError):
    """A rule's settings that cannot be used; `field` names the setting, `message(lang)` says why."""

    def __init__(self, field: str, problem: str, **values: object) -> None:
        self.field, self.problem, self.values = field, problem, {"field": field, **values}
        super().__init__(self.message("en"))

    def message(self, lang: str = "zh") -> str:
        """What is wrong, in `lang` (Chinese unless 'en')."""
        zh, en = MESSAGES[self.problem]
        return (en if lang == "en" else zh).format(**self.values)

    def both(self) -> str:
        """What is wrong in Chinese and English, for records read in either language."""
        return f"{self.message('zh')} / {self.message('en')}"


def _shown(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)[:40] if not isinstance(value, str) \
        else repr(value[:40])


def _checked(name: str, param: Param, value: object) -> object:
    if param.kind == "choice":
        if value not in param.choices:
            raise BadRule(name, "choice", choices="/".join(param.choices), got=_shown(value))
        return value
    if param.kind == "text":
        if not isinstance(value, str) or not value.strip() or len(value) > AUDIT_ACTION_CHARS:
            raise BadRule(name, "text", chars=AUDIT_ACTION_CHARS, got=_shown(value))
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadRule(name, "number", got=_shown(value))
    try:
        finite = math.isfinite(float(value))
    except OverflowError:  # an int too large for a float
        finite = False
    if not finite:
        raise BadRule(name, "number", got=_shown(value))
    if param.kind == "whole" and value != int(value):
        raise BadRule(name, "whole", got=_shown(value))
    if ((param.low is not None and (value < param.low or (param.above and value == param.low)))
            or (param.high is not None and value > param.high)):
        raise BadRule(name, "range", bounds=param.bounds(), got=_shown(value))
    return int(value) if param.kind == "whole" else value


def check_params(rule_type: str, params: object) -> dict:
    """Return `params` checked against the declaration of `rule_type`, defaults filled in.

    Raise BadRule for an unknown type, a value that is not a JSON object, an unknown setting, a
    missing required one, a value of the wrong kind or out of range, or a missing companion.
    """
    if rule_type not in PARAMS:
        raise BadRule("type", "type", got=_shown(rule_type), known=", ".join(PARAMS))
    if isinstance(params, str):
        try:
            params = json.loads(params)
        except ValueError as exc:
            raise BadRule("params", "json", detail=str(exc)[:80]) from None
    if not isinstance(params, dict):
        raise BadRule("params", "json", detail=_shown(params))
    declared = PARAMS[rule_type]
    for name in params:
        if name not in declared:
            raise BadRule(str(name)[:40], "unknown", type=rule_type, known=", ".join(declared))
    out = {}
    for name, param in declared.items():
        if name in params and params[name] is not None:
            out[name] = _checked(name, param, params[name])
        elif param.required:
            raise BadRule(name, "required")
        elif param.default is not None:
            out[name] = param.default
    wanted = ONE_OF.get(rule_type)
    if wanted and not any(name in out for name in wanted):
        raise BadRule(wanted[0], "one_of", fields=" / ".join(wanted))
    for (type_, name), other in NEEDS.items():
        if type_ == rule_type and name in out and other not in out:
            raise BadRule(name, "needs", other=other)
    return out


def check_rule(rule) -> dict:
    """Return a stored rule's settings checked (see `check_params`), after its KPI and tiers."""
    if rule.type in PARAMS and rule.type != "audit" and (rule.kpi or "") not in REGISTRY:
        raise BadRule("kpi", "kpi", got=_shown(rule.kpi))
    tiers = [t.strip() for t in (rule.tiers or "").split(",") if t.strip()]
    if rule.type != "audit" and (not tiers or any(t not in TIERS for t in tiers)):
        raise BadRule("tiers", "tiers", got=_shown(rule.tiers))
    return check_params(rule.type, rule.params or "{}")


def reference(lang: str = "zh") -> list[dict]:
    """Every rule type's settings as rows (type, setting, required, range, default, meaning),
    for the rule library's page; in `lang` (Chinese unless 'en')."""
    en = lang == "en"
    rows = []
    for rule_type, declared in PARAMS.items():
        for name, p in declared.items():
            allowed = "/".join(p.choices) if p.kind == "choice" else p.bounds()
            if p.kind == "whole":
                allowed = " ".join(x for x in ("whole number" if en else "整数", allowed) if x)
            rows.append({"type": rule_type, "setting": name,
                         "required": ("required" if en else "必填") if p.required else "",
                         "allowed": allowed,
                         "default": "" if p.default is None else str(p.default),
                         "meaning": p.en if en else p.zh})
    return rows
