"""Arranging outbound sync tests: events in the outbox, targets."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine, func, select

from teahub.db.engine import make_session_factory
from teahub.db.outbox import OutboxEvent
from teahub.db.uow import UnitOfWork
from teahub.sync import targets
from teahub.sync.models import SyncTarget
from teahub.sync.schemas import TargetIn
from tests.sync.conftest import SECRET


def uow_for(engine: Engine) -> UnitOfWork:
    return UnitOfWork(make_session_factory(engine), actor="test")


def record(engine: Engine, events: Iterable[tuple[str, str]], event_type: str = "order.paid") -> None:
    """One transaction per event: (aggregate_type, aggregate_id)."""
    for aggregate_type, aggregate_id in events:
        uow = uow_for(engine)
        with uow:
            uow.record_event(event_type, aggregate_type, aggregate_id, {"note": "x" * 20})
            uow.commit()


def record_many(engine: Engine, count: int, records: int = 10, event_type: str = "order.paid") -> None:
    """`count` events over `records` orders, many per transaction."""
    uow = uow_for(engine)
    for start in range(0, count, 200):
        with uow:
            for i in range(start, min(start + 200, count)):
                uow.record_event(event_type, "order", str(i % records), {"i": i})
            uow.commit()


def outbox_count(engine: Engine) -> int:
    uow = uow_for(engine)
    with uow.reading():
        return int(uow.session.scalar(select(func.count()).select_from(OutboxEvent)) or 0)


def add_target(engine: Engine, url: str, name: str = "erp", types: tuple[str, ...] = ("*",),
               **kwargs: Any) -> int:
    data = TargetIn(name=name, url=url, secret=kwargs.pop("secret", SECRET), event_types=list(types),
                    start=kwargs.pop("start", "beginning"), **kwargs)
    targets.add_target(uow_for(engine), data)
    uow = uow_for(engine)
    with uow.reading():
        return int(uow.session.scalar(select(SyncTarget.id).where(SyncTarget.name == name)) or 0)
