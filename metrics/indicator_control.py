"""Indicator control (指标管控): who may set targets, and setting them (audited).

Admins set targets anywhere; managers for units in their own subtree; nobody else. A target is per
KPI, unit, optional carrier and period; units without their own inherit (see metrics.targets).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from auth import audit
from auth.admin import NotPermitted
from data.models import Carrier, Target, User
from data.numbers import BadNumber, finite
from data.units import unit_by_code
from metrics.registry import REGISTRY
from metrics.scope import Scope


class TargetError(ValueError):
    """A target that cannot be stored; the message says why."""


def may_set_targets(actor: User, unit) -> bool:
    """Tell whether `actor` may set targets for `unit`."""
    if not getattr(actor, "active", False):
        return False
    if actor.role == "admin":
        return True
    return actor.role == "manager" and Scope.of(actor.unit).allows(unit)


def set_target(session: Session, actor: User, kpi: str, unit_code: str, start: dt.date,
               end: dt.date, value: object, carrier: str | None = None) -> None:
    """Store a unit's own target for a KPI and period (as stored: a rate as a fraction); audited.
    The value is parsed here: blanks, NaN, infinity and non-numbers are refused, and nothing is
    removed (`clear_target` does that, explicitly)."""
    _store(session, actor, kpi, unit_code, start, end, value, carrier, clear=False)


def clear_target(session: Session, actor: User, kpi: str, unit_code: str, start: dt.date,
                 end: dt.date, carrier: str | None = None) -> bool:
    """Remove a unit's own target for a KPI and period (it inherits again); audited. Return
    whether there was one."""
    return _store(session, actor, kpi, unit_code, start, end, None, carrier, clear=True)


def _store(session: Session, actor: User, kpi: str, unit_code: str, start: dt.date,
           end: dt.date, value: object, carrier: str | None, clear: bool) -> bool:
    if kpi not in REGISTRY:
        raise TargetError(f"unknown KPI '{kpi}'")
    unit = unit_by_code(session, unit_code)
    if unit is None:
        raise TargetError(f"unknown unit '{unit_code}'")
    if not may_set_targets(actor, unit):
        audit.record(session, "forbidden", actor.username, target=f"target {kpi}@{unit_code}",
                     outcome="refused")
        raise NotPermitted(f"you may not set targets for {unit_code}")
    if end < start:
        raise TargetError("the period ends before it starts")
    try:
        value = None if clear else finite(value, ("目标值", "target"))
    except BadNumber as exc:
        raise TargetError(str(exc)) from None
    if value is not None and (value < 0 or (REGISTRY[kpi].unit == "%" and value > 1)):
        raise TargetError("a target is not negative, and a rate lies between 0 and 1")
    carrier_id = None
    if carrier:
        carrier_id = session.scalar(select(Carrier.id).where(Carrier.code == carrier))
        if carrier_id is None:
            raise TargetError(f"unknown carrier '{carrier}'")
    row = session.scalar(select(Target).where(
        Target.kpi == kpi, Target.unit_id == unit.id, Target.period_start == start,
        Target.period_end == end,
        Target.carrier_id.is_(None) if carrier_id is None else Target.carrier_id == carrier_id))
    old = row.value if row else None
    if clear:
        if row is None:
            return False
        session.delete(row)
    elif value is None:  # not reached: finite() requires a value
        raise TargetError("a target is required")
    elif row is None:
        session.add(Target(kpi=kpi, unit_id=unit.id, carrier_id=carrier_id, period_start=start,
                           period_end=end, value=value, updated_at=audit.now()))
    else:
        row.value, row.updated_at = value, audit.now()
    audit.record(session, "target_change", actor.username,
                 target=f"{kpi}@{unit_code}{'/' + carrier if carrier else ''} {start}..{end}",
                 detail=f"{old} -> {value}")
    return True
