"""What the admin page does with the risk rule library: list the rules, change one field of one
(admins only, checked against the rule type's declaration, audited)."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from auth import audit
from auth.accounts import AccountError
from auth.admin import require_admin
from data.clock import local_text
from data.models import RiskRule, User
from data.numbers import BadNumber, finite, whole
from risk.params import BadRule, check_params

RULE_FIELDS = ("params", "tiers", "severity", "deadline_hours", "owner_tier", "active")


def risk_rules(session: Session, actor: User, tz: str = "UTC") -> list[dict]:
    """Return the risk rules as rows for the admin table; times in zone `tz`."""
    require_admin(actor)
    return [{"code": r.code, "name": f"{r.name_zh} {r.name_en}", "name_zh": r.name_zh,
             "name_en": r.name_en, "type": r.type, "core": r.core,
             "kpi": r.kpi or "", "carrier": r.carrier or "", "params": r.params, "tiers": r.tiers,
             "severity": r.severity, "owner_tier": r.owner_tier,
             "deadline_hours": r.deadline_hours, "active": r.active,
             "skip_reason": r.skip_reason or "", "skipped_at": local_text(r.skipped_at, tz)}
            for r in session.scalars(select(RiskRule).order_by(RiskRule.id))]


def update_rule(session: Session, actor: User, code: str, field: str, value) -> None:
    """Change one field of a risk rule after checking it; audited.

    Params are checked against the declaration of the rule's type (`risk.params`): an unknown,
    missing, mistyped or out-of-range setting is refused, naming it in the actor's language, and
    nothing is changed.
    """
    require_admin(actor)
    rule = session.scalar(select(RiskRule).where(RiskRule.code == code))
    if rule is None:
        raise AccountError(f"unknown rule '{code}'")
    if field not in RULE_FIELDS:
        raise AccountError(f"'{field}' cannot be edited")
    parsed = _check_rule_value(field, value)
    if field == "params":
        try:
            check_params(rule.type, json.loads(parsed))
        except BadRule as exc:
            raise AccountError(exc.message(getattr(actor, "language", None) or "zh")) from None
    old = getattr(rule, field)
    setattr(rule, field, parsed)
    audit.record(session, "rule_change", actor.username, target=f"{code}.{field}",
                 detail=f"{old} -> {parsed}")


def _check_rule_value(field: str, value):
    if field == "params":
        try:
            parsed = json.loads(value, parse_constant=_no_constant) if isinstance(value, str) \
                else value
        except ValueError as exc:
            raise AccountError(f"params must be JSON: {exc}") from exc
        if not isinstance(parsed, dict):
            raise AccountError("params must be a JSON object")
        _finite_numbers(parsed, "params")
        return json.dumps(parsed, allow_nan=False)
    if field == "tiers":
        tiers = [t.strip() for t in str(value).split(",") if t.strip()]
        if not tiers or any(t not in {"1", "2", "3", "4", "5"} for t in tiers):
            raise AccountError("tiers are numbers 1-5 separated by commas, e.g. 3,4")
        return ",".join(tiers)
    if field == "severity":
        if value not in ("low", "medium", "high"):
            raise AccountError("severity is low, medium or high")
        return value
    if field in ("deadline_hours", "owner_tier"):
        try:
            number = whole(value, (field, field))
        except BadNumber as exc:
            raise AccountError(str(exc)) from None
        if number is None or number < 1 or (field == "owner_tier" and number > 5):
            raise AccountError(f"{field} is out of range")
        return number
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_numbers(value, where: str) -> None:
    """Refuse NaN and infinity anywhere in a rule's parsed params (json reads 1e999 as inf)."""
    if isinstance(value, dict):
        for key, item in value.items():
            _finite_numbers(item, f"{where}.{key}")
    elif isinstance(value, list):
        for n, item in enumerate(value):
            _finite_numbers(item, f"{where}[{n}]")
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            finite(value, (where, where))
        except BadNumber as exc:
            raise AccountError(str(exc)) from None
