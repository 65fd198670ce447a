"""Correcting a mistaken load: delete a unit's facts over a range of days, in one transaction.

Imports never delete (a row left out of a corrected file stays), so a load with wrong days or
for the wrong unit is undone here: `delete_range` removes the facts of a unit's whole subtree
(facts live at outlets; naming an outlet deletes only its own) on `start`..`end`, of one kind or
of every dated kind, records the deletion in the import log and refreshes the roll-ups and the
data version (`data_changed`) in the caller's transaction. Targets and units are not facts of a
day and are never deleted here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.sql.elements import ColumnElement

from data.changes import data_changed
from data.clock import month_start, utc_now
from data.models import (
    CampaignDaily,
    ChannelDaily,
    ContentDaily,
    DataLoad,
    HotlineInterval,
    ImportLog,
    MonthlyActive,
    MonthlyActiveTotal,
    OrgUnit,
    UserStockDaily,
    WorkOrder,
)
from data.units import subtree_bounds
from jobs.ingest.staging import as_date

# kind -> (model, the column holding the day (or month) a row is about)
DELETABLE: dict[str, tuple[tuple[Any, str], ...]] = {
    "channel_daily": ((ChannelDaily, "day"),),
    "user_stocks": ((UserStockDaily, "day"),),
    "content_daily": ((ContentDaily, "day"),),
    "campaign_daily": ((CampaignDaily, "day"),),
    "work_orders": ((WorkOrder, "created_day"),),
    "monthly_actives": ((MonthlyActive, "month"), (MonthlyActiveTotal, "month")),
    "hotline_intervals": ((HotlineInterval, "day"),),
}


class BadRange(ValueError):
    """The unit, days or kind of a deletion are not usable (the message says which)."""


@dataclass
class Deletion:
    """What a deletion removed (or, in a dry run, would remove)."""

    unit: str
    start: dt.date
    end: dt.date
    kind: str | None
    dry_run: bool = False
    rows: dict[str, int] = field(default_factory=dict)
    log_id: int | None = None

    @property
    def total(self) -> int:
        """Rows removed from the fact tables and the data-load log."""
        return sum(self.rows.values())

    def summary(self) -> str:
        """One line saying what was (or would be) deleted."""
        what = ", ".join(f"{t} {n}" for t, n in self.rows.items() if n) or "nothing"
        verb = "would delete" if self.dry_run else "deleted"
        return (f"{self.kind or 'every dated kind'} of {self.unit} and the units below it, "
                f"{self.start} to {self.end}: {verb} {self.total} row(s) ({what})"
                + (" (dry run: nothing was deleted)" if self.dry_run else ""))


def delete_range(conn: Connection, unit_code: str, start: dt.date, end: dt.date,
                 kind: str | None = None, *, dry_run: bool = False,
                 username: str | None = None) -> Deletion:
    """Delete the facts of `unit_code`'s subtree on `start`..`end` (one kind, or every dated kind).

    Runs in the caller's transaction (which the caller commits, or rolls back for a dry run);
    the data-load log of those unit-days goes too when every kind is deleted.
    """
    if kind is not None and kind not in DELETABLE:
        raise BadRange(f"kind {kind!r} cannot be deleted by days; one of {', '.join(DELETABLE)}")
    if end < start:
        raise BadRange(f"--to ({end}) is before --from ({start})")
    unit = conn.execute(select(OrgUnit.id, OrgUnit.path).where(OrgUnit.code == unit_code)).first()
    if unit is None:
        raise BadRange(f"unknown unit code {unit_code[:40]!r}")
    low, high = subtree_bounds(unit.path)
    unit_ids = list(conn.execute(select(OrgUnit.id).where(OrgUnit.path >= low,
                                                           OrgUnit.path < high)).scalars())
    done = Deletion(unit_code, start, end, kind, dry_run)
    targets = [t for k, ts in DELETABLE.items() if kind in (None, k) for t in ts]
    if kind is None:
        targets.append((DataLoad, "day"))
    changed_to = end
    for model, column in targets:
        day = getattr(model, column)
        first = month_start(start) if column == "month" else start
        where: list[ColumnElement[bool]] = [model.unit_id.in_(unit_ids), day >= first,
                                            day <= end]
        if model is WorkOrder:  # orders closed after the range leave those days' roll-ups too
            closed = as_date(conn.execute(select(func.max(WorkOrder.closed_day)).where(*where))
                             .scalar())
            changed_to = max(changed_to, closed or end)
        result = conn.execute(delete(model).where(*where))
        done.rows[model.__tablename__] = done.rows.get(model.__tablename__, 0) + result.rowcount  # type: ignore[attr-defined]
    if done.total and not dry_run:
        # a month that overlaps the range went whole: its roll-ups from its first day
        data_changed(conn, month_start(start) if kind in (None, "monthly_actives") else start,
                     changed_to, unit_ids)
    if not dry_run:
        done.log_id = int(conn.execute(insert(ImportLog).values(
            kind=(kind or "all")[:32], file_name=f"delete {unit_code} {start}..{end}"[:255],
            file_hash="", username=username, started_at=utc_now(), duration_seconds=0,
            rows_read=0, inserted=0, updated=0, errors=0, outcome="deleted", first_day=start,
            last_day=end, detail=done.summary())).inserted_primary_key[0])  # type: ignore[index]
    return done
