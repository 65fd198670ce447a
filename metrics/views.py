"""Composite views the pages show, built from `compute` and friends (never from fact rows)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy.orm import Session

from data.clock import month_start
from data.models import OrgUnit
from metrics.attainment import attainment_by_child, own_targets
from metrics.cache import cached
from metrics.compare import compare
from metrics.compute import compute, compute_by_period_and_carrier
from metrics.hotline import live_counters as hotline_counters
from metrics.league import league_table
from metrics.live import LiveCounters, live_counters
from metrics.matrix import matrix
from metrics.registry import KPIS, REGISTRY, Kpi
from metrics.risk import (
    by_incident,
    events,
    heat_by_child_and_core,
    incident_counts,
    open_counts,
    open_trend,
    scan_coverage,
)
from metrics.risk_handling import handling_times
from metrics.risk_marks import event_marks
from metrics.scope import Scope, enforce
from metrics.stages import Assessment, assess, assess_months, children_this_and_last_month, movers
from metrics.targets import DEFAULT_BANDS, Bands, attainment, status, targets_for

# The trend-grain rule, declared once: a range whose end is at most TREND_DAYS days after its start
# (about a quarter) is shown by day, a longer one by week. Monthly KPIs are always by month.
TREND_DAYS = 92
# The overview's headline KPIs and the KPI the regions view ranks by default: declared once, for
# the pages and the wall layouts alike.
OVERVIEW_KPIS = ("online_substitution", "channel_availability", "binding_rate", "mau",
                 "online_payment", "online_handling", "satisfaction", "work_orders_per_10k")
REGIONS_DEFAULT_KPI = "online_substitution"


def trend_grain(start: dt.date, end: dt.date) -> str:
    """The grain of a trend over `start`..`end`: "day" up to TREND_DAYS days apart, else "week"."""
    return "day" if (end - start).days <= TREND_DAYS else "week"


@cached("facts", "targets")
def headline(session: Session, kpis: Sequence[str], unit: OrgUnit, start: dt.date,
             end: dt.date, carriers: Sequence[str] | None, scope: Scope | None,
             bands: Bands = DEFAULT_BANDS) -> list[dict]:
    """Per KPI: value row, comparison, target, attainment, status and a sparkline series."""
    enforce(scope, unit)
    comp = compare(session, kpis, unit, start, end, carriers).set_index("kpi")
    carrier = carriers[0] if carriers and len(carriers) == 1 else None
    targets = targets_for(session, kpis, unit, start, end, carrier)
    grain = trend_grain(start, end)
    spark = kpi_trends(session, kpis, unit, start, end, carriers, grain)
    out = []
    for k in kpis:
        kpi = REGISTRY[k]
        comparison = comp.loc[k].to_dict()
        row = {key: comparison[key] for key in ("value", "numerator", "denominator")}
        target = targets[k]
        att = attainment(kpi, row["value"], target.value if target else None)
        series = spark[spark["kpi"] == k].sort_values("period")["value"].tolist()
        out.append({"kpi": kpi, "row": row, "comparison": comparison, "target": target,
                    "attainment": att, "status": status(att, bands), "spark": series})
    return out


def kpi_trends(session: Session, kpis: Sequence[str], unit: OrgUnit, start: dt.date,
               end: dt.date, carriers: Sequence[str] | None, grain: str,
               scope: Scope | None = None) -> pd.DataFrame:
    """The KPIs' values by `grain` (day or week), except monthly KPIs (MAU, activity rate), which
    have values by month only and are computed by month (by day they would be all "no data")."""
    by_grain = [k for k in kpis if not REGISTRY[k].monthly]
    by_month = [k for k in kpis if REGISTRY[k].monthly]
    parts = [compute(session, ks, unit, start, end, carriers, by=g, scope=scope)
             for ks, g in ((by_grain, grain), (by_month, "month")) if ks]
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


@cached("facts")
def carrier_mix(session: Session, unit: OrgUnit, start: dt.date, end: dt.date,
                scope: Scope | None) -> pd.DataFrame:
    """Each carrier's share of transactions and of payments (count) in the unit's subtree."""
    enforce(scope, unit)
    frame = compute(session, ["transactions", "online_payment"], unit, start, end, by="carrier")
    rows = []
    for measure, kpi, column in (("transactions", "transactions", "value"),
                                 ("payments", "online_payment", "denominator")):
        part = frame[frame["kpi"] == kpi]
        total = sum(v for v in part[column] if v is not None)
        for r in part.itertuples():
            value = getattr(r, column)
            if total and value is not None:
                rows.append({"measure": measure, "carrier": r.carrier, "share": value / total,
                             "count": value})
    return pd.DataFrame(rows, columns=["measure", "carrier", "share", "count"])


@dataclass(frozen=True)
class CarriersView:
    """What the carriers page shows: the KPIs kept per carrier, by carrier; transactions over time,
    one series per carrier shown; online substitution over time; and the carrier mix."""

    kpis: list[Kpi]
    by_carrier: pd.DataFrame
    trend: pd.DataFrame  # period, kpi, value, numerator, denominator, carrier
    substitution: pd.DataFrame  # period, kpi, value, numerator, denominator
    mix: pd.DataFrame  # measure, carrier, share, count
    grain: str
    marks: pd.DataFrame  # the risk events on the trends' days (metrics.risk_marks.event_marks)


def carriers_view(session: Session, unit: OrgUnit, start: dt.date, end: dt.date,
                  shown: Sequence[str], scope: Scope | None) -> CarriersView:
    """The carriers page's view of `unit` over `start`..`end`, trends for the carriers `shown`.

    A fixed number of queries however many carriers are shown: every carrier's transactions by
    period come from one grouped query (it was one computation per carrier)."""
    enforce(scope, unit)
    kpis = [k for k in KPIS if k.carriers]
    grain = trend_grain(start, end)
    by_carrier = compute(session, [k.id for k in kpis], unit, start, end, by="carrier",
                         scope=scope)
    trend = compute_by_period_and_carrier(session, ["transactions"], unit, start, end, grain,
                                          list(shown), scope=scope)
    substitution = compute(session, ["online_substitution"], unit, start, end, None, by=grain,
                           scope=scope)
    mix = carrier_mix(session, unit, start, end, scope)
    marks = event_marks(session, unit, ["transactions", "online_substitution"], start, end, scope,
                        list(shown))
    return CarriersView(kpis, by_carrier, trend, substitution, mix, grain, marks)


@dataclass(frozen=True)
class RiskView:
    """What the risk page shows: the events of the range, the overdue open ones, the heat by child
    and core, the open and overdue trend, and the days the scan covered; the same lists one row
    per incident (`metrics.risk.by_incident`) and their counts of incidents and units."""

    listed: pd.DataFrame
    overdue: pd.DataFrame
    heat: pd.DataFrame  # child, core, events (incidents)
    trend: pd.DataFrame  # day, open, overdue
    coverage: list[tuple[dt.date, dt.date]]
    open: pd.DataFrame  # the events not yet resolved, whenever they began (overdue ones included)
    listed_incidents: pd.DataFrame  # `listed`, one row per incident
    overdue_incidents: pd.DataFrame  # `overdue`, one row per incident
    open_incidents: pd.DataFrame  # `open`, one row per incident
    # "listed", "overdue", "open" -> {"incidents": n, "units": m} (`metrics.risk.incident_counts`)
    counts: dict[str, dict[str, int]]
    # hours to dispatch and resolve by owner tier and rule type (`metrics.risk_handling`)
    handling: pd.DataFrame | None = None


def risk_view(session: Session, unit: OrgUnit, start: dt.date, end: dt.date, now: dt.datetime,
              scope: Scope | None) -> RiskView:
    """The risk page's view of `unit` over `start`..`end` at `now`."""
    listed = events(session, unit, now, start=start, end=end, scope=scope)
    open_ = events(session, unit, now, states=["open", "dispatched", "in_progress", "reopened"],
                   scope=scope)
    overdue = open_[open_["overdue"].astype(bool)]
    return RiskView(listed, overdue,
                    heat_by_child_and_core(session, unit, start, end, now, scope=scope),
                    open_trend(session, unit, start, end, scope=scope), scan_coverage(session),
                    open_, by_incident(listed), by_incident(overdue), by_incident(open_),
                    {"listed": incident_counts(listed), "overdue": incident_counts(overdue),
                     "open": incident_counts(open_)},
                    handling=handling_times(session, unit, start, end, scope, as_of=now))


