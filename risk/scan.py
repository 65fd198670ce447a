"""The scan: evaluate every active rule for every unit of its tiers on each day, and keep events.

Idempotent: an event covers a continuing breach from `first_day` to `last_day`; scanning days it
already covers changes nothing, a breach on the day after extends it, a new breach opens a new one.
Events are stamped as detected at 06:00 the morning after the breach (when the nightly scan would
have found it), so a scan of past days gives the same events as scanning each night did.
A rule whose settings cannot be used (`risk.params`) is skipped, with the reason kept on the rule
(`skip_reason`, shown on the admin page) and in the log; the other rules are scanned.
New events are grouped into incidents (`risk.incidents`: one rule, overlapping days, a unit and its
descendants) as they are written; an event that goes on keeps its incident's last day.
"""

from __future__ import annotations

import datetime as dt
import logging
import zlib
from bisect import insort
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from auth import audit
from data.clock import utc_now
from data.models import AuditEvent, OrgUnit, RiskEvent, RiskEventStep, RiskRule, RiskScanRun, User
from metrics.compute import daily_series
from metrics.registry import REGISTRY, SOURCES
from risk.detect import EVALUATORS, Breach, Day, audit_breaches, excess, history_days
from risk.incidents import extend, group, group_ungrouped, owner_of
from risk.params import HISTORY_DAYS, BadRule, check_rule

LOOKBACK_DAYS = HISTORY_DAYS  # anomaly history plus two change windows
SCANNER = "risk-scan"
SCAN_LOCK_KEY = zlib.crc32(b"risk-scan") - 2**31  # PostgreSQL advisory lock: one scan at a time
log = logging.getLogger(__name__)


def detected_at(day: dt.date) -> dt.datetime:
    """When the nightly scan finds a breach of `day`: 06:00 the next morning."""
    return dt.datetime.combine(_shift(day, 1), dt.time(6, 0))


def _shift(day: dt.date, days: int) -> dt.date:
    """`day` moved by `days`, held at the calendar's ends (a stored 9999-12-31 must not crash)."""
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        return dt.date.max if days > 0 else dt.date.min


def _days(start: dt.date, end: dt.date):
    return (dt.date.fromordinal(n) for n in range(start.toordinal(), end.toordinal() + 1))


def scan(session: Session, start: dt.date, end: dt.date,
         unit_ids: Iterable[int] | None = None,
         tables: Iterable[str] | None = None) -> dict[str, int]:
    """Evaluate every active rule from `start` to `end`; return counts of new and extended events.

    With `unit_ids` (the units whose facts changed, e.g. an import's), only those units and their
    ancestors are evaluated: no other unit's KPI can have changed. Without, every unit. With
    `tables` (the fact tables an import wrote), only the rules whose KPIs read one of them (and
    the audit rules): no other rule's answer can have changed.
    Each call records a run (`RiskScanRun`); only runs over every unit cover their days for the
    closed-on-time criterion (a run over some units leaves the others' events, e.g. of rules over
    a window, to the nightly scan). Scans serialise (`_begin_run`): the lock is held until the
    caller's transaction ends.
    """
    run = _begin_run(session, start, end, all_units=unit_ids is None)
    group_ungrouped(session)  # events from before incidents (migration 0022) first
    units = session.scalars(select(OrgUnit).order_by(OrgUnit.path)).all()
    by_id = {u.id: u for u in units}
    if unit_ids is not None:
        wanted = {int(p) for uid in unit_ids if uid in by_id
                  for p in by_id[uid].path.strip("/").split("/")}
        units = [u for u in units if u.id in wanted]
    by_tier: dict[int, list[OrgUnit]] = defaultdict(list)
    for u in units:
        by_tier[u.tier].append(u)
    changed = None if tables is None else set(tables)
    stats = {"new": 0, "extended": 0}
    series_cache: dict[tuple, dict[int, dict[dt.date, Day]]] = {}
    for rule in session.scalars(select(RiskRule).where(RiskRule.active.is_(True))
                                .order_by(RiskRule.id)):
        params = usable(session, rule)
        if params is None:
            run.skipped += 1
            continue
        if changed is not None and rule.type != "audit" and not (_tables(rule) & changed):
            continue
        if rule.type == "audit":
            found = _audit(session, params, start, end, by_tier)
        else:
            found = []
            for tier in (int(t) for t in rule.tiers.split(",") if t.strip()):
                tier_series = _series(session, series_cache, rule, params, tier,
                                      by_tier.get(tier, []), start, end)
                for unit in by_tier.get(tier, []):
                    series = tier_series[unit.id]
                    kpi = REGISTRY[rule.kpi or ""]
                    for day in _days(start, end):
                        b = EVALUATORS[rule.type](series, day, params, kpi.scale,
                                                  kpi.kind == "ratio")
                        if b is not None:
                            found.append((unit, b))
        known = _events(session, rule, found)
        opened: list[RiskEvent] = []
        for unit, breach in found:
            outcome = record(session, rule, unit, breach, by_id, known, opened)
            if outcome:
                stats[outcome] += 1
        _open(session, rule, opened, by_id)
    # The run's row (its trigger bumps the `risk` stamp: the days it covers now count).
    run.new, run.extended, run.finished_at = stats["new"], stats["extended"], utc_now()
    session.flush()
    return stats


