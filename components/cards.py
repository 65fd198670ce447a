"""KPI cards: value, target, attainment colour, change vs the previous period and last year,
a sparkline, and "explain this number"."""

from __future__ import annotations

import dash_mantine_components as dmc
import plotly.graph_objects as go
from dash import dcc, html

from components.format import NO_DATA, change, number, pct
from components.i18n import t
from components.theme import STATUS_COLOURS, STATUS_MANTINE


def sparkline(values: list, colour: str) -> dcc.Graph:
    """A tiny line of the KPI over the period (gaps where there is no data)."""
    fig = go.Figure(go.Scatter(y=values, mode="lines", line={"color": colour, "width": 2},
                               hoverinfo="skip", connectgaps=False))
    fig.update_layout(height=40, margin={"l": 0, "r": 0, "t": 0, "b": 0}, showlegend=False,
                      xaxis={"visible": False}, yaxis={"visible": False})
    return dcc.Graph(figure=fig, config={"displayModeBar": False, "staticPlot": True},
                     style={"height": "40px"})


def explain(kpi, row: dict, target, loaded: str, lang: str,
            unit_names: dict | None = None) -> dmc.Box:
    """The definition, formula, numerator, denominator, target source and last loaded day."""
    formula = kpi.formula_en if lang == "en" else kpi.formula_zh
    kinds = {"sum": ("求和", "sum"), "ratio": ("分子之和/分母之和", "sum / sum"),
             "stock": ("期末存量", "level at period end"),
             "distinct": ("去重计数（不跨期相加）", "distinct, never summed over time")}
    lines = [
        (t("explain.formula", lang), formula),
        (t("explain.kind", lang), kinds[kpi.kind][1 if lang == "en" else 0]),
        (t("explain.numerator", lang), number(row.get("numerator"), "count" if kpi.unit != "yuan"
                                              else "yuan", lang, 0 if kpi.unit != "yuan" else None)),
        (t("explain.denominator", lang), number(row.get("denominator"), "count", lang, 0)),
        (t("explain.target_from", lang),
         (unit_names or {}).get(target.set_at, target.set_at) if target else NO_DATA),
        (t("explain.loaded", lang), loaded or NO_DATA),
    ]
    body = dmc.Stack([dmc.Text([html.B(k + ": "), v], size="xs") for k, v in lines], gap=2)
    # The "?" is for hovering: paper and walls leave it out (class `interactive`).
    return dmc.Box(dmc.HoverCard([
        dmc.HoverCardTarget(dmc.ActionIcon("?", variant="subtle", size="sm", radius="xl",
                                           id={"type": "explain", "kpi": kpi.id})),
        dmc.HoverCardDropdown(body, maw=320),
    ], withArrow=True, shadow="md", openDelay=100), className="interactive")


def comparison_line(kpi, comparison: dict, compare: str, lang: str) -> dmc.Text:
    """The change against the previous period and the same period last year; the comparison
    chosen in the filter bar comes first, in bold."""
    parts = []
    for prefix in (("previous", "last_year") if compare == "previous" else ("last_year", "previous")):
        label = t("card.vs_previous" if prefix == "previous" else "card.vs_last_year", lang)
        text = change(comparison.get(f"{prefix}_change"), kpi.unit,
                      comparison.get(f"{prefix}_change_pct"), lang)
        parts.append(html.B(f"{label} {text}") if prefix == compare else f" · {label} {text}")
    return dmc.Text(parts, size="xs", c="dimmed", id={"type": "kpi-change", "kpi": kpi.id})


def kpi_card(kpi, row: dict, comparison: dict, target, attainment, status: str | None,
             spark: list, loaded: str, lang: str, compare: str = "previous",
             unit_names: dict | None = None) -> dmc.Card:
    """One headline KPI card; `row` has value/numerator/denominator, `comparison` the changes."""
    title = kpi.name_en if lang == "en" else kpi.name_zh
    colour = STATUS_COLOURS.get(status, STATUS_COLOURS[None])
    badge = dmc.Badge(f"{t('card.attainment', lang)} {pct(attainment)}" if attainment is not None
                      else t("card.no_target", lang),
                      color=STATUS_MANTINE.get(status, "gray"), variant="light", size="sm")
    target_text = number(target.value, kpi.unit, lang) if target else NO_DATA
    return dmc.Card([
        dmc.Group([dmc.Text(title, fw=600, size="sm"), explain(kpi, row, target, loaded, lang, unit_names)],
                  justify="space-between", wrap="nowrap"),
        dmc.Text(number(row.get("value"), kpi.unit, lang), fw=700, size="xl",
                 id={"type": "kpi-value", "kpi": kpi.id}),
        dmc.Group([dmc.Text(f"{t('card.target', lang)} {target_text}", size="xs", c="dimmed"),
                   badge], gap="xs"),
        comparison_line(kpi, comparison, compare, lang),
        sparkline(spark, colour),
    ], withBorder=True, radius="md", padding="sm",
        style={"borderTop": f"4px solid {colour}"}, id={"type": "kpi-card", "kpi": kpi.id})