@dataclass(frozen=True)
class StagesView:
    """What the stages page shows: the unit's assessments month by month (the last is the month
    shown), its children's assessments that month, and those that moved since the month before."""

    history: list[Assessment]
    children: list[Assessment]
    moved: list[tuple[Assessment, Assessment]]

    @property
    def now(self) -> Assessment:
        return self.history[-1]


def stages_view(session: Session, unit: OrgUnit, first: dt.date, month: dt.date,
                data_end: dt.date, scope: Scope | None) -> StagesView:
    """The stages page's view of `unit`: months `first`..`month`, data up to `data_end`."""
    history = assess_months(session, unit, first, month, data_end, scope=scope)
    pairs = children_this_and_last_month(session, unit, month, data_end, scope=scope)
    return StagesView(history, [now for _before, now in pairs], movers(pairs))


@dataclass(frozen=True)
class TargetsView:
    """What the targets page shows: attainment of every KPI by child unit (None without
    children), and each unit's effective and own target of one KPI for a year."""

    attainment: pd.DataFrame | None
    targets: dict


def targets_view(session: Session, unit: OrgUnit, units: Sequence[OrgUnit], kpi: str, year: int,
                 start: dt.date, end: dt.date, scope: Scope | None, bands: Bands) -> TargetsView:
    """The targets page's view: attainment by child over `start`..`end` (when `unit` has children
    besides itself in `units`) and the `year`'s targets of `kpi` for `units`."""
    heat = (attainment_by_child(session, unit, start, end, scope=scope, bands=bands)
            if len(units) > 1 else None)
    return TargetsView(heat, year_targets(session, kpi, units, year, scope))


