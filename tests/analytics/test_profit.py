"""Gross profit per product, customer and channel from batch costs, and batch recall."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests import factories as f


def test_profit_by_product_and_customer_is_exact(client: TestClient) -> None:
    f.location(client, "BJ01")
    f.product(client, "TEA", list_price=10000, member=9000)
    f.product(client, "CUP", category="teaware", list_price=5000, member=None, shelf_life_days=None)
    f.receive(client, "TEA", 10, batch="T1", unit_cost=4000)
    f.receive(client, "TEA", 10, batch="T2", unit_cost=4500, expires_on="2030-01-01")
    f.receive(client, "CUP", 10, unit_cost=2000)
    wang = f.ok(client.post("/api/v1/customers", json={"name": "王芳", "phone": "13812345678"}), 201)
    sale = f.ok(f.pos_sale(client, [("TEA", 12), ("CUP", 1)], pay=12 * 9000 + 5000, phone="13812345678"), 201)
    f.ok(f.pos_sale(client, [("CUP", 2)], pay=10000), 201)
    f.ok(client.post(f"/api/v1/orders/{sale['id']}/refunds", json={"lines": [{"sku": "CUP", "quantity": 1}]}), 201)
    unpaid = f.web_order(client, [("TEA", 1)], location="BJ01")
    assert unpaid.status_code == 201  # confirmed, not paid: not a sale yet

    by_product = {r["key"]: r for r in f.ok(client.get("/api/v1/reports/profit", params={"by": "product"}))["items"]}
    tea_cost = 10 * 4000 + 2 * 4500
    assert by_product["TEA"] == {**by_product["TEA"], "quantity": 12, "revenue": 108000, "cost": tea_cost,
                                 "gross_profit": 108000 - tea_cost}
    assert by_product["CUP"] == {**by_product["CUP"], "quantity": 2, "revenue": 10000, "cost": 4000,
                                 "gross_profit": 6000}
    by_customer = {r["key"]: r for r in f.ok(client.get("/api/v1/reports/profit", params={"by": "customer"}))["items"]}
    assert by_customer[str(wang["id"])]["gross_profit"] == 108000 - tea_cost
    assert by_customer[None]["gross_profit"] == 6000
    order = f.ok(client.get(f"/api/v1/orders/{sale['id']}"))
    assert order["gross_profit"] == 108000 - tea_cost


def test_batch_trace_lists_who_received_a_batch(client: TestClient) -> None:
    f.location(client, "BJ01")
    f.product(client, "TEA")
    f.receive(client, "TEA", 3, batch="BAD", unit_cost=4000, expires_on="2027-01-01")
    f.receive(client, "TEA", 10, batch="GOOD", unit_cost=4000, expires_on="2028-01-01")
    a = f.ok(f.pos_sale(client, [("TEA", 2)], pay=2 * 62800, phone="13812345678"), 201)
    b = f.ok(f.pos_sale(client, [("TEA", 2)], pay=2 * 62800, phone="13912345678"), 201)
    trace = f.ok(client.get("/api/v1/reports/batch-trace", params={"sku": "TEA", "batch_code": "BAD"}))
    assert [(o["id"], o["units"]) for o in trace["orders"]] == [(a["id"], 2), (b["id"], 1)]
    assert trace["customers"] == sorted({a["customer_id"], b["customer_id"]})
    missing = client.get("/api/v1/reports/batch-trace", params={"sku": "TEA", "batch_code": "NOPE"})
    assert missing.status_code == 404 and missing.json()["field"] == "batch_code"
