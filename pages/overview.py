"""Overview (6+6): the matrix, headline KPI cards, the operating stage and open risk events."""

from __future__ import annotations

import dash
import dash_mantine_components as dmc
from dash import Input, Output, State, callback, dcc, no_update

from components.cards import kpi_card
from components.charts import graph_config, label_blank_cells, matrix_heatmap, safe
from components.i18n import t
from components.view_state import carry
from data.catalog import carriers, cores
from data.clock import local_now, month_start
from data.db import get_read_session
from data.rubric import BY_ID, TOP_STAGE, stage_label
from metrics.stages import Assessment
from metrics.views import OVERVIEW_KPIS, overview_view
from pages._common import PageContext, frame, page_context, refused, unit_names

dash.register_page(__name__, path="/", name="Overview", title="总览 Overview")

PATH = "/"
HEADLINE = OVERVIEW_KPIS


def layout(**query: str):
    """Render the overview of the unit in the URL for the signed-in user."""
    ctx = page_context(query, PATH)
    if not isinstance(ctx, PageContext):
        return ctx
    v = ctx.view
    carriers = list(v.carriers) or None
    view = overview_view(ctx.session, HEADLINE, ctx.unit, v.start, v.end, carriers, local_now(),
                         ctx.scope, ctx.bands)
    heat = label_blank_cells(safe(matrix_heatmap, view.matrix, ctx.cores, ctx.carriers, ctx.lang,
                                  lang=ctx.lang))
    heads = view.headline
    names = unit_names(ctx.session, [h["target"].set_at for h in heads if h["target"]], ctx.lang)
    cards = [
        kpi_card(h["kpi"], h["row"], h["comparison"], h["target"],
                 h["attainment"], h["status"], h["spark"], ctx.loaded, ctx.lang, v.compare, names)
        for h in heads
    ]
    body = [
        dmc.Grid([
            dmc.GridCol(dmc.Paper([
                dmc.Text(t("overview.matrix", ctx.lang), fw=600),
                dmc.Text(t("overview.matrix_hint", ctx.lang), size="xs", c="dimmed",
                         className="hint"),
                dcc.Graph(id="overview-matrix", figure=heat, config=graph_config(ctx.lang)),
            ], p="sm", withBorder=True, radius="md"), span={"base": 12, "lg": 6}),
            dmc.GridCol(dmc.Stack([
                dmc.Paper([dmc.Text(t("overview.stage", ctx.lang), fw=600),
                           _stage(ctx, view.stage)], p="sm", withBorder=True, radius="md"),
                dmc.Paper([dmc.Text(t("overview.risk", ctx.lang), fw=600),
                           _risk(ctx, view.risk)], p="sm", withBorder=True, radius="md"),
            ]), span={"base": 12, "lg": 6}),
        ]),
        dmc.Text(t("overview.headline", ctx.lang), fw=600, mt="md", mb="xs"),
        dmc.SimpleGrid(cards, cols={"base": 1, "sm": 2, "md": 4}, spacing="sm",
                       id="headline-cards"),
    ]
    return frame(ctx, PATH, "nav.overview", body)


def _risk(ctx: PageContext, counts: dict[str, int]):
    """Open and overdue risk events of the subtree, with a link to work them."""
    return dmc.Stack([
        dmc.Text(t("risk.counts", ctx.lang).format(**counts), size="lg", fw=600,
                 id="overview-risk", **({"c": "red"} if counts["overdue"] else {})),
        dcc.Link(t("nav.risk", ctx.lang) + " →", href="/risk" + ctx.view.query(),
                 className="interactive"),
    ], gap=4)


def _stage(ctx: PageContext, a: Assessment):
    """The unit's stage in the month its period ends, what is missing, and a link to the detail."""
    month = month_start(ctx.view.end)
    missing = ", ".join(BY_ID[c.id].name_en if ctx.lang == "en" else BY_ID[c.id].name_zh
                        for c in a.missing)
    return dmc.Stack([
        dmc.Group([dmc.Badge(stage_label(a.stage, ctx.lang), size="lg", id="overview-stage",
                             color="teal" if a.stage else "gray"),
                   dmc.Text(f"{month:%Y-%m}", size="sm", c="dimmed")]),
        dmc.Text(t("stages.top", ctx.lang) if a.stage >= TOP_STAGE else
                 f"{t('stages.next', ctx.lang).format(stage=stage_label(a.stage + 1, ctx.lang))}"
                 f" {missing or '-'}", size="sm", id="overview-next"),
        dcc.Link(t("nav.stages", ctx.lang) + " →", href="/stages" + ctx.view.query(),
                 className="interactive"),
    ], gap=4)


@callback(Output("_pages_location", "pathname", allow_duplicate=True),
          Output("_pages_location", "search", allow_duplicate=True),
          Input("overview-matrix", "clickData"), State("_pages_location", "search"),
          prevent_initial_call=True)
def open_cell(click, search):
    """Open the clicked core on the clicked carrier.

    Dash sends a heatmap point's x and y labels (the carrier's and the core's name), not its 2-D
    customdata; the names are mapped back to codes here, in either language. Anything else (a
    forged or stale click) is refused and audited, never an error page.
    """
    if not click:
        return no_update, no_update
    point, session = _point(click), get_read_session()
    core = _code(cores(session), point.get("y")) if point else None
    carrier = _code(carriers(session), point.get("x")) if point else None
    if core is None or carrier is None:
        refused(PATH, f"matrix click {str(click)[:200]}")
        return no_update, no_update
    return "/cores", carry(search, core=core, carrier=carrier)


def _point(click) -> dict | None:
    """The first point of a click, or None when there is none (or it is not a point)."""
    points = click.get("points") if isinstance(click, dict) else None
    if not isinstance(points, list) or not points or not isinstance(points[0], dict):
        return None
    return points[0]


def _code(objs, label) -> str | None:
    """The code of the core or carrier whose name (zh or en) or code is `label`."""
    if not isinstance(label, str):
        return None
    return next((o.code for o in objs if label in (o.code, o.name_zh, o.name_en)), None)
