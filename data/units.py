"""Queries over the org tree: a unit by code, its subtree (one indexed range query), its children."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from data.models import OrgUnit

PATH_ID_WIDTH = 6  # zero-padded so that ordering by path is tree order with siblings by id


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
