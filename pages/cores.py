"""Operating cores: one core at a time, its KPIs with targets, across carriers and over time."""

from __future__ import annotations

import dash
import dash_mantine_components as dmc
from dash import ALL, Input, Output, State, callback, dcc

from components.cards import kpi_card
from components.charts import graph_config, one_trend, safe
from components.i18n import name, t
from components.theme import CORE_COLOURS
from components.view_state import update
from metrics.registry import CORES, for_core
from metrics.views import cores_view
from pages._common import PageContext, frame, kpi_carrier_table, page_context, partly_loaded_days, unit_names
from pages._marks import fired_click, open_marked_event

dash.register_page(__name__, path="/cores", name="Cores", title="运营核心 Operating cores")

PATH = "/cores"


def layout(**query: str):
    """Render one operating core of the unit in the URL."""
    ctx = page_context(query, PATH)
    if not isinstance(ctx, PageContext):
        return ctx
    v = ctx.view
    core = v.core if v.core in CORES else CORES[0]
    kpis = for_core(core)
    carriers = list(v.carriers) or None
    picker = dmc.SegmentedControl(
        id="cores-core", value=core, mb="sm",
        data=[{"value": c.code, "label": name(c, ctx.lang)} for c in ctx.cores])
    view = cores_view(ctx.session, [k.id for k in kpis], ctx.unit, v.start, v.end, carriers,
                      ctx.scope, ctx.bands)
    heads = view.headline
    names = unit_names(ctx.session, [h["target"].set_at for h in heads if h["target"]], ctx.lang)
    cards = [kpi_card(h["kpi"], h["row"], h["comparison"], h["target"], h["attainment"],
                      h["status"], h["spark"], ctx.loaded, ctx.lang, v.compare, names)
             for h in heads]
    table = kpi_carrier_table(ctx, "cores-table", kpis, view.by_carrier, ctx.carriers)
    trend = view.trend
    partial = partly_loaded_days(ctx, view.grain)
    marks = view.marks
    graphs = [dmc.Paper([dmc.Text(name(k, ctx.lang), fw=600, size="sm"),
                         dcc.Graph(id={"type": "cores-trend", "kpi": k.id}, figure=safe(
                             one_trend, trend[trend["kpi"] == k.id], k, ctx.lang, name(k, ctx.lang),
                             CORE_COLOURS[core], partial=None if k.monthly else partial,
                             marks=marks[marks["kpi"] == k.id], lang=ctx.lang),
                             config=graph_config(ctx.lang))],
                        p="sm", withBorder=True, radius="md") for k in kpis]
    body = [
        picker,
        dmc.SimpleGrid(cards, cols={"base": 1, "sm": 2, "md": 3, "xl": 6}, spacing="sm"),
        dmc.Paper([dmc.Text(t("cores.by_carrier", ctx.lang), fw=600), table], p="sm",
                  withBorder=True, radius="md", mt="md"),
        dmc.Text(t("cores.trend", ctx.lang), fw=600, mt="md", mb="xs"),
        dmc.SimpleGrid(graphs, cols={"base": 1, "md": 2, "xl": 3}, spacing="sm"),
    ]
    return frame(ctx, PATH, "nav.cores", body)


@callback(Output("_pages_location", "search", allow_duplicate=True),
          Input("cores-core", "value"), State("_pages_location", "search"),
          prevent_initial_call=True)
def choose_core(core, search):
    """Show another core."""
    return update(search, core=core)


@callback(Output("_pages_location", "pathname", allow_duplicate=True),
          Output("_pages_location", "search", allow_duplicate=True),
          Input({"type": "cores-trend", "kpi": ALL}, "clickData"),
          State("_pages_location", "search"), prevent_initial_call=True)
def open_event(_clicks, search):
    """Open the risk event of the clicked mark on a trend."""
    return open_marked_event(fired_click(), search, PATH)
