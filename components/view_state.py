"""The view state of every analytical page, read from and written to the URL query string.

`?unit=ZJ-HZ&period=last30` or `?unit=ZJ-HZ&start=2026-10-01&end=2026-10-31`, plus `carrier=app,wechat`,
`compare=previous|last_year`, and page extras (`kpi`, `core`). A link reproduces the exact view.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from urllib.parse import parse_qsl, urlencode

from data.catalog import CARRIER_CODES
from data.clock import month_start

PERIODS = ("last7", "last30", "mtd", "last_month", "qtd", "ytd", "custom")
COMPARES = ("previous", "last_year")
CARRIERS = CARRIER_CODES
# The analytical pages (path, title key): the navigation, and what a wall display may show.
PAGES = {"/": "nav.overview", "/carriers": "nav.carriers", "/cores": "nav.cores",
         "/regions": "nav.regions", "/stages": "nav.stages", "/targets": "nav.targets",
         "/risk": "nav.risk", "/live": "nav.live"}
# Pages about today up to now, not about a period (their titles name no period).
TODAY_PAGES = ("/live",)


class BadView(ValueError):
    """A query parameter that cannot be used; the message names it (in English; `text(lang)`
    gives it in the user's language)."""

    def __init__(self, message: str, zh: str | None = None, param: str | None = None) -> None:
        super().__init__(message)
        self.zh = zh or message
        self.param = param  # the parameter at fault ("start" for start and end), when one is

    def text(self, lang: str) -> str:
        """The message in `lang`."""
        return str(self) if lang == "en" else self.zh


@dataclass(frozen=True)
class ViewState:
    unit: str
    start: dt.date
    end: dt.date
    period: str = "last30"
    carriers: tuple[str, ...] = ()
    compare: str = "previous"
    kpi: str | None = None
    core: str | None = None

    def query(self, **changes) -> str:
        """Return the query string of this view with `changes` applied ('?...')."""
        v = replace(self, **changes) if changes else self
        params: dict[str, str] = {"unit": v.unit}
        if v.period == "custom":
            params.update(start=v.start.isoformat(), end=v.end.isoformat())
        else:
            params["period"] = v.period
        if v.carriers:
            params["carrier"] = ",".join(v.carriers)
        if v.compare != "previous":
            params["compare"] = v.compare
        if v.kpi:
            params["kpi"] = v.kpi
        if v.core:
            params["core"] = v.core
        return "?" + urlencode(params, safe=",")


def period_range(period: str, anchor: dt.date) -> tuple[dt.date, dt.date]:
    """Return the dates of a preset period ending at `anchor` (the last day with data)."""
    if period == "last7":
        return anchor - dt.timedelta(days=6), anchor
    if period == "last30":
        return anchor - dt.timedelta(days=29), anchor
    if period == "mtd":
        return month_start(anchor), anchor
    if period == "last_month":
        end = month_start(anchor) - dt.timedelta(days=1)
        return month_start(end), end
    if period == "qtd":
        return dt.date(anchor.year, 3 * ((anchor.month - 1) // 3) + 1, 1), anchor
    if period == "ytd":
        return dt.date(anchor.year, 1, 1), anchor
    raise BadView(f"period must be one of {', '.join(PERIODS)}",
                  f"期间（period）须为 {'、'.join(PERIODS)} 之一", "period")


def parse(query: dict[str, str], home_unit: str, anchor: dt.date) -> ViewState:
    """Read a view from query parameters; unknown values raise BadView naming the parameter."""
    unit = (query.get("unit") or home_unit).strip()
    period = (query.get("period") or "").strip()
    if query.get("start") or query.get("end"):
        try:
            start = dt.date.fromisoformat(query.get("start") or "")
            end = dt.date.fromisoformat(query.get("end") or "")
        except ValueError as exc:
            raise BadView("start and end must be dates YYYY-MM-DD",
                          "开始（start）和结束（end）须为 YYYY-MM-DD 格式的日期", "start") from exc
        if end < start:
            raise BadView("end is before start", "结束日期（end）早于开始日期（start）", "end")
        if (end - start).days > 5 * 366:
            raise BadView("the range is longer than 5 years", "日期范围超过 5 年", "start")
        period = "custom"
    else:
        period = period or "last30"
        if period not in PERIODS or period == "custom":
            raise BadView(f"period must be one of {', '.join(PERIODS[:-1])}",
                          f"期间（period）须为 {'、'.join(PERIODS[:-1])} 之一", "period")
        start, end = period_range(period, anchor)
    carriers = tuple(c for c in (query.get("carrier") or "").split(",") if c)
    unknown = [c for c in carriers if c not in CARRIERS]
    if unknown:
        raise BadView(f"unknown carrier {', '.join(unknown)}",
                      f"没有这个载体（carrier）：{'、'.join(unknown)}", "carrier")
    compare = query.get("compare") or "previous"
    if compare not in COMPARES:
        raise BadView("compare must be previous or last_year",
                      "对比（compare）须为 previous（上一期）或 last_year（去年同期）", "compare")
    return ViewState(unit, start, end, period, carriers, compare, query.get("kpi") or None,
                     query.get("core") or None)


KEEP = ("unit", "period", "start", "end", "carrier", "compare")  # carried from page to page


def first_values(search: str | None) -> dict[str, str]:
    """The parameters of a query string, each with its first value (a page refuses a repeated
    parameter and names it; links and filters built from such a URL keep the first value)."""
    params: dict[str, str] = {}
    for key, value in parse_qsl((search or "").lstrip("?")):
        params.setdefault(key, value)
    return params


def carry(search: str | None, **changes: str | None) -> str:
    """Return the view part of a query string (unit, period, carriers, compare) with changes."""
    kept = {k: v for k, v in first_values(search).items() if k in KEEP}
    for key, value in changes.items():
        if value is None:
            kept.pop(key, None)
        else:
            kept[key] = value
    return "?" + urlencode(kept, safe=",") if kept else ""


def update(search: str | None, **changes: str | None) -> str:
    """Return the whole query string with `changes` applied (None removes a parameter)."""
    params = first_values(search)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return "?" + urlencode(params, safe=",")
