"""A store that lost its network sells offline and sends each sale later, with the POS's `client_id` and the
moment of the sale (`sold_at`): each sale is recorded exactly once, however often and concurrently it arrives,
days later too; when its stock was sold meanwhile it is still recorded (the goods left the store), flagged for
review, and stock never goes below zero."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from teahub.sales.schemas import OrderIn
from tests import factories as f
from tests.sales.test_idempotency import COPIES, race
from tests.sales.test_no_overselling import SKU, arrange

TEA = "LJ-MQ26-250"
SOLD_AT = (datetime.now(UTC) - timedelta(days=3)).replace(microsecond=0)


def offline_sale(client: TestClient, quantity: int, client_id: str, **extra: Any) -> Any:
    return f.pos_sale(client, [(TEA, quantity)], pay=quantity * 68800, method="cash", client_id=client_id,
                      sold_at=SOLD_AT.isoformat(), **extra)


def shop(client: TestClient, units: int) -> None:
    f.location(client, "BJ01")
    f.product(client, TEA, list_price=68800, member=62800)
    f.receive(client, TEA, units, unit_cost=30000)


def test_an_offline_sale_whose_stock_was_sold_meanwhile_is_kept_and_flagged(client: TestClient) -> None:
    shop(client, 3)
    f.ok(f.pos_sale(client, [(TEA, 2)], pay=2 * 68800), 201)  # sold online meanwhile: 1 left
    sale_id = str(uuid.uuid4())
    order = f.ok(offline_sale(client, 3, sale_id), 201)
    assert order["needs_review"] is True and f"2 × {TEA}" in order["review_note"]
    assert order["status"] == "completed" and order["total"] == 3 * 68800
    assert order["placed_at"].startswith(SOLD_AT.strftime("%Y-%m-%dT%H:%M:%S"))
    assert sum(b["quantity"] for b in order["lines"][0]["batches"]) == 1
    level = f.stock(client, TEA)
    assert (level["on_hand"], level["reserved"]) == (0, 0)  # never below zero
    # Sent again (the POS did not hear the answer): the same order, nothing moves.
    again = offline_sale(client, 3, sale_id)
    assert again.status_code == 200 and again.json()["id"] == order["id"]
    assert f.stock(client, TEA)["on_hand"] == 0
    review = f.ok(client.get("/api/v1/orders", params={"needs_review": "true"}))["items"]
    assert [o["id"] for o in review] == [order["id"]]
    [event] = [e for e in f.ok(client.get("/api/v1/events", params={"limit": 1000}))["items"]
               if e["type"] == "order.needs_review"]
    assert event["aggregate_id"] == str(order["id"]) and TEA in event["payload"]["reason"]


def test_an_offline_sale_with_its_stock_there_is_ordinary(client: TestClient) -> None:
    shop(client, 5)
    order = f.ok(offline_sale(client, 2, str(uuid.uuid4())), 201)
    assert order["needs_review"] is False and order["review_note"] is None
    assert f.stock(client, TEA)["on_hand"] == 3
    assert f.ok(client.get("/api/v1/orders", params={"needs_review": "true"}))["items"] == []


def test_a_sale_made_online_is_still_refused_when_stock_is_short(client: TestClient) -> None:
    shop(client, 1)
    refused = f.pos_sale(client, [(TEA, 2)], pay=2 * 68800, client_id=str(uuid.uuid4()))  # no sold_at: online
    assert refused.status_code == 409 and refused.json()["field"] == "lines.0.quantity"
    assert f.stock(client, TEA)["on_hand"] == 1


def test_one_offline_sale_sent_concurrently_is_recorded_once(engine: Engine) -> None:
    uow = arrange(engine)
    from teahub.inventory import service as inventory

    store_stock = inventory.stock_levels(uow, sku=SKU, location="BJ01")[0]["on_hand"]
    order = OrderIn.model_validate({
        "channel": "pos", "location": "BJ01", "client_id": str(uuid.uuid4()), "sold_at": SOLD_AT.isoformat(),
        "lines": [{"sku": SKU, "quantity": store_stock + 2}],
        "payments": [{"method": "cash", "amount": (store_stock + 2) * 68800}]})
    statuses, ids = race(engine, order, None)
    assert len(ids) == 1 and statuses[201] + statuses[200] == COPIES
    level = inventory.stock_levels(uow, sku=SKU, location="BJ01")[0]
    assert (level["on_hand"], level["reserved"]) == (0, 0)
