"""The "Export PDF" menu in every analytical page's head: paper and orientation, then a status line."""

from __future__ import annotations

from urllib.parse import urlencode

import dash_mantine_components as dmc
from dash import dcc

from components.i18n import t

CHOICES = (("A4", "landscape"), ("A4", "portrait"), ("A3", "landscape"), ("A3", "portrait"))


def export_menu(lang: str, view: str | None = None) -> dmc.Group:
    """Return the menu; export/ui.py's callback fetches the PDF in the background (the page stays
    usable) and shows progress or the error in `pdf-status`. With `view` (the page's path and
    query) it also offers to subscribe to the view's snapshot by email."""
    items: list = [dmc.MenuItem(t(f"pdf.{size}.{orientation}", lang),
                                id={"type": "pdf-export", "paper": size, "orientation": orientation})
                   for size, orientation in CHOICES]
    if view:
        items += [dmc.MenuDivider(),
                  dmc.MenuItem(t("subscriptions.menu", lang), id="pdf-subscribe",
                               href="/subscriptions?" + urlencode({"view": view}))]
    menu = dmc.Menu([
        dmc.MenuTarget(dmc.Button(t("pdf.export", lang), id="pdf-button", variant="light",
                                  size="compact-sm")),
        dmc.MenuDropdown(items),
    ], position="bottom-end", withinPortal=True)
    messages = {key: t(f"pdf.{key}", lang) for key in ("working", "done", "failed")}
    return dmc.Group([
        dmc.Text("", id="pdf-status", size="sm", maw=520),
        menu,
        dcc.Store(id="pdf-messages", data=messages),
    ], gap="xs", className="no-print")
