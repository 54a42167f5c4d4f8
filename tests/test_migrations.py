"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect

from teahub.bootstrap import migrate_and_initialize
from teahub.db import migrate
from teahub.db.models import metadata
from tests.conftest import DATABASES, fresh_database


@pytest.fixture(params=DATABASES)
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    for _url, engine in fresh_database(request.param, tmp_path, create_schema=False):
        yield engine


def test_migrations_match_the_models(empty_engine: Engine) -> None:
    migrate_and_initialize(empty_engine)
    assert set(inspect(empty_engine).get_table_names()) >= set(metadata.tables)
    migrate.check(empty_engine)  # raises when an autogenerate would find a difference


def test_migrating_twice_changes_nothing(empty_engine: Engine) -> None:
    migrate_and_initialize(empty_engine)
    migrate_and_initialize(empty_engine)
    migrate.check(empty_engine)
