"""Today, live: the unit's work orders of today so far as big numbers and hourly bars against the
same weekday last week, refreshed every 60 s (on a wall display, by the playlist's refresh)."""

from __future__ import annotations

import dash
import dash_mantine_components as dmc
from dash import Input, Output, State, callback, dcc, html

from components.charts import graph_config, safe
from components.i18n import name, t
from components.live import hotline_tiles, hourly_figure, live_tiles
from data import clock
from metrics.views import live_view
from pages._common import PageContext, page_context

dash.register_page(__name__, path="/live", name="Live", title="今日实况 Today, live")

PATH = "/live"
REFRESH_MS = 60_000  # far slower than a render, so Dash never prunes a tick (PLATFORM.md)


def layout(**query: str):
    """Render today's live view of the unit in the URL (the user's own unit without one)."""
    ctx = page_context(query, PATH)
    if not isinstance(ctx, PageContext):
        return ctx
    return dmc.Container([
        html.Div(_body(ctx), id="live-body"),
        html.Div([dcc.Store(id="live-unit", data=ctx.unit.code),
                  dcc.Interval(id="live-refresh", interval=REFRESH_MS)], className="interactive"),
    ], fluid=True, px="md", py="sm", maw=1880)


def _body(ctx: PageContext) -> list:
    view = live_view(ctx.session, ctx.unit, clock.local_now(), ctx.scope)
    counters = view.counters
    links = [dcc.Link(name(u, ctx.lang), href=f"{PATH}?unit={u.code}", className="live-link")
             for u in [*ctx.path_units[:-1], *ctx.children]]
    return [
        dmc.Group([
            dmc.Title(f"{t('nav.live', ctx.lang)} · {name(ctx.unit, ctx.lang)}", order=2,
                      id="live-title"),
            dmc.Group([
                dmc.Text(t("live.as_of", ctx.lang).format(
                    time=f"{counters.as_of:%Y-%m-%d %H:%M}", zone=clock.zone_label(clock.company_zone())),
                    id="live-as-of", c="dimmed"),
                dmc.Text(t("live.refresh", ctx.lang), c="dimmed", size="sm",
                         className="hint"),  # a wall refreshes at its playlist's pace
                dmc.Badge(t("demo", ctx.lang), color="orange", id="demo-badge")
                if ctx.demo else None,
            ], gap="xs"),
        ], justify="space-between"),
        dmc.Group(links, gap="md", className="interactive", mt=4) if links else None,
        dmc.SimpleGrid(live_tiles(counters, ctx.lang), cols={"base": 2, "md": 4}, spacing="md",
                       mt="sm", id="live-tiles"),
        dmc.Text(t("live.hotline", ctx.lang), fw=600, size="lg", mt="md", id="live-hotline-title"),
        dmc.SimpleGrid(hotline_tiles(view.hotline, ctx.lang), cols={"base": 2, "md": 4},
                       spacing="md", mt=4, id="live-hotline"),
        dmc.Paper([
            dmc.Text(t("live.by_hour", ctx.lang), fw=600, size="lg"),
            dcc.Graph(id="live-hourly", config=graph_config(ctx.lang),
                      figure=safe(hourly_figure, counters.by_hour, ctx.lang, lang=ctx.lang)),
        ], p="sm", withBorder=True, radius="md", mt="md"),
    ]


@callback(Output("live-body", "children"), Input("live-refresh", "n_intervals"),
          State("live-unit", "data"), prevent_initial_call=True)
def refresh(_tick, unit):
    """Render the view afresh (the unit goes through the same scope checks as the URL's)."""
    ctx = page_context({} if unit is None else {"unit": unit}, PATH)  # a forged list is refused
    return _body(ctx) if isinstance(ctx, PageContext) else ctx
