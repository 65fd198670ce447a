"""Shared fixtures: stores on SQLite (always) and PostgreSQL (when TEST_DATABASE_URL is set)."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, select, text
from sqlalchemy.orm import Session

from app import create_app
from auth.accounts import create_user
from data.db import make_engine
from jobs.demo import SCALES, Scale, Shape, seed_demo
from jobs.schema import upgrade
from tests import isolation

# A fixed last day keeps the demo identical run to run; 2026-06-30 puts the Spring Festival of
# 2026 inside the tiny demo's 180 days.
DEMO_END = dt.date(2026, 6, 30)
DB_KINDS = ["sqlite", "postgresql"]
PASSWORD = "correct horse battery"
# The tiny demo's accounts: username -> (role, home unit).
USERS = {"admin": ("admin", "HQ"), "manager": ("manager", "ZJ-HZ-01"),
         "viewer": ("viewer", "ZJ-HZ"), "display": ("display", "ZJ")}
# The tiny demo with two more provinces (Jiangsu, Anhui: 2 cities x 1 county x 2 outlets each) over
# the same 180 days: the smallest store in which HQ compares provinces. Zhejiang is tiny's.
MULTI = Scale(SCALES["tiny"].home, days=SCALES["tiny"].days, provinces=3,
              others=Shape(cities=2, counties=1, outlets=2))


def _postgres_base_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL (e.g. "
                    "postgresql+psycopg://postgres@127.0.0.1:5432/test); .ci/run sets it")
    return url


class Store:
    """A fresh, migrated, empty store in its own file (SQLite) or schema (PostgreSQL)."""

    def __init__(self, kind: str, tmp: Path) -> None:
        self.kind = kind
        self.schema: str | None = None
        if kind == "sqlite":
            self.url = f"sqlite:///{tmp / f'store-{uuid.uuid4().hex[:8]}.sqlite3'}"
        else:
            base = make_url(_postgres_base_url())
            self.schema = f"t_{uuid.uuid4().hex[:10]}"
            self._admin = create_engine(base, isolation_level="AUTOCOMMIT")
            with self._admin.connect() as conn:
                conn.execute(text(f"CREATE SCHEMA {self.schema}"))
            self.url = base.update_query_dict(
                {"options": f"-csearch_path={self.schema}"}).render_as_string(hide_password=False)
        self.engine: Engine = make_engine(self.url)

    def drop(self) -> None:
        """Dispose of the engine and drop the PostgreSQL schema."""
        self.engine.dispose()
        if self.schema:
            with self._admin.connect() as conn:
                conn.execute(text(f"DROP SCHEMA {self.schema} CASCADE"))
            self._admin.dispose()


def new_store(kind: str, tmp: Path, migrate: bool = True) -> Store:
    """Make a store of `kind`, migrated to head unless `migrate` is False."""
    store = Store(kind, tmp)
    if migrate:
        upgrade(store.engine)
    return store


def seeded_store(kind: str, tmp: Path) -> Store:
    """Make a store of `kind` of a test's own with the tiny demo and the USERS accounts."""
    store = new_store(kind, tmp)
    seed_demo(store.engine, "tiny", 42, DEMO_END)
    add_users(store)
    return store


def add_users(store: Store) -> None:
    """Create the accounts of USERS (password PASSWORD) in a seeded store."""
    _add_users(store.engine)


def _add_users(engine: Engine) -> None:
    with Session(engine) as session:
        for username, (role, unit) in USERS.items():
            create_user(session, username, role, unit, PASSWORD)
        session.commit()


@pytest.fixture(params=DB_KINDS)
def empty_store(request, tmp_path) -> Iterator[Store]:
    """A migrated store with the catalogue and no data, on each database."""
    store = new_store(request.param, tmp_path)
    yield store
    store.drop()


@pytest.fixture(scope="session", params=DB_KINDS)
def tiny_store(request, tmp_path_factory) -> Iterator[Store]:
    """The tiny demo (seed 42, ending DEMO_END) on each database; read-only for tests."""
    store = new_store(request.param, tmp_path_factory.mktemp("tiny"))
    seed_demo(store.engine, "tiny", 42, DEMO_END)
    add_users(store)
    try:
        with isolation.watched(store.engine, f"tiny_store[{request.param}]"):
            yield store
    finally:
        store.drop()


