"""Small inline SVG charts for the printed report: a line over months and bars by carrier.

Plain SVG text, drawn in the page (no script, no image service): labels are real, selectable
text in the PDF. Values come in computed; these functions only place them. None is a gap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

WIDTH, HEIGHT = 330, 170
LEFT, RIGHT, TOP, BOTTOM = 8, 8, 16, 30
LINE, BAR, GRID, INK = "#1c7ed6", "#1c7ed6", "#dee2e6", "#495057"


def _scale(values: Sequence[float]) -> tuple[float, float]:
    low, high = min(min(values), 0.0), max(values)
    if high == low:
        high = low + 1
    return low, high


def _frame(body: list[str], label: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
            f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(label)}" '
            f'font-size="9" fill="{INK}">' + "".join(body) + "</svg>")


def _no_data(label: str) -> str:
    return _frame([f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">-</text>'], label)


def line_chart(points: Sequence[tuple[str, float | None]], fmt: Callable[[float], str],
               label: str = "") -> str:
    """A line over `points` (label, value); the last value is written at its point."""
    known = [(i, v) for i, (_l, v) in enumerate(points) if v is not None]
    if not known:
        return _no_data(label)
    values = [v for _i, v in known]
    span = max(values) - min(values) or abs(values[0]) * 0.05 or 1.0
    low, high = min(values) - 0.25 * span, max(values) + 0.25 * span  # the data's own range
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = inner_w / max(len(points) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return LEFT + i * step, TOP + inner_h * (1 - (v - low) / (high - low))

    body = [f'<line x1="{LEFT}" y1="{TOP + inner_h}" x2="{WIDTH - RIGHT}" y2="{TOP + inner_h}" '
            f'stroke="{GRID}"/>']
    path, pen = [], "M"
    for i, (_l, v) in enumerate(points):
        if v is None:
            pen = "M"
            continue
        x, y = xy(i, v)
        path.append(f"{pen}{x:.1f},{y:.1f}")
        pen = "L"
    body.append(f'<path d="{" ".join(path)}" fill="none" stroke="{LINE}" stroke-width="2"/>')
    for i, v in known:
        x, y = xy(i, v)
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2" fill="{LINE}"/>')
    for i, (text, _v) in enumerate(points):
        if i % 3 == 0 or i == len(points) - 1:
            x = LEFT + i * step
            anchor = "end" if i == len(points) - 1 else "start" if i == 0 else "middle"
            body.append(f'<text x="{x:.1f}" y="{HEIGHT - 12}" text-anchor="{anchor}">'
                        f'{escape(text)}</text>')
    for (i, v), anchor in ((known[0], "start"), (known[-1], "end")):
        x, y = xy(i, v)
        body.append(f'<text x="{x + (4 if anchor == "start" else -4):.1f}" y="{max(y - 6, 10):.1f}" '
                    f'text-anchor="{anchor}" font-weight="bold">{escape(fmt(v))}</text>')
        if len(known) == 1:
            break
    return _frame(body, label)


def bar_chart(bars: Sequence[tuple[str, float | None]], fmt: Callable[[float], str],
              label: str = "") -> str:
    """Horizontal bars (label, value), each with its value written after it; None shows '-'."""
    if not bars or all(v is None for _l, v in bars):
        return _no_data(label)
    values = [v for _l, v in bars if v is not None]
    _low, high = _scale(values)
    label_w, value_w = 112, 60
    row = (HEIGHT - 8) / len(bars)
    body = []
    for n, (text, v) in enumerate(bars):
        y = 4 + n * row
        body.append(f'<text x="{label_w - 4}" y="{y + row / 2 + 3:.1f}" text-anchor="end">'
                    f'{escape(text[:18])}</text>')
        if v is not None and high > 0:
            w = max(0.0, (WIDTH - label_w - value_w) * max(v, 0) / high)
            body.append(f'<rect x="{label_w}" y="{y + row * 0.2:.1f}" width="{w:.1f}" '
                        f'height="{row * 0.6:.1f}" fill="{BAR}"/>')
            body.append(f'<text x="{label_w + w + 3:.1f}" y="{y + row / 2 + 3:.1f}">'
                        f'{escape(fmt(v))}</text>')
        else:
            body.append(f'<text x="{label_w + 3}" y="{y + row / 2 + 3:.1f}">-</text>')
    return _frame(body, label)
