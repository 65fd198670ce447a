"""What every analytical page does first: who is asking, which view, and is it allowed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import dash_mantine_components as dmc
from flask import g
from flask_login import current_user

import settings
from auth import audit
from components.export_menu import export_menu
from components.filters import filter_bar
from components.format import number
from components.i18n import name, t
from components.notices import not_permitted, wall_display_only
from components.tables import grid
from components.view_state import ViewState
from data.catalog import carriers, cores
from data.clock import company_zone, zone_label
from data.db import get_read_session, get_session
from data.models import Carrier, Core, OrgUnit
from data.units import ancestors, children, unit_by_code
from metrics.freshness import is_demo, last_loaded, outlets_loaded
from metrics.scope import Scope
from metrics.targets import Bands
from views.resolve import Refusal, audit_refusal, resolve_view

if TYPE_CHECKING:  # the page context carries the request's session; pages never query it themselves
    from sqlalchemy.orm import Session


@dataclass
class PageContext:
    session: Session
    lang: str
    view: ViewState
    unit: OrgUnit
    scope: Scope
    path_units: list[OrgUnit]
    children: list[OrgUnit]
    carriers: list[Carrier]
    cores: list[Core]
    loaded: str
    demo: bool
    bands: Bands
    data_end: dt.date | None = None  # the store's last loaded day
    requested_end: dt.date | None = None  # the URL's end, when it ran past data_end (view.end clipped)


def page_context(query: dict, page_path: str) -> PageContext | dmc.Container:
    """Resolve the view for the signed-in user, or return the notice to show instead."""
    if current_user.role == "display" and not g.get("kiosk"):
        return wall_display_only()
    session = get_read_session()  # a replica when one is usable (the primary after the caller's write)
    lang = current_user.language or "zh"
    found = resolve_view(session, current_user, page_path, query, wall=True)
    if isinstance(found, Refusal):
        audit_refusal(session, current_user, found)
        if found.kind == "bad_parameter":
            return dmc.Container(dmc.Alert(f"{t('error.bad_param', lang)}{found.text(lang)}",
                                           color="red", id="bad-view"), py="xl")
        if found.kind == "not_permitted":
            return not_permitted()
        return dmc.Container(dmc.Alert(t("nodata", lang), color="gray"), py="xl")
    unit, scope = found.unit, found.scope
    path_units = [u for u in ancestors(session, unit) if scope.allows(u)]
    loaded = last_loaded(session, unit, scope=scope)[unit.code]
    return PageContext(session, lang, found.state, unit, scope, path_units, children(session, unit),
                       carriers(session), cores(session), loaded.isoformat() if loaded else "",
                       is_demo(session), Bands.from_settings(settings.current()), found.data_end,
                       found.requested_end)


def in_zone(key: str, lang: str) -> str:
    """A time's label with the company's zone, derived from TIMEZONE: 最近登录（UTC+8）."""
    return t("time.in_zone", lang).format(label=t(key, lang), zone=zone_label(company_zone()))


def unit_names(session, codes, lang: str) -> dict[str, str]:
    """The names of units by code (a target's "set at" unit, shown by name, not by code)."""
    found = {code: unit_by_code(session, code) for code in set(codes) if code}
    return {code: name(u, lang) if u is not None else code for code, u in found.items()}


def refused(target: str, detail: str) -> None:
    """Audit a forged or malformed request that a page or callback refused (`bad_request`)."""
    audit.record(get_session(), "bad_request", current_user.username, target=target,
                 outcome="refused", detail=detail[:500])


def frame(ctx: PageContext, page_path: str, title_key: str, body: list) -> dmc.Container:
    """Wrap a page's body with its title, the filter bar and the "data as of" line."""
    head = dmc.Group([
        dmc.Title(t(title_key, ctx.lang), order=3),
        dmc.Group([dmc.Text(f"{t('asof', ctx.lang)} {ctx.loaded or '-'}{as_of_outlets(ctx)}"
                            f"{as_of_note(ctx)}", size="sm",
                            c="dimmed", id="as-of"),
                   dmc.Badge(t("demo", ctx.lang), color="orange", id="demo-badge")
                   if ctx.demo else None,
                   export_menu(ctx.lang, page_path + ctx.view.query())], gap="xs"),
    ], justify="space-between")
    bar = filter_bar(ctx.path_units, ctx.children, ctx.carriers, ctx.view, page_path, ctx.lang)
    return dmc.Container([head, bar, *body], fluid=True, px="md", py="sm", maw=1880)


def as_of_outlets(ctx: PageContext) -> str:
    """"（47/48 个网点）" after the "data as of" day when only some of the unit's outlets loaded it
    (its stocks then carry the late outlets' last known levels); "" when all did."""
    if not ctx.loaded:
        return ""
    day = dt.date.fromisoformat(ctx.loaded)
    by_day, total = outlets_loaded(ctx.session, ctx.unit, day, day, scope=ctx.scope)
    n = by_day.get(day, 0)
    return t("asof.outlets", ctx.lang).format(n=n, m=total) if n < total else ""


def partly_loaded_days(ctx: PageContext, grain: str) -> dict[dt.date, tuple[int, int]]:
    """The days of a daily view that only some of the unit's outlets loaded: {day: (n, m)}."""
    if grain != "day":
        return {}
    by_day, total = outlets_loaded(ctx.session, ctx.unit, ctx.view.start, ctx.view.end,
                                   scope=ctx.scope)
    return {d: (n, total) for d, n in by_day.items() if n < total}


def as_of_note(ctx: PageContext) -> str:
    """What the "data as of" line adds when the view's range runs past the last loaded day."""
    if ctx.data_end is None:
        return ""
    if ctx.requested_end is not None:
        return " · " + t("asof.clipped", ctx.lang).format(end=ctx.requested_end, day=ctx.data_end)
    if ctx.view.start > ctx.data_end:
        return " · " + t("asof.after", ctx.lang).format(day=ctx.data_end)
    return ""


def explain_text(ctx: PageContext, kpi, numerator, denominator) -> str:
    """"Explain this number" for a table cell: formula, numerator, denominator, last loaded day."""
    formula = kpi.formula_en if ctx.lang == "en" else kpi.formula_zh
    parts = [f"{t('explain.formula', ctx.lang)}: {formula}",
             f"{t('explain.numerator', ctx.lang)}: {number(numerator, 'count', ctx.lang, 0)}"]
    if kpi.denominator is not None:
        parts.append(f"{t('explain.denominator', ctx.lang)}: "
                     f"{number(denominator, 'count', ctx.lang, 0)}")
    parts.append(f"{t('explain.loaded', ctx.lang)}: {ctx.loaded or '-'}")
    return " · ".join(parts)


def kpi_carrier_table(ctx: PageContext, grid_name: str, kpis: list, by_carrier, shown: list):
    """A table of KPIs (rows) by carrier (columns) from a by-carrier computation; "n/a" where the
    KPI does not apply to the carrier; each cell explains itself on hover."""
    cells = {(r.kpi, r.carrier): r for r in by_carrier.itertuples()}
    rows = []
    for k in kpis:
        row = {"kpi": name(k, ctx.lang)}
        for c in shown:
            cell = cells.get((k.id, c.code))
            if c.code not in k.carriers:
                row[c.code] = t("status.n/a", ctx.lang)
                continue
            row[c.code] = number(cell.value if cell else None, k.unit, ctx.lang)
            row[f"{c.code}_tip"] = explain_text(ctx, k, cell.numerator if cell else None,
                                                cell.denominator if cell else None)
        rows.append(row)
    columns = ([{"field": "kpi", "headerName": t("col.kpi", ctx.lang), "pinned": "left",
                 "minWidth": 170}]
               + [{"field": c.code, "headerName": name(c, ctx.lang), "tooltipField": f"{c.code}_tip"}
                  for c in shown])
    return grid(grid_name, rows, columns, ctx.lang)