def _begin_run(session: Session, start: dt.date, end: dt.date, all_units: bool) -> RiskScanRun:
    """Take the scan lock, then record the run; return its row.

    Scans serialise, so two (e.g. of two imports of different kinds, or an import's and the
    nightly one) never both find a breach missing and open the same event twice: on PostgreSQL a
    transaction-level advisory lock, held until the caller commits or rolls back; on SQLite the
    write lock, which writing the run's row takes (waiting up to the busy timeout) before the scan
    reads anything (a scan that read first could write after another committed the same events).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCAN_LOCK_KEY})
    run = RiskScanRun(first_day=start, last_day=end, all_units=all_units, started_at=utc_now(),
                      new=0, extended=0, skipped=0)
    session.add(run)
    session.flush()
    return run


def usable(session: Session, rule: RiskRule) -> dict | None:
    """The rule's checked settings; None for a rule to skip, with the reason kept on the rule
    (and audited when it changes), so an administrator sees it; a good rule's reason is cleared."""
    try:
        params = check_rule(rule)
    except BadRule as exc:
        reason = exc.both()
        log.warning("risk scan skips rule %s: %s", rule.code, exc.message("en"))
        at = audit.now()
        if rule.skip_reason != reason:
            session.add(AuditEvent(at=at, username=SCANNER, action="risk_rule_skipped",
                                   target=rule.code, outcome="skipped", detail=reason))
            rule.skip_reason = reason
        rule.skipped_at = at
        return None
    if rule.skip_reason is not None:
        rule.skip_reason = rule.skipped_at = None
    return params


def _later(at: dt.datetime, hours: int) -> dt.datetime:
    try:
        return at + dt.timedelta(hours=hours)
    except OverflowError:
        return dt.datetime.max


def _tables(rule: RiskRule) -> set[str]:
    """The fact tables the rule's KPI reads."""
    sources = {m.source for m in REGISTRY[rule.kpi or ""].measures}
    if "actives_total" in sources:  # by one carrier, distinct actives come from `actives`
        sources.add("actives")
    return {SOURCES[s].table for s in sources}


def _series(session, cache, rule: RiskRule, params: dict, tier: int, units: list[OrgUnit],
            start: dt.date, end: dt.date) -> dict[int, dict[dt.date, Day]]:
    """The rule's KPI by day for every unit of a tier (one grouped read per source for all of
    them), from as far before `start` as the rule looks to `end`, as computed over the whole
    look-back (from which a stock's carry-forward starts)."""
    since = _shift(start, -history_days(rule.type, params))
    key = (rule.kpi, rule.carrier, tier, since, end)
    if key not in cache:
        found = daily_series(session, rule.kpi or "", units, _shift(start, -LOOKBACK_DAYS), end,
                             [rule.carrier] if rule.carrier else None, since=since)
        cache[key] = {uid: {day: Day._make(v) for day, v in by_day.items()}
                      for uid, by_day in found.items()}
    return cache[key]


def _audit(session, params, start, end, by_tier) -> list[tuple[OrgUnit, Breach]]:
    day = func.date(AuditEvent.at)
    rows = session.execute(
        select(AuditEvent.username, day.label("d"), func.count())
        .where(AuditEvent.action == params.get("action"),
               AuditEvent.at >= dt.datetime.combine(start, dt.time()),
               AuditEvent.at <= dt.datetime.combine(end, dt.time.max))
        .group_by(AuditEvent.username, day)).all()
    counts = {(u or "?", d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)[:10])): n
              for u, d, n in rows}
    homes = dict(session.execute(select(User.username, User.unit_id)).all())
    top = next(iter(by_tier.get(1, [])), None) or session.scalar(
        select(OrgUnit).where(OrgUnit.tier == 1).order_by(OrgUnit.id).limit(1))
    out = []
    for user, breach in audit_breaches(counts, params):
        unit = session.get(OrgUnit, homes[user]) if user in homes else top
        if unit is not None:
            out.append((unit, breach))
    return out


