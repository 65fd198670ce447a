"""Numbers as people read them: by unit and locale; "-" for no data, never 0 or NaN."""

from __future__ import annotations

import math

from components.i18n import t

NO_DATA = "-"


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value)))


def _unsigned_zero(text: str) -> str:
    """'-0.0' (a small negative rounded away) reads '0.0': no negative zero."""
    return text[1:] if text.startswith("-") and not any(c in "123456789" for c in text) else text


def signed(value: float, digits: int = 1) -> str:
    """A change with its sign, rounded first: +1.2, -0.4, and 0.0 (never -0.0 or +0.0)."""
    rounded = round(value, digits)
    return f"{0.0:.{digits}f}" if rounded == 0 else f"{rounded:+.{digits}f}"


UNIT_SUFFIX = {"days": (" 天", " d"), "hours": (" 小时", " h"), "minutes": (" 分钟", " min"),
               "seconds": (" 秒", " s"), "per 10k": (" 件/万户", " per 10k customers")}


def number(value, unit: str = "count", lang: str = "zh", digits: int | None = None) -> str:
    """Format a KPI value: 12.3%, 1,234, 1.2万 / 12.3k, ¥ for yuan, min for minutes."""
    if _missing(value):
        return NO_DATA
    v = float(value)
    if unit == "%":
        return _unsigned_zero(f"{v * 100:.{1 if digits is None else digits}f}") + "%"
    if unit in UNIT_SUFFIX:
        suffix = UNIT_SUFFIX[unit][1 if lang == "en" else 0]
        return _unsigned_zero(f"{v:,.{1 if digits is None else digits}f}") + suffix
    prefix = "¥" if unit == "yuan" else ""
    if abs(v) >= 1e8:
        return prefix + (f"{v / 1e8:,.2f}亿" if lang != "en" else f"{v / 1e9:,.2f}B")
    if abs(v) >= 1e4:
        return prefix + (f"{v / 1e4:,.1f}万" if lang != "en" else
                         (f"{v / 1e6:,.2f}M" if abs(v) >= 1e6 else f"{v / 1e3:,.1f}k"))
    if unit == "yuan" and abs(v) < 100:
        return prefix + _unsigned_zero(f"{v:,.2f}")
    return prefix + _unsigned_zero(f"{v:,.0f}")


def change(value, unit: str, relative=None, lang: str = "zh") -> str:
    """Format a change: percentage points for rates, relative % for volumes; '-' when unknown."""
    if unit == "%":
        if _missing(value):
            return NO_DATA
        return f"{signed(float(value) * 100)}{' pp' if lang == 'en' else ' 个百分点'}"
    if _missing(relative):
        return NO_DATA
    return f"{signed(float(relative) * 100)}%"


def pct(value) -> str:
    """Format a share or attainment as a percentage."""
    return NO_DATA if _missing(value) else _unsigned_zero(f"{float(value) * 100:.1f}") + "%"


def period_text(view, lang: str = "zh") -> str:
    """A view's period in titles and headers: "近 30 天 2026-06-01 – 2026-06-30" (custom: the dates)."""
    dates = f"{view.start:%Y-%m-%d} – {view.end:%Y-%m-%d}"
    return dates if view.period == "custom" else f"{t(f'period.{view.period}', lang)} {dates}"
