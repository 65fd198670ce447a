"""Today, live: the counters as big numbers and the hourly bars of today against last week."""

from __future__ import annotations

import dash_mantine_components as dmc
import plotly.graph_objects as go
from dash import html

from components.format import NO_DATA, number
from components.i18n import t
from components.theme import STATUS_COLOURS

ALARM = STATUS_COLOURS["red"]


def tile(key: str, label: str, value: str, note: str = "", alarm: bool = False) -> dmc.Paper:
    """One big number with its label (and a small note under it); red when `alarm`."""
    return dmc.Paper([
        dmc.Text(label, size="lg", fw=600, c="dimmed"),
        html.Div(value, id=f"live-{key}",
                 className="live-number live-alarm" if alarm else "live-number",
                 style={"color": ALARM} if alarm else None),
        dmc.Text(note, size="sm", c="dimmed") if note else None,
    ], p="md", withBorder=True, radius="md", className="live-tile")


def live_tiles(counters, lang: str) -> list[dmc.Paper]:
    """The live counters as tiles: orders today (and last week's at this time), backlog, due
    within 2 h, overdue (red when any), complaints, first-contact resolution, satisfaction and new
    risk events. "-" where there is no data, never 0."""
    c = counters

    def count(value) -> str:
        return number(value, "count", lang, 0)

    last_week = (t("live.vs_last_week", lang).format(n=count(c.orders_last_week))
                 if c.orders_last_week is not None else "")
    return [
        tile("orders_today", t("live.orders_today", lang), count(c.orders_today), last_week),
        tile("open", t("live.open", lang), count(c.open)),
        tile("due_2h", t("live.due_2h", lang), count(c.due_2h)),
        tile("overdue", t("live.overdue", lang), count(c.overdue), alarm=bool(c.overdue)),
        tile("complaints_today", t("live.complaints", lang), count(c.complaints_today)),
        tile("fcr", t("live.fcr", lang), number(c.fcr, "%", lang),
             t("live.closed", lang).format(n=count(c.fcr_denominator))
             if c.fcr_denominator is not None else ""),
        tile("satisfaction", t("live.satisfaction", lang), number(c.satisfaction, "%", lang),
             t("live.rated", lang).format(n=count(c.satisfaction_denominator))
             if c.satisfaction_denominator is not None else ""),
        tile("risk_events_today", t("live.risk", lang), count(c.risk_events_today),
             t("risk.units_affected", lang).format(n=count(c.risk_units_today))
             if c.risk_units_today is not None else ""),
    ]


def hotline_tiles(hotline: dict | None, lang: str) -> list[dmc.Paper]:
    """The hotline's counters of today so far (`metrics.hotline.live_counters`) as tiles: calls
    offered, service level (20 s), abandonment rate, average speed of answer; "-" where None."""
    h = hotline or {}
    return [
        tile("hotline-offered", t("live.offered", lang), number(h.get("offered"), "count", lang, 0)),
        tile("hotline-service_level", t("live.service_level", lang),
             number(h.get("service_level"), "%", lang)),
        tile("hotline-abandonment_rate", t("live.abandonment", lang),
             number(h.get("abandonment_rate"), "%", lang)),
        tile("hotline-asa", t("live.asa", lang), number(h.get("asa_seconds"), "seconds", lang)),
    ]


def hourly_figure(by_hour, lang: str) -> go.Figure:
    """Bars of today's work orders by hour beside the same weekday last week's (grey)."""
    hours = [f"{h.hour:02d}" for h in by_hour]
    fig = go.Figure([
        go.Bar(x=hours, y=[h.last_week for h in by_hour], name=t("live.last_week", lang),
               marker={"color": "#ADB5BD"}),
        go.Bar(x=hours, y=[h.today for h in by_hour], name=t("live.today", lang),
               marker={"color": "#0072B2"},
               text=[NO_DATA if h.today is None else str(h.today) for h in by_hour],
               textposition="outside"),
    ])
    highest = max([v for h in by_hour for v in (h.today, h.last_week) if v is not None],
                  default=0)
    fig.update_layout(barmode="group", height=360, bargap=0.25,
                      xaxis={"title": {"text": t("live.hour", lang)}, "type": "category"},
                      # whole orders: ticks at whole numbers while they are few
                      yaxis={"rangemode": "tozero", **({"dtick": 1} if highest <= 10 else {})},
                      legend={"orientation": "h", "y": 1.12, "x": 0})
    return fig
