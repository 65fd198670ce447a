"""Carriers: KPIs per carrier side by side, the carrier mix, online substitution and traffic
over time."""

from __future__ import annotations

import dash
import dash_mantine_components as dmc
from dash import dcc

from components.charts import carrier_mix_figure, graph_config, one_trend, safe, trend_lines
from components.i18n import name, t
from metrics.registry import REGISTRY
from metrics.views import carriers_view
from pages._common import PageContext, frame, kpi_carrier_table, page_context

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
                                   dcc.Graph(figure=safe(
                                       one_trend, view.substitution, REGISTRY["online_substitution"],
                                       ctx.lang, t("carriers.substitution", ctx.lang), "#0072B2",
                                       lang=ctx.lang), config=config)],
                                  p="sm", withBorder=True, radius="md"), span={"base": 12, "lg": 6}),
        ], mt="sm"),
        dmc.Paper([dmc.Text(t("carriers.trend", ctx.lang), fw=600),
                   dcc.Graph(figure=safe(trend_lines, view.trend, "carrier",
                                         REGISTRY["transactions"], ctx.lang, labels=names,
                                         lang=ctx.lang), config=config)],
                  p="sm", withBorder=True, radius="md", mt="sm"),
    ]
    return frame(ctx, PATH, "nav.carriers", body)
