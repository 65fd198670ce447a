"""The filter bar of every analytical page: breadcrumb, drill-down, period, carriers, compare-to."""

from __future__ import annotations

import dash_mantine_components as dmc
from dash import dcc

from components.i18n import name, t
from components.view_state import COMPARES, PERIODS, ViewState
from metrics.registry import KPIS


def breadcrumb(path_units: list, view: ViewState, page_path: str, lang: str) -> dmc.Breadcrumbs:
    """HQ > Province > City > County > Outlet, each a link to that unit's view of this page."""
    links = [dcc.Link(name(u, lang), href=page_path + view.query(unit=u.code),
                      id={"type": "crumb", "code": u.code}) for u in path_units]
    return dmc.Breadcrumbs(links, separator="›", id="breadcrumb")


def filter_bar(path_units: list, children: list, carriers: list, view: ViewState,
               page_path: str, lang: str) -> dmc.Paper:
    """Return the bar; its controls' ids start with `f-` and one shell callback turns them into
    a new URL query string (so browser back and forward work and a link reproduces the view)."""
    child_options = [{"value": c.code, "label": name(c, lang)} for c in children]
    controls = [
        dmc.Select(id="f-child", label=t("filter.child", lang), data=child_options, value=None,
                   searchable=True, clearable=True, w=220, disabled=not children,
                   placeholder="—" if not children else None),
        dmc.Select(id="f-period", label=t("filter.period", lang), w=150, value=view.period,
                   data=[{"value": p, "label": t(f"period.{p}", lang)} for p in PERIODS],
                   allowDeselect=False),
        date_range("f-dates", f"{t('filter.start', lang)} – {t('filter.end', lang)}",
                   [view.start.isoformat(), view.end.isoformat()]),
        dmc.MultiSelect(id="f-carriers", label=t("filter.carriers", lang), w=260, clearable=True,
                        placeholder=t("filter.all_carriers", lang), value=list(view.carriers),
                        data=[{"value": c.code, "label": name(c, lang)} for c in carriers]),
        dmc.SegmentedControl(id="f-compare", value=view.compare, mt=22,
                             data=[{"value": c, "label": t(f"compare.{c}", lang)}
                                   for c in COMPARES]),
    ]
    return dmc.Paper([
        breadcrumb(path_units, view, page_path, lang),
        dmc.Group(controls, gap="md", align="flex-end", mt="xs", wrap="wrap",
                  className="filter-controls"),
        dcc.Store(id="view-state", data={"path": page_path, "query": view.query()}),
    ], p="sm", withBorder=True, radius="md", mb="md", className="filter-bar")


def dates_settings(lang: str) -> dict:
    """The Mantine date pickers' settings: the dayjs locale (assets/dayjs-locale-zh-cn.js) and
    weeks that start on Monday."""
    return {"locale": "en" if lang == "en" else "zh-cn", "firstDayOfWeek": 1}


def date_range(id_: str, label: str, value: list | None, **kwargs) -> dmc.DatePickerInput:
    """A from-to date picker (its `value` is [start, end] as YYYY-MM-DD); its texts follow the
    DatesProvider around the page (the shell's, see dates_settings)."""
    return dmc.DatePickerInput(id=id_, type="range", label=label, value=value or [None, None],
                               valueFormat="YYYY-MM-DD", allowSingleDateInRange=True, w=230,
                               **kwargs)


def kpi_picker(page: str, value: str, lang: str, label: str | None = None) -> dmc.Box:
    """A KPI selector; the shell's callback puts the choice into the URL (`kpi=`). On paper and on
    a wall the selector goes and a plain line says which KPI the page shows."""
    chosen = next((name(k, lang) for k in KPIS if k.id == value), value)
    colon = ": " if lang == "en" else "："
    return dmc.Box([
        dmc.Select(id={"type": "kpi-picker", "page": page}, label=label, value=value, w=280,
                   searchable=True, allowDeselect=False, className="interactive",
                   data=[{"value": k.id, "label": name(k, lang)} for k in KPIS]),
        dmc.Text(f"{label or t('regions.kpi', lang)}{colon}{chosen}", fw=600,
                 className="static-only"),
    ])