def _events(session: Session, rule: RiskRule, found: list[tuple[OrgUnit, Breach]]
            ) -> dict[int, list[RiskEvent]]:
    """The rule's events of the units with breaches that began by the last breach's day, per
    unit in order of their first day (one read for all of them)."""
    if not found:
        return {}
    last = max(b.day for _, b in found)
    ids = sorted({u.id for u, _ in found})
    out: dict[int, list[RiskEvent]] = {}
    for i in range(0, len(ids), 5000):
        for e in session.scalars(select(RiskEvent).where(
                RiskEvent.rule_id == rule.id, RiskEvent.unit_id.in_(ids[i:i + 5000]),
                RiskEvent.carrier.is_(None) if rule.carrier is None
                else RiskEvent.carrier == rule.carrier,
                RiskEvent.first_day <= last).order_by(RiskEvent.first_day, RiskEvent.id)):
            out.setdefault(e.unit_id, []).append(e)
    return out


def _open(session: Session, rule: RiskRule, opened: list[RiskEvent],
          by_id: dict[int, OrgUnit]) -> None:
    """Write the events `record` opened (one batch), group them into incidents
    (`risk.incidents.group`) and write the first step of each."""
    if not opened:
        return
    session.flush()
    group(session, opened, by_id)
    session.add_all([RiskEventStep(event_id=e.id, at=e.created_at, username=SCANNER,
                                   from_state=None, to_state="open",
                                   note=rule.name_zh + " / " + rule.name_en) for e in opened])


def record(session: Session, rule: RiskRule, unit: OrgUnit, breach: Breach,
           by_id: dict[int, OrgUnit], known: dict[int, list[RiskEvent]] | None = None,
           opened: list[RiskEvent] | None = None) -> str | None:
    """Open, extend or leave alone the event for this breach; return 'new', 'extended' or None.

    An event keeps the value and threshold of its latest day (one pair, from one day) and those of
    its worst day: the day whose value lies furthest beyond that day's threshold, relative to the
    threshold (`risk.detect.excess`; the earlier day on a tie).

    With `known` (the rule's events per unit, `_events`) the latest event is looked up there
    instead of read, and a new event is added to it and to `opened`, which the caller writes
    (`_open`) after the last breach instead of one by one.
    """
    carrier = rule.carrier
    if known is None:
        latest = session.scalar(
            select(RiskEvent).where(RiskEvent.rule_id == rule.id, RiskEvent.unit_id == unit.id,
                                    RiskEvent.carrier.is_(None) if carrier is None
                                    else RiskEvent.carrier == carrier,
                                    RiskEvent.first_day <= breach.day)
            .order_by(RiskEvent.first_day.desc()).limit(1))
    else:
        latest = next((e for e in reversed(known.get(unit.id, []))
                       if e.first_day <= breach.day), None)
    if latest is not None and latest.last_day >= breach.day:
        return None  # already covered: scanning again changes nothing
    if (latest is not None and latest.last_day == _shift(breach.day, -1)
            and latest.state != "closed"):
        latest.last_day = breach.day
        latest.value, latest.threshold = breach.value, breach.threshold
        if excess(breach.value, breach.threshold) > excess(latest.worst_value,
                                                            latest.worst_threshold):
            latest.worst_day = breach.day
            latest.worst_value, latest.worst_threshold = breach.value, breach.threshold
        extend(session, latest)  # its incident lasts as long
        return "extended"
    found_at = detected_at(breach.day)
    event = RiskEvent(rule_id=rule.id, unit_id=unit.id,
                      owner_unit_id=owner_of(unit, rule.owner_tier, by_id).id, carrier=carrier,
                      first_day=breach.day, last_day=breach.day, value=breach.value,
                      threshold=breach.threshold, worst_day=breach.day,
                      worst_value=breach.value, worst_threshold=breach.threshold,
                      state="open", created_at=found_at,
                      deadline=_later(found_at, rule.deadline_hours))
    session.add(event)
    if known is not None and opened is not None:
        insort(known.setdefault(unit.id, []), event, key=lambda e: e.first_day)
        opened.append(event)
        return "new"
    session.flush()
    group(session, [event], by_id)
    session.add(RiskEventStep(event_id=event.id, at=found_at, username=SCANNER, from_state=None,
                              to_state="open", note=rule.name_zh + " / " + rule.name_en))
    return "new"
