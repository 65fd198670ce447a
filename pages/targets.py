"""Indicator control (指标管控): attainment of every KPI by child unit, and the year's targets of a
KPI for the unit and its children (editable by admins, and by managers within their subtree)."""

from __future__ import annotations

import datetime as dt

import dash
import dash_mantine_components as dmc
import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, no_update
from flask_login import current_user

from auth.admin import NotPermitted
from auth.guard import writes_data
from auth.indicator_control import TargetError, may_set_targets, set_target
from components.charts import graph_config, label_blank_cells, safe
from components.filters import kpi_picker
from components.format import number, pct
from components.i18n import name, t
from components.tables import grid
from components.theme import STATUS_COLOURS
from components.view_state import update
from data.db import get_session
from data.units import unit_by_code
from metrics.attainment import attainment_by_child, own_targets
from metrics.registry import KPIS, REGISTRY
from metrics.scope import Scope
from pages._common import frame, page_context, refused, unit_names

dash.register_page(__name__, path="/targets", name="Targets", title="指标管控 Targets")

PATH = "/targets"


def layout(**query: str):
    """Render the attainment heatmap and the target table of the unit in the URL."""
    ctx = page_context(query, PATH)
    if not hasattr(ctx, "view"):
        return ctx
    v = ctx.view
    kpi = REGISTRY.get(v.kpi or "") or REGISTRY["online_substitution"]
    year = v.end.year
    units = [ctx.unit, *ctx.children]
    editable = may_set_targets(current_user, ctx.unit)
    body = [
        dmc.Paper([dmc.Text(t("targets.heatmap", ctx.lang), fw=600),
                   dcc.Graph(id="targets-heatmap", config=graph_config(ctx.lang),
                             figure=safe(_heatmap, ctx, lang=ctx.lang))],
                  p="sm", withBorder=True, radius="md") if ctx.children else
        dmc.Alert(t("regions.outlet", ctx.lang), color="gray"),
        dmc.Paper([
            dmc.Group([dmc.Text(t("targets.table", ctx.lang).format(year=year), fw=600),
                       kpi_picker("targets", kpi.id, ctx.lang)]),
            dmc.Text(t("targets.help" if editable else "targets.readonly", ctx.lang), size="xs",
                     c="dimmed"),
            dmc.Alert(id="targets-message", children="", hide=True, my="xs"),
            grid("targets-table", _rows(ctx.session, kpi.id, units, year, ctx.lang),
                 _columns(ctx.lang, editable), ctx.lang, row_id="unit"),
            dcc.Store(id="targets-context", data={"kpi": kpi.id, "year": year,
                                                  "units": [u.code for u in units]}),
        ], p="sm", withBorder=True, radius="md", mt="sm"),
    ]
    return frame(ctx, PATH, "nav.targets", body)


def _heatmap(ctx) -> go.Figure:
    frame_ = attainment_by_child(ctx.session, ctx.unit, ctx.view.start, ctx.view.end,
                                 scope=ctx.scope, bands=ctx.bands)
    kids = [c.code for c in ctx.children]
    labels = {c.code: name(c, ctx.lang) for c in ctx.children}
    cells = {(r.unit, r.kpi): r for r in frame_.itertuples()}
    z, text = [], []
    for k in KPIS:
        z.append([_capped(cells[(u, k.id)].attainment) for u in kids])
        text.append([pct(cells[(u, k.id)].attainment) for u in kids])
    fig = go.Figure(go.Heatmap(
        z=z, x=[labels[u] for u in kids], y=[name(k, ctx.lang) for k in KPIS], text=text,
        texttemplate="%{text}", zmin=0.8, zmax=1.2, xgap=2, ygap=2,
        colorscale=[[0, STATUS_COLOURS["red"]], [0.375, STATUS_COLOURS["amber"]],
                    [0.5, STATUS_COLOURS["green"]], [1, STATUS_COLOURS["green"]]],
        hovertemplate="%{y} · %{x}: %{text}<extra></extra>", customdata=[kids] * len(KPIS)))
    fig.update_layout(height=26 * len(KPIS) + 80, margin={"l": 190, "t": 10},
                      yaxis={"autorange": "reversed"})
    return label_blank_cells(fig)


def _capped(att):
    return None if att is None else max(0.8, min(1.2, att))


def _rows(session, kpi: str, units, year: int, lang: str) -> list[dict]:
    found = own_targets(session, kpi, units, dt.date(year, 1, 1), dt.date(year, 12, 31),
                        scope=Scope.of(current_user.unit))
    unit_kind = REGISTRY[kpi].unit
    set_at = unit_names(session, [f["set_at"] for f in found.values()], lang)
    return [{"unit": u.code, "name": name(u, lang),
             "effective": number(found[u.code]["value"], unit_kind, lang),
             "set_at": set_at.get(found[u.code]["set_at"], "-"),
             "own": found[u.code]["value"] if found[u.code]["own"] else None} for u in units]


def _columns(lang: str, editable: bool) -> list[dict]:
    return [{"field": "name", "headerName": t("col.unit", lang), "minWidth": 160},
            {"field": "effective", "headerName": t("targets.effective", lang)},
            {"field": "set_at", "headerName": t("explain.target_from", lang)},
            {"field": "own", "headerName": t("targets.own", lang), "editable": editable,
             "cellDataType": "number"}]


@callback(Output({"type": "csv-grid", "name": "targets-table"}, "rowData"),
          Output("targets-message", "children"), Output("targets-message", "hide"),
          Output("targets-message", "color"),
          Input({"type": "csv-grid", "name": "targets-table"}, "cellValueChanged"),
          State("targets-context", "data"), prevent_initial_call=True)
@writes_data
def change_target(changes, context):
    """Store an edited yearly target (empty removes the unit's own target); checked and audited.

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
    try:
        set_target(session, current_user, kpi, unit_code, dt.date(year, 1, 1),
                   dt.date(year, 12, 31), change.get("value"))
        session.commit()
        message, colour = t("targets.saved", lang), "green"
    except (TargetError, NotPermitted) as exc:
        session.rollback()
        message, colour = f"{t('targets.not_saved', lang)} {exc}", "red"
    return _rows(session, kpi, units, year, lang), message, False, colour


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
    units = [unit_by_code(session, code) for code in codes]
    if any(u is None or not scope.allows(u) for u in units):
        raise ValueError("a unit of the table is not found or not permitted")
    row = change.get("rowId") if isinstance(change, dict) else None
    if row not in codes:
        raise ValueError("the edited row is not a unit of the table")
    return kpi, year, units, row


@callback(Output("_pages_location", "search", allow_duplicate=True),
          Input("targets-heatmap", "clickData"), State("_pages_location", "search"),
          prevent_initial_call=True)
def drill(click, search):
    """Drill down to the clicked child unit."""
    if not click or not click.get("points"):
        return no_update
    return update(search, unit=click["points"][0]["customdata"])
