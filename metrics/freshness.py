"""How current the data is: the range of loaded days and the last loaded day per unit."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.models import DataLoad, Meta


def loaded_range(session: Session) -> tuple[dt.date, dt.date] | None:
    """Return the first and last day with loaded data, or None when nothing is loaded."""
    first, last = session.execute(select(func.min(DataLoad.day), func.max(DataLoad.day))).one()
    return (first, last) if first is not None else None


def is_demo(session: Session) -> bool:
    """Tell whether the store holds generated demo data (which must be labelled as such)."""
    return session.scalar(select(Meta.value).where(Meta.key == "demo")) == "true"
