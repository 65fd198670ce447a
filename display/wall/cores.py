"""The cores view on a wall: one operating core's KPIs as big numbers against their targets."""

from __future__ import annotations

from dash import html

from components.format import number
from components.i18n import name
from data.catalog import cores
from display.wall.base import WallContext, big_number, target_note, wall
from metrics.registry import CORES, for_core
from metrics.views import cores_view


def cores_wall(ctx: WallContext):
    """The cores view of the context's unit (`core=`, default the first core), drawn for a wall."""
    v = ctx.view.state
    core = v.core if v.core in CORES else CORES[0]
    kpis = for_core(core)
    view = cores_view(ctx.session, [k.id for k in kpis], ctx.unit, v.start, v.end,
                      list(v.carriers) or None, ctx.view.scope, ctx.bands)
    title = next((name(c, ctx.lang) for c in cores(ctx.session) if c.code == core), core)
    tiles = [big_number(name(h["kpi"], ctx.lang), number(h["row"]["value"], h["kpi"].unit,
                                                          ctx.lang),
                        status=h["status"], value_id={"type": "kpi-value", "kpi": h["kpi"].id},
                        note=target_note(h, ctx.lang))
             for h in view.headline]
    columns = 3 if len(tiles) > 4 else 2
    return wall(html.Div(title, className="wall-heading"),
                html.Div(tiles, className=f"wall-tiles wall-tiles-{columns} wall-fill"),
                name="cores")