@pytest.fixture(scope="session")
def small_store(tmp_path_factory) -> Iterator[Store]:
    """The small demo on SQLite, for the shapes that need two years of data; read-only."""
    store = new_store("sqlite", tmp_path_factory.mktemp("small"))
    seed_demo(store.engine, "small", 42, DEMO_END)
    try:
        with isolation.watched(store.engine, "small_store"):
            yield store
    finally:
        store.drop()


def seed_multi(engine: Engine) -> None:
    """Seed MULTI (seed 42, ending DEMO_END): a test-only scale, named "multi" while it seeds."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(SCALES, "multi", MULTI)
        seed_demo(engine, "multi", 42, DEMO_END)


@pytest.fixture(scope="session", params=DB_KINDS)
def multi_store(request, tmp_path_factory) -> Iterator[Store]:
    """MULTI (three provinces under HQ) on each database, with the USERS accounts; read-only."""
    store = new_store(request.param, tmp_path_factory.mktemp("multi"))
    seed_multi(store.engine)
    add_users(store)
    try:
        with isolation.watched(store.engine, f"multi_store[{request.param}]"):
            yield store
    finally:
        store.drop()


@pytest.fixture(autouse=True)
def _shared_stores_unchanged(request) -> Iterator[None]:
    """After each test that used a shared store: fail it if the store no longer is as seeded."""
    stores = [request.getfixturevalue(name) for name in ("tiny_store", "small_store",
                                                         "multi_store")
              if name in request.fixturenames]
    yield
    for store in stores:
        isolation.check(store.engine)


class _CopiedStore(Store):
    """A test's own copy of a seeded template: the SQLite file copied, or on PostgreSQL a database
    made from the template database (CREATE DATABASE ... TEMPLATE, ~0.2 s against ~3 s to seed)."""

    def __init__(self, kind: str, template: str, tmp: Path) -> None:  # noqa: D107
        self.kind, self.schema, self.database = kind, None, None
        if kind == "sqlite":
            path = tmp / f"own-{uuid.uuid4().hex[:8]}.sqlite3"
            shutil.copyfile(template, path)
            self.url = f"sqlite:///{path}"
        else:
            base = make_url(_postgres_base_url())
            self.database = f"t_{uuid.uuid4().hex[:10]}"
            self._admin = create_engine(base, isolation_level="AUTOCOMMIT")
            with self._admin.connect() as conn:
                conn.execute(text(f"CREATE DATABASE {self.database} TEMPLATE {template}"))
            self.url = base.set(database=self.database).render_as_string(hide_password=False)
        self.engine = make_engine(self.url)

    def drop(self) -> None:
        """Dispose of the engine and drop the PostgreSQL database."""
        self.engine.dispose()
        if self.database:
            with self._admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE {self.database} WITH (FORCE)"))
            self._admin.dispose()


@pytest.fixture(scope="session")
def _seeded_templates(tmp_path_factory) -> Iterator[Callable[[str], str]]:
    """Per database, the tiny demo with the USERS accounts, seeded once, never opened by a test:
    a SQLite file's path or a PostgreSQL database's name. Made on first use."""
    made: dict[str, str] = {}
    engines: list[Engine] = []

    def make(kind: str) -> str:
        if kind not in made:
            if kind == "sqlite":
                store = seeded_store("sqlite", tmp_path_factory.mktemp("template"))
                with store.engine.connect() as conn:
                    conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
                store.engine.dispose()
                made[kind] = str(make_url(store.url).database)
            else:
                base = make_url(_postgres_base_url())
                name = f"tpl_{uuid.uuid4().hex[:10]}"
                admin = create_engine(base, isolation_level="AUTOCOMMIT")
                engines.append(admin)
                with admin.connect() as conn:
                    conn.execute(text(f"CREATE DATABASE {name}"))
                engine = make_engine(base.set(database=name).render_as_string(hide_password=False))
                upgrade(engine)
                seed_demo(engine, "tiny", 42, DEMO_END)
                _add_users(engine)
                engine.dispose()
                made[kind] = name
        return made[kind]

    yield make
    for kind, name in made.items():
        if kind == "postgresql":
            with engines[0].connect() as conn:
                conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
    for engine in engines:
        engine.dispose()


@pytest.fixture(params=DB_KINDS)
def own_store(request, _seeded_templates, tmp_path) -> Iterator[Store]:
    """A store of this test's own with what tiny_store has (the tiny demo and USERS): for tests
    that write. A copy of a template seeded once, so as quick to get as a fixture can be."""
    if request.param == "postgresql":
        _postgres_base_url()  # skip without TEST_DATABASE_URL
    store = own_copy(_seeded_templates, request.param, tmp_path)
    yield store
    store.drop()


@pytest.fixture
def own_app(own_store):
    """The app over a store of this test's own (own_store)."""
    with app_over(own_store) as flask_app:
        yield flask_app


