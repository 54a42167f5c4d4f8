"""An order's timeline: its steps read back from the events sales recorded for it, oldest first, with who made
each step (from the audit log) when asked."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi.testclient import TestClient

from teahub.auth import service as auth
from teahub.db.uow import UnitOfWork
from teahub.sales.timeline import order_timeline, with_actors
from tests import factories as f

TEA = "LJ-MQ26-250"  # a can: pieces
LOOSE = "LJ43-L"  # loose leaf: grams, priced per 斤


def shop(client: TestClient) -> None:
    f.location(client, "WH01", "warehouse")
    f.product(client, TEA, list_price=68800, member=62800)
    f.product(client, LOOSE, unit="g", price_basis=500, list_price=68000, member=None)
    f.receive(client, TEA, 10, location="WH01", batch="LJ26-001", unit_cost=30000, expires_on="2027-09-28")
    f.receive(client, LOOSE, 5000, location="WH01", batch="LJ43-001", unit_cost=60, expires_on="2027-09-28")


def paid_web_order(client: TestClient) -> dict[str, object]:
    total = 2 * 68800 + 34000  # two cans and 250 g (half a 斤)
    return f.ok(f.web_order(client, [(TEA, 2), (LOOSE, 250)], location="WH01",
                            payments=[{"method": "alipay", "amount": total}]), 201)


def test_the_timeline_lists_each_step_of_an_order_in_the_order_it_happened(client: TestClient,
                                                                           uow: UnitOfWork) -> None:
    shop(client)
    order = paid_web_order(client)
    other = paid_web_order(client)  # its events are not this order's
    for action in ("allocate", "ship", "complete"):
        f.ok(client.post(f"/api/v1/orders/{order['id']}/{action}"))
    f.ok(client.post(f"/api/v1/orders/{order['id']}/refunds", json={
        "lines": [{"sku": LOOSE, "quantity": 100}], "restock": False, "reason": "damp"}), 201)

    steps = order_timeline(uow, int(order["id"]))  # type: ignore[call-overload]

    assert [s["step"] for s in steps] == ["placed", "paid", "allocated", "shipped", "completed", "refunded"]
    assert [s["version"] for s in steps] == [1, 2, 3, 4, 5, 6]
    assert [s["at"] for s in steps] == sorted(s["at"] for s in steps)
    assert all(s["at"].tzinfo is not None for s in steps)
    assert steps[0]["at"] == datetime.fromisoformat(str(order["placed_at"]).replace("Z", "+00:00"))
    assert steps[0]["total"] == order["total"] and steps[1]["amount"] == order["total"]
    assert [s["status"] for s in steps] == ["confirmed", "paid", "allocated", "shipped", "completed", "completed"]
    refund = steps[-1]
    assert refund["amount"] == 13600 and refund["restock"] is False  # 100 g of 250 g that earned ¥340.00
    assert refund["lines"] == [{"sku": LOOSE, "quantity": 100, "amount": 13600}]
    assert [s["step"] for s in order_timeline(uow, int(other["id"]))] == ["placed", "paid"]  # type: ignore[call-overload]
    assert order_timeline(uow, 999_999) == []


def test_a_cancelled_order_ends_its_timeline_with_the_cancellation(client: TestClient, uow: UnitOfWork) -> None:
    shop(client)
    order = f.ok(f.web_order(client, [(TEA, 1)], location="WH01"), 201)  # not paid yet
    f.ok(client.post(f"/api/v1/orders/{order['id']}/cancel", json={"reason": "buyer changed their mind"}))
    refused = client.post(f"/api/v1/orders/{order['id']}/ship")
    assert refused.status_code == 409

    steps = order_timeline(uow, order["id"])
    assert [(s["step"], s["status"]) for s in steps] == [("placed", "confirmed"), ("cancelled", "cancelled")]


def test_each_step_names_who_made_it_and_a_merge_is_nobody_s_step(client: TestClient, uow: UnitOfWork) -> None:
    shop(client)
    keeper = f.ok(client.post("/api/v1/customers", json={"name": "王芳", "phone": "13812345678"}), 201)
    twin = f.ok(client.post("/api/v1/customers", json={"name": "王芳", "email": "wang@example.com"}), 201)
    order = f.ok(f.web_order(client, [(TEA, 1)], location="WH01", customer={"id": twin["id"]},
                             payments=[{"method": "wechat", "amount": 68800}]), 201)
    f.ok(client.post(f"/api/v1/customers/{keeper['id']}/merge", json={"source_id": twin["id"]}))
    f.ok(client.post(f"/api/v1/orders/{order['id']}/allocate"))

    audit = auth.audit_entries(uow, entity_type="order", entity_id=str(order["id"]), limit=100)
    steps = with_actors(order_timeline(uow, order["id"]), audit)

    assert [(s["step"], s["actor"]) for s in steps] == [
        ("placed", "user:root"), ("paid", "user:root"), ("customer_changed", None), ("allocated", "user:root")]
    changed = steps[2]
    assert (changed["previous_customer_id"], changed["customer_id"]) == (twin["id"], keeper["id"])


def test_without_a_version_in_the_audit_only_what_is_certain_is_named() -> None:
    steps = [{"step": "placed", "version": 1}, {"step": "paid", "version": 2}, {"step": "shipped", "version": 3},
             {"step": "completed", "version": 4}]
    audit = [{"actor": "user:a", "after": {"version": 1}},
             {"actor": "channel:tmall", "after": {"status": "shipped"}},  # a channel update: no version
             {"actor": "user:b", "after": {"version": 4}}]
    assert [s["actor"] for s in with_actors(steps, audit)] == ["user:a", None, None, "user:b"]


def test_a_counter_sale_sent_after_the_fact_is_placed_when_it_was_sold(client: TestClient, uow: UnitOfWork) -> None:
    f.location(client, "BJ01")
    f.product(client, TEA, list_price=68800, member=62800)
    f.receive(client, TEA, 5, location="BJ01", unit_cost=30000)
    sold_at = "2026-03-01T02:30:00+00:00"
    order = f.ok(f.pos_sale(client, [(TEA, 1)], pay=68800, method="cash", client_id=str(uuid.uuid4()),
                            sold_at=sold_at), 201)

    steps = order_timeline(uow, order["id"])

    assert [s["step"] for s in steps] == ["placed", "paid", "completed"]
    assert {s["at"] for s in steps} == {datetime.fromisoformat(sold_at)}
    assert steps[0]["recorded_at"] > steps[0]["at"]  # recorded when the counter sent it
