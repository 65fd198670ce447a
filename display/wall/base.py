"""What every wall layout shares: the context a renderer gets and the blocks it builds with.

A wall layout is drawn for a screen seen from 5 metres (1920x1080 or 3840x2160, both 16:9): sizes
are in viewport units (assets/app.css, `.wall`), so the same layout fills either screen; numbers
are big, nothing is clickable, nothing is cut off and nothing scrolls. A list longer than fits is
shown a page at a time (`pager`); the browser turns the pages (assets/display.js).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dash import html
from sqlalchemy.orm import Session

from components.format import NO_DATA, number, pct
from components.i18n import t
from components.theme import STATUS_COLOURS
from data.models import OrgUnit
from metrics.targets import Bands
from views.resolve import View

# Rows of a ranking or list a page of the wall holds (the CSS row height is sized for this many).
ROWS_PER_PAGE = 8
MIN_PAGE_SECONDS = 5


@dataclass(frozen=True)
class WallContext:
    """Everything a wall renderer needs: the resolved view (unit, period, scope), the language,
    the time it is drawn at, how long the view stays on screen, and the RAG bands."""

    session: Session
    view: View
    lang: str
    now: dt.datetime
    dwell_seconds: int
    bands: Bands
    children: list[OrgUnit]

    @property
    def unit(self) -> OrgUnit:
        return self.view.unit


def wall(*rows: Any, name: str) -> html.Div:
    """The root of a wall layout (`name`: the view, for styling and tests)."""
    return html.Div(list(rows), className=f"wall wall-{name}")


def panel(title: str, *body: Any, grow: int = 1, alarm: bool = False,
          extra: str = "") -> html.Div:
    """A titled panel; `alarm` draws it in the alarm colour (something is overdue)."""
    classes = " ".join(c for c in ("wall-panel", "wall-alarm" if alarm else "", extra) if c)
    return html.Div([html.Div(title, className="wall-panel-title"), *body], className=classes,
                    style={"flexGrow": grow})


def big_number(label: str, value: str, *, status: str | None = None, alarm: bool = False,
               note: str | None = None, value_id: Any = None) -> html.Div:
    """A tile with one big number: its label above, a short note (target, attainment) below;
    coloured by `status` (RAG), or in the alarm colour."""
    colour = "#FF6B6B" if alarm else STATUS_COLOURS.get(status) if status in (
        "green", "amber", "red") else None
    value_kw: dict[str, Any] = {"className": "wall-value"}
    if value_id is not None:
        value_kw["id"] = value_id
    if colour:
        value_kw["style"] = {"color": colour}
    parts = [html.Div(label, className="wall-label"), html.Div(value, **value_kw)]
    if note:
        parts.append(html.Div(note, className="wall-note"))
    classes = "wall-tile wall-alarm" if alarm else "wall-tile"
    return html.Div(parts, className=classes,
                    style={"borderLeftColor": colour} if colour else None)


def target_note(headline: dict, lang: str) -> str:
    """"目标 75.0% · 达成率 104.2%" under a headline number (a `metrics.views.headline` entry)."""
    kpi, target = headline["kpi"], headline["target"]
    shown = number(target.value, kpi.unit, lang) if target else NO_DATA
    return f"{t('card.target', lang)} {shown} · {t('col.attainment', lang)} {pct(headline['attainment'])}"


def page_sizes(total: int, per_page: int = ROWS_PER_PAGE) -> list[int]:
    """How many rows each page holds: as few pages as fit `total`, filled evenly (27 by 8: 7, 7,
    7, 6), so the last page is never a lonely row."""
    if total <= 0:
        return []
    pages = math.ceil(total / per_page)
    base, extra = divmod(total, pages)
    return [base + (1 if i < extra else 0) for i in range(pages)]


def paginate(items: Sequence[Any], per_page: int = ROWS_PER_PAGE) -> list[list[Any]]:
    """`items` cut into the pages of `page_sizes`, in order."""
    out, at = [], 0
    for size in page_sizes(len(items), per_page):
        out.append(list(items[at:at + size]))
        at += size
    return out


def pager(rows: Sequence[Any], dwell_seconds: int, pager_id: str,
          per_page: int = ROWS_PER_PAGE) -> html.Div:
    """Rows shown a page at a time; the browser turns the pages so that every page is seen once
    while the view is on screen (at least MIN_PAGE_SECONDS each). The first page shows until the
    browser's first turn, so a wall without script still shows something sensible."""
    pages = paginate(rows, per_page)
    seconds = max(MIN_PAGE_SECONDS, dwell_seconds // max(1, len(pages)))
    attrs: dict[str, Any] = {"data-seconds": str(seconds), "data-pages": str(len(pages))}
    return html.Div([html.Div(page, className="wall-page on" if n == 0 else "wall-page")
                     for n, page in enumerate(pages)], className="wall-pager", id=pager_id, **attrs)


def page_marker(pages: int, text: str) -> html.Div | None:
    """"第 1/3 页"-style marker a pager's title carries (filled in by the browser)."""
    if pages <= 1:
        return None
    attrs: dict[str, Any] = {"data-template": text}
    return html.Div(text.format(page=1, pages=pages), className="wall-page-marker", **attrs)