@pytest.fixture
def own_client(own_app):
    """A client signed in as the HQ administrator, over a store of this test's own."""
    c = own_app.test_client()
    login(c, "admin")
    return c


@contextmanager
def app_over(store: Store, **config) -> Iterator:
    """An app over `store` (testing mode, a fixed secret, `config` on top); its engine goes after."""
    flask_app = create_app({"TESTING": True, "DATABASE_URL": store.url,
                            "SECRET_KEY": "test-only-secret", **config})
    yield flask_app
    flask_app.extensions["engine"].dispose()


def own_copy(templates: Callable[[str], str], kind: str, tmp: Path) -> Store:
    """A copy of the tiny demo with the USERS accounts of one's own (`templates`: _seeded_templates)."""
    return _CopiedStore(kind, templates(kind), tmp)


@pytest.fixture
def app_store(request, tiny_store, _seeded_templates, tmp_path) -> Iterator[Store]:
    """The store `app` (and anon, client, manager) is over: the shared tiny demo, or for a test
    marked `writes` (signs in wrongly, is refused and audited, steps a risk event...) a copy of it
    of the test's own on the same database."""
    if request.node.get_closest_marker("writes") is None:
        yield tiny_store
        return
    store = own_copy(_seeded_templates, tiny_store.kind, tmp_path)
    yield store
    store.drop()


@pytest.fixture
def app(app_store):
    """The app over the tiny demo (a copy of its own for a test marked `writes`)."""
    with app_over(app_store) as flask_app:
        yield flask_app


@pytest.fixture
def anon(app):
    """A client that has not signed in."""
    return app.test_client()


@pytest.fixture
def client(app):
    """A client signed in as the HQ administrator."""
    c = app.test_client()
    login(c, "admin")
    return c


@pytest.fixture
def manager(app):
    """A client signed in as the manager of county ZJ-HZ-01."""
    c = app.test_client()
    login(c, "manager")
    return c


def csrf_from(html: str) -> str:
    """Return the CSRF token of a page's form."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def login(c, username: str, password: str = "", remember: bool = False):
    """Sign in through the form, as a browser would; return the response."""
    token = csrf_from(c.get("/login").get_data(as_text=True))
    form = {"username": username, "password": password or PASSWORD, "csrf_token": token}
    if remember:
        form["remember"] = "1"
    return c.post("/login", data=form)


@pytest.fixture
def runner_for():
    """Build a CLI runner for an app over the given store URL."""
    apps = []

    def make(url: str):
        apps.append(create_app({"TESTING": True, "DATABASE_URL": url}))
        return apps[-1].test_cli_runner()

    yield make
    for flask_app in apps:
        flask_app.extensions["engine"].dispose()


def own_target(s: Session, kpi: str, code: str,
               year: tuple[dt.date, dt.date] = (dt.date(2026, 1, 1), dt.date(2026, 12, 31))) -> list:
    """The values of the unit's own all-carrier target of `kpi` for the year (empty when none)."""
    from data.models import Target
    from data.units import unit_by_code

    unit = unit_by_code(s, code)
    return s.scalars(select(Target.value).where(Target.kpi == kpi, Target.unit_id == unit.id,
                                                Target.period_start == year[0],
                                                Target.period_end == year[1],
                                                Target.carrier_id.is_(None))).all()
