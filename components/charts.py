"""Figures as plain functions of DataFrames that metrics/ computed."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import pandas as pd
import plotly.graph_objects as go
from dash import dcc
from flask import current_app, has_app_context

from components.axes import value_axis
from components.format import NO_DATA, number
from components.i18n import t
from components.theme import CARRIER_COLOURS, CORE_COLOURS, STATUS_COLOURS

logger = logging.getLogger(__name__)


def graph_config(lang: str, displayModeBar: Literal[True, False, "hover"] = False  # noqa: N803
                 ) -> dcc.Graph.Config:
    """A dcc.Graph's config: no mode bar (unless `displayModeBar` asks for one), and Plotly's own
    texts and date ticks in the user's language (zh-CN is registered by
    assets/plotly-locale-zh-cn.js)."""
    return {"displayModeBar": displayModeBar, "locale": "en" if lang == "en" else "zh-CN"}


def safe(builder: Callable[..., go.Figure], *args: Any, lang: str = "zh",
         **kwargs: Any) -> go.Figure:
    """Build a figure; if that fails, a figure saying so (one broken chart never breaks a page).

    Under testing (the app's TESTING config) the error is raised instead, so a test sees it.
    """
    try:
        return builder(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - any failure is shown in the figure and logged
        if has_app_context() and current_app.config.get("TESTING"):
            raise
        logger.exception("figure %s failed", getattr(builder, "__name__", builder))
        return message_figure(t("error.figure", lang) + type(exc).__name__)


def message_figure(text: str) -> go.Figure:
    """A blank figure carrying a message (no data, or an error in this figure only)."""
    fig = go.Figure()
    fig.add_annotation(text=text, showarrow=False, font={"size": 14, "color": "#868E96"},
                       xref="paper", yref="paper", x=0.5, y=0.5)
    fig.update_layout(xaxis={"visible": False}, yaxis={"visible": False}, height=260)
    return fig


def label_blank_cells(fig: go.Figure) -> go.Figure:
    """Write the labels of a heatmap's empty cells ("不适用", "-") as plain text over the plot, not
    as cell text: plotly colours cell text for contrast with the cell, and an empty cell has none,
    so on the dark theme its label came out dark on dark. Plain text follows the theme."""
    for trace in [tr for tr in fig.data if isinstance(tr, go.Heatmap)]:
        if trace.z is None or trace.text is None:
            continue
        xs, ys, labels, texts = [], [], [], []
        for i, (z_row, t_row) in enumerate(zip(trace.z, trace.text, strict=True)):
            row = list(t_row)
            for j, (z, label) in enumerate(zip(z_row, t_row, strict=True)):
                if z is None and label:
                    xs.append(trace.x[j])
                    ys.append(trace.y[i])
                    labels.append(label)
                    row[j] = ""
            texts.append(row)
        if labels:
            trace.text = texts
            fig.add_trace(go.Scatter(x=xs, y=ys, text=labels, mode="text", hoverinfo="skip",
                                     showlegend=False, textfont={"color": "#868E96"}))
    return fig


def matrix_heatmap(cells: pd.DataFrame, cores: list, carriers: list, lang: str) -> go.Figure:
    """The 6x6 matrix: cores down, carriers across; n/a and no-data cells blank with a label."""
    by = {(r.core, r.carrier): r for r in cells.itertuples()}
    z, text, custom = [], [], []
    for core in cores:
        z_row, t_row, c_row = [], [], []
        for carrier in carriers:
            cell = by.get((core.code, carrier.code))
            score = None if cell is None or pd.isna(cell.score) else float(cell.score)
            z_row.append(score)
            if cell is None or cell.status == "n/a":
                t_row.append(t("status.n/a", lang))
            elif score is None:
                t_row.append(NO_DATA)
            else:
                t_row.append(f"{score:.0f}")
            c_row.append([core.code, carrier.code])
        z.append(z_row)
        text.append(t_row)
        custom.append(c_row)
    names = lambda objs: [o.name_en if lang == "en" else o.name_zh for o in objs]  # noqa: E731
    fig = go.Figure(go.Heatmap(
        z=z, x=names(carriers), y=names(cores), text=text, texttemplate="%{text}",
        customdata=custom, zmin=60, zmax=100, xgap=3, ygap=3,
        colorscale=[[0, STATUS_COLOURS["red"]], [0.7, STATUS_COLOURS["amber"]],
                    [1, STATUS_COLOURS["green"]]],
        hovertemplate="%{y} × %{x}: %{text}<extra></extra>", colorbar={"title": ""}))
    fig.update_layout(height=380, yaxis={"autorange": "reversed"}, margin={"l": 110, "t": 10})
    return fig


def ranking_bars(rows: pd.DataFrame, kpi, lang: str) -> go.Figure:
    """Child units' values of one KPI, sorted by that value, best first (the highest, or the lowest
    when lower is better), so the bars are monotonic; coloured by status; the axis title says
    what they are sorted by. Click a bar to drill. (The league table may rank by attainment.)"""
    if rows.empty or rows["value"].isna().all():
        return message_figure(t("nodata", lang))
    data = rows.dropna(subset=["value"]).astype({"value": float}).sort_values(
        "value", ascending=kpi.better == "lower", kind="stable")
    direction = t("regions.lower_first" if kpi.better == "lower" else "regions.higher_first", lang)
    sorted_by = t("regions.ranking_by", lang).format(kpi=kpi.name_en if lang == "en"
                                                     else kpi.name_zh, direction=direction)
    labels = data["name_en" if lang == "en" else "name_zh"]
    fig = go.Figure(go.Bar(
        x=data["value"], y=labels, orientation="h", customdata=data["unit"],
        marker_color=[STATUS_COLOURS.get(s, STATUS_COLOURS[None]) for s in data["status"]],
        text=[number(v, kpi.unit, lang) for v in data["value"]], textposition="auto",
        hovertemplate="%{y}: %{text}<extra></extra>"))
    fig.update_layout(height=max(260, 32 * len(data) + 60), yaxis={"autorange": "reversed"},
                      margin={"l": 160})
    fig.update_xaxes(title={"text": sorted_by, "font": {"size": 12}},
                     **value_axis([0, *data["value"]], kpi.unit, lang))
    return fig


def trend_lines(frame: pd.DataFrame, series: str, kpi, lang: str,
                colours: dict | None = None, labels: dict | None = None,
                partial: dict | None = None, marks: pd.DataFrame | None = None) -> go.Figure:
    """One line per value of `series` (e.g. carrier) over `period`.

    `partial` ({day: (outlets loaded, outlets)} of the days not every outlet loaded) marks those
    days' points hollow, saying n/m in the hover, and annotates the last point if it is one.
    `marks` (metrics.risk_marks.event_marks of this KPI) marks the days of risk events.
    """
    if frame.empty or frame["value"].isna().all():
        return message_figure(t("nodata", lang))
    monthly = bool(getattr(kpi, "monthly", False))  # values by month: the axis and hover say so
    fig = go.Figure()
    for key in frame[series].unique():  # one trace per series; the values are already computed
        part = frame[frame[series] == key]
        shown = (labels or {}).get(key, key)
        extra: dict = {}
        if monthly:
            extra = {"mode": "lines+markers", "hovertemplate": (
                f"{t('trend.month', lang)} %{{x|%Y-%m}}: %{{y:{kpi.fmt}}}<extra>{shown}</extra>")}
        fig.add_trace(go.Scatter(
            x=part["period"], y=part["value"], name=shown,
            line={"color": (colours or CARRIER_COLOURS).get(key)}, **{"mode": "lines", **extra}))
    if partial:
        _mark_partial(fig, frame, partial, lang)
    if marks is not None and not marks.empty:
        add_event_marks(fig, marks, lang)
    fig.update_layout(height=300)
    if monthly:
        fig.update_xaxes(tickformat="%Y-%m", dtick="M1", title_text=t("trend.by_month", lang))
    fig.update_yaxes(**value_axis(frame["value"], kpi.unit, lang))
    return fig


def _mark_partial(fig: go.Figure, frame: pd.DataFrame, partial: dict, lang: str) -> None:
    days = frame.dropna(subset=["value"])
    days = days[[_day(p) in partial for p in days["period"]]]
    if days.empty:
        return
    texts = [t("trend.partial", lang).format(n=partial[_day(p)][0], m=partial[_day(p)][1])
             for p in days["period"]]
    fig.add_trace(go.Scatter(
        x=days["period"], y=days["value"], mode="markers", text=texts,
        name=t("trend.partial_name", lang), hovertemplate="%{x}: %{text}<extra></extra>",
        marker={"symbol": "circle-open", "size": 10, "line": {"width": 2}, "color": "#E8590C"}))
    last = frame.dropna(subset=["value"])["period"].map(_day).max()
    if last in partial:
        row = days[days["period"].map(_day) == last].iloc[-1]
        fig.add_annotation(x=row["period"], y=row["value"], text=t("trend.partial", lang).format(
            n=partial[last][0], m=partial[last][1]), showarrow=True, arrowhead=0, ay=-30,
            font={"size": 11, "color": "#E8590C"})


def _day(value):
    return value.date() if hasattr(value, "date") and callable(value.date) else value


def share_bars(shares: pd.DataFrame, lang: str, carrier_names: dict) -> go.Figure:
    """Stacked 100% bars: each carrier's share of transactions and of payments."""
    if shares.empty:
        return message_figure(t("nodata", lang))
    fig = go.Figure()
    for carrier in shares["carrier"].unique():
        part = shares[shares["carrier"] == carrier]
        fig.add_trace(go.Bar(x=part["share"], y=part["measure"], orientation="h",
                             name=carrier_names.get(carrier, carrier),
                             marker_color=CARRIER_COLOURS.get(carrier),
                             hovertemplate="%{y}: %{x:.1%}<extra>" + carrier_names.get(
                                 carrier, carrier) + "</extra>"))
    fig.update_layout(barmode="stack", height=220, xaxis={"tickformat": ".0%", "range": [0, 1]})
    return fig


