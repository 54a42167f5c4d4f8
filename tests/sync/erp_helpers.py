"""Arranging ERP connector tests: a shop with an order (through the real API), ERP targets with options, the
connectors reading records from the test's database, delivery until nothing is left to do."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from teahub.db.outbox import OutboxEvent
from teahub.sync import store, targets
from teahub.sync.delivery import deliver
from teahub.sync.erp.options import set_options
from teahub.sync.models import SyncTarget
from teahub.sync.schemas import TargetIn
from teahub.sync.status import status
from tests import factories as f
from tests.sync.conftest import FAST
from tests.sync.helpers import uow_for

PHONE = "13800138000"


@pytest.fixture
def erp_engine(app: Any) -> Iterator[Engine]:
    engine: Engine = app.state.engine
    yield engine


def shop(client: TestClient) -> None:
    f.location(client, "BJ01")
    f.product(client, "LJ-MQ26-250", list_price=12800, member=None)
    f.product(client, "DHP-WYS-100", list_price=5000, member=None)
    f.receive(client, "LJ-MQ26-250", 100)
    f.receive(client, "DHP-WYS-100", 100, batch="B2")


def sale(client: TestClient, phone: str | None = PHONE, lines: list[tuple[str, int]] | None = None) -> dict[str, Any]:
    lines = lines or [("LJ-MQ26-250", 2), ("DHP-WYS-100", 1)]
    total = sum({"LJ-MQ26-250": 12800, "DHP-WYS-100": 5000}[s] * q for s, q in lines)
    return f.ok(f.pos_sale(client, lines, pay=total, phone=phone), 201)


def web_sale(client: TestClient, phone: str | None = PHONE) -> dict[str, Any]:
    """A paid web order, not shipped: it can still be cancelled."""
    extra: dict[str, Any] = {"customer": {"phone": phone}} if phone else {}
    order = f.ok(f.web_order(client, [("LJ-MQ26-250", 2), ("DHP-WYS-100", 1)], location="BJ01", **extra), 201)
    return f.ok(client.post(f"/api/v1/orders/{order['id']}/pay",
                            json={"payments": [{"method": "wechat", "amount": order["total"]}]}))


def cancel(client: TestClient, order: dict[str, Any]) -> dict[str, Any]:
    cancelled = f.ok(client.post(f"/api/v1/orders/{order['id']}/cancel", json={"reason": "buyer changed their mind"}))
    assert cancelled["status"] == "cancelled"
    return cancelled


def redeliver(engine: Engine, target_id: int, order: dict[str, Any], event_type: str = "order.cancelled") -> None:
    """Queue an order's event, delivered already, once more: what a replay or an at-least-once redelivery does."""
    uow = uow_for(engine)
    with uow:
        event = uow.session.scalars(select(OutboxEvent).where(
            OutboxEvent.type == event_type, OutboxEvent.aggregate_type == "order",
            OutboxEvent.aggregate_id == str(order["id"]))).one()
        store.enqueue(uow.session, target_id, event.envelope(), attempts=0, next_attempt_at=uow.now())
        uow.commit()


def add_erp_target(engine: Engine, name: str, kind: str, url: str, secret: str, options: dict[str, Any],
                   types: tuple[str, ...] = ("order.*",), **kwargs: Any) -> int:
    targets.add_target(uow_for(engine), TargetIn(name=name, kind=kind, url=url, secret=secret,  # type: ignore[arg-type]
                                                 event_types=list(types), start="beginning", **kwargs))
    set_options(uow_for(engine), name, options)
    uow = uow_for(engine)
    with uow.reading():
        return int(uow.session.scalar(select(SyncTarget.id).where(SyncTarget.name == name)) or 0)


def drain(engine: Engine, target_id: int, rounds: int = 40) -> None:
    for _ in range(rounds):
        result = deliver(uow_for(engine), target_id, options=FAST, budget=0.05)
        quiet = result.state == "idle" and not (result.delivered or result.retried or result.dead or result.held)
        if quiet and all(t["pending"] == 0 for t in status(uow_for(engine), broker=False)["targets"]):
            return
