"""Heatmaps whose colours mean something fixed: risk events on a scale from zero (neutral) up, and
attainment by status band (green, amber, red; grey without data), never a continuous blend."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from components.charts import message_figure
from components.format import NO_DATA, pct
from components.i18n import name, t
from components.theme import STATUS_COLOURS
from metrics.targets import DEFAULT_BANDS

# Zero events is no news: the neutral grey of an empty cell, never a colour of the scale.
NEUTRAL = "#F1F3F5"
PALE_RED = "#FFD8D8"
# The top of the event scale is at least this many events (one event never paints a cell deep red).
MIN_EVENT_TOP = 5


def risk_heatmap(counts: pd.DataFrame, unit, children: Sequence, cores: Sequence,
                 lang: str) -> go.Figure:
    """Events per child unit (rows) and core (columns) from `counts` (child, core, events).

    The unit's own events (at the unit itself, not at a child) are a row of their own, first and
    labelled "本级 · name", whenever there are any; a unit without children is its only row. The
    scale is fixed: 0 is neutral grey, 1 a pale red, the top (the most events, at least
    MIN_EVENT_TOP) deep red. No event at all: a figure saying so.
    """
    if counts.empty:
        return message_figure(t("risk.none", lang))
    by = {(r.child, r.core): int(r.events) for r in counts.itertuples()}
    own = any(child == unit.code for child, _core in by)
    own_label = t("risk.own_row", lang).format(name=name(unit, lang)) if children else name(
        unit, lang)
    rows = [(unit.code, own_label)] if own or not children else []
    rows += [(c.code, name(c, lang)) for c in children]
    z = [[by.get((code, core.code), 0) for core in cores] for code, _label in rows]
    top = max([MIN_EVENT_TOP, *(v for row in z for v in row)])
    fig = go.Figure(go.Heatmap(
        z=z, x=[name(c, lang) for c in cores], y=[label for _code, label in rows], text=z,
        texttemplate="%{text}", xgap=2, ygap=2, zmin=0, zmax=top, showscale=False,
        colorscale=[[0, NEUTRAL], [1 / top, PALE_RED], [1, STATUS_COLOURS["red"]]],
        hovertemplate="%{y} · %{x}: %{z}<extra></extra>"))
    fig.update_layout(height=max(220, 34 * len(rows) + 80), margin={"l": 160, "t": 10},
                      yaxis={"autorange": "reversed"})
    return fig


# Status bands as heatmap values, and the colour of each (a step scale: no blending between bands).
BAND_VALUES = {"red": 0, "amber": 1, "green": 2, None: 3}
BAND_ORDER = ("red", "amber", "green", "no_data")


def band_colourscale() -> list[list]:
    """A step colour scale over the values 0..3 (zmin -0.5, zmax 3.5): each band one flat colour."""
    scale: list[list] = []
    for i, band in enumerate(BAND_ORDER):
        colour = STATUS_COLOURS[band]
        scale += [[i / len(BAND_ORDER), colour], [(i + 1) / len(BAND_ORDER), colour]]
    return scale


def band_text(att: float, bands) -> str:
    """An attainment as a cell shows it: one decimal, rounded down when rounding would carry it
    over a band's threshold (99.96 % of a 100 % green band reads "99.9%", never "100.0%" in
    amber)."""
    shown = round(att * 100, 1)
    if any(att < edge <= shown / 100 for edge in (bands.green, bands.amber)):
        return f"{math.floor(att * 1000) / 10:.1f}%"
    return pct(att)


def band_heatmap(cells: dict, rows: Sequence, columns: Sequence, lang: str,
                 bands=DEFAULT_BANDS) -> go.Figure:
    """Attainment of each row (KPI) and column (unit), coloured by its status band; the cell text
    is the attainment. `cells` maps (column code, row id) to an object with `attainment` and
    `status` (metrics.targets.status with `bands`); no data is grey, text "-"."""
    z, text = [], []
    for row in rows:
        z_row, t_row = [], []
        for col in columns:
            cell = cells.get((col.code, row.id))
            band = None if cell is None or cell.attainment is None else cell.status
            z_row.append(BAND_VALUES[band])
            t_row.append(NO_DATA if cell is None or band is None
                         else band_text(cell.attainment, bands))
        z.append(z_row)
        text.append(t_row)
    # x are the units' codes (a click sends its point's x; Dash drops a heatmap's 2-D customdata),
    # shown by name; the hover names the unit through customdata, which the browser keeps.
    fig = go.Figure(go.Heatmap(
        z=z, x=[c.code for c in columns], y=[name(r, lang) for r in rows], text=text,
        texttemplate="%{text}", zmin=-0.5, zmax=len(BAND_ORDER) - 0.5, xgap=2, ygap=2,
        colorscale=band_colourscale(), showscale=False,
        customdata=[[name(c, lang) for c in columns]] * len(rows),
        hovertemplate="%{y} · %{customdata}: %{text}<extra></extra>"))
    fig.update_layout(height=26 * len(rows) + 80, margin={"l": 190, "t": 10},
                      yaxis={"autorange": "reversed"},
                      xaxis={"type": "category", "tickmode": "array",
                             "tickvals": [c.code for c in columns],
                             "ticktext": [name(c, lang) for c in columns]})
    return fig


def attainment_heatmap(frame: pd.DataFrame, kpis: Sequence, columns: Sequence, lang: str,
                       bands=DEFAULT_BANDS) -> go.Figure:
    """`band_heatmap` of metrics.attainment.attainment_by_child's rows (unit, kpi, attainment,
    status...): the KPIs down, the units `columns` across."""
    cells = {(r.unit, r.kpi): r for r in frame.itertuples()}
    return band_heatmap(cells, kpis, columns, lang, bands)


def band_legend(bands, lang: str) -> str:
    """What the colours of band_heatmap mean, with the configured thresholds."""
    return t("targets.bands", lang).format(green=pct(bands.green), amber=pct(bands.amber))
