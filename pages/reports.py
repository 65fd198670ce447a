"""Reports: pick a unit in one's scope and a month, and download the monthly operations analysis
report (月度运营分析报告) as a PDF.

Thin: the choices come from the org tree and the loaded range; the button posts to
`/export/report` (report/routes.py) in the background, which checks the scope again, builds,
audits and answers the file or the reason it cannot.
"""

from __future__ import annotations

import dash
import dash_mantine_components as dmc
from dash import Input, Output, State, dcc
from flask_login import current_user

from components.i18n import name, t
from components.notices import wall_display_only
from data.clock import month_end, months_between
from data.db import get_read_session
from data.units import children
from metrics.freshness import loaded_range

dash.register_page(__name__, path="/reports", name="Reports", title="报告 Reports")

INDENT = "\u3000"  # an ideographic space per level below the user's unit
DEPTH = 2  # the user's unit, its children and grandchildren (outlets too, below a county)

# Runs in the browser: posts the choice, saves the PDF or shows the server's message.
DOWNLOAD_JS = """function (clicks, unit, month, lang, messages) {
  if (!clicks) { return window.dash_clientside.no_update; }
  const show = (text, colour) => window.dash_clientside.set_props(
    'report-status', {children: text, c: colour});
  window.channelOps.postAndSave(
      '/export/report', {unit: unit || '', month: month || '', lang: lang || ''}, 'report.pdf')
    .then(() => show(messages.done, 'teal'))
    .catch((error) => show(String(error.message || error), 'red'));
  return messages.working;
}"""


def _units(session, unit, lang: str, depth: int = DEPTH) -> list[dict]:
    """The unit and its descendants `depth` levels down, indented by level."""
    out = [{"value": unit.code, "label": f"{name(unit, lang)} ({unit.code})"}]
    level = [unit]
    for n in range(1, depth + 1):
        below = []
        for u in level:
            for kid in children(session, u):
                below.append(kid)
        out += [{"value": u.code, "label": f"{INDENT * n}{name(u, lang)} ({u.code})"}
                for u in below]
        level = below
    return out


def layout(**_query: str):
    """Render the report picker for the signed-in user (a display account has none)."""
    lang = current_user.language or "zh"
    if current_user.role == "display":
        return wall_display_only()
    session = get_read_session()
    span = loaded_range(session)
    if span is None:
        return dmc.Container(dmc.Alert(t("nodata", lang), color="gray"), py="xl")
    months = [m for m in reversed(months_between(*span))]
    complete = [m for m in months if month_end(m) <= span[1]]
    chosen = (complete or months)[0]
    return dmc.Container([
        dmc.Title(t("reports.title", lang), order=3),
        dmc.Text(t("reports.help", lang), size="sm", c="dimmed", my="xs"),
        dmc.Group([
            dmc.Select(id="report-unit", label=t("reports.unit", lang), searchable=True,
                       data=_units(session, current_user.unit, lang),
                       value=current_user.unit.code, allowDeselect=False, w=360),
            dmc.Select(id="report-month", label=t("reports.month", lang),
                       data=[f"{m:%Y-%m}" for m in months], value=f"{chosen:%Y-%m}",
                       allowDeselect=False, w=140),
            dmc.Stack([dmc.Text(t("reports.lang", lang), size="sm", fw=500),
                       dmc.SegmentedControl(id="report-lang", value=lang,
                                            data=[{"value": "zh", "label": "中文"},
                                                  {"value": "en", "label": "English"}])], gap=3),
            dmc.Button(t("reports.make", lang), id="report-make", mt=24),
        ], align="flex-start"),
        dmc.Text("", id="report-status", size="sm", mt="sm"),
        dcc.Store(id="report-messages",
                  data={"working": t("reports.working", lang), "done": t("reports.done", lang)}),
    ], size="lg", py="md")


dash.clientside_callback(DOWNLOAD_JS, Output("report-status", "children"),
                         Input("report-make", "n_clicks"), State("report-unit", "value"),
                         State("report-month", "value"), State("report-lang", "value"),
                         State("report-messages", "data"), prevent_initial_call=True)