def distribution(values: pd.Series, kpi, lang: str) -> go.Figure:
    """Box and points of the child units' values."""
    clean = values.dropna()
    if clean.empty:
        return message_figure(t("nodata", lang))
    fig = go.Figure(go.Box(x=clean, boxpoints="all", jitter=0.4, name="",
                           marker_color=CARRIER_COLOURS["app"]))
    fig.update_layout(height=200, showlegend=False)
    fig.update_xaxes(**value_axis(clean, kpi.unit, lang))
    return fig


def one_trend(frame: pd.DataFrame, kpi, lang: str, label: str, colour: str | None = None,
              partial: dict | None = None, marks: pd.DataFrame | None = None) -> go.Figure:
    """One KPI's values over `period` as a single line named `label` (in `colour`), the days of
    its risk events marked (`marks`, see `trend_lines`)."""
    return trend_lines(frame.assign(series=label), "series", kpi, lang,
                       {label: colour} if colour else None, partial=partial, marks=marks)


# A mark's colour by the most severe event of its day: red, amber, grey (as the statuses).
SEVERITY_COLOURS = {"high": STATUS_COLOURS["red"], "medium": STATUS_COLOURS["amber"],
                    "low": "#868E96"}
MARKS_AXIS = "y2"  # the marks' own axis, 0..1 over the plot: they sit along its top edge


