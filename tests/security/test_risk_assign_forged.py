"""Forged dispatch requests (issue 23): an assignee the list did not offer (outside the
incident's scope, above the dispatcher's, malformed) posted straight to the Dash callback is
refused with the reason, audited, and nothing is written; so is a dispatch by a viewer."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from auth.accounts import create_user
from data.models import RiskEvent, RiskEventStep, RiskIncident, User
from tests.conftest import PASSWORD, app_over, login
from tests.security.dash_posts import Raw, audited, outputs, post, stringify, text_of
from tests.test_risk_assign import make_incident

BUTTON = {"type": "risk-assign", "to": "incident"}


@pytest.fixture
def setup(own_store):
    """An open incident at county ZJ-HZ-01 (three events), and managers of its city and of
    Ningbo; returns (store, incident id, lead event id, user ids by name)."""
    with Session(own_store.engine) as s:
        create_user(s, "hzboss", "manager", "ZJ-HZ", PASSWORD)
        create_user(s, "nbboss", "manager", "ZJ-NB", PASSWORD)
        incident = make_incident(s, "ZJ-HZ-01", ["ZJ-HZ-01", "ZJ-HZ-01-01", "ZJ-HZ-01-02"],
                                 owner="ZJ-HZ")
        lead = s.scalar(select(func.min(RiskEvent.id)).where(RiskEvent.incident_id == incident.id))
        s.commit()
        ids = dict(s.execute(select(User.username, User.id)).all())
        return own_store, incident.id, lead, ids


def _dispatch(c, flask_app, event_id, assignee):
    return post(c, flask_app, "pages.risk", "dispatch",
                [Raw([{"id": BUTTON, "property": "n_clicks", "value": 1}])],
                [event_id, assignee, "forged", None, None],
                changed=[f"{stringify(BUTTON)}.n_clicks"])


def _written(engine, incident_id) -> tuple:
    with Session(engine) as s:
        incident = s.get(RiskIncident, incident_id)
        steps = s.scalar(select(func.count()).select_from(RiskEventStep).join(
            RiskEvent, RiskEvent.id == RiskEventStep.event_id).where(
            RiskEvent.incident_id == incident_id))
        states = set(s.scalars(select(RiskEvent.state).where(
            RiskEvent.incident_id == incident_id)))
        return steps, incident.assignee_id, incident.assignee_role, incident.dispatched_at, states


def test_a_forged_assignee_is_refused_and_nothing_is_written(setup):
    store, incident_id, lead, ids = setup
    untouched = (0, None, None, None, {"open"})
    outside = [(f"user:{ids['nbboss']}", "has no scope over ZJ-HZ-01"),  # another city
               (f"user:{ids['hzboss']}", "has no scope over ZJ-HZ-01"),  # above the dispatcher
               (f"user:{ids['viewer']}", "cannot handle risk events"),
               ("role:manager@ZJ-NB", "is not ZJ-HZ-01 or a unit above it"),
               ("role:manager@ZJ-HZ", "is not ZJ-HZ-01 or a unit above it")]
    malformed = ["user:1 OR 1=1", ["user:1"], {"value": "user:1"}, 2**40, "role:manager@ZJ;x"]
    with app_over(store) as flask_app:
        manager = flask_app.test_client()
        assert login(manager, "manager").status_code == 302
        for value, said in outside:
            response = _dispatch(manager, flask_app, lead, value)
            assert response.status_code == 200, value
            shown = text_of(outputs(response))
            assert "risk-assign-error" in shown and said in shown, value
            assert _written(store.engine, incident_id) == untouched, value
        for value in malformed:
            response = _dispatch(manager, flask_app, lead, value)
            assert response.status_code == 200, value
            shown = text_of(outputs(response))
            assert "risk-assign-error" in shown and "malformed assignee" in shown, value
            assert _written(store.engine, incident_id) == untouched, value
        # A viewer's forged dispatch, even to someone the manager could pick.
        viewer = flask_app.test_client()
        assert login(viewer, "viewer").status_code == 302
        response = _dispatch(viewer, flask_app, lead, f"user:{ids['manager']}")
        assert "not found or not permitted" in text_of(outputs(response))
        assert _written(store.engine, incident_id) == untouched
        # What the list offers goes through: one step on each of the three events.
        response = _dispatch(manager, flask_app, lead, f"user:{ids['manager']}")
        assert "risk-assign-error" not in text_of(outputs(response))
        steps, assignee, _, dispatched, states = _written(store.engine, incident_id)
        assert (steps, assignee, states) == (3, ids["manager"], {"dispatched"})
        assert dispatched is not None
    target = f"risk incident {incident_id}"
    assert len(audited(store.engine, "forbidden", username="manager", target=target)) == len(
        outside)
    assert len(audited(store.engine, "forbidden", username="viewer", target=target)) == 1
    assert len(audited(store.engine, "bad_request", username="manager", target="/risk")) == len(
        malformed)
