"""Value axes that read like the cards: 万/亿 in Chinese (k/M/B in English), as many decimals as
it takes for every tick label to differ (never 98%, 98%, 97%), and whole ticks on count axes."""

from __future__ import annotations

import math

SCALES = {"zh": ((1e8, "亿"), (1e4, "万")), "en": ((1e9, "B"), (1e6, "M"), (1e3, "k"))}
STEPS = (1, 2, 5, 10)


def nice_ticks(lo: float, hi: float, integer: bool = False, count: int = 6) -> list[float]:
    """About `count` evenly spaced round ticks covering [lo, hi]; whole numbers if `integer`."""
    if hi < lo:
        lo, hi = hi, lo
    span = hi - lo
    if span == 0:  # one value: a small range above it (below it too when it is negative)
        span = max(abs(lo) * 0.1, 1.0 if integer or lo == 0 else 0.0) or 1.0
        lo, hi = (lo - span, hi) if lo < 0 else (lo, hi + span)
    raw = span / max(1, count - 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in STEPS if m * magnitude >= raw)
    if integer:
        step = max(1.0, float(math.ceil(step)))
    first = math.floor(lo / step + 1e-9) * step
    ticks: list[float] = []
    k = 0
    while first + k * step <= hi + step * 1e-9 or len(ticks) < 2:
        ticks.append(round(first + k * step, 12))
        k += 1
    if ticks[-1] < hi - 1e-12 * max(1.0, abs(hi)):
        ticks.append(round(first + k * step, 12))
    return [0.0 if t == 0 else t for t in ticks]


def _decimals(scaled: list[float], most: int = 4) -> int:
    """The fewest decimals (0..most) that show every scaled tick exactly (so labels differ and
    none is rounded: 97.5%, 98%, 98.5% are 97.5%, 98.0%, 98.5%)."""
    for digits in range(most + 1):
        if all(abs(round(v, digits) - v) <= 1e-9 * max(1.0, abs(v)) for v in scaled):
            return digits
    return most


def _plain(value: float, digits: int) -> str:
    text = f"{value:,.{digits}f}"
    return text[1:] if text.startswith("-") and float(text.replace(",", "")) == 0 else text


def tick_text(ticks: list[float], unit: str, lang: str) -> list[str]:
    """The label of each tick: 12.5万 / 1.2亿 (zh), 125k (en), 97.5% for rates, ¥ for yuan."""
    if unit == "%":
        digits = _decimals([t * 100 for t in ticks])
        return [_plain(t * 100, digits) + "%" for t in ticks]
    prefix = "¥" if unit == "yuan" else ""
    top = max((abs(t) for t in ticks), default=0)
    for size, suffix in SCALES["en" if lang == "en" else "zh"]:
        if top >= size:
            digits = _decimals([t / size for t in ticks])
            return ["0" if t == 0 else prefix + _plain(t / size, digits) + suffix for t in ticks]
    digits = _decimals(ticks)
    return [prefix + _plain(t, digits) for t in ticks]


def value_axis(values, unit: str, lang: str, integer: bool = False) -> dict:
    """Axis settings (tickvals, ticktext) for the plotted `values`; {} when none is a number."""
    finite = [float(v) for v in values if v is not None]
    finite = [v for v in finite if math.isfinite(v)]
    if not finite:
        return {}
    ticks = nice_ticks(min(finite), max(finite), integer=integer)
    axis = {"tickmode": "array", "tickvals": ticks, "ticktext": tick_text(ticks, unit, lang)}
    if min(finite) == max(finite):
        # One value (a monthly KPI over one month, a flat line): Plotly's own range around a lone
        # point is a few units wide, which piles every tick of a rate onto one spot; show the ticks.
        pad = (ticks[-1] - ticks[0]) * 0.05
        axis["range"] = [ticks[0] - pad, ticks[-1] + pad]
    return axis
