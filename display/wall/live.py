"""Today, live, on a wall: the work orders of today so far as big numbers (overdue in the alarm
colour when any), the 95598 hotline's service level, abandonment, speed of answer and calls
offered, and today's orders by hour beside the same weekday last week as plain bars (no chart
library: nothing to hover, nothing to load). Every number comes from `metrics.views.live_view`."""

from __future__ import annotations

from typing import Any

from dash import html

from components.format import number
from components.i18n import t
from display.wall.base import WallContext, big_number, panel, wall
from metrics.views import live_view

HOURS = 24  # the bars keep a slot for every hour of the day, so the chart does not move


def live_wall(ctx: WallContext):
    """The live view of the context's unit at the wall's time, drawn for a wall."""
    view = live_view(ctx.session, ctx.unit, ctx.now, ctx.view.scope)
    c, lang = view.counters, ctx.lang

    def count(value) -> str:
        return number(value, "count", lang, 0)

    def tile(key: str, label: str, value: str, note: str | None = None, alarm: bool = False):
        return big_number(t(label, lang), value, note=note or "\u00a0", alarm=alarm,
                          value_id=f"wall-live-{key}")

    orders = [
        tile("orders_today", "live.orders_today", count(c.orders_today),
             t("live.vs_last_week", lang).format(n=count(c.orders_last_week))
             if c.orders_last_week is not None else None),
        tile("open", "live.open", count(c.open)),
        tile("due_2h", "live.due_2h", count(c.due_2h)),
        tile("overdue", "live.overdue", count(c.overdue), alarm=bool(c.overdue)),
        tile("complaints_today", "live.complaints", count(c.complaints_today)),
        tile("fcr", "live.fcr", number(c.fcr, "%", lang),
             t("live.closed", lang).format(n=count(c.fcr_denominator))
             if c.fcr_denominator is not None else None),
        tile("satisfaction", "live.satisfaction", number(c.satisfaction, "%", lang),
             t("live.rated", lang).format(n=count(c.satisfaction_denominator))
             if c.satisfaction_denominator is not None else None),
        tile("risk_events_today", "live.risk", count(c.risk_events_today),
             t("risk.units_affected", lang).format(n=count(c.risk_units_today))
             if c.risk_units_today is not None else None),
    ]
    h = view.hotline or {}
    hotline = [
        tile("service_level", "live.service_level", number(h.get("service_level"), "%", lang)),
        tile("abandonment_rate", "live.abandonment", number(h.get("abandonment_rate"), "%", lang)),
        tile("asa", "live.asa", number(h.get("asa_seconds"), "seconds", lang)),
        tile("offered", "live.offered", count(h.get("offered"))),
    ]
    return wall(
        html.Div(orders, className="wall-tiles wall-tiles-4 wall-live-tiles"),
        html.Div([
            panel(t("live.by_hour", lang), _legend(lang), _bars(c.by_hour), grow=5),
            panel(t("live.hotline", lang),
                  html.Div(hotline, className="wall-tiles wall-tiles-2 wall-fill"), grow=3),
        ], className="wall-row wall-top"),
        name="live")


def _legend(lang: str) -> html.Div:
    return html.Div([
        html.Span([html.Span(className="wall-swatch wall-bar-today"), t("live.today", lang)],
                  className="wall-key"),
        html.Span([html.Span(className="wall-swatch wall-bar-before"), t("live.last_week", lang)],
                  className="wall-key"),
    ], className="wall-legend")


def _bars(by_hour) -> html.Div:
    """Today's orders by hour (blue) beside last week's (grey), as heights relative to the
    highest; hours still to come are empty slots."""
    highest = max([v for x in by_hour for v in (x.today, x.last_week) if v], default=0)

    def bar(value, kind: str) -> html.Div:
        share = 0 if not value or not highest else 100 * value / highest
        return html.Div(className=f"wall-hbar wall-bar-{kind}", style={"height": f"{share:.1f}%"})

    shown = {x.hour: x for x in by_hour}
    slots = []
    for hour in range(HOURS):
        x = shown.get(hour)
        data: dict[str, Any] = {  # the counts behind the bars, for tests and curious readers
            "data-today": "" if x is None or x.today is None else str(x.today),
            "data-last-week": "" if x is None or x.last_week is None else str(x.last_week)}
        slots.append(html.Div([
            html.Div([bar(x.last_week if x else None, "before"), bar(x.today if x else None, "today")],
                     className="wall-hbars"),
            html.Div(f"{hour:02d}", className="wall-hour"),
        ], className="wall-hslot", id=f"wall-live-hour-{hour}", **data))
    return html.Div(slots, className="wall-hourly")
