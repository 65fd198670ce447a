"""Links to risk events, as a user follows them in headless Chromium (issue 23, part 5): a picked
event goes into the URL and a reload opens it again; a link to an event out of scope or unknown gets
one and the same refusal, a malformed one a clear error; a click on a risk event's mark on a KPI
trend opens that event, keeping the view. Any 5xx answer and any console error fails the test."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from components.i18n import t
from data.models import OrgUnit, RiskEvent
from tests.browser import ARTIFACTS, browser_page, live_server, sign_in
from tests.conftest import app_over, own_copy

pytestmark = pytest.mark.browser

JUNE = "start=2026-06-01&end=2026-06-30"


@pytest.fixture
def served(_seeded_templates, tmp_path):
    """The tiny demo of this test's own (pages audit refusals), served."""
    store = own_copy(_seeded_templates, "sqlite", tmp_path)
    with app_over(store) as flask_app, live_server(flask_app) as base:
        yield store, base
    store.drop()


def _watch(page) -> list[str]:
    failures: list[str] = []
    page.on("response", lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    return failures


def _settled(page) -> None:
    page.wait_for_function("() => !document.querySelector('[data-dash-is-loading]')")
    page.wait_for_timeout(300)


def _query(page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}


def _event_ids(store) -> tuple[int, int, int]:
    """An event in Hangzhou, one in Ningbo (outside a Hangzhou viewer's scope), one that is not."""
    with Session(store.engine) as s:
        def first_in(prefix: str) -> int:
            return s.scalar(select(RiskEvent.id).join(OrgUnit, OrgUnit.id == RiskEvent.unit_id)
                            .where(OrgUnit.code.like(prefix + "%")).order_by(RiskEvent.id))
        return first_in("ZJ-HZ"), first_in("ZJ-NB"), (s.scalar(select(func.max(RiskEvent.id))) or 0) + 100


def test_an_event_link_survives_a_reload_and_refuses_alike(served):
    store, base = served
    hangzhou, ningbo, unknown = _event_ids(store)
    with browser_page(1600, 1000) as (page, errors):
        failures = _watch(page)
        sign_in(page, base, "viewer")  # home: Hangzhou
        page.goto(f"{base}/risk?unit=ZJ-HZ&period=ytd")
        page.wait_for_selector("[id*='risk-events'] .ag-row")
        _settled(page)
        row = int(page.get_attribute("[id*='risk-events'] .ag-center-cols-container .ag-row",
                                     "row-id"))
        page.click(f"[id*='risk-events'] .ag-row[row-id='{row}'] .ag-cell[col-id='rule_name']")
        page.wait_for_selector(f"#risk-detail-id >> text=#{row}")
        page.wait_for_function(f"() => location.search.includes('event={row}')")
        assert _query(page) == {"unit": "ZJ-HZ", "period": "ytd", "event": str(row)}
        page.reload()
        page.wait_for_selector(f"#risk-detail-id >> text=#{row}")
        assert page.inner_text("#risk-detail").count(f"#{row}") == 1
        assert _query(page)["event"] == str(row)

        # A link opened afresh: the viewer's own event opens, Ningbo's and an unknown one get the
        # same refusal, word for word; a malformed id says which parameter is wrong.
        page.goto(f"{base}/risk?event={hangzhou}")
        page.wait_for_selector(f"#risk-detail-id >> text=#{hangzhou}")
        refusals = []
        for other in (ningbo, unknown):
            page.goto(f"{base}/risk?event={other}")
            page.wait_for_selector("#not-permitted")
            _settled(page)
            refusals.append(page.inner_text("#_pages_content"))
            assert page.locator("#risk-detail").count() == 0
        assert refusals[0] == refusals[1] and str(ningbo) not in refusals[0]
        page.goto(f"{base}/risk?event=abc")
        page.wait_for_selector("#bad-view")
        assert page.inner_text("#bad-view") == t("error.bad_param", "zh") + "event"
        page.screenshot(path=str(ARTIFACTS / "risk-link-bad.png"))
    assert failures == []
    assert [e for e in errors if "favicon" not in e] == []


# The screen position of a risk mark on a graph: the d3 data of each scatter trace names its trace,
# and the marks are the points of the trace named `name`; its customdata is the event it opens.
MARK_JS = """([graph, name, nth]) => {
    const gd = document.querySelector(graph);
    for (const trace of gd.querySelectorAll('g.trace.scatter')) {
        const cd = trace.__data__;
        if (!cd || !cd[0] || cd[0].trace.name !== name) { continue; }
        const points = trace.querySelectorAll('path.point');
        const box = points[nth].getBoundingClientRect();
        const i = points[nth].__data__.i;
        return {x: box.x + box.width / 2, y: box.y + box.height / 2,
                event: cd[0].trace.customdata[i], n: points.length};
    }
    return null;
}"""


def test_a_click_on_a_mark_opens_its_event_keeping_the_view(served):
    store, base = served
    graph = "[id*='cores-trend'][id*='transactions']"
    with browser_page(1600, 1000) as (page, errors):
        failures = _watch(page)
        sign_in(page, base, "admin")
        page.goto(f"{base}/cores?unit=ZJ&{JUNE}&core=channel")
        page.wait_for_selector(f"{graph} path.point")
        _settled(page)
        page.locator(graph).scroll_into_view_if_needed()
        mark = page.evaluate(MARK_JS, [graph, t("marks.name", "zh"), 0])
        assert mark is not None and mark["n"] >= 1
        page.screenshot(path=str(ARTIFACTS / "marks-cores.png"))
        page.mouse.move(mark["x"], mark["y"])
        page.wait_for_selector(f"{graph} .hoverlayer .hovertext")
        hover = page.locator(f"{graph} .hoverlayer").text_content() or ""
        assert "微信全天无业务" in hover and "个事件）" in hover
        page.mouse.click(mark["x"], mark["y"])
        page.wait_for_url(f"**/risk?**event={mark['event']}**")
        page.wait_for_selector(f"#risk-detail-id >> text=#{mark['event']}")
        _settled(page)
        assert _query(page) == {"unit": "ZJ", "start": "2026-06-01", "end": "2026-06-30",
                                "event": str(mark["event"])}
        page.screenshot(path=str(ARTIFACTS / "marks-opened-event.png"))
        # The event it opened is the lead of the day's events: at the highest unit.
        with Session(store.engine) as s:
            opened = s.get(RiskEvent, mark["event"])
            same_day = s.scalars(select(RiskEvent).where(
                RiskEvent.rule_id == opened.rule_id, RiskEvent.first_day <= opened.last_day,
                RiskEvent.last_day >= opened.first_day)).all()
            assert opened.rule.kpi == "transactions"
            assert opened.unit.tier == min(e.unit.tier for e in same_day)
        page.reload()
        page.wait_for_selector(f"#risk-detail-id >> text=#{mark['event']}")
    assert failures == []
    assert [e for e in errors if "favicon" not in e] == []
