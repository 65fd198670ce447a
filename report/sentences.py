"""The report's sentences: message templates (components/i18n.py) filled with figures from
`metrics/`, each written by `components.format` exactly as the tables write it, so a sentence never
states a number that a table of the report does not show. Rates change in percentage points,
volumes in percent; a figure without data is said to have none, never written as 0."""

from __future__ import annotations

from components.format import change, number, pct
from components.i18n import name, t
from data.rubric import BY_ID, STAGES, stage_label
from metrics.registry import REGISTRY, Kpi


def _joined(lang: str, items: list[str]) -> str:
    return ("；" if lang != "en" else "; ").join(items)


# Against what a change is told: (no data, level, up or down) messages.
AGAINST = {"previous": ("report.s.none_previous", "report.s.flat_previous", "report.s.vs_previous"),
           "year": ("report.s.none_year", "report.s.flat_year", "report.s.vs_year")}


def _moved(lang: str, kpi: Kpi, abs_change, rel_change, which: str) -> str:
    """'较上月提高 0.3 个百分点' / 'up 0.3 pp on last month'; level or no data said in words."""
    none, flat, moved = AGAINST[which]
    if abs_change is None or (kpi.unit != "%" and rel_change is None):
        return t(none, lang)
    amount = change(abs(abs_change), kpi.unit, None if rel_change is None else abs(rel_change),
                    lang).lstrip("+")
    if amount.startswith("0.0"):
        return t(flat, lang)
    direction = t("report.s.up" if abs_change > 0 else "report.s.down", lang)
    return t(moved, lang).format(dir=direction, amount=amount)


def headline(lang: str, kpis: list[Kpi], by_kpi: dict) -> list[str]:
    """One sentence per headline KPI: its value, against target, last month and last year."""
    out = []
    for kpi in kpis:
        f = by_kpi[kpi.id]
        if f["value"] is None:
            out.append(t("report.s.no_value", lang).format(kpi=name(kpi, lang)))
            continue
        target = (t("report.s.target", lang).format(att=pct(f["attainment"]))
                  if f["attainment"] is not None else t("report.s.no_target", lang))
        out.append(t("report.s.kpi", lang).format(
            kpi=name(kpi, lang), value=number(f["value"], kpi.unit, lang), target=target,
            previous=_moved(lang, kpi, f["previous_change"], f["previous_change_pct"], "previous"),
            year=_moved(lang, kpi, f["last_year_change"], f["last_year_change_pct"], "year")))
    return out


def movers(lang: str, frame, names: dict[str, str], shown: int) -> list[str]:
    """The KPIs that improved and declined most since last month, and where (by child)."""
    rows = frame.to_dict("records")
    if not rows:
        return [t("report.s.no_movers", lang)]
    out = []
    for key, chosen in (("report.s.improved", [r for r in rows if r["improvement"] > 0][:shown]),
                        ("report.s.declined",
                         [r for r in reversed(rows) if r["improvement"] < 0][:shown])):
        if not chosen:
            continue
        items = []
        for r in chosen:
            kpi = REGISTRY[r["kpi"]]
            moved = change(r["change"], kpi.unit, r["change_pct"], lang)
            if r["child"]:
                items.append(t("report.s.mover_at", lang).format(
                    kpi=name(kpi, lang), change=moved, child=names.get(r["child"], r["child"]),
                    child_change=change(r["child_change"], kpi.unit, r["child_change_pct"], lang)))
            else:
                items.append(t("report.s.mover", lang).format(kpi=name(kpi, lang), change=moved))
        out.append(t(key, lang).format(items=_joined(lang, items)))
    return out


def stage(lang: str, stages, names: dict[str, str]) -> list[str]:
    """The unit's stage this month and last, what the next stage needs, the children that moved."""
    now = stages.now
    before = stages.history[0] if len(stages.history) > 1 else None
    if before is None or not before.has_data:
        out = [t("report.s.stage_only", lang).format(now=stage_label(now.stage, lang))]
    elif before.stage == now.stage:
        out = [t("report.s.stage_same", lang).format(now=stage_label(now.stage, lang))]
    else:
        out = [t("report.s.stage", lang).format(now=stage_label(now.stage, lang),
                                                before=stage_label(before.stage, lang))]
    if now.stage >= max(STAGES):
        out.append(t("report.s.top", lang))
    else:
        needs = []
        for c in now.missing:
            info = BY_ID[c.id]
            unit = "%" if info.unit == "%" else "count"
            needs.append(t("report.s.need", lang).format(
                criterion=info.name_en if lang == "en" else info.name_zh,
                value=number(c.value, unit, lang), threshold=number(c.threshold, unit, lang)))
        out.append(t("report.s.next", lang).format(next=stage_label(now.stage + 1, lang),
                                                   criteria=_joined(lang, needs)))
    if stages.moved:
        items = [t("report.s.moved_item", lang).format(
            unit=names.get(b.unit, b.unit), before=stage_label(b.stage, lang), now=stage_label(a.stage, lang))
            for b, a in stages.moved]
        out.append(t("report.s.moved", lang).format(items=_joined(lang, items)))
    return out


def risk(lang: str, counts) -> list[str]:
    """Risk events opened, closed (on time) and still open (overdue) at the month's end."""
    total = next(r for r in counts.to_dict("records") if r["core"] is None)
    return [t("report.s.risk", lang).format(
        opened=int(total["opened"]), closed=int(total["closed"]),
        on_time=int(total["closed_on_time"]), open=int(total["open_at_end"]),
        overdue=int(total["overdue_at_end"]))]


def quality(lang: str, figures: dict, late: int) -> list[str]:
    """Data completeness and timeliness of the month, and how many outlets were late or missing."""
    return [t("report.s.quality", lang).format(
        completeness=pct(figures.get("data_completeness")),
        timeliness=pct(figures.get("data_timeliness")), late=late)]
