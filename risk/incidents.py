"""Incidents: the events of one rule (and carrier) on the same days at a unit and its descendants,
grouped to be worked as one (a WeChat outage seen at a county and its four outlets is one incident
of five events).

An event joins an incident of the same rule and carrier whose days overlap its own and whose unit
is an ancestor or a descendant of the event's unit; when the event's unit is the higher, the
incident's unit moves up to it (and its owner unit with it). An event that would join two or more
incidents merges them into the one with the lowest id. Otherwise it starts an incident of its own.
An incident's first and last day, creation and deadline are the earliest, latest, earliest and
earliest of its events'.

Events are grouped in order of their first day, then their unit's path (tree order), so a scan of
many days at once gives the same incidents as scanning each night did. Services never commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session, aliased

from data.models import OrgUnit, RiskEvent, RiskIncident, RiskNotification, RiskRule

# How the incident's assignee, dispatch and escalation fields are taken over on a merge: the
# survivor's where it has them, else the other's.
KEPT = ("assignee_id", "assignee_unit_id", "assignee_role", "dispatched_at", "resolved_at",
        "escalated_at", "escalated_unit_id")


def owner_of(unit: OrgUnit, tier: int, by_id: dict[int, OrgUnit]) -> OrgUnit:
    """Return the ancestor of `unit` at `tier` (the unit itself when it is at or above it)."""
    if unit.tier <= tier:
        return unit
    ids = [int(p) for p in unit.path.strip("/").split("/")]
    return by_id.get(ids[tier - 1], unit)


def _prefixes(path: str) -> list[str]:
    """The paths of the unit at `path` and of each of its ancestors ("/1/", "/1/2/", ...)."""
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[:n]) + "/" for n in range(1, len(parts) + 1)]


def related(upper: str, lower: str) -> bool:
    """Whether the units of paths `upper` and `lower` are one an ancestor of the other (or the same)."""
    return lower.startswith(upper) or upper.startswith(lower)


class _Grouping:
    """The incidents one call of `group` may join, kept in memory while it works."""

    def __init__(self, session: Session, by_id: dict[int, OrgUnit]) -> None:
        self.session = session
        self.by_id = by_id
        self.rules: dict[int, RiskRule] = {}
        # (rule id, carrier) -> the incidents that may take an event (loaded once per key).
        self.known: dict[tuple[int, str | None], list[RiskIncident]] = {}
        # Looked up by unit, not scanned whole (a rescan of years meets thousands per rule):
        # (key, path) -> the incidents whose unit is at that path (`at`) or under it (`below`);
        # an incident moved up or merged away stays listed where it was and is checked again.
        self.at: dict[tuple, list[RiskIncident]] = defaultdict(list)
        self.below: dict[tuple, list[RiskIncident]] = defaultdict(list)
        self.gone: set[int] = set()  # id(incident) merged away
        self.order: dict[int, tuple[int, int]] = {}  # id(incident) -> sort key: lowest id first
        self.fresh = 0
        self.members: dict[int, list[RiskEvent]] = defaultdict(list)  # id(incident) -> events

    def path(self, unit_id: int) -> str:
        unit = self.by_id.get(unit_id) or self.session.get(OrgUnit, unit_id)
        assert unit is not None
        self.by_id.setdefault(unit_id, unit)
        return unit.path

    def rule(self, rule_id: int) -> RiskRule:
        if rule_id not in self.rules:
            found = self.session.get(RiskRule, rule_id)
            assert found is not None
            self.rules[rule_id] = found
        return self.rules[rule_id]

    def load(self, events: list[RiskEvent]) -> None:
        """Read, per rule and carrier, the incidents whose days overlap the events' (one query
        per rule and carrier)."""
        spans: dict[tuple[int, str | None], list] = {}
        for e in events:
            key = (e.rule_id, e.carrier)
            first, last = spans.get(key, (e.first_day, e.last_day))
            spans[key] = [min(first, e.first_day), max(last, e.last_day)]
        for key, (first, last) in spans.items():
            if key in self.known:
                continue
            rule_id, carrier = key
            found = self.session.scalars(select(RiskIncident).where(
                RiskIncident.rule_id == rule_id,
                RiskIncident.carrier.is_(None) if carrier is None
                else RiskIncident.carrier == carrier,
                RiskIncident.first_day <= last, RiskIncident.last_day >= first)
                .order_by(RiskIncident.id)).all()
            self.known[key] = list(found)
            for inc in found:
                self.order[id(inc)] = (0, inc.id)
                self.index(key, inc)

    def index(self, key: tuple, inc: RiskIncident) -> None:
        """List the incident at its unit and under each of that unit's ancestors (and itself)."""
        path = self.path(inc.unit_id)
        self.at[(key, path)].append(inc)
        for prefix in _prefixes(path):
            self.below[(key, prefix)].append(inc)

    def candidates(self, key: tuple, path: str) -> list[RiskIncident]:
        """The incidents that may lie at, above or under the unit at `path` (a superset)."""
        found = {id(i): i for i in self.below.get((key, path), ())}
        for prefix in _prefixes(path):
            found.update((id(i), i) for i in self.at.get((key, prefix), ()))
        return [i for k, i in found.items() if k not in self.gone]

    def place(self, event: RiskEvent) -> RiskIncident:
        """Put `event` into its incident (joined, merged or new) and return it."""
        key = (event.rule_id, event.carrier)
        path = self.path(event.unit_id)
        hits = [inc for inc in self.candidates(key, path)
                if inc.first_day <= event.last_day and event.first_day <= inc.last_day
                and related(self.path(inc.unit_id), path)]
        if not hits:
            inc = self.new(event)
            self.known[key].append(inc)
            self.index(key, inc)
        else:
            hits.sort(key=lambda i: self.order[id(i)])
            inc = hits[0]
            was = inc.unit_id
            for other in hits[1:]:
                self.merge(inc, other)
                self.gone.add(id(other))
            self.widen(inc, event)
            if inc.unit_id != was:  # moved up: listed where it is now too
                self.at[(key, self.path(inc.unit_id))].append(inc)
        self.members[id(inc)].append(event)
        if inc.id is not None:
            event.incident_id = inc.id
        return inc

    def new(self, event: RiskEvent) -> RiskIncident:
        unit = self.by_id[event.unit_id]
        inc = RiskIncident(rule_id=event.rule_id, unit_id=unit.id,
                           owner_unit_id=owner_of(unit, self.rule(event.rule_id).owner_tier,
                                                  self.by_id).id,
                           carrier=event.carrier, first_day=event.first_day,
                           last_day=event.last_day, created_at=event.created_at,
                           deadline=event.deadline)
        self.session.add(inc)
        self.fresh += 1
        self.order[id(inc)] = (1, self.fresh)  # written after every incident read: a higher id
        return inc

    def widen(self, inc: RiskIncident, event: RiskEvent) -> None:
        """Take the event's days, times and (when higher) unit into the incident."""
        inc.first_day = min(inc.first_day, event.first_day)
        inc.last_day = max(inc.last_day, event.last_day)
        inc.created_at = min(inc.created_at, event.created_at)
        inc.deadline = min(inc.deadline, event.deadline)
        self.lift(inc, event.unit_id)

    def lift(self, inc: RiskIncident, unit_id: int) -> None:
        """Move the incident's unit (and owner unit) up to `unit_id` when that lies above it."""
        if unit_id == inc.unit_id or len(self.path(unit_id)) >= len(self.path(inc.unit_id)):
            return
        unit = self.by_id[unit_id]
        inc.unit_id = unit.id
        inc.unit = unit
        inc.owner_unit_id = owner_of(unit, self.rule(inc.rule_id).owner_tier, self.by_id).id

    def merge(self, survivor: RiskIncident, other: RiskIncident) -> None:
        """Move `other`'s events (and notifications) into `survivor` and remove `other`."""
        survivor.first_day = min(survivor.first_day, other.first_day)
        survivor.last_day = max(survivor.last_day, other.last_day)
        survivor.created_at = min(survivor.created_at, other.created_at)
        survivor.deadline = min(survivor.deadline, other.deadline)
        for field in KEPT:
            if getattr(survivor, field) is None:
                setattr(survivor, field, getattr(other, field))
        self.lift(survivor, other.unit_id)
        moved = self.members.pop(id(other), [])
        self.members[id(survivor)].extend(moved)
        for e in moved:
            e.incident_id = survivor.id
        if other.id is None:  # made by this call: not written yet
            self.session.expunge(other)
            return
        assert survivor.id is not None  # an incident read has a lower id than any made here
        self.session.execute(update(RiskEvent).where(RiskEvent.incident_id == other.id)
                             .values(incident_id=survivor.id).execution_options(
                                 synchronize_session="fetch"))
        # A notice of the same cause to the same recipient is the survivor's already: the
        # other's copy goes (it must not be sent twice); the rest move.
        mine = aliased(RiskNotification)
        same = exists().where(mine.incident_id == survivor.id, mine.kind == RiskNotification.kind,
                              mine.trigger == RiskNotification.trigger,
                              mine.channel == RiskNotification.channel,
                              mine.recipient == RiskNotification.recipient)
        self.session.execute(delete(RiskNotification).where(
            RiskNotification.incident_id == other.id, same).execution_options(
                synchronize_session=False))
        self.session.execute(update(RiskNotification).where(
            RiskNotification.incident_id == other.id).values(incident_id=survivor.id)
            .execution_options(synchronize_session=False))
        self.session.delete(other)
        self.session.flush()

    def finish(self) -> None:
        """Write the new incidents and point their events at them."""
        self.session.flush()
        for incs in self.known.values():
            for inc in incs:
                if id(inc) in self.gone:
                    continue
                for e in self.members.get(id(inc), []):
                    e.incident_id = inc.id
        self.session.flush()


