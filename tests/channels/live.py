"""Shared by the stock and reconciliation tests: the simulators served over real HTTP, a unit of work at a
chosen moment, and the stock subscription drained on demand."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from teahub.channels.stock import on_stock_changed, push_due
from teahub.db.engine import make_session_factory
from teahub.db.uow import UnitOfWork
from teahub.inventory.events import STOCK_CHANGED
from teahub.scheduling import subscriptions
from teahub.scheduling.options import WorkerOptions
from teahub.scheduling.registry import Registry
from tests import factories as f
from tests.channels import helpers as h
from tests.channels.simulators.base import TOKEN, Platform, Server, all_platforms

Sim = tuple[Server, dict[str, Platform]]
REGISTRY = Registry()
# From the beginning here, so the receipts made while arranging a test count too.
STOCK_DIRTY = REGISTRY.subscribe("channels.stock_dirty", [STOCK_CHANGED], on_stock_changed, start="beginning")


@pytest.fixture(scope="session")
def simulators() -> Iterator[Sim]:
    app, platforms = all_platforms()
    with Server(app) as server:
        yield server, platforms


@pytest.fixture
def sim(simulators: Sim) -> Sim:
    for platform in simulators[1].values():
        platform.reset()
    return simulators


def at(engine: Engine, moment: datetime) -> UnitOfWork:
    return UnitOfWork(make_session_factory(engine), actor="test", clock=lambda: moment)


def drain(engine: Engine, moment: datetime) -> int:
    """Run the stock subscription until it has caught up; the events it handled."""
    handled = 0
    while True:
        result = subscriptions.drain(at(engine, moment), STOCK_DIRTY, WorkerOptions())
        handled += result.handled
        if result.state != "more":
            return handled


def push(engine: Engine, moment: datetime) -> dict[str, Any]:
    """What the worker does at `moment`: the subscription, then the push job."""
    drain(engine, moment)
    return push_due(at(engine, moment))


def shop_with_stock(client: TestClient, server: Server, platform: str, *, code: str = "S1", sku: str,
                    quantity: int, location: str = "BJ01", **extra: Any) -> dict[str, Any]:
    """A store with `quantity` of `sku`, and a shop on `platform` shipping from it (ratio 0.5, safety stock 2)."""
    f.location(client, location, "store")
    f.product(client, sku, list_price=10000, member=None, shelf_life_days=540)
    if quantity:
        f.receive(client, sku, quantity, location=location, batch=f"B-{sku}", unit_cost=1000)
    return h.shop(client, code, platform, location=location, api_url=server.url(platform), access_token=TOKEN,
                  **extra)
