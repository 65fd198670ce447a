"""The carriers view on a wall: online substitution as a big number and each carrier's share of
transactions (its transactions and its share of payments below)."""

from __future__ import annotations

from dash import html

from components.format import number, pct
from components.i18n import name, t
from components.theme import CARRIER_COLOURS
from data.catalog import carriers
from display.wall.base import WallContext, big_number, panel, wall
from metrics.compute import compute
from metrics.registry import REGISTRY
from metrics.views import carriers_view


def carriers_wall(ctx: WallContext):
    """The carriers view of the context's unit, drawn for a wall."""
    v = ctx.view.state
    every = carriers(ctx.session)
    wanted = set(v.carriers) or {c.code for c in every}
    shown = [c for c in every if c.code in wanted]
    view = carriers_view(ctx.session, ctx.unit, v.start, v.end, [c.code for c in shown],
                         ctx.view.scope)
    substitution = REGISTRY["online_substitution"]
    own = compute(ctx.session, [substitution.id], ctx.unit, v.start, v.end, scope=ctx.view.scope)
    share = {(r.measure, r.carrier): r for r in view.mix.itertuples()}
    tiles = []
    for c in shown:
        tx, pay = share.get(("transactions", c.code)), share.get(("payments", c.code))
        tiles.append(html.Div(big_number(
            name(c, ctx.lang), pct(tx.share if tx else None),
            value_id={"type": "wall-share", "carrier": c.code},
            note=f"{name(REGISTRY['transactions'], ctx.lang)} "
                 f"{number(tx.count if tx else None, 'count', ctx.lang)} · "
                 f"{t('carriers.payments', ctx.lang)} {pct(pay.share if pay else None)}"),
            className="wall-carrier", style={"borderTopColor": CARRIER_COLOURS.get(c.code)}))
    side = html.Div([big_number(name(substitution, ctx.lang),
                                number(own["value"][0] if len(own) else None, "%", ctx.lang),
                                value_id="wall-substitution")], className="wall-col wall-side")
    return wall(html.Div([side, panel(t("carriers.mix", ctx.lang),
                                      html.Div(tiles, className="wall-tiles wall-tiles-3 wall-fill"),
                                      grow=3)], className="wall-row wall-fill"), name="carriers")
