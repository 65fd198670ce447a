"""The regions view on a wall: the children ranked on one KPI, a page of rows at a time (every
child is shown while the view is on screen), with the unit's own value and how many children are
on, near and below target. At an outlet (no children) the KPI by carrier."""

from __future__ import annotations

from dash import html

from components.format import NO_DATA, number, pct
from components.i18n import name, t
from components.theme import STATUS_COLOURS
from data.catalog import carriers
from display.wall.base import WallContext, big_number, page_marker, page_sizes, pager, panel, wall
from metrics.attainment import status_counts
from metrics.compute import compute
from metrics.registry import REGISTRY
from metrics.views import REGIONS_DEFAULT_KPI, regions_view


def regions_wall(ctx: WallContext):
    """The regions view of the context's unit, drawn for a wall."""
    v = ctx.view.state
    kpi = REGISTRY.get(v.kpi or REGIONS_DEFAULT_KPI) or REGISTRY[REGIONS_DEFAULT_KPI]
    shown = list(v.carriers) or None
    view = regions_view(ctx.session, kpi.id, ctx.unit, bool(ctx.children), v.start, v.end, shown,
                        ctx.view.scope, ctx.bands, v.compare)
    own = compute(ctx.session, [kpi.id], ctx.unit, v.start, v.end, shown, scope=ctx.view.scope)
    own_value = own["value"][0] if len(own) else None
    title = t("wall.kpi", ctx.lang).format(kpi=name(kpi, ctx.lang))
    unit_tile = big_number(f"{t('wall.unit_value', ctx.lang)} · {name(ctx.unit, ctx.lang)}",
                           number(own_value, kpi.unit, ctx.lang), value_id="wall-unit-value")
    if view.league is None:  # an outlet: the KPI by carrier
        assert view.by_carrier is not None
        values = {r.carrier: r.value for r in view.by_carrier.itertuples()}
        tiles = [big_number(name(c, ctx.lang), number(values.get(c.code), kpi.unit, ctx.lang),
                            value_id={"type": "wall-carrier", "carrier": c.code})
                 for c in carriers(ctx.session) if c.code in values]
        return wall(html.Div([html.Div(title, className="wall-heading"), unit_tile],
                             className="wall-col wall-side"),
                    panel(t("wall.by_carrier", ctx.lang),
                          html.Div(tiles, className="wall-tiles wall-tiles-3")),
                    name="regions")
    league = view.league.to_dict("records")
    counts = status_counts(r["status"] for r in league)
    side = html.Div([
        html.Div(title, className="wall-heading", id="wall-kpi"),
        unit_tile,
        *[big_number(t(f"status.{s}", ctx.lang), str(n), status=s, value_id=f"wall-count-{s}")
          for s, n in counts.items()],
    ], className="wall-col wall-side")
    best = max((abs(float(r["value"])) for r in league if r["value"] is not None), default=0.0)
    rows = [_row(r, kpi, best, ctx.lang) for r in league]
    pages = len(page_sizes(len(rows)))
    ranking = panel(t("wall.ranking", ctx.lang).format(n=len(rows)),
                    page_marker(pages, t("wall.page", ctx.lang)),
                    _head(ctx.lang),
                    pager(rows, ctx.dwell_seconds, "wall-ranking") if rows else
                    html.Div(t("wall.no_children", ctx.lang), className="wall-empty"),
                    grow=3)
    return wall(html.Div([side, ranking], className="wall-row wall-fill"), name="regions")


def _head(lang: str) -> html.Div:
    return html.Div([html.Div(t(k, lang) if k else "", className=f"wall-cell wall-c-{c}")
                     for c, k in (
        ("rank", "col.rank"), ("name", "col.unit"), ("bar", None), ("value", "col.value"),
        ("target", "col.target"), ("att", "col.attainment"))], className="wall-rank-row wall-head")


def _row(r: dict, kpi, best: float, lang: str) -> html.Div:
    """One ranked child: rank, name, a bar of its value, the value, target and attainment,
    coloured by its status."""
    colour = STATUS_COLOURS.get(r["status"]) if r["status"] in ("green", "amber", "red") else None
    width = 0.0 if r["value"] is None or not best else 100 * abs(float(r["value"])) / best
    return html.Div([
        html.Div(str(r["rank"]) if r["rank"] is not None else NO_DATA,
                 className="wall-cell wall-c-rank"),
        html.Div(r["name_en" if lang == "en" else "name_zh"], className="wall-cell wall-c-name"),
        html.Div(html.Div(className="wall-bar-fill",
                          style={"width": f"{width:.1f}%", "background": colour or "#868E96"}),
                 className="wall-cell wall-c-bar"),
        html.Div(number(r["value"], kpi.unit, lang), className="wall-cell wall-c-value",
                 style={"color": colour} if colour else None),
        html.Div(number(r["target"], kpi.unit, lang), className="wall-cell wall-c-target"),
        html.Div(pct(r["attainment"]), className="wall-cell wall-c-att"),
    ], className="wall-rank-row", id={"type": "wall-rank", "unit": r["unit"]})
