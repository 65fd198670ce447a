"""The stages view on a wall: the unit's stage as a big number, every criterion against its
threshold (met, not met, unknown), and its children by stage, a page at a time."""

from __future__ import annotations

from dash import html

from components.format import number
from components.i18n import name, t
from data.clock import month_start
from data.rubric import BY_ID, TOP_STAGE, stage_label
from display.wall.base import WallContext, big_number, page_marker, page_sizes, pager, panel, wall
from metrics.views import stages_view

MARK = {True: ("✓", "#69DB7C"), False: ("✗", "#FF922B"), None: ("?", "#868E96")}


def stages_wall(ctx: WallContext):
    """The stages view of the context's unit (the month its period ends in), drawn for a wall."""
    month = month_start(ctx.view.state.end)
    # the desktop page's view with one month of history: the same assessments of this month
    view = stages_view(ctx.session, ctx.unit, month, month, ctx.view.state.end, ctx.view.scope)
    now = view.now
    side = html.Div([
        html.Div(f"{month:%Y-%m}", className="wall-heading"),
        big_number(t("overview.stage", ctx.lang), stage_label(now.stage, ctx.lang),
                   value_id="wall-stage",
                   note=t("wall.stage_top", ctx.lang) if now.stage >= TOP_STAGE else
                   t("wall.stage_missing", ctx.lang).format(stage=now.stage + 1,
                                                            n=len(now.missing))),
    ], className="wall-col wall-side")
    criteria = [_criterion(c, ctx.lang) for c in sorted(now.criteria, key=lambda c: -c.stage)]
    parts = [side, panel(t("wall.criteria", ctx.lang), pager(criteria, ctx.dwell_seconds,
                                                               "wall-criteria", per_page=12),
                         grow=3, extra="wall-criteria")]
    if view.children:
        kids = {u.code: u for u in ctx.children}
        rows = [_child(a, kids.get(a.unit), ctx.lang)
                for a in sorted(view.children, key=lambda a: (-a.stage, a.unit))]
        parts.append(panel(t("wall.ranking", ctx.lang).format(n=len(rows)),
                           page_marker(len(page_sizes(len(rows))), t("wall.page", ctx.lang)),
                           pager(rows, ctx.dwell_seconds, "wall-stage-children"), grow=2))
    return wall(html.Div(parts, className="wall-row wall-fill"), name="stages")


def _criterion(c, lang: str) -> html.Div:
    """One criterion: met or not, its name, the value against the threshold."""
    info = BY_ID[c.id]
    unit = "%" if info.unit == "%" else "count"
    mark, colour = MARK[c.met]
    return html.Div([
        html.Div(f"{mark} {c.stage}", className="wall-cell wall-c-rank", style={"color": colour}),
        html.Div(info.name_en if lang == "en" else info.name_zh, className="wall-cell wall-c-name"),
        html.Div(number(c.value, unit, lang), className="wall-cell wall-c-value",
                 style={"color": colour}),
        html.Div(number(c.threshold, unit, lang), className="wall-cell wall-c-target"),
    ], className="wall-crit-row", id={"type": "wall-criterion", "id": c.id})


def _child(a, unit, lang: str) -> html.Div:
    """One child unit and its stage."""
    return html.Div([
        html.Div(name(unit, lang) if unit is not None else a.unit, className="wall-cell wall-c-name"),
        html.Div(stage_label(a.stage, lang), className="wall-cell wall-c-state"),
    ], className="wall-stage-row", id={"type": "wall-stage", "unit": a.unit})
