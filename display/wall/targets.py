"""The targets view (indicator control) on a wall: every KPI against its target for each child,
as how many KPIs each child has on, near and below target, children ranked, a page at a time."""

from __future__ import annotations

from dash import html

from components.i18n import name, t
from components.theme import STATUS_COLOURS
from display.wall.base import (
    WallContext,
    big_number,
    page_marker,
    page_sizes,
    pager,
    panel,
    wall,
)
from metrics.attainment import STATUSES, on_target_by_child, status_counts
from metrics.registry import REGISTRY
from metrics.views import targets_view


def targets_wall(ctx: WallContext):
    """The targets view of the context's unit, drawn for a wall."""
    v = ctx.view.state
    kpi = REGISTRY.get(v.kpi or "") or REGISTRY["online_substitution"]
    view = targets_view(ctx.session, ctx.unit, [ctx.unit, *ctx.children], kpi.id, v.end.year,
                        v.start, v.end, ctx.view.scope, ctx.bands)
    if view.attainment is None:  # an outlet: no children to hold to targets
        return wall(html.Div(t("wall.no_children", ctx.lang), className="wall-empty"),
                    name="targets")
    totals = status_counts(view.attainment["status"])
    side = html.Div([big_number(t(f"status.{s}", ctx.lang), f"{n:,}", status=s,
                                value_id=f"wall-count-{s}") for s, n in totals.items()],
                    className="wall-col wall-side")
    kids = {u.code: u for u in ctx.children}
    league = on_target_by_child(view.attainment)
    rows = [_row(r, kids.get(r["unit"]), ctx.lang) for r in league.to_dict("records")]
    ranking = panel(t("wall.on_target", ctx.lang).format(n=len(rows)),
                    page_marker(len(page_sizes(len(rows))), t("wall.page", ctx.lang)),
                    pager(rows, ctx.dwell_seconds, "wall-targets"), grow=3)
    return wall(html.Div([side, ranking], className="wall-row wall-fill"), name="targets")


def _row(r: dict, unit, lang: str) -> html.Div:
    """One child: rank, name, and its KPIs on, near and below target as a bar and as counts."""
    scored = sum(r[s] for s in STATUSES) or 1
    return html.Div([
        html.Div(str(r["rank"]), className="wall-cell wall-c-rank"),
        html.Div(name(unit, lang) if unit is not None else r["unit"],
                 className="wall-cell wall-c-name"),
        html.Div([html.Div(style={"width": f"{100 * r[s] / scored:.1f}%",
                                  "background": STATUS_COLOURS[s]}, className="wall-seg")
                  for s in STATUSES], className="wall-cell wall-c-bar wall-segs"),
        *[html.Div(str(r[s]), className="wall-cell wall-c-target",
                   style={"color": STATUS_COLOURS[s]}) for s in STATUSES],
    ], className="wall-rank-row", id={"type": "wall-targets", "unit": r["unit"]})
