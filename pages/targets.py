"""Indicator control (指标管控): attainment of every KPI by child unit, and the year's targets of a
KPI for the unit and its children (editable by admins, and by managers within their subtree)."""

from __future__ import annotations

import datetime as dt

import dash
import dash_mantine_components as dmc
from dash import Input, Output, State, callback, dcc, no_update
from flask_login import current_user

from auth.admin import NotPermitted
from auth.guard import writes_data
from components.charts import graph_config, safe
from components.filters import kpi_picker
from components.format import number
from components.heatmaps import attainment_heatmap, band_legend
from components.i18n import name, t
from components.tables import grid
from components.view_state import update
from data.db import get_session
from data.numbers import BadNumber, finite
from data.units import unit_by_code
from metrics.indicator_control import TargetError, clear_target, may_set_targets, set_target
from metrics.registry import KPIS, REGISTRY
from metrics.scope import Scope
from metrics.views import targets_view, year_targets
from pages._common import PageContext, frame, page_context, refused, unit_names

dash.register_page(__name__, path="/targets", name="Targets", title="指标管控 Targets")

PATH = "/targets"


def layout(**query: str):
    """Render the attainment heatmap and the target table of the unit in the URL."""
    ctx = page_context(query, PATH)
    if not isinstance(ctx, PageContext):
        return ctx
    v = ctx.view
    kpi = REGISTRY.get(v.kpi or "") or REGISTRY["online_substitution"]
    year = v.end.year
    units = [ctx.unit, *ctx.children]
    editable = may_set_targets(current_user, ctx.unit)
    view = targets_view(ctx.session, ctx.unit, units, kpi.id, year, v.start, v.end, ctx.scope,
                        ctx.bands)
    body = [
        dmc.Paper([dmc.Text(t("targets.heatmap", ctx.lang), fw=600),
                   dmc.Text(band_legend(ctx.bands, ctx.lang), size="xs", c="dimmed",
                            id="targets-bands"),
                   dcc.Graph(id="targets-heatmap", config=graph_config(ctx.lang),
                             figure=safe(attainment_heatmap, view.attainment, KPIS, ctx.children,
                                         ctx.lang, ctx.bands, lang=ctx.lang))],
                  p="sm", withBorder=True, radius="md") if view.attainment is not None else
        dmc.Alert(t("regions.outlet", ctx.lang), color="gray"),
        dmc.Paper([
            dmc.Group([dmc.Text(t("targets.table", ctx.lang).format(year=year), fw=600),
                       kpi_picker("targets", kpi.id, ctx.lang)]),
            dmc.Text(t("targets.help" if editable else "targets.readonly", ctx.lang), size="xs",
                     c="dimmed"),
            dmc.Alert(id="targets-message", children="", hide=True, my="xs"),
            grid("targets-table", _table(ctx.session, view.targets, kpi.id, units, ctx.lang),
                 _columns(ctx.lang, editable, kpi.unit), ctx.lang, row_id="unit"),
            dmc.Group([
                dmc.Select(id="targets-clear-unit", placeholder=t("targets.clear_unit", ctx.lang),
                           data=[{"value": u.code, "label": name(u, ctx.lang)} for u in units],
                           w=260, size="xs"),
                dmc.Button(t("targets.clear", ctx.lang), id="targets-clear", color="red",
                           variant="light", size="compact-sm"),
            ], mt="xs", className="no-print") if editable else None,
            dcc.Store(id="targets-context", data={"kpi": kpi.id, "year": year,
                                                  "units": [u.code for u in units]}),
        ], p="sm", withBorder=True, radius="md", mt="sm"),
    ]
    return frame(ctx, PATH, "nav.targets", body)


def _rows(session, kpi: str, units, year: int, lang: str) -> list[dict]:
    found = year_targets(session, kpi, units, year, Scope.of(current_user.unit))
    return _table(session, found, kpi, units, lang)


