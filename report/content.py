"""What the monthly operations report says: its sections, tables and sentences, as plain data.

`report_content(session, user, unit_code, month, lang)` checks the request (unit, month, scope)
and gathers every figure from `metrics/`; `components.format` writes the numbers, the message
catalogue the words. The sentences (`report.sentences`) state only numbers that a table of the
report shows too. `report.html` lays the content out and `report.build` prints it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy.orm import Session

import settings
from components.format import change, number, pct
from components.i18n import name, t
from data.catalog import carriers, cores
from data.clock import local_now, month_end, month_start
from data.models import OrgUnit, User
from data.rubric import BY_ID, STAGES, stage_label
from data.units import children, unit_by_code
from metrics.attainment import attainment_by_child
from metrics.compute import compute
from metrics.freshness import is_demo, last_loaded, loaded_range
from metrics.matrix import matrix
from metrics.monthly import MonthRanges, kpi_movers, month_kpis, month_ranges, rank_children
from metrics.quality import late_outlets, monthly_quality
from metrics.registry import KPIS, REGISTRY, for_core
from metrics.risk import by_incident, events, month_counts
from metrics.scope import Scope
from metrics.targets import Bands
from metrics.views import stages_view
from report import sentences

# The headline KPIs of the summary, in the order a manager reads them.
HEADLINE = ("online_substitution", "online_handling", "online_payment", "binding_rate", "mau",
            "transactions", "channel_availability", "satisfaction", "on_time_rate",
            "complaints_per_10k")
# The attainments shown beside each child in the ranking.
RANKING_KPIS = ("online_substitution", "online_payment", "satisfaction")
MOVERS_SHOWN = 3  # improvements and declines named in the summary
MOVERS_TABLE = 3  # and in its table
EVENTS_SHOWN = 12
LATE_SHOWN = 15
TREND_MONTHS = 13
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class ReportRefused(PermissionError):
    """The user may not have this report (a unit outside their scope, a display account)."""

    def __init__(self, en: str, zh: str) -> None:
        super().__init__(en)
        self.zh = zh

    def text(self, lang: str) -> str:
        """The message in `lang`."""
        return str(self) if lang == "en" else self.zh


class ReportInvalid(ValueError):
    """The request cannot make a report (unknown unit, malformed month, a month with no data)."""

    def __init__(self, en: str, zh: str) -> None:
        super().__init__(en)
        self.zh = zh

    def text(self, lang: str) -> str:
        """The message in `lang`."""
        return str(self) if lang == "en" else self.zh


@dataclass(frozen=True)
class Table:
    id: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    marks: tuple[tuple[str, ...], ...] = ()  # a CSS class per cell (status colours), or ()
    caption: str = ""


@dataclass(frozen=True)
class Chart:
    title: str
    svg: str


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    sentences: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()
    charts: tuple[Chart, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Report:
    unit: str
    unit_name: str
    month: dt.date
    lang: str
    title: str
    cover: tuple[tuple[str, str], ...]
    sections: tuple[Section, ...] = field(default_factory=tuple)
    demo: bool = False

    def section(self, section_id: str) -> Section:
        """Return the section `section_id` (KeyError when the report has none)."""
        for s in self.sections:
            if s.id == section_id:
                return s
        raise KeyError(section_id)

    def file_name(self) -> str:
        """An ASCII file name: report-UNIT-YYYY-MM-LANG.pdf."""
        code = re.sub(r"[^A-Za-z0-9_-]", "_", self.unit)[:60] or "_"
        return f"report-{code}-{self.month:%Y-%m}-{self.lang}.pdf"


@dataclass(frozen=True)
class Request:
    """A checked request: the unit, the month's ranges, the caller's scope (None: the operator)."""

    unit: OrgUnit
    ranges: MonthRanges
    scope: Scope | None
    data_end: dt.date


def parse_month(text: str) -> dt.date:
    """Return the first day of the month 'YYYY-MM', or raise ReportInvalid."""
    found = MONTH.match((text or "").strip())
    if not found or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 1900:
        raise ReportInvalid(f"month must be YYYY-MM (e.g. 2026-06), not {text!r}",
                            f"月份须为 YYYY-MM 格式（如 2026-06），而不是 {text!r}")
    return dt.date(int(found.group(1)), int(found.group(2)), 1)


def check_request(session: Session, user: User | None, unit_code: str, month: str) -> Request:
    """Check what is asked before anything is computed: the month's form, the caller (a display
    account has no reports), the unit and the caller's scope, data in the month.

    `user` None is the operator on the server (the CLI without --as): every unit. For a user, a
    unit that does not exist and one outside their scope get the same refusal (no unit's
    existence is told to someone who may not see it)."""
    first = parse_month(month)
    if user is not None and user.role == "display":
        raise ReportRefused("display accounts have no reports", "大屏账号不能生成报告")
    code = (unit_code or "").strip()
    unit = unit_by_code(session, code) if code else None
    scope = Scope.of(user.unit) if user is not None else None
    if user is not None and (unit is None or not scope.allows(unit)):  # type: ignore[union-attr]
        raise ReportRefused(f"unit {code!r} is outside your scope (or does not exist)",
                            f"单位 {code!r} 不在您的权限范围内（或不存在）")
    if unit is None:
        raise ReportInvalid(f"no unit {code!r}", f"没有单位 {code!r}")
    span = loaded_range(session)
    if span is None or first > span[1] or month_end(first) < span[0]:
        shown = f"{span[0]:%Y-%m} – {span[1]:%Y-%m}" if span else "-"
        raise ReportInvalid(f"no data for {first:%Y-%m} (data covers {shown})",
                            f"{first:%Y-%m} 没有数据（数据范围 {shown}）")
    ranges = month_ranges(first, span[1])
    loaded = monthly_quality(session, unit, ranges.start, ranges.end).get(ranges.start, {})
    if loaded.get("data_completeness") is None:  # the store has data that month, this unit none
        raise ReportInvalid(f"no data for {unit.code} in {first:%Y-%m}",
                            f"{unit.code} 在 {first:%Y-%m} 没有数据")
    return Request(unit, ranges, scope, span[1])


def report_content(session: Session, user: User | None, unit_code: str, month: str,
                   lang: str | None = None, at: dt.datetime | None = None) -> Report:
    """The report of `unit_code` for `month` ('YYYY-MM') as `user` may see it (None: the operator
    on the server), in `lang` (the user's language when None): every section's sentences and
    tables. Raises ReportRefused or ReportInvalid (the message says why, in zh and en)."""
    req = check_request(session, user, unit_code, month)
    lang = lang or (user.language if user is not None else None) or "zh"
    if lang not in ("zh", "en"):
        raise ReportInvalid("language must be zh or en", "语言须为 zh 或 en")
    given = settings.current()
    bands = Bands.from_settings(given)
    unit, r, scope = req.unit, req.ranges, req.scope
    kids = children(session, unit)
    kpis = [k.id for k in KPIS]
    figures = month_kpis(session, kpis, unit, r.start, req.data_end, scope, bands)
    by_kpi = {row["kpi"]: row for row in figures.to_dict("records")}
    movers = _shown_movers(kpi_movers(session, kpis, unit, r.start, req.data_end, scope), lang)
    stages = stages_view(session, unit, month_start(r.previous[0]), r.start, req.data_end, scope)
    risk = month_counts(session, unit, r.start, r.end, scope)
    quality = monthly_quality(session, unit, r.start, r.end, scope).get(r.start, {})
    late = late_outlets(session, unit, r.start, r.end, scope)
    names = {k.code: name(k, lang) for k in kids} | {unit.code: name(unit, lang)}
    ctx = _Ctx(session, lang, unit, r, scope, kids, names, bands)

    headline = _kpi_table(ctx, "headline", HEADLINE, by_kpi)
    mover_table = _movers_table(ctx, movers)
    risk_table = _risk_table(ctx, risk)
    quality_table = _quality_table(ctx, quality, late)
    stage_table, next_steps = _stage_tables(ctx, stages)
    summary = Section("summary", t("report.summary", lang), tuple(
        sentences.headline(lang, [REGISTRY[k] for k in HEADLINE], by_kpi)
        + sentences.movers(lang, movers, names, MOVERS_SHOWN)
        + sentences.stage(lang, stages, names)
        + sentences.risk(lang, risk)
        + sentences.quality(lang, quality, len(late))),
        (headline, mover_table))
    sections = [summary, _matrix_section(ctx),
                *(_core_section(ctx, core, by_kpi) for core in cores(session)),
                _ranking_section(ctx, stages),
                Section("stages", t("report.stages", lang), (), (stage_table, *next_steps)),
                _risk_section(ctx, risk_table),
                Section("quality", t("report.quality", lang),
                        (t("report.quality.about", lang),),
                        (quality_table, *_quality_children(ctx), _late_table(ctx, late))),
                _definitions(ctx)]
    loaded = last_loaded(session, unit, scope=scope)[unit.code]
    return Report(unit.code, name(unit, lang), r.start, lang,
                  t("report.title", lang).format(unit=name(unit, lang),
                                                 month=month_label(r.start, lang)),
                  _cover(ctx, user, loaded, at or local_now(given.TIMEZONE), given.TIMEZONE,
                         is_demo(session)),
                  tuple(sections), is_demo(session))


def month_label(first: dt.date, lang: str) -> str:
    """'2026年6月' or 'June 2026'."""
    return f"{first:%B %Y}" if lang == "en" else f"{first.year}年{first.month}月"


@dataclass(frozen=True)
class _Ctx:
    session: Session
    lang: str
    unit: OrgUnit
    r: MonthRanges
    scope: Scope | None
    kids: list[OrgUnit]
    names: dict[str, str]
    bands: Bands


def _cover(ctx: _Ctx, user: User | None, loaded: dt.date | None, at: dt.datetime, zone: str,
           demo: bool) -> tuple[tuple[str, str], ...]:
    lang, r = ctx.lang, ctx.r
    period = f"{r.start:%Y-%m-%d} – {r.end:%Y-%m-%d}"
    if not r.complete:
        period += " " + t("report.partial", lang)
    if user is None:
        reader = t("report.operator", lang)
    else:
        person = user.display_name or user.username
        reader = f"{person} ({user.username}) · {name(user.unit, lang)}"
    rows = [(t("report.unit", lang), f"{name(ctx.unit, lang)} ({ctx.unit.code})"),
            (t("report.month", lang), month_label(r.start, lang)),
            (t("report.period", lang), period),
            (t("asof", lang), loaded.isoformat() if loaded else "-"),
            (t("report.for", lang), reader),
            (t("report.made", lang), f"{at:%Y-%m-%d %H:%M} {zone}")]
    if demo:
        rows.append((t("report.data", lang), t("demo", lang)))
    return tuple(rows)


def _kpi_table(ctx: _Ctx, table_id: str, kpi_ids, by_kpi: dict) -> Table:
    lang = ctx.lang
    rows, marks = [], []
    for k in kpi_ids:
        kpi, f = REGISTRY[k], by_kpi[k]
        rows.append((name(kpi, lang), number(f["value"], kpi.unit, lang),
                     number(f["target"], kpi.unit, lang), pct(f["attainment"]),
                     number(f["previous"], kpi.unit, lang),
                     change(f["previous_change"], kpi.unit, f["previous_change_pct"], lang),
                     number(f["last_year"], kpi.unit, lang),
                     change(f["last_year_change"], kpi.unit, f["last_year_change_pct"], lang)))
        marks.append(("", "", "", f["status"] or "", "", "", "", ""))
    columns = tuple(t(f"report.col.{c}", lang) for c in (
        "kpi", "value", "target", "attainment", "previous", "change", "last_year", "change"))
    return Table(table_id, columns, tuple(rows), tuple(marks))


def _shown_movers(movers, lang: str):
    """The movers worth naming: a change that shows as 0.0 is no change; at most MOVERS_TABLE
    improvements and as many declines."""
    seen = movers[[not change(m["change"], REGISTRY[m["kpi"]].unit, m["change_pct"], lang)
                   .lstrip("+-").startswith("0.0") for m in movers.to_dict("records")]]
    up = seen[seen["improvement"] > 0].head(MOVERS_TABLE)
    down = seen[seen["improvement"] < 0].tail(MOVERS_TABLE)
    return pd.concat([up, down]) if len(down) else up


def _movers_table(ctx: _Ctx, movers) -> Table:
    lang = ctx.lang
    rows = []
    for m in movers.to_dict("records"):
        kpi = REGISTRY[m["kpi"]]
        word = t("report.improved" if m["improvement"] > 0 else "report.declined", lang)
        rows.append((name(kpi, lang), word, number(m["value"], kpi.unit, lang),
                     change(m["change"], kpi.unit, m["change_pct"], lang),
                     ctx.names.get(m["child"], m["child"] or "-") if m["child"] else "-",
                     change(m["child_change"], kpi.unit, m["child_change_pct"], lang)
                     if m["child"] else "-"))
    columns = tuple(t(f"report.col.{c}", lang) for c in (
        "kpi", "direction", "value", "change", "child", "child_change"))
    return Table("movers", columns, tuple(rows), caption=t("report.movers.caption", lang))


def _matrix_section(ctx: _Ctx) -> Section:
    lang = ctx.lang
    cells = matrix(ctx.session, ctx.unit, ctx.r.start, ctx.r.end, ctx.bands, ctx.scope)
    score = {(c.core, c.carrier): c for c in cells.itertuples()}
    shown = carriers(ctx.session)
    rows, marks = [], []
    for core in cores(ctx.session):
        row, mark = [name(core, lang)], [""]
        for carrier in shown:
            cell = score[(core.code, carrier.code)]
            if cell.status == "n/a":
                row.append(t("status.n/a", lang))
            else:
                row.append(number(cell.score, "count", lang, 0))
            mark.append(cell.status or "")
        rows.append(tuple(row))
        marks.append(tuple(mark))
    table = Table("matrix", (t("report.col.core", lang), *(name(c, lang) for c in shown)),
                  tuple(rows), tuple(marks))
    return Section("matrix", t("report.matrix", lang), (t("report.matrix.about", lang),), (table,))


def _core_section(ctx: _Ctx, core, by_kpi: dict) -> Section:
    from report import svg

    lang = ctx.lang
    kpis = for_core(core.code)
    table = _kpi_table(ctx, f"core-{core.code}", [k.id for k in kpis], by_kpi)
    lead = kpis[0] if core.code != "channel" else REGISTRY["online_substitution"]
    first = _months_before(ctx.r.start, TREND_MONTHS - 1)
    trend = compute(ctx.session, [lead.id], ctx.unit, first, ctx.r.end, by="month")
    points = [(f"{p:%y-%m}", v) for p, v in zip(trend["period"], trend["value"], strict=True)]
    charts = [Chart(t("report.chart.trend", lang).format(kpi=name(lead, lang)),
                    svg.line_chart(points, lambda v: number(v, lead.unit, lang)))]
    split = next((k for k in kpis if k.carriers), None)
    if split is not None:
        frame = compute(ctx.session, [split.id], ctx.unit, ctx.r.start, ctx.r.end, by="carrier")
        value_of = dict(zip(frame["carrier"], frame["value"], strict=True))
        bars = [(name(c, lang).split("/")[0].split(" (")[0].split(" &")[0], value_of.get(c.code))
                for c in carriers(ctx.session) if c.code in split.carriers]
        charts.append(Chart(t("report.chart.carriers", lang).format(kpi=name(split, lang)),
                            svg.bar_chart(bars, lambda v: number(v, split.unit, lang))))
    question = core.question_en if lang == "en" else core.question_zh
    return Section(f"core-{core.code}", name(core, lang), (question,), (table,), tuple(charts))


def _months_before(first: dt.date, n: int) -> dt.date:
    y, m = first.year, first.month - n
    while m <= 0:
        y, m = y - 1, m + 12
    return dt.date(y, m, 1)


def _ranking_section(ctx: _Ctx, stages) -> Section:
    lang = ctx.lang
    if not ctx.kids:
        return Section("ranking", t("report.ranking", lang), (t("report.no_children", lang),))
    heat = attainment_by_child(ctx.session, ctx.unit, ctx.r.start, ctx.r.end, ctx.scope, ctx.bands)
    ranked = rank_children(heat, {a.unit: a.stage for a in stages.children})
    att = {(r.unit, r.kpi): (r.attainment, r.status) for r in heat.itertuples()}
    rows, marks = [], []
    for r in ranked.to_dict("records"):
        cells = [att.get((r["unit"], k), (None, None)) for k in RANKING_KPIS]
        rows.append((str(r["rank"]) if r["rank"] is not None else "-",
                     ctx.names.get(r["unit"], r["unit"]),
                     stage_label(r["stage"], lang) if r["stage"] is not None else "-",
                     f"{r['on_target']}/{r['judged']}", pct(r["share"]),
                     *(pct(a) for a, _s in cells)))
        marks.append(("", "", "", "", "", *(s or "" for _a, s in cells)))
    columns = (t("report.col.rank", lang), t("report.col.unit", lang), t("report.col.stage", lang),
               t("report.col.on_target", lang), t("report.col.share", lang),
               *(t("report.col.attainment_of", lang).format(kpi=name(REGISTRY[k], lang))
                 for k in RANKING_KPIS))
    return Section("ranking", t("report.ranking", lang), (t("report.ranking.about", lang),),
                   (Table("ranking", columns, tuple(rows), tuple(marks)),))


def _stage_tables(ctx: _Ctx, stages) -> tuple[Table, list[Table]]:
    lang = ctx.lang
    now = stages.now
    rows, marks = [], []
    for c in sorted(now.criteria, key=lambda c: (-c.stage, c.id)):
        info = BY_ID[c.id]
        unit = "%" if info.unit == "%" else "count"
        mark = "✓" if c.met else ("?" if c.met is None else "✗")
        rows.append((stage_label(c.stage, lang), info.name_en if lang == "en" else info.name_zh,
                     number(c.value, unit, lang), number(c.threshold, unit, lang), mark))
        marks.append(("", "", "", "", "green" if c.met else ("" if c.met is None else "red")))
    ladder = Table("ladder", tuple(t(f"report.col.{c}", lang) for c in (
        "stage", "criterion", "value", "threshold", "met")), tuple(rows), tuple(marks),
        caption=t("report.ladder.caption", lang).format(
            stage=stage_label(now.stage, lang),
            before=stage_label(stages.history[0].stage, lang) if len(stages.history) > 1
            and stages.history[0].has_data else "-"))
    more: list[Table] = []
    if now.stage < max(STAGES):
        steps = tuple((info.name_en if lang == "en" else info.name_zh,
                       number(c.value, "%" if info.unit == "%" else "count", lang),
                       number(c.threshold, "%" if info.unit == "%" else "count", lang),
                       info.next_en if lang == "en" else info.next_zh)
                      for c in now.missing for info in (BY_ID[c.id],))
        more.append(Table("next-steps", tuple(t(f"report.col.{c}", lang) for c in (
            "criterion", "value", "threshold", "action")), steps,
            caption=t("report.next.caption", lang).format(stage=stage_label(now.stage + 1, lang))))
    if stages.moved:
        more.append(Table("stage-moves", tuple(t(f"report.col.{c}", lang) for c in (
            "unit", "stage_before", "stage_now")), tuple(
            (ctx.names.get(b.unit, b.unit), stage_label(b.stage, lang), stage_label(a.stage, lang))
            for b, a in stages.moved), caption=t("report.moves.caption", lang)))
    return ladder, more


def _risk_table(ctx: _Ctx, risk) -> Table:
    lang = ctx.lang
    order = {c.code: n for n, c in enumerate(cores(ctx.session))}
    core_names = {c.code: name(c, lang) for c in cores(ctx.session)}
    rows = []
    for r in sorted(risk.to_dict("records"),
                    key=lambda r: (r["core"] is None, order.get(r["core"], 99), r["core"] or "")):
        label = t("report.total", lang) if r["core"] is None else core_names.get(r["core"],
                                                                                 r["core"])
        rows.append((label, *(str(r[k]) for k in ("opened", "closed", "closed_on_time",
                                                  "open_at_end", "overdue_at_end"))))
    return Table("risk-counts", tuple(t(f"report.col.{c}", lang) for c in (
        "core", "opened", "closed", "closed_on_time", "open_at_end", "overdue_at_end")), tuple(rows))


def _risk_section(ctx: _Ctx, counts: Table) -> Section:
    lang = ctx.lang
    at_end = dt.datetime.combine(ctx.r.end + dt.timedelta(days=1), dt.time())
    listed = events(ctx.session, ctx.unit, at_end, start=ctx.r.start, end=ctx.r.end,
                    scope=ctx.scope)
    # one row per incident: its highest unit's event, with how many units it affects
    listed = by_incident(listed).sort_values(["overdue", "date"], ascending=[False, False]
                                             ).head(EVENTS_SHOWN)
    rows = tuple((r["rule_en"] if lang == "en" else r["rule_zh"],
                  r["unit_en"] if lang == "en" else r["unit_zh"], str(int(r["units"])),
                  f"{r['date']:%Y-%m-%d}", t(f"risk.sev.{r['severity']}", lang),
                  t(f"risk.state.{r['state']}", lang), f"{r['deadline']:%Y-%m-%d}",
                  t("report.yes" if r["overdue"] else "report.no", lang))
                 for r in listed.to_dict("records"))
    table = Table("risk-events", tuple(t(f"report.col.{c}", lang) for c in (
        "rule", "unit", "units", "first_day", "severity", "state", "deadline", "overdue")), rows,
        caption=t("report.events.caption", lang).format(n=EVENTS_SHOWN))
    return Section("risk", t("report.risk", lang), (t("report.risk.about", lang),),
                   (counts, table) if rows else (counts,))


def _quality_table(ctx: _Ctx, quality: dict, late) -> Table:
    lang = ctx.lang
    rows = ((BY_ID["data_completeness"].name_en if lang == "en" else
             BY_ID["data_completeness"].name_zh, pct(quality.get("data_completeness"))),
            (BY_ID["data_timeliness"].name_en if lang == "en" else BY_ID["data_timeliness"].name_zh,
             pct(quality.get("data_timeliness"))),
            (BY_ID["carriers_active"].name_en if lang == "en" else BY_ID["carriers_active"].name_zh,
             number(quality.get("carriers_active"), "count", lang)),
            (t("report.late_outlets", lang), str(len(late))))
    return Table("quality", (t("report.col.measure", lang), t("report.col.value", lang)), rows)


def _quality_children(ctx: _Ctx) -> list[Table]:
    lang = ctx.lang
    if not ctx.kids:
        return []
    rows = []
    for kid in ctx.kids:
        q = monthly_quality(ctx.session, kid, ctx.r.start, ctx.r.end, ctx.scope).get(ctx.r.start, {})
        rows.append((name(kid, lang), pct(q.get("data_completeness")),
                     pct(q.get("data_timeliness")), number(q.get("carriers_active"), "count", lang)))
    return [Table("quality-children", (t("report.col.unit", lang),
                                       *(BY_ID[c].name_en if lang == "en" else BY_ID[c].name_zh
                                         for c in ("data_completeness", "data_timeliness",
                                                   "carriers_active"))), tuple(rows))]


def _late_table(ctx: _Ctx, late) -> Table:
    lang = ctx.lang
    rows = tuple((r["name_en"] if lang == "en" else r["name_zh"], str(r["expected"]),
                  str(r["loaded"]), str(r["late"]), str(r["missing"]))
                 for r in late.head(LATE_SHOWN).to_dict("records"))
    return Table("late-outlets", tuple(t(f"report.col.{c}", lang) for c in (
        "outlet", "days", "loaded", "late", "missing")), rows,
        caption=t("report.late.caption", lang).format(n=LATE_SHOWN) if rows
        else t("report.late.none", lang))


def _definitions(ctx: _Ctx) -> Section:
    lang = ctx.lang
    core_names = {c.code: name(c, lang) for c in cores(ctx.session)}
    rows = tuple((name(k, lang), core_names.get(k.core, k.core),
                  k.formula_en if lang == "en" else k.formula_zh,
                  t(f"report.kind.{k.kind}", lang),
                  t(f"report.better.{k.better}", lang)) for k in KPIS)
    table = Table("definitions", tuple(t(f"report.col.{c}", lang) for c in (
        "kpi", "core", "formula", "kind", "better")), rows)
    return Section("definitions", t("report.definitions", lang),
                   tuple(t(f"report.define.{d}", lang) for d in (
                       "attainment", "status", "change", "matrix", "stage", "month")), (table,))
