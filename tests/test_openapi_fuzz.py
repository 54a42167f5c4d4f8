"""Fuzz every operation of the OpenAPI schema (a bounded number of examples each): no operation answers a
5xx, and no answer breaks its own documented schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from teahub.api import create_app
from teahub.auth import service as auth
from teahub.bootstrap import initialize
from teahub.config import Settings
from teahub.db.models import metadata
from teahub.db.uow import UnitOfWork
from tests import factories as f
from tests.conftest import DATABASES, fresh_database

EXAMPLES_PER_OPERATION = 6


class CurrentApp:
    """The schema is loaded once; each test points this at its own app with a fresh database."""

    def __init__(self) -> None:
        self.target: Any = create_app(Settings(database_url="sqlite://"))

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.target(scope, receive, send)


current = CurrentApp()
schema = schemathesis.openapi.from_asgi("/openapi.json", current)


@pytest.fixture(scope="module", params=DATABASES)
def admin_token(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One app and database per kind for every operation of the schema (building one per operation cost most of
    this module's time): a small shop so that generated requests also reach real records, and an admin's token.
    The database is this module's own (not the per-process one other tests empty)."""
    for url, engine in fresh_database(request.param, tmp_path_factory.mktemp("fuzz"), create_schema=False):
        metadata.create_all(engine)
        initialize(engine)
        app = create_app(Settings(database_url=url), engine=engine)
        factory = app.state.session_factory
        auth.add_user(UnitOfWork(factory), "root", "admin")
        token = auth.create_token(UnitOfWork(factory), "root")
        with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
            f.location(client, "BJ01")
            f.location(client, "WH01", "warehouse")
            f.product(client, "LJ-MQ26-250")
            f.receive(client, "LJ-MQ26-250", 50, location="BJ01")
            f.ok(f.pos_sale(client, [("LJ-MQ26-250", 1)], pay=68800), 201)
        current.target = app
        yield token


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_operation_fails_or_breaks_its_schema(case: Any, admin_token: str) -> None:
    # A generous timeout: on a busy shared machine a SQLite write can wait its turn for seconds.
    case.call_and_validate(headers={"Authorization": f"Bearer {admin_token}"}, timeout=60,
                           checks=[not_a_server_error, response_schema_conformance])
