"""The Chinese UI reads Chinese: grids, chart axes, the date picker, the admin page and times.

A browser walks every page as an admin whose language is zh and fails on the English words that
the libraries print by themselves (AG Grid's pagination and overlays, Plotly's date ticks, the date
picker's months and weekdays) and on labels the app writes in English.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.browser import ARTIFACTS, browser_page, live_server, sign_in
from tests.conftest import app_over, seeded_store

PAGES = ["/?unit=ZJ", "/carriers?unit=ZJ", "/cores?unit=ZJ&core=service", "/regions?unit=ZJ",
         "/regions?unit=ZJ-HZ-01-01", "/stages?unit=ZJ", "/targets?unit=ZJ", "/risk?unit=ZJ",
         "/admin", "/admin/import"]
ADMIN_TABS = ("审计日志", "阶段规则", "风险规则", "大屏播放列表")

# Words the libraries print in English unless told the locale, and labels the app once wrote in
# English; matched as whole words, case-sensitively (a unit code or "CSV" is not one of them).
MONTHS = r"Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
ENGLISH = re.compile("|".join([
    r"No Rows To Show", r"Page Size", r"\bPage\b", r"\bof\b", r"\bto\b", r"\bLoading\b",
    r"Start Date", r"End Date", r"\b(?:Su|Mo|Tu|We|Th|Fr|Sa)\b",
    rf"\b(?:{MONTHS})\b", r"\b(?:January|February|March|April|June|July|August|September|"
    r"October|November|December)\b", r"\b(?:true|false)\b", r"\d[kMB]\b",
]))
# The admin page and the import page: no English label at all outside the data cells (a word
# of three letters or more; file formats and codes people type are allowed).
ALLOWED = {"UTC", "CSV", "PDF", "JSON", "Excel", "xlsx", "UTF", "GBK", "README", "YYYY", "MM", "DD",
           "data", "formats", "App", "regions", "unit", "period", "last30", "display"}
WORD = re.compile(r"[A-Za-z]{3,}")

VISIBLE_TEXT = """() => {
  const parts = [document.body.innerText];
  document.querySelectorAll('svg text').forEach(t => parts.push(t.textContent));
  document.querySelectorAll('input[placeholder]').forEach(i => parts.push(i.placeholder));
  return parts.join('\\n');
}"""
# What a person reads outside the grids' data cells (headers, pagination, buttons, labels).
CHROME_TEXT = """() => {
  const skip = '.ag-cell, #app-header, .mantine-Alert-message, script, style';
  const parts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (el && !el.closest(skip) && el.checkVisibility()) parts.push(walker.currentNode.textContent);
  }
  document.querySelectorAll('input[placeholder]').forEach(i => parts.push(i.placeholder));
  return parts.join('\\n');
}"""


def english_words(text: str) -> list[str]:
    """The English UI words in `text`."""
    return sorted({m.group(0) for m in ENGLISH.finditer(text)})


def english_labels(text: str) -> list[str]:
    """ASCII words of a page's labels that are not codes or file formats."""
    return sorted({w for w in WORD.findall(text) if w not in ALLOWED})


@pytest.mark.parametrize(("text", "found"), [
    ("第 1 页，共 1 页", []), ("Page 1 of 1", ["Page", "of"]), ("No Rows To Show", ["No Rows To Show"]),
    ("10月27日 2026", []), ("Oct 27 2026", ["Oct"]), ("80k", ["0k"]), ("8万", []),
    ("ZJ-HZ-01 · 导出 CSV", []), ("启用 true", ["true"]), ("Mo Tu We", ["Mo", "Tu", "We"]),
])
def test_the_english_check_sees_english(text, found):
    assert english_words(text) == found


def _settled(page) -> None:
    page.wait_for_load_state("networkidle")
    page.wait_for_function("() => !document.querySelector('[data-dash-is-loading]')")
    page.wait_for_timeout(300)


def _date_picker_text(page, selector: str) -> str:
    """Open the date picker, read its calendar, close it."""
    page.click(selector)
    page.wait_for_timeout(500)
    text = page.evaluate(VISIBLE_TEXT)
    page.keyboard.press("Escape")
    return text


