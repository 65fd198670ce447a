"""A forged click on a risk event's mark (issue 23, part 5): the mark's customdata is the event id the
browser sends back, so anyone can send another. An id outside the user's scope and one that does not
exist get the same answer (no navigation, nothing about the event), a malformed one is refused; all
are audited and none is a 5xx. A real click on an event in scope opens it, keeping the view."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.models import OrgUnit, RiskEvent
from tests.conftest import app_over, login
from tests.security.dash_posts import Raw, audited, post
from tests.security.seeded import seeded_template_fixture, sqlite_copy_fixture  # noqa: F401

SEARCH = "?unit=ZJ-HZ&start=2026-06-01&end=2026-06-30&core=channel"
MALFORMED = ["abc", "1 OR 1=1", 2**40, -1, 0, 1.5, True, None, [1], {"id": 1}, "１２"]


def _click(customdata) -> dict:
    return {"points": [{"curveNumber": 2, "pointNumber": 0, "x": "2026-06-15", "y": 1,
                        "customdata": customdata}]}


def _forge(c, flask_app, page: str, click):
    """Post `click` as the clickData of a trend graph of `page` (its mark callback)."""
    if page == "cores":
        graph = {"kpi": "transactions", "type": "cores-trend"}
        return post(c, flask_app, "pages.cores", "open_event",
                    [Raw([{"id": graph, "property": "clickData", "value": click}])], [SEARCH],
                    changed=[json.dumps(graph, sort_keys=True, separators=(",", ":"))
                             + ".clickData"])
    if page == "carriers":
        return post(c, flask_app, "pages.carriers", "open_event", [None, click], [SEARCH],
                    changed=["carriers-trend.clickData"])
    return post(c, flask_app, "pages.regions", "open_event", [click], [SEARCH])


def _went(response):
    """Where the answer navigates (None: nowhere); a 4xx or 5xx fails."""
    assert response.status_code in (200, 204), response.status_code
    payload = response.get_json(silent=True) or {}
    return (payload.get("response") or {}).get("_pages_location")


def _ids(engine) -> tuple[int, int, int]:
    with Session(engine) as s:
        def first_in(prefix: str) -> int:
            return s.scalar(select(RiskEvent.id).join(OrgUnit, OrgUnit.id == RiskEvent.unit_id)
                            .where(OrgUnit.code.like(prefix + "%")).order_by(RiskEvent.id))
        return first_in("ZJ-HZ"), first_in("ZJ-NB"), (s.scalar(select(func.max(RiskEvent.id))) or 0) + 7


@pytest.mark.parametrize("page", ["cores", "carriers", "regions"])
def test_a_forged_mark_reveals_nothing_and_is_audited(sqlite_copy, page):
    hangzhou, ningbo, unknown = _ids(sqlite_copy.engine)
    with app_over(sqlite_copy) as flask_app:
        viewer = flask_app.test_client()  # home: Hangzhou
        assert login(viewer, "viewer").status_code == 302
        opened = _forge(viewer, flask_app, page, _click(hangzhou))
        assert _went(opened) == {
            "pathname": "/risk",
            "search": f"?unit=ZJ-HZ&start=2026-06-01&end=2026-06-30&event={hangzhou}"}
        # Ningbo's event and one that does not exist: the same answer, nothing in it.
        theirs = _forge(viewer, flask_app, page, _click(ningbo))
        nobody = _forge(viewer, flask_app, page, _click(unknown))
        assert _went(theirs) is None and _went(nobody) is None
        assert theirs.status_code == nobody.status_code
        assert theirs.get_data() == nobody.get_data()
        assert str(ningbo) not in theirs.get_data(as_text=True)
        for raw in MALFORMED:
            assert _went(_forge(viewer, flask_app, page, _click(raw))) is None, raw
        # A click on the line (no customdata) or no click at all goes nowhere, and is no refusal.
        for click in ({"points": [{"curveNumber": 0, "x": "2026-06-15", "y": 3.0}]}, None,
                      {"points": "x"}, "x"):
            assert _went(_forge(viewer, flask_app, page, click)) is None, click
    forbidden = audited(sqlite_copy.engine, "forbidden", username="viewer")
    assert [(a.target, a.outcome) for a in forbidden] == [
        (f"risk event {ningbo}", "refused"), (f"risk event {unknown}", "refused")]
    bad = audited(sqlite_copy.engine, "bad_request", username="viewer", target=f"/{page}")
    assert len(bad) == len(MALFORMED)
    assert all(a.detail.startswith("event mark ") for a in bad)