def _table(session, found: dict, kpi: str, units, lang: str) -> list[dict]:
    """The target table's rows: each unit's effective target, where it was set, its own."""
    unit_kind = REGISTRY[kpi].unit
    set_at = unit_names(session, [f["set_at"] for f in found.values()], lang)
    return [{"unit": u.code, "name": name(u, lang),
             "effective": number(found[u.code]["value"], unit_kind, lang),
             "set_at": set_at.get(found[u.code]["set_at"], "-"),
             "own": typed(found[u.code]["value"], unit_kind) if found[u.code]["own"] else ""}
            for u in units]


def _columns(lang: str, editable: bool, unit_kind: str) -> list[dict]:
    # A text cell: what the person typed reaches the server as typed, to be parsed there (a
    # number cell turns "abc" into an empty value).
    return [{"field": "name", "headerName": t("col.unit", lang), "minWidth": 160},
            {"field": "effective", "headerName": t("targets.effective", lang)},
            {"field": "set_at", "headerName": t("explain.target_from", lang)},
            {"field": "own", "headerName": t("targets.own_pct" if unit_kind == "%" else "targets.own",
                                             lang),
             "editable": editable, "cellDataType": "text"}]


def typed(value: float | None, unit_kind: str) -> str:
    """A stored target as people type and read it: a rate in percent (0.72 -> "72"), a volume as
    it is; no float noise (0.7200000000000001 -> "72"); "" for none."""
    if value is None:
        return ""
    text = f"{value * 100 if unit_kind == '%' else value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def parse_typed(raw: object, unit_kind: str, lang: str) -> float:
    """The stored value of a typed target (72 for a rate -> 0.72), parsed by data.numbers; a
    TargetError naming the value, in `lang`, for a blank, a non-number or one out of range."""
    text = raw.strip() if isinstance(raw, str) else raw
    if text is None or text == "":
        raise TargetError(t("targets.blank", lang))
    shown = str(text)[:40]
    if unit_kind == "%" and isinstance(text, str) and text[-1:] in ("%", "％"):
        text = text[:-1].strip()
    try:
        value = finite(text, ("目标值", "target"))
    except BadNumber:
        raise TargetError(t("targets.not_number", lang).format(value=shown)) from None
    assert value is not None  # required: a blank was refused above
    if value < 0:
        raise TargetError(t("targets.negative", lang).format(value=shown))
    if unit_kind == "%":
        if value > 100:
            raise TargetError(t("targets.pct_range", lang).format(value=shown))
        return round(value / 100, 12)
    return value


@callback(Output({"type": "csv-grid", "name": "targets-table"}, "rowData"),
          Output("targets-message", "children"), Output("targets-message", "hide"),
          Output("targets-message", "color"),
          Input({"type": "csv-grid", "name": "targets-table"}, "cellValueChanged"),
          State("targets-context", "data"), prevent_initial_call=True)
@writes_data
def change_target(changes, context):
    """Store an edited yearly target, typed as read (a rate in percent); checked and audited.
    Nothing is removed here: an empty or unparsable cell is refused and the target kept
    (`clear_own_target` removes one, explicitly).

    The table's context (KPI, year, units) comes back from the browser, so it is checked like any
    other input: a forged one gets a message and an audit entry, never an error page.
    """
    change = changes[0] if isinstance(changes, list) and changes else None
    if not change:
        return no_update, no_update, no_update, no_update
    session = get_session()
    lang = current_user.language
    try:
        kpi, year, units, unit_code = _checked(session, context, change)
    except ValueError as exc:
        refused("targets", str(exc))
        return no_update, f"{t('error.bad_request', lang)}{exc}", False, "red"
    unit_kind = REGISTRY[kpi].unit
    try:
        value = parse_typed(change.get("value"), unit_kind, lang)
        set_target(session, current_user, kpi, unit_code, dt.date(year, 1, 1),
                   dt.date(year, 12, 31), value)
        session.commit()
        message = t("targets.saved", lang).format(unit=_name(units, unit_code, lang),
                                                  value=number(value, unit_kind, lang))
        colour = "green"
    except NotPermitted:
        session.rollback()
        message = t("targets.forbidden", lang).format(unit=_name(units, unit_code, lang))
        colour = "red"
    except TargetError as exc:
        session.rollback()
        message, colour = f"{t('targets.not_saved', lang)} {exc} {t('targets.kept', lang)}", "red"
    return _rows(session, kpi, units, year, lang), message, False, colour


