"""Queries over the org tree: a unit by code, its subtree (one indexed range query), its children."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from data.models import UNIT_CODE_PATTERN, OrgUnit, is_unit_code  # noqa: F401  (re-exported)

PATH_ID_WIDTH = 6  # zero-padded so that ordering by path is tree order with siblings by id
UNIT_CODE_RULE = ("单位代码只能由字母、数字、“-”和“_”组成，以字母或数字开头，最多 32 个字符",
                  "a unit code has only letters, digits, '-' and '_', starts with a letter or "
                  "digit and has at most 32 characters")


def unit_code_problem(code: str) -> str | None:
    """Return why `code` is not a valid unit code (in Chinese and English), or None if it is."""
    return None if is_unit_code(code) else f"'{code}': {UNIT_CODE_RULE[0]}; {UNIT_CODE_RULE[1]}"


def bad_unit_codes(session: Session) -> list[str]:
    """Return the codes in the store that break the rule (imported before it existed), sorted."""
    return sorted(c for c in session.scalars(select(OrgUnit.code)) if not is_unit_code(c))


def path_for(parent_path: str | None, unit_id: int) -> str:
    """Return the materialised path of unit `unit_id` under a parent with `parent_path`."""
    return f"{parent_path or '/'}{unit_id:0{PATH_ID_WIDTH}d}/"


def subtree_bounds(path: str) -> tuple[str, str]:
    """Return [low, high) bounds of the paths in the subtree rooted at `path`."""
    # "/" sorts just below "0", so every descendant path "/01/04/..." lies in ["/01/04/", "/01/040").
    return path, path[:-1] + "0"


def subtree_filter(path: str, column=OrgUnit.path) -> ColumnElement[bool]:
    """Return the WHERE clause selecting a unit and all its descendants by path."""
    low, high = subtree_bounds(path)
    return and_(column >= low, column < high)


def unit_by_code(session: Session, code: str) -> OrgUnit | None:
    """Return the unit with this code, or None."""
    return session.scalar(select(OrgUnit).where(OrgUnit.code == code))


def subtree(session: Session, unit: OrgUnit) -> list[OrgUnit]:
    """Return the unit and every unit below it, in tree order."""
    return list(session.scalars(
        select(OrgUnit).where(subtree_filter(unit.path)).order_by(OrgUnit.path)))


def children(session: Session, unit: OrgUnit) -> list[OrgUnit]:
    """Return the unit's direct children, ordered by code."""
    return list(session.scalars(
        select(OrgUnit).where(OrgUnit.parent_id == unit.id).order_by(OrgUnit.code)))


def ancestors(session: Session, unit: OrgUnit) -> list[OrgUnit]:
    """Return the units on the path from the top down to `unit` (inclusive)."""
    ids = [int(p) for p in unit.path.strip("/").split("/")]
    found = {u.id: u for u in session.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids)))}
    return [found[i] for i in ids if i in found]
