"""Fixtures for the background runner: a clock the test moves, a private registry, and a table for effects."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import BigInteger, Column, Engine, Integer, MetaData, String, Table, insert, select
from sqlalchemy.orm import Session, sessionmaker

from teahub.db.engine import make_session_factory
from teahub.db.outbox import OutboxEvent
from teahub.db.uow import UnitOfWork
from teahub.scheduling.models import SubscriptionCursor
from teahub.scheduling.registry import Registry

# A table only the tests have: what a handler writes, to count effects per event.
EFFECTS = Table(
    "test_effects", MetaData(),
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subscription", String(100)),
    Column("event_id", String(36)),
    Column("seq", BigInteger),
)


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, **delta: float) -> datetime:
        with self._lock:
            self._now += timedelta(**delta)
            return self._now

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = moment


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2025, 3, 1, 10, 0, tzinfo=UTC))


@pytest.fixture
def registry() -> Registry:
    return Registry()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def effects(engine: Engine) -> Iterator[Table]:
    # Not in teahub's metadata, so the shared test schema does not empty it: make it anew, drop it after.
    EFFECTS.drop(engine, checkfirst=True)
    EFFECTS.create(engine)
    yield EFFECTS
    EFFECTS.drop(engine, checkfirst=True)


def write_effect(uow: UnitOfWork, subscription: str, event: dict[str, Any]) -> None:
    uow.session.execute(insert(EFFECTS).values(subscription=subscription, event_id=event["id"], seq=event["seq"]))


def effect_rows(factory: sessionmaker[Session], subscription: str | None = None) -> list[tuple[str, int]]:
    """(event_id, seq) of each effect, in the order they were written."""
    query = select(EFFECTS.c.event_id, EFFECTS.c.seq).order_by(EFFECTS.c.id)
    if subscription is not None:
        query = query.where(EFFECTS.c.subscription == subscription)
    with factory() as session:
        return [(row.event_id, row.seq) for row in session.execute(query)]


def record_events(factory: sessionmaker[Session], *events: tuple[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Record events through the real outbox, one transaction; returns them as envelopes (with seq)."""
    uow = UnitOfWork(factory, actor="test")
    with uow:
        for type_, payload in events:
            uow.record_event(type_, "thing", uuid.uuid4().hex, payload)
        uow.commit()
    with factory() as session:
        rows = session.scalars(select(OutboxEvent).order_by(OutboxEvent.seq.desc()).limit(len(events)))
        return [row.envelope() for row in reversed(list(rows))]


def cursor(factory: sessionmaker[Session], name: str) -> SubscriptionCursor:
    with factory() as session:
        row = session.get(SubscriptionCursor, name)
        assert row is not None, f"no cursor for {name}"
        return row
