"""The page side of "Export PDF": a client-side callback that posts the current URL state to
/export/pdf in the background, then saves the file or shows the server's message (assets/download.js does the
request)."""

from __future__ import annotations

import dash
from dash import ALL, Input, Output, State

# Runs in the browser: no Dash callback waits on the render, so the page stays usable.
EXPORT_JS = """function (clicks, messages) {
  const ctx = window.dash_clientside.callback_context;
  if (!ctx.triggered.length || !(clicks || []).some(Boolean)) {
    return window.dash_clientside.no_update;
  }
  const id = JSON.parse(ctx.triggered[0].prop_id.split('.n_clicks')[0]);
  const show = (text, colour) => window.dash_clientside.set_props(
    'pdf-status', {children: text, c: colour});
  window.channelOps.postAndSave('/export/pdf', {
      path: location.pathname + location.search, paper: id.paper,
      orientation: id.orientation}, 'snapshot.pdf')
    .then(() => show(messages.done, 'teal'))
    .catch((error) => {
      const text = String(error.message || error);
      show(text.startsWith(messages.failed) ? text : messages.failed + ' ' + text, 'red');
    });
  return messages.working;
}"""


def init_dash(app: dash.Dash) -> None:
    """Install the export callback on this Dash app."""
    app.clientside_callback(EXPORT_JS, Output("pdf-status", "children"),
                            Input({"type": "pdf-export", "paper": ALL, "orientation": ALL}, "n_clicks"),
                            State("pdf-messages", "data"), prevent_initial_call=True)