def year_targets(session: Session, kpi: str, units: Sequence[OrgUnit], year: int,
                 scope: Scope | None) -> dict:
    """Each unit's effective and own target of `kpi` for `year` (see `own_targets`)."""
    return own_targets(session, kpi, list(units), dt.date(year, 1, 1), dt.date(year, 12, 31),
                       scope=scope)


@dataclass(frozen=True)
class CoresView:
    """What the cores page shows of one core's KPIs: their headline (value, comparison, target),
    their values by carrier and over time (by `grain`; monthly KPIs by month)."""

    headline: list[dict]
    by_carrier: pd.DataFrame
    trend: pd.DataFrame
    grain: str
    marks: pd.DataFrame  # the risk events on the trends' days (metrics.risk_marks.event_marks)


def cores_view(session: Session, kpis: Sequence[str], unit: OrgUnit, start: dt.date,
               end: dt.date, carriers: Sequence[str] | None, scope: Scope | None,
               bands: Bands = DEFAULT_BANDS) -> CoresView:
    """The cores page's view of `kpis` for `unit` over `start`..`end` (`carriers` or all)."""
    grain = trend_grain(start, end)
    return CoresView(headline(session, kpis, unit, start, end, carriers, scope, bands),
                     compute(session, kpis, unit, start, end, by="carrier", scope=scope),
                     kpi_trends(session, kpis, unit, start, end, carriers, grain, scope), grain,
                     event_marks(session, unit, kpis, start, end, scope, carriers))


@dataclass(frozen=True)
class OverviewView:
    """What the overview shows: the 6x6 matrix, the headline KPIs, the unit's stage in the month
    its period ends, and its open and overdue risk events."""

    matrix: pd.DataFrame
    headline: list[dict]
    stage: Assessment
    risk: dict[str, int]


def overview_view(session: Session, kpis: Sequence[str], unit: OrgUnit, start: dt.date,
                  end: dt.date, carriers: Sequence[str] | None, now: dt.datetime,
                  scope: Scope | None, bands: Bands = DEFAULT_BANDS) -> OverviewView:
    """The overview of `unit` over `start`..`end` (`carriers` or all) at `now`."""
    return OverviewView(matrix(session, unit, start, end, bands, scope=scope),
                        headline(session, kpis, unit, start, end, carriers, scope, bands),
                        assess(session, unit, month_start(end), end, scope=scope),
                        open_counts(session, unit, now, scope=scope))


@dataclass(frozen=True)
class RegionsView:
    """What the regions page shows of one KPI: at a unit with children, their league table; at an
    outlet (no children), the KPI by day and by carrier."""

    league: pd.DataFrame | None = None
    by_day: pd.DataFrame | None = None
    by_carrier: pd.DataFrame | None = None
    marks: pd.DataFrame | None = None  # at an outlet: the risk events on the KPI's days


def regions_view(session: Session, kpi: str, unit: OrgUnit, has_children: bool, start: dt.date,
                 end: dt.date, carriers: Sequence[str] | None, scope: Scope | None,
                 bands: Bands = DEFAULT_BANDS, compare_to: str | None = None) -> RegionsView:
    """The regions page's view of `kpi` at `unit` over `start`..`end` (`carriers` or all)."""
    if has_children:
        return RegionsView(league=league_table(session, kpi, unit, start, end, carriers, bands,
                                               scope=scope, compare=compare_to))
    return RegionsView(by_day=kpi_trends(session, [kpi], unit, start, end, carriers, "day", scope),
                       by_carrier=compute(session, [kpi], unit, start, end, carriers, by="carrier",
                                          scope=scope),
                       marks=event_marks(session, unit, [kpi], start, end, scope, carriers))


@dataclass(frozen=True)
class LiveView:
    """What the live page shows of a unit's subtree today up to `counters.as_of`: the work-order
    and risk counters (`metrics.live`) and the hotline's (`metrics.hotline.live_counters`: the
    intervals that started before `as_of`; its values None where there is no data)."""

    counters: LiveCounters
    hotline: dict | None = None

    def as_dict(self) -> dict:
        """The view as plain values for JSON: the counters (`LiveCounters.as_dict`) and under
        "hotline" the hotline's keys, times as ISO 8601 strings, None kept (no data, never 0)."""
        out = self.counters.as_dict()
        hotline = None
        if self.hotline is not None:
            hotline = {**self.hotline, "day": self.hotline["day"].isoformat(),
                       "by_interval": [{**i, "start": i["start"].isoformat(timespec="minutes")}
                                       for i in self.hotline["by_interval"]]}
        out["hotline"] = hotline
        return out


def live_view(session: Session, unit: OrgUnit, now: dt.datetime,
              scope: Scope | None) -> LiveView:
    """The live page's view of `unit` at `now` (local time, to the minute)."""
    minute = now.replace(second=0, microsecond=0)
    counters = live_counters(session, unit, minute, scope=scope)
    return LiveView(counters, hotline_counters(session, unit, minute.date(), minute, scope))