def add_event_marks(fig: go.Figure, marks: pd.DataFrame, lang: str) -> go.Figure:
    """Mark the days of risk events along the top of a trend chart, like annotations: a triangle
    per day coloured by its most severe event, saying the rules, the unit and how many events in
    its hover; its customdata is the event a click opens (`marks`: event_marks rows of one KPI).

    The marks have an axis of their own (0..1, hidden, over the value axis), so they stay at the
    top whatever the values and grain, and never stretch the value axis."""
    unit = marks["unit_en" if lang == "en" else "unit_zh"]
    rules = marks["rules_en" if lang == "en" else "rules_zh"]
    text = [f"{r} · {u} · " + t("marks.events", lang).format(n=i, events=n) + "<br>"
            + t("marks.open", lang)
            for r, u, n, i in zip(rules, unit, marks["events"], marks["incidents"], strict=True)]
    fig.add_trace(go.Scatter(
        x=list(marks["day"]), y=[1.0] * len(marks), yaxis=MARKS_AXIS, mode="markers",
        name=t("marks.name", lang), customdata=[int(e) for e in marks["event"]], text=text,
        hovertemplate="%{x|%Y-%m-%d} %{text}<extra></extra>", cliponaxis=False,
        marker={"symbol": "triangle-down", "size": 12,
                "color": [SEVERITY_COLOURS.get(s, SEVERITY_COLOURS["low"])
                          for s in marks["severity"]]}))
    fig.update_layout({"yaxis" + MARKS_AXIS[1:]: {
        "overlaying": "y", "range": [0, 1], "visible": False, "fixedrange": True}})
    return fig


