"""Writable copies of one seeded SQLite store: seeding once per module, a fresh file per test.

Import both fixtures into a test module: `from tests.security.seeded import (seeded_template_fixture,
sqlite_copy_fixture)`; tests then ask for `sqlite_copy`.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url, text

from tests.conftest import Store, seeded_store


def _path(store: Store) -> Path:
    return Path(str(make_url(store.url).database))


@pytest.fixture(scope="module", name="seeded_template")
def seeded_template_fixture(tmp_path_factory) -> Iterator[Path]:
    """The tiny demo with the test accounts in a SQLite file; never opened by a test."""
    store = seeded_store("sqlite", tmp_path_factory.mktemp("template"))
    with store.engine.connect() as conn:
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    store.engine.dispose()
    yield _path(store)
    store.drop()


@pytest.fixture(name="sqlite_copy")
def sqlite_copy_fixture(seeded_template, tmp_path) -> Iterator[Store]:
    """A store of this test's own: a copy of the seeded template."""
    store = Store("sqlite", tmp_path)
    shutil.copyfile(seeded_template, _path(store))
    yield store
    store.drop()
