"""Wall layouts: how each view of a playlist is drawn on a wall display, by page path.

`WALLS` maps a page path to its renderer, a function `(WallContext) -> component` that computes
its numbers through `metrics/` (the same functions, with the same arguments, as the desktop page)
and lays them out for a wall (display/wall/base.py: big numbers, no controls, pages of rows the
browser turns). Every analytical page has one; a page added later without one is drawn as its
desktop page made static and zoomed to the screen (display/kiosk.py) until it gets one.

To add a wall layout: write `display/wall/live.py` with
`def live_wall(ctx: WallContext) -> Component`, build it from `display.wall.base` (`wall`,
`panel`, `big_number`, `pager`), and add `"/live": live_wall` to WALLS; the path must also be a
page a playlist may hold (components/view_state.PAGES). Test it in tests/test_wall.py's
WALL_VIEWS (both screen sizes, the checks are the same for every view).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from display.wall.base import WallContext
from display.wall.carriers import carriers_wall
from display.wall.cores import cores_wall
from display.wall.live import live_wall
from display.wall.overview import overview_wall
from display.wall.regions import regions_wall
from display.wall.risk import risk_wall
from display.wall.stages import stages_wall
from display.wall.targets import targets_wall

Renderer = Callable[[WallContext], Any]

WALLS: dict[str, Renderer] = {
    "/": overview_wall,
    "/regions": regions_wall,
    "/risk": risk_wall,
    "/stages": stages_wall,
    "/cores": cores_wall,
    "/carriers": carriers_wall,
    "/targets": targets_wall,
    "/live": live_wall,
}

__all__ = ["WALLS", "Renderer", "WallContext"]