def open_trend_figure(trend: pd.DataFrame, lang: str) -> go.Figure:
    """Risk events open and overdue, day by day (`trend`: day, open, overdue)."""
    fig = go.Figure([
        go.Scatter(x=trend["day"], y=trend["open"], name=t("risk.open", lang),
                   line={"color": CORE_COLOURS["channel"]}),
        go.Scatter(x=trend["day"], y=trend["overdue"], name=t("risk.overdue_short", lang),
                   line={"color": STATUS_COLOURS["red"]})])
    fig.update_layout(height=260)
    fig.update_yaxes(**value_axis([0, *trend["open"], *trend["overdue"]], "count", lang,
                                  integer=True))
    return fig


def breach_figure(around: pd.DataFrame, first_day: dt.date, last_day: dt.date, colour: str,
                  kpi_unit: str, lang: str) -> go.Figure:
    """A KPI by day around a risk event, the event's days (`first_day`..`last_day`) shaded."""
    fig = go.Figure(go.Scatter(x=around["period"], y=around["value"], mode="lines+markers",
                               line={"color": colour}))
    fig.add_vrect(x0=first_day - dt.timedelta(hours=12), x1=last_day + dt.timedelta(hours=12),
                  fillcolor=STATUS_COLOURS["red"], opacity=0.15, line_width=0)
    fig.update_layout(height=200, margin={"t": 10})
    fig.update_yaxes(**value_axis(around["value"], kpi_unit, lang))
    return fig


def stage_history_figure(months: Sequence[dt.date], stages: Sequence[int]) -> go.Figure:
    """The unit's operating stage month by month, as steps."""
    fig = go.Figure(go.Scatter(x=list(months), y=list(stages), mode="lines+markers",
                               line={"shape": "hv", "color": "#0072B2"}))
    fig.update_layout(height=220, yaxis={"range": [-0.3, 4.3], "dtick": 1})
    return fig


def carrier_mix_figure(mix: pd.DataFrame, lang: str, carrier_names: Mapping[str, str],
                       transactions_name: str) -> go.Figure:
    """The carrier mix (metrics.views.carrier_mix) as share bars, its measures named in `lang`."""
    named = mix.assign(measure=mix["measure"].map({"transactions": transactions_name,
                                                   "payments": t("carriers.payments", lang)}))
    return share_bars(named, lang, dict(carrier_names))
