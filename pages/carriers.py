"""Carriers: KPIs per carrier side by side, the carrier mix, online substitution and traffic
over time."""

from __future__ import annotations

import dash
import dash_mantine_components as dmc
from dash import Input, Output, State, callback, dcc

from components.charts import carrier_mix_figure, graph_config, one_trend, safe, trend_lines
from components.i18n import name, t
from metrics.registry import REGISTRY
from metrics.views import carriers_view
from pages._common import PageContext, frame, kpi_carrier_table, page_context
from pages._marks import fired_click, open_marked_event

dash.register_page(__name__, path="/carriers", name="Carriers", title="载体 Carriers")

PATH = "/carriers"


def layout(**query: str):
    """Render the carrier view of the unit in the URL."""
    ctx = page_context(query, PATH)
    if not isinstance(ctx, PageContext):
        return ctx
    v = ctx.view
    wanted = set(v.carriers) or {c.code for c in ctx.carriers}
    shown = [c for c in ctx.carriers if c.code in wanted]
    view = carriers_view(ctx.session, ctx.unit, v.start, v.end, [c.code for c in shown], ctx.scope)
    table = kpi_carrier_table(ctx, "carriers-table", view.kpis, view.by_carrier, shown)
    names = {c.code: name(c, ctx.lang) for c in ctx.carriers}
    config = graph_config(ctx.lang, displayModeBar="hover")
    marks = view.marks
    body = [
        dmc.Paper([dmc.Text(t("carriers.table", ctx.lang), fw=600), table], p="sm",
                  withBorder=True, radius="md"),
        dmc.Grid([
            dmc.GridCol(dmc.Paper([dmc.Text(t("carriers.mix", ctx.lang), fw=600),
                                   dcc.Graph(id="carriers-mix",
                                             figure=safe(carrier_mix_figure, view.mix, ctx.lang, names,
                                                         name(REGISTRY["transactions"], ctx.lang),
                                                         lang=ctx.lang), config=config)],
                                  p="sm", withBorder=True, radius="md"), span={"base": 12, "lg": 6}),
            dmc.GridCol(dmc.Paper([dmc.Text(t("carriers.substitution", ctx.lang), fw=600),
                                   dcc.Graph(id="carriers-substitution", figure=safe(
                                       one_trend, view.substitution, REGISTRY["online_substitution"],
                                       ctx.lang, t("carriers.substitution", ctx.lang), "#0072B2",
                                       marks=marks[marks["kpi"] == "online_substitution"],
                                       lang=ctx.lang), config=config)],
                                  p="sm", withBorder=True, radius="md"), span={"base": 12, "lg": 6}),
        ], mt="sm"),
        dmc.Paper([dmc.Text(t("carriers.trend", ctx.lang), fw=600),
                   dcc.Graph(id="carriers-trend", figure=safe(
                       trend_lines, view.trend, "carrier", REGISTRY["transactions"], ctx.lang,
                       labels=names, marks=marks[marks["kpi"] == "transactions"], lang=ctx.lang),
                             config=config)],
                  p="sm", withBorder=True, radius="md", mt="sm"),
    ]
    return frame(ctx, PATH, "nav.carriers", body)


@callback(Output("_pages_location", "pathname", allow_duplicate=True),
          Output("_pages_location", "search", allow_duplicate=True),
          Input("carriers-substitution", "clickData"), Input("carriers-trend", "clickData"),
          State("_pages_location", "search"), prevent_initial_call=True)
def open_event(_substitution, _trend, search):
    """Open the risk event of the clicked mark on a trend."""
    return open_marked_event(fired_click(), search, PATH)
