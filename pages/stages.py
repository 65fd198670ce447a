"""Operating stages: filled in by the stage-assessment feature; until then it says so."""

from __future__ import annotations

import dash

from pages._common import frame, page_context, pending

dash.register_page(__name__, path="/stages", name="Stages", title="运营阶段 Stages")


def layout(**query: str):
    """Say what this page will hold."""
    ctx = page_context(query, "/stages")
    if not hasattr(ctx, "view"):
        return ctx
    return frame(ctx, "/stages", "nav.stages", [pending(ctx, "pending.stages")])
