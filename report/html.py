"""The report as one self-contained HTML page for A4 print: no script, no outside resource; the
charts are inline SVG, so every word and number is real text in the PDF."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from components.i18n import t
from components.theme import FONT
from report.content import Report

_ENV = Environment(loader=PackageLoader("report", "templates"),
                   autoescape=select_autoescape(default=True, default_for_string=True))
CSS = (Path(__file__).parent / "templates" / "report.css").read_text(encoding="utf-8").replace(
    "FONT", FONT)
_TEMPLATE = _ENV.get_template("report.html")


def report_html(report: Report) -> str:
    """Lay the report out as one HTML page (every value escaped; the SVG is ours)."""
    return _TEMPLATE.render(report=report, css=CSS, kicker=t("report.kicker", report.lang),
                            cores_title=t("report.cores", report.lang))


def footer(report: Report) -> str:
    """Chromium's footer template: the report's title and the page number."""
    from html import escape

    return (f'<div style="font-family:{escape(FONT)};font-size:8px;color:#868e96;width:100%;'
            f'padding:0 13mm;display:flex;justify-content:space-between">'
            f'<span>{escape(report.title)}'
            f'{" · " + escape(t("demo", report.lang)) if report.demo else ""}</span>'
            f'<span><span class="pageNumber"></span> / <span class="totalPages"></span></span></div>')
