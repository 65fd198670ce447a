"""The overview on a wall: the 6x6 matrix as big coloured cells, the stage, open and overdue risk
events (alarm when any is overdue) and the eight headline KPIs as big numbers."""

from __future__ import annotations

import pandas as pd
from dash import html

from components.format import NO_DATA, number
from components.i18n import name, t
from components.theme import STATUS_COLOURS
from data.catalog import carriers, cores
from data.rubric import TOP_STAGE, stage_label
from display.wall.base import WallContext, big_number, panel, target_note, wall
from metrics.views import OVERVIEW_KPIS, overview_view


def overview_wall(ctx: WallContext):
    """The overview of the context's unit, drawn for a wall."""
    v = ctx.view.state
    view = overview_view(ctx.session, OVERVIEW_KPIS, ctx.unit, v.start, v.end,
                         list(v.carriers) or None, ctx.now, ctx.view.scope, ctx.bands)
    risk = view.risk
    overdue = risk["overdue"] > 0
    stage = view.stage
    side = html.Div([
        big_number(t("overview.stage", ctx.lang), stage_label(stage.stage, ctx.lang),
                   value_id="wall-stage",
                   note=t("wall.stage_top", ctx.lang) if stage.stage >= TOP_STAGE else
                   t("wall.stage_missing", ctx.lang).format(stage=stage.stage + 1,
                                                            n=len(stage.missing))),
        html.Div([
            big_number(t("wall.risk_open", ctx.lang), f"{risk['open']:,}", value_id="wall-open",
                       note=t("risk.units_affected", ctx.lang).format(n=f"{risk['units']:,}")),
            big_number(t("wall.risk_overdue", ctx.lang), f"{risk['overdue']:,}", alarm=overdue,
                       value_id="wall-overdue"),
        ], className="wall-row"),
    ], className="wall-col wall-side")
    tiles = [big_number(name(h["kpi"], ctx.lang), number(h["row"]["value"], h["kpi"].unit, ctx.lang),
                        status=h["status"], value_id={"type": "kpi-value", "kpi": h["kpi"].id},
                        note=target_note(h, ctx.lang))
             for h in view.headline]
    return wall(
        html.Div([panel(t("overview.matrix", ctx.lang), _matrix(ctx, view.matrix), grow=3), side],
                 className="wall-row wall-top"),
        html.Div(tiles, className="wall-tiles wall-tiles-4"),
        name="overview")


def _matrix(ctx: WallContext, cells: pd.DataFrame) -> html.Div:
    """The 6x6 matrix as a grid of cells: cores down, carriers across, the score in each."""
    by = {(r.core, r.carrier): r for r in cells.itertuples()}
    shown_carriers, shown_cores = carriers(ctx.session), cores(ctx.session)
    head = [html.Div("", className="wall-mx-corner")] + [
        html.Div(_short(name(c, ctx.lang)), className="wall-mx-head") for c in shown_carriers]
    rows = []
    for core in shown_cores:
        rows.append(html.Div(name(core, ctx.lang), className="wall-mx-core"))
        for carrier in shown_carriers:
            cell = by.get((core.code, carrier.code))
            if cell is None or cell.status == "n/a":
                rows.append(html.Div(t("status.n/a", ctx.lang), className="wall-mx-cell blank"))
                continue
            score = None if pd.isna(cell.score) else float(cell.score)
            colour = STATUS_COLOURS.get(cell.status) if score is not None else None
            rows.append(html.Div(NO_DATA if score is None else f"{score:.0f}",
                                 className="wall-mx-cell" + ("" if colour else " blank"),
                                 style={"background": colour} if colour else None,
                                 id={"type": "wall-cell", "core": core.code,
                                     "carrier": carrier.code}))
    return html.Div(head + rows, className="wall-matrix")


def _short(label: str) -> str:
    """A carrier's name as a column head: its first part ("网上国网/南网在线 App" -> "网上国网";
    "WeChat account & mini-program" -> "WeChat account")."""
    for sep in ("/", " & ", " (", "（"):
        label = label.split(sep)[0]
    return label.strip()
