"""Fixtures: a fresh database per test, on SQLite and (when TEAHUB_TEST_POSTGRES_URL is set) PostgreSQL.

In CI (CI=true) a PostgreSQL that is set but cannot be reached fails the run instead of skipping.
"""

from __future__ import annotations

import os
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


def fresh_database(kind: str, tmp_path: Path, *, create_schema: bool = True) -> Iterator[tuple[str, Engine]]:
    """A new empty database (SQLite file) or schema (PostgreSQL), with teahub's tables unless told not to.
    Yields (url, engine); the url carries what a separate process needs to reach the same tables."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'teahub.db'}"
        engine = make_engine(url)
        if create_schema:
            metadata.create_all(engine)
        yield url, engine
        engine.dispose()
        return
    _postgres_reachable()
    assert POSTGRES_URL
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = make_engine(POSTGRES_URL, pool_size=1, max_overflow=0)
    with admin.begin() as conn:
        conn.execute(text(f'create schema "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    url = f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    engine = make_engine(url)
    try:
        if create_schema:
            metadata.create_all(engine)
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


@pytest.fixture
def app(engine: Engine, db_url: str):  # type: ignore[no-untyped-def]
    from teahub.bootstrap import initialize

    initialize(engine)
    return create_app(Settings(database_url=db_url), engine=engine)


@pytest.fixture
def admin_token(app) -> str:  # type: ignore[no-untyped-def]
    from teahub.auth import service

    factory = app.state.session_factory
    service.add_user(UnitOfWork(factory), "root", "admin", password="root-password")
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
