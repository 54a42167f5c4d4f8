"""Customer 360: one answer that brings together what each part of teahub knows about a customer."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests import factories as f

PHONE = "13812345678"


def test_customer_360_brings_everything_together(client: TestClient, client_as) -> None:  # type: ignore[no-untyped-def]
    f.location(client, "BJ01")
    f.product(client, "LJ-MQ26-250")
    f.ok(client.patch("/api/v1/products/LJ-MQ26-250", json={"tea": {"taste_notes": ["豆香", "回甘"]}}))
    f.receive(client, "LJ-MQ26-250", 10, unit_cost=30000)
    order = f.ok(f.pos_sale(client, [("LJ-MQ26-250", 2)], pay=125600, phone=PHONE), 201)
    cid = order["customer_id"]
    f.ok(client.post("/api/v1/tickets", json={"kind": "quality", "subject": "茶叶受潮", "customer_id": cid,
                                              "order_id": order["id"], "sku": "LJ-MQ26-250"}), 201)
    f.ok(client.post("/api/v1/activities", json={"kind": "call", "customer_id": cid, "summary": "回访"}), 201)
    f.ok(client.post(f"/api/v1/customers/{cid}/consents",
                     json={"purpose": "marketing_sms", "granted": True, "source": "pos:BJ01"}), 201)
    answer: dict[str, Any] = f.ok(client.get(f"/api/v1/customers/{cid}/360"))
    assert answer["customer"]["phone"] == "+86" + PHONE and answer["tier"] == "member"
    assert answer["lifetime"] == {**answer["lifetime"], "orders": 1, "spend": 125600,
                                  "gross_profit": 125600 - 60000, "channels": {"pos": 1}}
    assert answer["taste"]["categories"][0]["category"] == "green"
    assert answer["taste"]["taste_notes"] == ["豆香", "回甘"]
    assert [o["id"] for o in answer["orders"]] == [order["id"]]
    assert len(answer["open_tickets"]) == 1 and len(answer["activities"]) == 1
    assert answer["consents"]["marketing_sms"] is True
    assert answer["rfm"]["segment"] is not None
    clerk = client_as("clerk", ["BJ01"])
    seen = f.ok(clerk.get(f"/api/v1/customers/{cid}/360"))
    assert PHONE not in str(seen["customer"])
