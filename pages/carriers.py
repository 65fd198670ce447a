"""Carriers: KPIs per carrier side by side, the carrier mix, online substitution and traffic
over time."""

from __future__ import annotations

import dash
import dash_mantine_components as dmc
import pandas as pd
from dash import dcc

from components.charts import graph_config, safe, share_bars, trend_lines
from components.i18n import name, t
from metrics.compute import compute
from metrics.registry import KPIS, REGISTRY
from metrics.views import carrier_mix
from pages._common import PageContext, frame, kpi_carrier_table, page_context

dash.register_page(__name__, path="/carriers", name="Carriers", title="载体 Carriers")

PATH = "/carriers"


def layout(**query: str):
    """Render the carrier view of the unit in the URL."""
    ctx = page_context(query, PATH)
    if not isinstance(ctx, PageContext):
        return ctx
    v = ctx.view
    per_carrier = [k for k in KPIS if k.carriers]
    by_carrier = compute(ctx.session, [k.id for k in per_carrier], ctx.unit, v.start, v.end,
                         by="carrier", scope=ctx.scope)
    wanted = set(v.carriers) or {c.code for c in ctx.carriers}
    shown = [c for c in ctx.carriers if c.code in wanted]
    table = kpi_carrier_table(ctx, "carriers-table", per_carrier, by_carrier, shown)
    grain = "day" if (v.end - v.start).days <= 92 else "week"
    trends = compute(ctx.session, ["transactions"], ctx.unit, v.start, v.end, None, by=grain,
                     scope=ctx.scope)
    per_carrier_trend = []
    for c in shown:
        part = compute(ctx.session, ["transactions"], ctx.unit, v.start, v.end, [c.code], by=grain,
                       scope=ctx.scope)
        per_carrier_trend.append(part.assign(carrier=c.code))
    lines = pd.concat(per_carrier_trend, ignore_index=True) if per_carrier_trend else trends
    substitution = compute(ctx.session, ["online_substitution"], ctx.unit, v.start, v.end, None,
                           by=grain, scope=ctx.scope).assign(series=t("carriers.substitution",
                                                                       ctx.lang))
    names = {c.code: name(c, ctx.lang) for c in ctx.carriers}
    mix = carrier_mix(ctx.session, ctx.unit, v.start, v.end, ctx.scope)
    mix["measure"] = mix["measure"].map({"transactions": name(REGISTRY["transactions"], ctx.lang),
                                         "payments": t("carriers.payments", ctx.lang)})
    config = graph_config(ctx.lang, displayModeBar="hover")
    body = [
        dmc.Paper([dmc.Text(t("carriers.table", ctx.lang), fw=600), table], p="sm",
                  withBorder=True, radius="md"),
        dmc.Grid([
            dmc.GridCol(dmc.Paper([dmc.Text(t("carriers.mix", ctx.lang), fw=600),
                                   dcc.Graph(id="carriers-mix",
                                             figure=safe(share_bars, mix, ctx.lang, names,
                                                         lang=ctx.lang), config=config)],
                                  p="sm", withBorder=True, radius="md"), span={"base": 12, "lg": 6}),
            dmc.GridCol(dmc.Paper([dmc.Text(t("carriers.substitution", ctx.lang), fw=600),
                                   dcc.Graph(figure=safe(
                                       trend_lines, substitution, "series", REGISTRY["online_substitution"],
                                       ctx.lang, {t("carriers.substitution", ctx.lang): "#0072B2"},
                                       lang=ctx.lang), config=config)],
                                  p="sm", withBorder=True, radius="md"), span={"base": 12, "lg": 6}),
        ], mt="sm"),
        dmc.Paper([dmc.Text(t("carriers.trend", ctx.lang), fw=600),
                   dcc.Graph(figure=safe(trend_lines, lines, "carrier",
                                         REGISTRY["transactions"], ctx.lang, labels=names,
                                         lang=ctx.lang), config=config)],
                  p="sm", withBorder=True, radius="md", mt="sm"),
    ]
    return frame(ctx, PATH, "nav.carriers", body)
