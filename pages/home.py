"""Home: what the store holds (units per tier, the data's date range) until the dashboard lands."""

from __future__ import annotations

import dash
import dash_mantine_components as dmc
from dash import html
from flask_login import current_user

from auth import audit
from components.notices import not_permitted, wall_display_only
from data.db import get_session
from data.models import TIERS
from data.units import subtree, unit_by_code
from metrics.freshness import is_demo, loaded_range
from metrics.scope import OutOfScope, Scope

dash.register_page(__name__, path="/", name="Home")


def layout(unit: str | None = None, **_query: str) -> dmc.Container:
    """Render the units of `unit`'s subtree (default: the user's home unit) and the data's range."""
    if current_user.role == "display":
        return wall_display_only()
    session = get_session()
    root = current_user.unit
    if unit:
        asked = unit_by_code(session, unit)
        if asked is None:
            return not_permitted(f"unknown unit {unit}")
        try:
            Scope.of(current_user.unit).check(asked)
        except OutOfScope:
            audit.record(session, "forbidden", current_user.username, target=f"/?unit={unit}",
                         outcome="refused", detail=f"unit {unit}")
            return not_permitted(unit)
        root = asked
    span = loaded_range(session)
    units = subtree(session, root)  # never outside the signed-in user's scope
    header = [
        dmc.Title("互联网+营销服务渠道运营 · Internet+ Channel Operations", order=2),
        dmc.Text(
            f"数据范围 Data range: {span[0]} — {span[1]}" if span else
            "尚无数据 No data yet: run `flask --app app seed-demo` or import files.",
            id="data-range",
        ),
    ]
    if is_demo(session):
        header.append(dmc.Badge("演示数据 Demo data", color="orange", id="demo-badge"))
    rows = [
        html.Tr([
            html.Td(u.code),
            html.Td(("\u3000" * (u.tier - 1)) + u.name_zh),
            html.Td(u.name_en),
            html.Td(f"{TIERS[u.tier][0]} {TIERS[u.tier][1]}"),
        ])
        for u in units
    ]
    table = dmc.Table(
        [html.Thead(html.Tr([html.Th(h) for h in ("代码 Code", "名称", "Name", "层级 Tier")])),
         html.Tbody(rows)],
        id="unit-table", striped=True, highlightOnHover=True, style={"textAlign": "left"},
    )
    return dmc.Container([dmc.Stack(header, gap="xs"), dmc.Space(h="md"),
                          dmc.Text(f"{len(units)} 个单位 units"), table], size="lg", py="md")
