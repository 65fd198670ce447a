"""Clicking what a user clicks, in headless Chromium (issue 17): a matrix cell on every tier, a
ranking bar, a table row, the breadcrumb, the period and carrier filters, a target edit with a bad
value, a risk step. Any 5xx answer and any console error fails the test."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from components.i18n import t
from data.models import OrgUnit, RiskEvent, RiskEventStep, Target
from tests.browser import ARTIFACTS, browser_page, choose, live_server, sign_in
from tests.conftest import app_over, seeded_store

pytestmark = pytest.mark.browser

JUNE = "start=2026-06-01&end=2026-06-30"
# The catalogue's order (data/catalog.py): cores down the matrix, carriers across it.
CORES = ["channel", "user", "business", "content", "campaign", "service"]
CARRIERS = ["app", "wechat", "alipay", "web", "hotline", "hall"]
CARRIER_ZH = {"app": "网上国网/南网在线 App", "wechat": "微信公众号/小程序", "alipay": "支付宝生活号",
              "web": "网上营业厅", "hotline": "95598 热线", "hall": "实体营业厅/自助终端"}


@pytest.fixture
def live(tmp_path):
    """An app over a demo of this test's own (it writes), served, and a signed-in admin's page
    with the 5xx answers and console errors it sees."""
    store = seeded_store("sqlite", tmp_path)
    with app_over(store) as flask_app, live_server(flask_app) as base, \
            browser_page(1920, 1080) as (page, errors):
        failures: list[str] = []
        page.on("response", lambda r: failures.append(f"{r.status} {r.url}")
                if r.status >= 500 else None)
        sign_in(page, base, "admin")
        yield store, base, page, failures, errors
    store.drop()


def _query(page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}


def _settled(page) -> None:
    page.wait_for_function("() => !document.querySelector('[data-dash-is-loading]')")
    page.wait_for_timeout(300)


def _click_cell(page, graph: str, row: int, col: int, rows: int, cols: int) -> None:
    """Click the centre of cell (row, col) of a heatmap whose first row is at the top."""
    page.wait_for_selector(f"{graph} .main-svg")
    _settled(page)
    box = page.locator(f"{graph} .nsewdrag").first.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * (col + 0.5) / cols,
                     box["y"] + box["height"] * (row + 0.5) / rows)


def test_every_click_a_user_makes_works(live):
    store, base, page, failures, errors = live

    # A matrix cell opens /cores with that core on that carrier, on every tier.
    tiers = {"HQ": (5, 4), "ZJ": (0, 1), "ZJ-HZ": (2, 0), "ZJ-HZ-01": (1, 5), "ZJ-HZ-01-01": (3, 2)}
    for unit, (row, col) in tiers.items():
        page.goto(f"{base}/?unit={unit}&{JUNE}")
        _click_cell(page, "#overview-matrix", row, col, 6, 6)
        page.wait_for_url("**/cores?**")
        assert _query(page) == {"unit": unit, "start": "2026-06-01", "end": "2026-06-30",
                                "core": CORES[row], "carrier": CARRIERS[col]}, unit
        page.wait_for_selector("#as-of")
        _settled(page)
        checked = page.locator("#cores-core input:checked").get_attribute("value")
        assert checked == CORES[row], unit
        pills = page.locator(".filter-bar .mantine-Pill-label").all_inner_texts()
        assert pills == [CARRIER_ZH[CARRIERS[col]]], unit  # the carrier filter shows it
        if unit == "HQ":
            page.screenshot(path=str(ARTIFACTS / "click-matrix-cell.png"))

    # A ranking bar drills into that child; the breadcrumb goes back up.
    page.goto(f"{base}/regions?unit=ZJ&{JUNE}")
    page.wait_for_selector("#regions-ranking .main-svg")
    _settled(page)
    page.locator("#regions-ranking .bars .point path").first.click(force=True)
    page.wait_for_function("() => new URLSearchParams(location.search).get('unit') !== 'ZJ'")
    assert _query(page)["unit"] in ("ZJ-HZ", "ZJ-NB")
    page.wait_for_selector("#breadcrumb")
    _settled(page)
    page.click("#breadcrumb >> text=浙江省电力公司")
    page.wait_for_function("() => new URLSearchParams(location.search).get('unit') === 'ZJ'")

    # A row of the league table drills into that unit.
    page.wait_for_selector(".ag-row[row-id='ZJ-NB'] .ag-cell")
    _settled(page)
    page.click(".ag-row[row-id='ZJ-NB'] .ag-cell[col-id='name']")
    page.wait_for_function("() => new URLSearchParams(location.search).get('unit') === 'ZJ-NB'")
    page.wait_for_selector("#breadcrumb >> text=宁波供电局")

    # The period and carrier filters become the URL.
    choose(page, "#f-period", "近 7 天")
    page.wait_for_function("() => location.search.includes('period=last7')")
    page.wait_for_selector("#as-of")
    choose(page, "#f-carriers", CARRIER_ZH["wechat"])
    page.wait_for_function("() => location.search.includes('carrier=wechat')")
    assert _query(page)["unit"] == "ZJ-NB" and _query(page)["period"] == "last7"

    # A target edit with a bad value is refused, and the target kept; a good one is saved.
    page.goto(f"{base}/targets?unit=ZJ-HZ&kpi=online_payment&{JUNE}")
    cell = ".ag-row[row-id='ZJ-HZ-01'] .ag-cell[col-id='own']"
    page.wait_for_selector(cell)
    _settled(page)
    kept = page.inner_text(cell)
    before = _own_target(store, "online_payment", "ZJ-HZ-01")
    page.dblclick(cell)
    page.keyboard.press("Control+A")
    page.keyboard.type("abc")
    page.keyboard.press("Enter")
    page.wait_for_selector("#targets-message >> text=“abc”不是数字")
    assert "原目标保留" in page.inner_text("#targets-message")
    page.screenshot(path=str(ARTIFACTS / "click-target-refused.png"))
    assert page.inner_text(cell) == kept
    assert _own_target(store, "online_payment", "ZJ-HZ-01") == before
    page.dblclick(cell)
    page.keyboard.press("Control+A")
    page.keyboard.type("72")
    page.keyboard.press("Enter")
    page.wait_for_selector("#targets-message >> text=已保存")
    page.wait_for_function(f"() => document.querySelector(\"{cell}\").innerText === '72'")
    assert _own_target(store, "online_payment", "ZJ-HZ-01") == [pytest.approx(0.72)]

    # A risk step: pick an event, take its first step, and it is recorded.
    page.goto(f"{base}/risk?unit=ZJ&period=ytd")
    page.wait_for_selector("#as-of")
    _settled(page)
    page.wait_for_selector("[id*='risk-events'] .ag-row")
    row = int(page.get_attribute("[id*='risk-events'] .ag-center-cols-container .ag-row",
                                 "row-id"))  # every state has a next step for an admin
    page.click(f"[id*='risk-events'] .ag-row[row-id='{row}'] .ag-cell[col-id='rule_name']")
    page.wait_for_selector(f"#risk-detail-id >> text=#{row}")
    steps = _steps(store, row)
    page.locator("[id*='risk-step']").first.click()
    page.wait_for_function(f"() => document.querySelectorAll('#risk-detail .mantine-Timeline-item')"
                           f".length === {steps + 1}")
    assert _steps(store, row) == steps + 1
    # The table shows the new state at once, and the event is in the URL: a reload opens it.
    state = t(f"risk.state.{_state(store, row)}", "zh")
    page.wait_for_function(
        "([row, state]) => [...document.querySelectorAll(`[id*='risk-events'] .ag-row[row-id='${row}']"
        " .ag-cell[col-id='state_name']`)].some(c => c.innerText === state)", arg=[str(row), state])
    assert f"event={row}" in page.url and "unit=ZJ" in page.url
    page.reload()
    page.wait_for_selector(f"#risk-detail-id >> text=#{row}")
    page.screenshot(path=str(ARTIFACTS / "risk-deep-link.png"))

    assert failures == []
    assert [e for e in errors if "favicon" not in e] == []


def _own_target(store, kpi: str, code: str) -> list[float]:
    with Session(store.engine) as s:
        unit_id = s.scalar(select(OrgUnit.id).where(OrgUnit.code == code))
        return list(s.scalars(select(Target.value).where(
            Target.kpi == kpi, Target.unit_id == unit_id, Target.carrier_id.is_(None),
            Target.period_start == dt.date(2026, 1, 1))))


def _state(store, event_id: int) -> str:
    with Session(store.engine) as s:
        return s.get(RiskEvent, event_id).state


def _steps(store, event_id: int) -> int:
    with Session(store.engine) as s:
        return s.scalar(select(func.count()).select_from(RiskEventStep)
                        .where(RiskEventStep.event_id == event_id)) or 0
