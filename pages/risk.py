"""Risk control: filled in by the risk feature; until then it says so."""

from __future__ import annotations

import dash

from pages._common import frame, page_context, pending

dash.register_page(__name__, path="/risk", name="Risk", title="风险 Risk")


def layout(**query: str):
    """Say what this page will hold."""
    ctx = page_context(query, "/risk")
    if not hasattr(ctx, "view"):
        return ctx
    return frame(ctx, "/risk", "nav.risk", [pending(ctx, "pending.risk")])
