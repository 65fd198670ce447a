"""Dispatching an incident in headless Chromium (issue 23): the county's manager opens an event
by its link, picks an assignee, dispatches; the step shows in the timeline, the incident leaves
the manager's "My work" and is in the assignee's. Any 5xx answer or console error fails it."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from auth.accounts import create_user
from data.models import RiskEvent, RiskEventStep, RiskIncident
from tests.browser import ARTIFACTS, browser_page, choose, live_server, sign_in
from tests.conftest import PASSWORD, app_over, seeded_store
from tests.test_risk_assign import make_incident

pytestmark = pytest.mark.browser

MY_WORK = "[id*='risk-my-work'] .ag-center-cols-container"


def test_a_manager_dispatches_an_incident_to_a_colleague(tmp_path):
    store = seeded_store("sqlite", tmp_path)
    try:
        with Session(store.engine) as s:
            create_user(s, "li", "manager", "ZJ-HZ-01", PASSWORD, display_name="李工")
            incident = make_incident(s, "ZJ-HZ-01", ["ZJ-HZ-01", "ZJ-HZ-01-01", "ZJ-HZ-01-02"],
                                     owner="ZJ-HZ-01")
            incident_id = incident.id
            lead = s.scalar(select(RiskEvent.id).where(RiskEvent.incident_id == incident_id,
                                                       RiskEvent.unit.has(code="ZJ-HZ-01")))
            s.commit()
        with app_over(store) as flask_app, live_server(flask_app) as base, \
                browser_page(1440, 1000) as (page, errors):
            failures: list[str] = []
            page.on("response", lambda r: failures.append(f"{r.status} {r.url}")
                    if r.status >= 500 else None)
            sign_in(page, base, "manager")
            page.goto(f"{base}/risk?event={lead}")
            page.wait_for_selector(f"#risk-detail-id >> text=#{lead}")
            # Unassigned and owned by the manager's county: in their work, for that reason.
            page.wait_for_selector(f"{MY_WORK} .ag-row[row-id='{lead}'] >> text=本单位负责")
            assert "未指派" in page.inner_text("#risk-detail")
            choose(page, "#risk-assignee", "李工 (li, ZJ-HZ-01)")
            page.get_by_role("button", name="派单").click()
            page.wait_for_selector("#risk-detail >> text=派单给 li")
            page.wait_for_selector("#risk-detail >> text=改派")  # now a reassignment
            # Assigned to a person: it leaves the manager's work at once.
            page.wait_for_function(f"() => !document.querySelector(\"{MY_WORK} "
                                   f".ag-row[row-id='{lead}']\")")
            page.screenshot(path=str(ARTIFACTS / "risk-dispatch.png"))
            with Session(store.engine) as s:
                assert {e.state for e in s.scalars(select(RiskEvent).where(
                    RiskEvent.incident_id == incident_id))} == {"dispatched"}
                assert set(s.scalars(select(RiskEventStep.assignee).join(
                    RiskEvent, RiskEvent.id == RiskEventStep.event_id).where(
                    RiskEvent.incident_id == incident_id))) == {"li"}
                assert s.get(RiskIncident, incident_id).dispatched_at is not None
            # The assignee signs in: the incident is in their work; a click opens it.
            page.context.clear_cookies()
            sign_in(page, base, "li")
            page.goto(f"{base}/risk")
            row = f"{MY_WORK} .ag-row[row-id='{lead}']"
            page.wait_for_selector(f"{row} >> text=指派给我")
            page.click(f"{row} .ag-cell[col-id='rule_name']")
            page.wait_for_selector(f"#risk-detail-id >> text=#{lead}")
            page.wait_for_selector("#risk-detail >> text=派单给 li")
            page.screenshot(path=str(ARTIFACTS / "risk-my-work.png"))
            assert failures == []
            assert [e for e in errors if "favicon" not in e] == []
    finally:
        store.drop()
