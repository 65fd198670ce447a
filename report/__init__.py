"""The monthly operations analysis report (月度运营分析报告), written by the system.

`content` gathers what it says from `metrics/` (sections, tables, sentences; `sentences` the
templates), `html` lays it out for A4, `svg` draws its charts, `build` prints it with the export
renderer's headless Chromium and audits (`build_report`), `cli` is `flask report`, `routes` the
Reports page's download (`POST /export/report`), `delivery` the producer of report
subscriptions' emails (`export.delivery.PRODUCERS`). It sits above `export` (whose renderer it uses)
and below `pages`.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the report route and the `report` command."""
    from report import cli, delivery, routes

    routes.init_app(app)
    cli.init_app(app)
    delivery.init_app(app)
