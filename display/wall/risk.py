"""The risk view on a wall: open and overdue incidents as big numbers with the units they affect
(the alarm colour when any is overdue) and the open incidents, overdue first, a page at a time."""

from __future__ import annotations

import datetime as dt

from dash import html

from components.i18n import t
from display.wall.base import (
    ROWS_PER_PAGE,
    WallContext,
    big_number,
    page_marker,
    page_sizes,
    pager,
    panel,
    wall,
)
from metrics.views import risk_view

MAX_PAGES = 4  # open events beyond these pages are counted, not listed


def risk_wall(ctx: WallContext):
    """The risk view of the context's unit, drawn for a wall."""
    v = ctx.view.state
    view = risk_view(ctx.session, ctx.unit, v.start, v.end, ctx.now, ctx.view.scope)
    # one row per incident (its highest unit's event), counted as incidents and units affected
    open_ = view.open_incidents.sort_values(["overdue", "deadline"], ascending=[False, True],
                                            kind="stable")
    counts = view.counts
    overdue = counts["overdue"]["incidents"]

    def units(key: str) -> str:
        return t("risk.units_affected", ctx.lang).format(n=f"{counts[key]['units']:,}")

    side = html.Div([
        big_number(t("wall.risk_overdue", ctx.lang), f"{overdue:,}", alarm=overdue > 0,
                   value_id="wall-overdue", note=units("overdue")),
        big_number(t("wall.risk_open", ctx.lang), f"{counts['open']['incidents']:,}",
                   value_id="wall-open", note=units("open")),
        big_number(t("wall.events_period", ctx.lang), f"{counts['listed']['incidents']:,}",
                   value_id="wall-listed", note=units("listed")),
    ], className="wall-col wall-side")
    shown = list(open_.head(ROWS_PER_PAGE * MAX_PAGES).itertuples())
    rows = [_row(e, ctx.now, ctx.lang) for e in shown]
    title = t("wall.open_list", ctx.lang)
    if len(shown) < len(open_):
        title += f" · {len(shown)}/{len(open_)}"
    listing = panel(title, page_marker(len(page_sizes(len(rows))), t("wall.page", ctx.lang)),
                    pager(rows, ctx.dwell_seconds, "wall-events") if rows else
                    html.Div(t("wall.none_open", ctx.lang), className="wall-empty"),
                    grow=3, alarm=overdue > 0)
    return wall(html.Div([side, listing], className="wall-row wall-fill"), name="risk")


def _row(e, now: dt.datetime, lang: str) -> html.Div:
    """One open incident (its highest unit's event): unit (and how many units it affects), rule,
    severity and state, and how long overdue (or until due)."""
    due = _due(abs(now - e.deadline).total_seconds() / 3600, e.overdue, lang)
    return html.Div([
        html.Div((e.unit_en if lang == "en" else e.unit_zh)
                 + (f" · {t('risk.units_affected', lang).format(n=e.units)}" if e.units > 1
                    else ""), className="wall-cell wall-c-name"),
        html.Div(e.rule_en if lang == "en" else e.rule_zh, className="wall-cell wall-c-rule"),
        html.Div(f"{t(f'risk.sev.{e.severity}', lang)} · {t(f'risk.state.{e.state}', lang)}",
                 className="wall-cell wall-c-state"),
        html.Div(due, className="wall-cell wall-c-due"),
    ], className="wall-event-row" + (" wall-overdue" if e.overdue else ""),
        id={"type": "wall-event", "event": int(e.id)})


def _due(hours: float, overdue: bool, lang: str) -> str:
    """"超期 5 小时" / "超期 12 天" (days from two days on) / "3 小时后到期"."""
    if hours >= 48:
        days = t("wall.overdue_days" if overdue else "wall.due_days", lang)
        return days.format(n=f"{hours / 24:,.0f}")
    return t("wall.overdue_hours" if overdue else "wall.due_hours", lang).format(n=f"{hours:,.0f}")
