"""The data version: bumped by every write of facts, rolled back with it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from data.changes import data_changed, data_version


def test_version_bumps_and_rolls_back_with_the_transaction(empty_store):
    with Session(empty_store.engine) as session:
        assert data_version(session) == 0
        assert data_changed(session) == 1
        assert data_changed(session) == 2
        session.commit()
        data_changed(session)
        session.rollback()
        assert data_version(session) == 2


def test_seeding_bumps_the_version(tiny_store):
    with Session(tiny_store.engine) as session:
        assert data_version(session) >= 1


def test_a_write_of_facts_clears_the_result_cache_of_its_process(empty_store):
    """data/ does not import metrics/: the cache registers itself (`on_data_changed`) and
    `data_changed` calls it back."""
    from metrics import cache
    from tests.conftest import app_over

    with app_over(empty_store, CACHE_TYPE="SimpleCache") as flask_app, flask_app.app_context():
        cache.cache.set("probe", 1)
        assert cache.cache.get("probe") == 1
        with Session(empty_store.engine) as session:
            data_changed(session)
        assert cache.cache.get("probe") is None
