"""Thin pages: the carriers page reads its view in a fixed number of SQL statements, however many
carriers it shows; one trend-grain rule (day, week) by the length of the range."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

import pandas as pd
import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from data.units import unit_by_code
from metrics.cache import bypass
from metrics.compute import compute, compute_by_period_and_carrier, facts_only
from metrics.views import TREND_DAYS, trend_grain
from tests.conftest import app_over
from tests.test_pages import render


@contextmanager
def counted(engine) -> Iterator[list[str]]:
    """The SQL statements run on `engine` inside the block."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def carriers_statements(flask_app, **query: str) -> int:
    with bypass(), counted(flask_app.extensions["engine"]) as statements:
        page = render(flask_app, "carriers", "admin", unit="ZJ-HZ", start="2026-06-01",
                      end="2026-06-30", **query)
    assert "carriers-mix" in page
    return len(statements)


def test_the_carriers_page_reads_as_much_for_six_carriers_as_for_one(tiny_store):
    """One query for every carrier's trend, not one per carrier shown (it was N+2 computations):
    the count of statements does not grow with the carriers shown. No result cache, so every
    render reads the store."""
    with app_over(tiny_store) as flask_app:
        render(flask_app, "carriers", "admin")  # warm the per-process state (catalogue, bands)
        one = carriers_statements(flask_app, carrier="app")
        two = carriers_statements(flask_app, carrier="app,wechat")
        six = carriers_statements(flask_app)
    print(f"SQL statements per carriers render: one carrier {one}, two {two}, six {six}")
    assert one == two == six


@pytest.mark.parametrize("code", ["ZJ", "ZJ-HZ-01", "ZJ-HZ-01-01"])  # roll-ups, and an outlet
@pytest.mark.parametrize("grain", ["day", "week", "month"])
@pytest.mark.parametrize("facts", [False, True])
def test_by_period_and_carrier_is_each_carriers_own_computation(tiny_store, code, grain, facts):
    """One query for every carrier answers what one computation per carrier did."""
    start, end = dt.date(2026, 5, 20), dt.date(2026, 6, 30)
    kpis = ["transactions", "online_payment"]
    shown = ["app", "wechat", "hall"]
    with Session(tiny_store.engine) as s, (facts_only() if facts else nullcontext()):
        unit = unit_by_code(s, code)
        together = compute_by_period_and_carrier(s, kpis, unit, start, end, grain, shown)
        apart = pd.concat([compute(s, kpis, unit, start, end, [c], by=grain).assign(carrier=c)
                           for c in shown], ignore_index=True)
    assert len(apart) > 10 and apart["value"].notna().any()
    pd.testing.assert_frame_equal(together.reset_index(drop=True), apart)


def test_by_period_and_carrier_refuses_what_does_not_add_up_by_carrier(tiny_store):
    with Session(tiny_store.engine) as s:
        unit = unit_by_code(s, "ZJ")
        with pytest.raises(ValueError, match="mau"):
            compute_by_period_and_carrier(s, ["mau"], unit, dt.date(2026, 6, 1),
                                          dt.date(2026, 6, 30), "day", ["app"])


@pytest.mark.parametrize(("days", "grain"), [
    (0, "day"), (1, "day"), (30, "day"), (61, "day"), (62, "day"), (63, "day"), (91, "day"),
    (TREND_DAYS, "day"), (TREND_DAYS + 1, "week"), (93, "week"), (180, "week"), (365, "week")])
def test_one_trend_grain_rule(days, grain):
    """Day up to TREND_DAYS (92) days between start and end, week beyond: one rule, for the
    headline sparklines and the pages' trends alike."""
    start = dt.date(2026, 1, 1)
    assert TREND_DAYS == 92
    assert trend_grain(start, start + dt.timedelta(days=days)) == grain


def test_the_pages_and_the_sparklines_follow_the_one_rule():
    """No page or view keeps its own copy of the day-or-week rule."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[1]
    copies = [f"{path.relative_to(root)}: {line.strip()}"
              for folder in ("pages", "components", "metrics", "display")
              for path in sorted((root / folder).glob("*.py"))
              for line in path.read_text(encoding="utf-8").splitlines()
              if re.search(r"\.days\s*[<>]=?\s*\d+", line) and re.search(r"[\"'](day|week)[\"']", line)]
    assert not copies, copies


def _page_sources():
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[1]
    return {path.name: path.read_text(encoding="utf-8") for path in sorted((root / "pages").glob("*.py"))}


def test_pages_build_no_figure_and_compute_nothing_inside_safe():
    """Figures are built in components/ from what metrics returned: no page imports plotly, and
    what a page hands to safe() is a builder it imported from components, never a function of its
    own (that used to call metrics inside safe())."""
    import ast

    found = []
    for file, source in _page_sources().items():
        tree = ast.parse(source)
        if "plotly" in source:
            found.append(f"{file}: imports plotly")
        from_components = {alias.asname or alias.name for node in ast.walk(tree)
                           if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                               "components.") for alias in node.names}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "safe"):
                builder = node.args[0] if node.args else None
                if not (isinstance(builder, ast.Name) and builder.id in from_components):
                    found.append(f"{file}:{node.lineno}: safe({ast.unparse(builder) if builder else ''})")
    assert not found, found
    assert sum("safe(" in s for s in _page_sources().values()) >= 6  # the check saw the pages
