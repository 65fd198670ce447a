"""No grid cell is cut short (issue 17, item 14): at 1366x768 in the Chinese UI, on every page
with a grid, each cell's text fits its column ("2…", "在…", "+0.6 个…" were cut)."""

from __future__ import annotations

import json

import pytest

from tests.browser import ARTIFACTS, browser_page, live_server, sign_in
from tests.conftest import app_over, seeded_store

pytestmark = pytest.mark.browser

JUNE = "start=2026-06-01&end=2026-06-30"
# Every page that shows a grid, at each tier whose grid differs; admin tabs are opened in turn.
PAGES = [f"/regions?unit=ZJ&{JUNE}", f"/regions?unit=ZJ-HZ&{JUNE}",
         f"/regions?unit=ZJ-HZ-01-01&{JUNE}", f"/stages?unit=ZJ&{JUNE}",
         f"/stages?unit=ZJ-HZ&{JUNE}", f"/targets?unit=ZJ&{JUNE}", f"/targets?unit=ZJ-HZ-01&{JUNE}",
         f"/risk?unit=ZJ&{JUNE}", f"/risk?unit=ZJ-HZ-01&{JUNE}", "/admin", "/admin/import"]
ADMIN_TABS = ("审计日志", "阶段规则", "风险规则", "大屏播放列表", "风险通知")

# The visible grid cells (and header labels) whose text is wider than the room they have.
CUT = """() => [...document.querySelectorAll('.ag-cell-value, .ag-header-cell-text')]
  .filter(e => e.checkVisibility() && e.textContent.trim() && e.scrollWidth > e.clientWidth)
  .map(e => e.textContent.trim())"""
CELLS = """() => [...document.querySelectorAll('.ag-cell-value')]
  .filter(e => e.checkVisibility() && e.textContent.trim()).length"""


def _settled(page) -> None:
    page.wait_for_load_state("networkidle")
    page.wait_for_function("() => !document.querySelector('[data-dash-is-loading]')")
    page.wait_for_timeout(500)


@pytest.mark.browser
def test_no_grid_text_is_cut_at_1366(tmp_path):
    store = seeded_store("sqlite", tmp_path)
    cut: dict[str, list[str]] = {}
    seen = 0
    try:
        with app_over(store) as app, live_server(app) as base, \
                browser_page(1366, 768) as (page, errors):
            sign_in(page, base, "admin")
            for path in PAGES:
                page.goto(base + path)
                page.wait_for_selector(".ag-root")
                _settled(page)
                views = [path]
                found = {path: page.evaluate(CUT)}
                seen += page.evaluate(CELLS)
                if path == "/admin":
                    for tab in ADMIN_TABS:
                        page.click(f"#admin-tabs >> text={tab}")
                        _settled(page)
                        views.append(f"{path} {tab}")
                        found[views[-1]] = page.evaluate(CUT)
                        seen += page.evaluate(CELLS)
                for view in views:
                    if found[view]:
                        cut[view] = sorted(set(found[view]))
                if path.startswith("/regions?unit=ZJ&"):
                    page.screenshot(path=str(ARTIFACTS / "grid-widths-regions.png"), full_page=True)
    finally:
        store.drop()
    assert seen > 100  # the check looked at cells (a page without grids would pass it vacuously)
    assert cut == {}, json.dumps(cut, ensure_ascii=False, indent=1)
    assert [e for e in errors if "favicon" not in e] == []
