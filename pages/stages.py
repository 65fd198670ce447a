"""Operating stages: the unit's stage ladder with each criterion against its threshold, what it
takes to move up, its children by stage (drillable), its stage history and the movers."""

from __future__ import annotations

import dash
import dash_mantine_components as dmc
from dash import Input, Output, State, callback, dcc, no_update

from components.charts import graph_config, safe, stage_history_figure
from components.format import number
from components.i18n import name, t
from components.tables import grid
from components.view_state import update
from data.clock import month_end, month_start
from data.rubric import BY_ID, TOP_STAGE, stage_label
from metrics.stages import NOT_SCANNED, Assessment, distribution
from metrics.views import stages_view
from pages._common import PageContext, frame, page_context

dash.register_page(__name__, path="/stages", name="Stages", title="运营阶段 Stages")

PATH = "/stages"
STAGE_COLOURS = {0: "#BDBDBD", 1: "#56B4E9", 2: "#0072B2", 3: "#009E73", 4: "#E69F00"}


def layout(**query: str):
    """Render the stage assessment of the unit in the URL, for the month its period ends in."""
    ctx = page_context(query, PATH)
    if not isinstance(ctx, PageContext):
        return ctx
    month = month_start(ctx.view.end)
    data_end = ctx.view.end
    first = _months_back(month, 23)  # 24 months of history
    view = stages_view(ctx.session, ctx.unit, first, month, data_end, ctx.scope)
    history, now, kids, moved = view.history, view.now, view.children, view.moved
    body = [
        dmc.Text(f"{month:%Y-%m}" + (f" ({t('stages.partial', ctx.lang)})"
                                     if month_end(month) > data_end else ""), c="dimmed",
                 size="sm", mb="xs"),
        *_unscanned(history, ctx.lang),
        dmc.Grid([
            dmc.GridCol(_ladder(now, ctx.lang), span={"base": 12, "lg": 7}),
            dmc.GridCol(dmc.Stack([_next_steps(now, ctx.lang),
                                   _history(history, ctx.lang)]), span={"base": 12, "lg": 5}),
        ]),
    ]
    if kids:
        body.append(_children(kids, moved, ctx))
    return frame(ctx, PATH, "nav.stages", body)


def _unscanned(history: list[Assessment], lang: str) -> list:
    """A line naming the months (with data) that the risk scan did not wholly cover."""
    months = [f"{a.month:%Y-%m}" for a in history if a.has_data and a.unscanned]
    if not months:
        return []
    return [dmc.Alert(t("stages.unscanned", lang).format(months=", ".join(months)),
                      color="yellow", variant="light", mb="xs", id="unscanned-months")]


def _months_back(month, n: int):
    y, m = month.year, month.month - n
    while m <= 0:
        y, m = y - 1, m + 12
    return month.replace(year=y, month=m)


def _value(criterion_id: str, value, lang: str) -> str:
    unit = BY_ID[criterion_id].unit
    return number(value, "%" if unit == "%" else "count", lang)


def _ladder(a: Assessment, lang: str) -> dmc.Paper:
    rows = []
    for stage in (4, 3, 2, 1):
        reached = a.stage >= stage
        crits = [c for c in a.criteria if c.stage == stage]
        items = []
        for c in crits:
            info = BY_ID[c.id]
            share = 0 if c.value is None else min(100, 100 * c.value / c.threshold)
            colour = "teal" if c.met else ("gray" if c.met is None else "orange")
            mark = "✓" if c.met else ("?" if c.met is None else "✗")
            items.append(dmc.Stack([
                dmc.Group([dmc.Text(f"{mark} {info.name_en if lang == 'en' else info.name_zh}",
                                    size="sm"),
                           dmc.Text(f"{_value(c.id, c.value, lang)} / "
                                    f"{_value(c.id, c.threshold, lang)}", size="sm", c="dimmed")],
                          justify="space-between"),
                dmc.Progress(value=share, color=colour, size="sm"),
            ], gap=2, id={"type": "criterion", "id": c.id}))
        rows.append(dmc.Paper([
            dmc.Group([dmc.Badge(stage_label(stage, lang), color="teal" if reached else "gray",
                                 variant="filled" if stage == a.stage else "light")]),
            dmc.SimpleGrid(items, cols=3, spacing="sm", mt="xs"),
        ], p="sm", withBorder=True, radius="md", mb="xs",
            style={"opacity": 1 if reached or stage == a.stage + 1 else 0.75}))
    head = dmc.Group([dmc.Text(t("stages.current", lang), fw=600),
                      dmc.Badge(stage_label(a.stage, lang), size="lg", id="current-stage",
                                color="teal" if a.stage else "gray")])
    version = dmc.Text(f"{t('stages.rubric', lang)} v{a.rubric_version}", size="xs", c="dimmed")
    return dmc.Paper([head, dmc.Space(h="xs"), *rows, version], p="sm", withBorder=True,
                     radius="md")


