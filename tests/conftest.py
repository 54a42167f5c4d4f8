"""Fixtures: a fresh database per test, on SQLite and (when TEAHUB_TEST_POSTGRES_URL is set) PostgreSQL.

In CI (CI=true) a PostgreSQL that is set but cannot be reached fails the run instead of skipping.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from teahub.api import create_app
from teahub.config import Settings
from teahub.db.engine import make_engine, make_session_factory
from teahub.db.models import metadata
from teahub.db.uow import UnitOfWork

# One fixed data key for the whole run (and the CLI and servers it starts), so nothing writes ./teahub.key.
os.environ.setdefault("TEAHUB_DATA_KEY", "dGVhaHViLXRlc3QtZGF0YS1rZXktMzItYnl0ZXMhISE=")

POSTGRES_URL = os.environ.get("TEAHUB_TEST_POSTGRES_URL")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
DATABASES = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


def _postgres_reachable() -> None:
    assert POSTGRES_URL
    engine = make_engine(POSTGRES_URL, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # noqa: BLE001
        message = f"PostgreSQL at {POSTGRES_URL} is not reachable: {exc}"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    finally:
        engine.dispose()


_sqlite_template: Path | None = None
_postgres_schema: str | None = None


def _sqlite_copy(target: Path) -> None:
    """A new SQLite database with teahub's tables: a copy of one built once per test process."""
    global _sqlite_template
    if _sqlite_template is None:
        template = Path(tempfile.mkdtemp(prefix="teahub-template-")) / "template.db"
        engine = make_engine(f"sqlite:///{template}")
        metadata.create_all(engine)
        engine.dispose()  # closing the last connection folds the WAL into the file
        _sqlite_template = template
    shutil.copyfile(_sqlite_template, target)


def _postgres_tables_emptied(admin: Engine) -> str:
    """This test process's PostgreSQL schema with teahub's tables, emptied and its ids restarted. Building
    the tables takes about a second; emptying them a few milliseconds."""
    global _postgres_schema
    assert POSTGRES_URL
    if _postgres_schema is None:
        schema = f"t_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with admin.begin() as conn:
            conn.execute(text(f'create schema "{schema}"'))
        engine = make_engine(_schema_url(schema), pool_size=1, max_overflow=0)
        metadata.create_all(engine)
        engine.dispose()
        _postgres_schema = schema
        atexit.register(_drop_schema, schema)
        return schema
    schema = _postgres_schema
    with admin.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(text(f'DELETE FROM "{schema}"."{table.name}"'))
        sequences = conn.execute(text("select sequence_name from information_schema.sequences "
                                      "where sequence_schema = :schema"), {"schema": schema}).scalars().all()
        for sequence in sequences:
            conn.execute(text(f'ALTER SEQUENCE "{schema}"."{sequence}" RESTART WITH 1'))
    return schema


def _schema_url(schema: str) -> str:
    assert POSTGRES_URL
    sep = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"


def _drop_schema(schema: str) -> None:
    assert POSTGRES_URL
    admin = make_engine(POSTGRES_URL, pool_size=1, max_overflow=0)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'drop schema if exists "{schema}" cascade'))
    finally:
        admin.dispose()


def fresh_database(kind: str, tmp_path: Path, *, create_schema: bool = True) -> Iterator[tuple[str, Engine]]:
    """A new empty database (SQLite file) or schema (PostgreSQL), with teahub's tables unless told not to.
    Yields (url, engine); the url carries what a separate process needs to reach the same tables."""
    if kind == "sqlite":
        path = tmp_path / "teahub.db"
        if create_schema:
            _sqlite_copy(path)
        url = f"sqlite:///{path}"
        engine = make_engine(url)
        yield url, engine
        engine.dispose()
        return
    _postgres_reachable()
    assert POSTGRES_URL
    admin = make_engine(POSTGRES_URL, pool_size=1, max_overflow=0)
    if create_schema:
        schema = _postgres_tables_emptied(admin)
        admin.dispose()
        url = _schema_url(schema)
        engine = make_engine(url)
        try:
            yield url, engine
        finally:
            engine.dispose()
        return
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with admin.begin() as conn:
        conn.execute(text(f'create schema "{schema}"'))
    url = _schema_url(schema)
    engine = make_engine(url)
    try:
        yield url, engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'drop schema "{schema}" cascade'))
        admin.dispose()


@pytest.fixture(params=DATABASES)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    yield from fresh_database(request.param, tmp_path)


@pytest.fixture
def db_url(database: tuple[str, Engine]) -> str:
    return database[0]


@pytest.fixture
def engine(database: tuple[str, Engine]) -> Engine:
    return database[1]


@pytest.fixture
def uow(engine: Engine) -> UnitOfWork:
    """A unit of work acting as the system (for arranging and checking state directly)."""
    return UnitOfWork(make_session_factory(engine), actor="test")


_shared_app: list[object] = []


@pytest.fixture
def app(engine: Engine, db_url: str):  # type: ignore[no-untyped-def]
    """The app on this test's database: one app per test process, pointed at each test's database in turn
    (building its routes took 0.4 s, a third of the suite's time)."""
    from teahub.api import bind
    from teahub.bootstrap import initialize

    initialize(engine)
    settings = Settings(database_url=db_url)
    if not _shared_app:
        _shared_app.append(create_app(settings, engine=engine))
    shared = _shared_app[0]
    bind(shared, settings, engine)  # type: ignore[arg-type]
    return shared


@pytest.fixture
def admin_token(app) -> str:  # type: ignore[no-untyped-def]
    from teahub.auth import service

    factory = app.state.session_factory
    service.add_user(UnitOfWork(factory), "root", "admin")  # tokens only: no password to hash
    return service.create_token(UnitOfWork(factory), "root")


@pytest.fixture
def client(app, admin_token: str) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """An HTTP client acting as an admin."""
    with TestClient(app, headers={"Authorization": f"Bearer {admin_token}"}) as c:
        yield c


@pytest.fixture
def anonymous(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app) as c:
        yield c


@pytest.fixture
def client_as(app):  # type: ignore[no-untyped-def]
    """Make an HTTP client for a new user of the given role and stores."""
    from teahub.auth import service

    factory = app.state.session_factory
    clients: list[TestClient] = []

    def make(role: str, stores: list[str] | None = None, username: str | None = None) -> TestClient:
        name = username or f"{role}-{uuid.uuid4().hex[:6]}"
        service.add_user(UnitOfWork(factory), name, role, stores or [])
        token = service.create_token(UnitOfWork(factory), name)
        c = TestClient(app, headers={"Authorization": f"Bearer {token}"})
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()


# -- running on several workers (`-n auto --dist loadgroup`) ------------------------------------------------
# Tests that share an expensive session or module fixture run on one worker, which builds it once: the browser
# tests one live server and one Chromium, the demo tests one demo per database. Grouped here by path: xdist's
# own `xdist_group` mark rides on a node id change that pytest 9.2 no longer carries, so it groups nothing.
WORKER_GROUPS = {"tests/browser/": "browser", "tests/demo/test_load_demo.py": "demo"}


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class PathGroups(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            group = next((g for prefix, g in WORKER_GROUPS.items() if nodeid.startswith(prefix)), None)
            return group if group is not None else super()._split_scope(nodeid)

    return PathGroups(config, log)  # type: ignore[arg-type]