def group(session: Session, events: Iterable[RiskEvent], by_id: dict[int, OrgUnit]) -> int:
    """Put each of `events` (written, with no incident yet) into its incident; return how many.

    In order of first day, then unit path, whatever order they come in. `by_id`: the units by id
    (at least the events' and their ancestors')."""
    work = _Grouping(session, by_id)
    todo = [e for e in events if e.incident_id is None]
    if not todo:
        return 0
    todo.sort(key=lambda e: (e.first_day, work.path(e.unit_id), e.rule_id, e.carrier or "",
                             e.id))
    work.load(todo)
    for e in todo:
        work.place(e)
    work.finish()
    return len(todo)


def group_ungrouped(session: Session) -> int:
    """Group every event that has no incident (from before incidents existed, migration 0022);
    return how many were grouped."""
    if not session.scalar(select(exists().where(RiskEvent.incident_id.is_(None)))):
        return 0
    by_id = {u.id: u for u in session.scalars(select(OrgUnit))}
    events = session.scalars(select(RiskEvent).where(RiskEvent.incident_id.is_(None))
                             .order_by(RiskEvent.first_day, RiskEvent.id)).all()
    return group(session, events, by_id)


def events_of(session: Session, incident: RiskIncident) -> list[RiskEvent]:
    """The incident's events, its highest unit's first (tree order), then by first day."""
    return list(session.scalars(
        select(RiskEvent).join(OrgUnit, OrgUnit.id == RiskEvent.unit_id)
        .where(RiskEvent.incident_id == incident.id)
        .order_by(OrgUnit.path, RiskEvent.first_day, RiskEvent.id)))


def extend(session: Session, event: RiskEvent) -> None:
    """Keep the incident's last day when its event (already in it) now lasts longer."""
    if event.incident_id is None:
        return
    inc = session.get(RiskIncident, event.incident_id)
    if inc is not None and inc.last_day < event.last_day:
        inc.last_day = event.last_day
