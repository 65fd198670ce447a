"""Regions: the unit's children ranked on a KPI, a league table against targets, the distribution.
At an outlet (no children) the same KPI is shown by carrier and by day."""

from __future__ import annotations

import dash
import dash_mantine_components as dmc
from dash import Input, Output, State, callback, dcc, no_update

from components.charts import distribution, graph_config, one_trend, ranking_bars, safe
from components.filters import kpi_picker
from components.format import change as fmt_change
from components.format import number, pct
from components.i18n import name, t
from components.tables import grid
from components.view_state import update
from metrics.registry import REGISTRY
from metrics.views import REGIONS_DEFAULT_KPI, regions_view
from pages._common import PageContext, explain_text, frame, page_context
from pages._marks import open_marked_event

dash.register_page(__name__, path="/regions", name="Regions", title="区域 Regions")

PATH = "/regions"
DEFAULT_KPI = REGIONS_DEFAULT_KPI


def layout(**query: str):
    """Render the regional view of the unit in the URL."""
    ctx = page_context(query, PATH)
    if not isinstance(ctx, PageContext):
        return ctx
    v = ctx.view
    kpi = REGISTRY.get(v.kpi or DEFAULT_KPI) or REGISTRY[DEFAULT_KPI]
    picker = kpi_picker("regions", kpi.id, ctx.lang, t("regions.kpi", ctx.lang))
    carriers = list(v.carriers) or None
    view = regions_view(ctx.session, kpi.id, ctx.unit, bool(ctx.children), v.start, v.end,
                        carriers, ctx.scope, ctx.bands, v.compare)
    if view.league is None:
        assert view.by_day is not None and view.by_carrier is not None
        rows = [{"carrier": next((name(c, ctx.lang) for c in ctx.carriers if c.code == r.carrier),
                                 r.carrier), "value": number(r.value, kpi.unit, ctx.lang)}
                for r in view.by_carrier.itertuples()]
        body = [picker, dmc.Alert(t("regions.outlet", ctx.lang), color="gray", my="sm"),
                dmc.Grid([
                    dmc.GridCol(_grid("regions-carriers", rows, [
                        ("carrier", "col.carrier"), ("value", "col.value")], ctx.lang),
                        span={"base": 12, "md": 4}),
                    dmc.GridCol(dcc.Graph(id="regions-trend", figure=safe(
                        one_trend, view.by_day, kpi, ctx.lang, name(kpi, ctx.lang),
                        marks=view.marks, lang=ctx.lang), config=graph_config(ctx.lang)),
                                span={"base": 12, "md": 8}),
                ])]
        return frame(ctx, PATH, "nav.regions", body)

    table = view.league
    rows = [{"rank": r["rank"], "unit": r["unit"], "name": r["name_en" if ctx.lang == "en" else
                                                              "name_zh"],
             "value": number(r["value"], kpi.unit, ctx.lang),
             "target": number(r["target"], kpi.unit, ctx.lang),
             "attainment": pct(r["attainment"]),
             "change": fmt_change(r["change"], kpi.unit, r["change_pct"], ctx.lang),
             "tip": explain_text(ctx, kpi, r["numerator"], r["denominator"]),
             "status": t(f"status.{r['status']}", ctx.lang) if r["status"] else "-"}
            for r in table.to_dict("records")]
    body = [
        dmc.Group([picker, dmc.Text(t("regions.click", ctx.lang), size="xs", c="dimmed",
                                     className="hint")],
                  align="flex-end"),
        dmc.Grid([
            dmc.GridCol(dmc.Paper([dmc.Text(t("regions.ranking", ctx.lang), fw=600),
                                   dcc.Graph(id="regions-ranking",
                                             figure=safe(ranking_bars, table, kpi, ctx.lang, lang=ctx.lang),
                                             config=graph_config(ctx.lang))],
                                  p="sm", withBorder=True, radius="md"),
                        span={"base": 12, "xl": 6}),
            dmc.GridCol(dmc.Paper([dmc.Text(t("regions.league", ctx.lang), fw=600),
                                   _grid("regions-league", rows, [
                                       ("rank", "col.rank"), ("name", "col.unit"),
                                       ("value", "col.value"), ("target", "col.target"),
                                       ("attainment", "col.attainment"),
                                       ("change", f"card.vs_{v.compare}"),
                                       ("status", "col.status")], ctx.lang, row_id="unit")],
                                  p="sm", withBorder=True, radius="md"),
                        span={"base": 12, "xl": 6}),
        ], mt="sm"),
        dmc.Paper([dmc.Text(t("regions.distribution", ctx.lang), fw=600),
                   dcc.Graph(figure=safe(distribution, table["value"].astype(float), kpi, ctx.lang,
                                                  lang=ctx.lang),
                             config=graph_config(ctx.lang))],
                  p="sm", withBorder=True, radius="md", mt="sm"),
    ]
    return frame(ctx, PATH, "nav.regions", body)


def _grid(name: str, rows: list[dict], columns: list[tuple[str, str]], lang: str,
          row_id: str | None = None):
    defs = [{"field": f, "headerName": t(k, lang), **({"minWidth": 150} if f == "name" else {}),
             **({"tooltipField": "tip"} if f == "value" else {})} for f, k in columns]
    return grid(name, rows, defs, lang, row_id)



@callback(Output("_pages_location", "search", allow_duplicate=True),
          Input("regions-ranking", "clickData"),
          Input({"type": "csv-grid", "name": "regions-league"}, "cellClicked"),
          State("_pages_location", "search"), prevent_initial_call=True)
def drill(click, cell, search):
    """Drill down to the clicked child unit (bar or league-table row)."""
    code = None
    if dash.ctx.triggered_id == "regions-ranking" and click and click.get("points"):
        code = click["points"][0]["customdata"]
    elif cell:
        code = cell.get("rowId")
    return update(search, unit=code) if code else no_update


@callback(Output("_pages_location", "pathname", allow_duplicate=True),
          Output("_pages_location", "search", allow_duplicate=True),
          Input("regions-trend", "clickData"), State("_pages_location", "search"),
          prevent_initial_call=True)
def open_event(click, search):
    """Open the risk event of the clicked mark on the outlet's trend."""
    return open_marked_event(click, search, PATH)