@pytest.mark.browser
def test_the_chinese_ui_shows_no_english(tmp_path):
    store = seeded_store("sqlite", tmp_path)
    found: dict[str, list[str]] = {}
    server_errors: list[str] = []
    try:
        with app_over(store) as app, live_server(app) as base, \
                browser_page(1920, 1080) as (page, errors):
            page.on("response", lambda r: server_errors.append(f"{r.status} {r.url}")
                    if r.status >= 500 else None)
            sign_in(page, base, "admin")
            for path in PAGES:
                page.goto(base + path)
                page.wait_for_selector("#as-of, #admin-tabs, #import-log")
                _settled(page)
                text = page.evaluate(VISIBLE_TEXT)
                if path.startswith("/admin"):
                    if path == "/admin":
                        for tab in ADMIN_TABS:
                            page.click(f"#admin-tabs >> text={tab}")
                            _settled(page)
                            text += page.evaluate(VISIBLE_TEXT)
                            if tab == ADMIN_TABS[0]:
                                text += _date_picker_text(page, "#audit-dates")
                        page.click("#admin-tabs >> text=用户")
                        _settled(page)
                        roles = page.eval_on_selector_all(
                            "#admin-users .ag-cell[col-id='role'], "
                            "#admin-users .ag-cell[col-id='active']",
                            "cells => cells.map(c => c.innerText)")
                        assert roles
                        if any(WORD.search(r) for r in roles):
                            found["/admin (roles)"] = sorted(set(roles))
                    labels = english_labels(page.evaluate(CHROME_TEXT))
                    if labels:
                        found[path + " (labels)"] = labels
                else:
                    text += _date_picker_text(page, "#f-dates")
                words = english_words(text)
                if words:
                    found[path] = words
                name = re.sub(r"\W+", "-", path.strip("/")) or "overview"
                page.screenshot(path=str(ARTIFACTS / f"zh-{name}.png"), full_page=True)
    finally:
        store.drop()
    assert found == {}, json.dumps(found, ensure_ascii=False, indent=1)
    assert server_errors == []
    assert [e for e in errors if "favicon" not in e] == []


@pytest.mark.browser
def test_the_dark_theme_keeps_heatmap_numbers_and_the_date_picker_readable(tmp_path):
    store = seeded_store("sqlite", tmp_path)
    try:
        with app_over(store) as app, live_server(app) as base, \
                browser_page(1600, 1000) as (page, errors):
            sign_in(page, base, "admin")
            page.click("#theme-switch")
            page.wait_for_selector("html[data-mantine-color-scheme='dark']")
            page.goto(base + "/?unit=ZJ")
            page.wait_for_selector("#overview-matrix .heatmap-label text")
            _settled(page)
            # Each cell number keeps the colour plotly chose for contrast with its cell; the dark
            # theme's pale grey for axis texts must not reach them.
            labels = page.eval_on_selector_all(
                "#overview-matrix .heatmap-label text",
                "ts => ts.map(t => [t.style.fill, getComputedStyle(t).fill])")
            assert labels and all(own == shown for own, shown in labels), labels[:5]
            # An empty cell has no colour to contrast with: its label ("不适用") follows the theme.
            empty = page.eval_on_selector_all(
                "#overview-matrix svg text",
                "ts => ts.filter(t => t.textContent === '不适用').map(t => getComputedStyle(t).fill)")
            assert empty and set(empty) == {"rgb(193, 194, 197)"}, empty
            picker = page.eval_on_selector(
                "#f-dates", "e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).color]")
            page.click("#f-dates")
            page.wait_for_selector(".mantine-DatePickerInput-day")
            page.screenshot(path=str(ARTIFACTS / "zh-overview-dark-picker.png"))
            calendar = page.eval_on_selector(
                ".mantine-DatePickerInput-day",
                "e => getComputedStyle(e.closest('[role=dialog], .mantine-Popover-dropdown'))"
                ".backgroundColor")
    finally:
        store.drop()
    white = "rgb(255, 255, 255)"
    assert picker[0] != white and calendar != white, (picker, calendar)
    assert [e for e in errors if "favicon" not in e] == []


@pytest.mark.parametrize(("query", "said"), [
    ({"period": "fortnight"}, "期间（period）须为"), ({"start": "2026-06-30", "end": "2026-06-01"}, "早于"),
    ({"carrier": "fax"}, "没有这个载体（carrier）：fax"), ({"compare": "x"}, "对比（compare）须为"),
])
def test_parameter_errors_are_in_the_users_language(app, query, said):
    from tests.test_pages import render

    page = render(app, "regions", "admin", **query)
    assert "bad-view" in page and said in page and "must be" not in page and "unknown" not in page


def test_the_import_page_names_file_formats_in_chinese(app):
    from jobs.ingest import KINDS
    from tests.test_pages import render

    page = render(app, "data_import", "admin")
    assert all(kind.title not in page for kind in KINDS.values())
    assert "work_orders · 工单（每行一单）" in page
