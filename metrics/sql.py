"""SQL building blocks shared by the computations: tables, row filters, period keys per dialect."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, Date, Table, case, cast, func, literal_column, select, true

from data.models import Base, Carrier


def table(name: str) -> Table:
    """Return the Core table of a model by name."""
    return Base.metadata.tables[name]


# Filters that look at nothing but the row's carrier: a roll-up keyed by carrier applies them when
# read instead of storing a filtered column (so editing the carrier catalogue needs no rebuild).
CARRIER_FILTERS = ("online_carrier",)


def filter_expr(t: Table, name: str, dialect: str | None = None) -> ColumnElement[bool]:
    """Return the row filter `name` of a measure over table `t` (`timely` needs the dialect)."""
    if name == "timely":  # a unit-day's data loaded by the end of the next day
        if dialect == "postgresql":
            return t.c.loaded_at < t.c.day + literal_column("interval '2 day'")
        if dialect == "sqlite":
            return func.julianday(t.c.loaded_at) < func.julianday(t.c.day) + 2
        raise ValueError(f"no timeliness rule for dialect {dialect!r}")
    if name == "online_carrier":
        return t.c.carrier_id.in_(select(Carrier.id).where(Carrier.kind == "online"))
    if name == "complaint":
        return t.c.category == "complaint"
    if name == "first_contact":
        return t.c.first_contact_resolved == true()
    if name == "on_time":
        return t.c.closed_at <= t.c.sla_deadline
    if name == "satisfied":
        return t.c.rating >= 4
    if name == "rated":
        return t.c.rating.is_not(None)
    if name == "responded":
        return t.c.response_minutes.is_not(None)
    raise KeyError(f"unknown measure filter {name!r}")


def period_expr(column, grain: str, dialect: str, monthly: bool = False):
    """Return the start of the day, ISO week (Monday) or month that `column` falls in."""
    if grain == "day" or (monthly and grain == "month"):
        return column
    if dialect == "postgresql":
        return cast(func.date_trunc(grain, column), Date)
    if grain == "week":
        return func.date(column, "weekday 0", "-6 days")
    return func.strftime("%Y-%m-01", column)


def day_after(column, dialect: str):
    """Return the day after the date `column`."""
    if dialect == "postgresql":
        return column + literal_column("1")
    return func.date(column, "+1 day")


def as_date(value) -> dt.date | None:
    """Return a period key as a date (SQLite hands dates back as text)."""
    if value is None or isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    return dt.date.fromisoformat(str(value)[:10])


def case_count(condition: ColumnElement[bool]):
    """Return 1 where `condition` holds, else 0 (to be summed)."""
    return case((condition, 1), else_=0)