def _next_steps(a: Assessment, lang: str) -> dmc.Paper:
    if a.stage >= TOP_STAGE:
        content = [dmc.Text(t("stages.top", lang), size="sm")]
    else:
        content = [dmc.List([dmc.ListItem(
            f"{BY_ID[c.id].name_en if lang == 'en' else BY_ID[c.id].name_zh}"
            f" ({_value(c.id, c.value, lang)} → {_value(c.id, c.threshold, lang)}): "
            + (t("stages.not_scanned", lang) if c.reason == NOT_SCANNED else
               t("stages.unknown", lang) if c.met is None else
               (BY_ID[c.id].next_en if lang == "en" else BY_ID[c.id].next_zh)))
            for c in a.missing], size="sm", id="next-steps")]
    title = (t("stages.top_title", lang) if a.stage >= TOP_STAGE else
             t("stages.next", lang).format(stage=stage_label(a.stage + 1, lang)))
    return dmc.Paper([dmc.Text(title, fw=600), *content], p="sm", withBorder=True, radius="md")


def _history(history: list[Assessment], lang: str) -> dmc.Paper:
    history = [a for a in history if a.has_data]  # months before the data began show nothing
    figure = safe(stage_history_figure, [a.month for a in history], [a.stage for a in history],
                  lang=lang)
    return dmc.Paper([dmc.Text(t("stages.history", lang), fw=600),
                      dcc.Graph(figure=figure, config=graph_config(lang))],
                     p="sm", withBorder=True, radius="md")


def _children(kids: list[Assessment], moved: list[tuple[Assessment, Assessment]],
              ctx) -> dmc.Paper:
    lang = ctx.lang
    counts = distribution(kids)
    dist = dmc.Group([dmc.Badge(f"{stage_label(s, lang)}: {n}", color="gray", variant="light",
                                style={"borderLeft": f"6px solid {STAGE_COLOURS[s]}"})
                      for s, n in counts.items()], gap="xs", id="stage-distribution")
    names = {c.code: c for c in ctx.children}
    rows = []
    for a in kids:
        row = {"unit": a.unit, "name": name(names[a.unit], lang) if a.unit in names else a.unit,
               "stage": stage_label(a.stage, lang)}
        for c in a.criteria:
            row[c.id] = "✓" if c.met else ("?" if c.met is None else "✗")
        rows.append(row)
    columns = ([{"field": "name", "headerName": t("col.unit", lang), "pinned": "left",
                 "minWidth": 150},
                {"field": "stage", "headerName": t("overview.stage", lang), "minWidth": 130}]
               + [{"field": c.id, "headerName": BY_ID[c.id].name_en if lang == "en"
                   else BY_ID[c.id].name_zh} for c in kids[0].criteria])
    moved_text = ", ".join(
        f"{name(names[now.unit], lang) if now.unit in names else now.unit} "
        f"{before.stage}→{now.stage}" for before, now in moved)
    return dmc.Paper([
        dmc.Text(t("stages.children", lang), fw=600), dist,
        dmc.Text(f"{t('stages.movers', lang)}: {moved_text or '-'}", size="sm", mt="xs",
                 id="stage-movers"),
        dmc.Text(t("regions.click", lang), size="xs", c="dimmed", className="hint"),
        grid("stages-children", rows, columns, lang, row_id="unit"),
    ], p="sm", withBorder=True, radius="md", mt="sm")


@callback(Output("_pages_location", "search", allow_duplicate=True),
          Input({"type": "csv-grid", "name": "stages-children"}, "cellClicked"),
          State("_pages_location", "search"), prevent_initial_call=True)
def drill(cell, search):
    """Open the clicked child's stage assessment."""
    return update(search, unit=cell["rowId"]) if cell and cell.get("rowId") else no_update
