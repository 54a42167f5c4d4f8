"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text

from teahub.bootstrap import migrate_and_initialize
from teahub.customers import service
from teahub.db import migrate
from teahub.db.engine import make_session_factory
from teahub.db.models import metadata
from teahub.db.uow import UnitOfWork
from tests.conftest import DATABASES, fresh_database

NOW = "2026-12-01 08:00:00+00:00"


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


def test_upgrading_seals_existing_personal_data_and_keeps_it_findable(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine, "0004")
    with empty_engine.begin() as conn:
        conn.execute(text("insert into customers (id, name, kind, status, version, birthday, created_at, updated_at)"
                          " values (1, '王芳', 'person', 'active', 1, '1990-05-12', :t, :t)"), {"t": NOW})
        conn.execute(text("insert into customer_identities (customer_id, kind, value, phone_last4, created_at)"
                          " values (1, 'phone', '+8613812345678', '5678', :t)"), {"t": NOW})
        conn.execute(text("insert into customer_contacts (customer_id, name, phone, email)"
                          " values (1, '王芳', '+8613812345678', 'wf@example.com')"))
    migrate.upgrade(empty_engine)
    migrate.check(empty_engine)

    with empty_engine.connect() as conn:
        stored = " ".join(str(v) for v in conn.execute(text(
            "select c.birthday, i.value, k.phone, k.email from customers c"
            " join customer_identities i on i.customer_id = c.id join customer_contacts k on k.customer_id = c.id"
        )).one())
    assert "13812345678" not in stored and "1990" not in stored and "wf@" not in stored

    uow = UnitOfWork(make_session_factory(empty_engine), actor="test")
    [found] = service.list_customers(uow, q="5678")
    assert (found["phone"], found["birthday"], found["birth_month"]) == ("+8613812345678", "1990-05-12", 5)
    assert found["contacts"][0]["email"] == "wf@example.com"
    assert [c["id"] for c in service.list_customers(uow, q="13812345678")] == [1]

    migrate.downgrade(empty_engine, "0004")
    with empty_engine.connect() as conn:
        assert conn.execute(text("select value, phone_last4 from customer_identities")).one() == (
            "+8613812345678", "5678")


def test_erp_targets_taking_orders_take_their_cancellation_after_upgrading(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine, "0010")
    targets = [("k3", "kingdee", ["order.created", "order.paid"]), ("odoo", "odoo", ["order.*"]),
               ("u8", "yonyou", ["customer.created"]), ("hook", "webhook", ["order.created"])]
    with empty_engine.begin() as conn:
        for name, kind, types in targets:
            conn.execute(text("insert into sync_targets (name, kind, url, event_types, enabled, max_attempts,"
                              " timeout_seconds, options, created_at, updated_at) values (:n, :k,"
                              " 'http://erp.example', :e, true, 8, 10, '{}', :t, :t)"),
                         {"n": name, "k": kind, "e": json.dumps(types), "t": NOW})
    migrate.upgrade(empty_engine)
    with empty_engine.connect() as conn:
        found = {name: types if isinstance(types, list) else json.loads(types)
                 for name, types in conn.execute(text("select name, event_types from sync_targets"))}
    assert found == {"k3": ["order.created", "order.paid", "order.cancelled"], "odoo": ["order.*"],
                     "u8": ["customer.created"], "hook": ["order.created"]}