@callback(Output({"type": "csv-grid", "name": "targets-table"}, "rowData", allow_duplicate=True),
          Output("targets-message", "children", allow_duplicate=True),
          Output("targets-message", "hide", allow_duplicate=True),
          Output("targets-message", "color", allow_duplicate=True),
          Input("targets-clear", "n_clicks"), State("targets-clear-unit", "value"),
          State("targets-context", "data"), prevent_initial_call=True)
@writes_data
def clear_own_target(clicks, unit_code, context):
    """Remove the chosen unit's own target (the one explicit way to delete a target); audited."""
    if not clicks or not unit_code:
        return no_update, no_update, no_update, no_update
    session = get_session()
    lang = current_user.language
    try:
        kpi, year, units, unit_code = _checked(session, context, {"rowId": unit_code})
    except ValueError as exc:
        refused("targets", str(exc))
        return no_update, f"{t('error.bad_request', lang)}{exc}", False, "red"
    shown = _name(units, unit_code, lang)
    try:
        had = clear_target(session, current_user, kpi, unit_code, dt.date(year, 1, 1),
                           dt.date(year, 12, 31))
        session.commit()
        message = t("targets.cleared" if had else "targets.nothing_to_clear", lang).format(
            unit=shown)
        colour = "green" if had else "gray"
    except NotPermitted:
        session.rollback()
        message, colour = t("targets.forbidden", lang).format(unit=shown), "red"
    return _rows(session, kpi, units, year, lang), message, False, colour


def _name(units, code: str, lang: str) -> str:
    return next((name(u, lang) for u in units if u.code == code), code)


def _checked(session, context, change) -> tuple[str, int, list, str]:
    """The KPI, year, units (in the caller's scope) and edited unit of a posted change."""
    context = context if isinstance(context, dict) else {}
    kpi, year, codes = context.get("kpi"), context.get("year"), context.get("units")
    if not isinstance(kpi, str) or kpi not in REGISTRY:
        raise ValueError(f"unknown KPI {str(kpi)[:40]!r}")
    if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2100:
        raise ValueError(f"the year must be a whole number 2000-2100, not {str(year)[:40]!r}")
    if not isinstance(codes, list) or not codes or not all(isinstance(c, str) for c in codes):
        raise ValueError("the table's units are missing")
    if len(codes) > 500:  # a unit and its children; no real table comes near
        raise ValueError("the table has too many units")
    scope = Scope.of(current_user.unit)
    found = [unit_by_code(session, code) for code in codes]
    units = [u for u in found if u is not None and scope.allows(u)]
    if len(units) < len(found):
        raise ValueError("a unit of the table is not found or not permitted")
    row = change.get("rowId") if isinstance(change, dict) else None
    if not isinstance(row, str) or row not in codes:
        raise ValueError("the edited row is not a unit of the table")
    return kpi, year, units, row


@callback(Output("_pages_location", "search", allow_duplicate=True),
          Input("targets-heatmap", "clickData"), State("_pages_location", "search"),
          prevent_initial_call=True)
def drill(click, search):
    """Drill down to the clicked child unit (the point's x is its code; the page checks scope)."""
    point = (click.get("points") or [None])[0] if isinstance(click, dict) else None
    code = point.get("x") if isinstance(point, dict) else None
    if not isinstance(code, str) or not code:
        return no_update
    return update(search, unit=code)
