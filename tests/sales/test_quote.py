"""Quoting an order (`POST /orders/quote`): the answer is exactly what placing the same body then charges, and
quoting writes nothing: no order, no stock sold or reserved, no points spent, the coupon still unused, no event."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from tests import factories as f

TEA, LOOSE = "LJ-MQ26-250", "TGY-L"
PHONE = "13812345678"


def shop(client: TestClient) -> dict[str, Any]:
    f.location(client, "BJ01")
    f.location(client, "HZ01")
    f.product(client, TEA, list_price=68800, member=62800)
    f.product(client, LOOSE, category="oolong", unit="g", price_basis=500, list_price=52000, member=46800)
    f.receive(client, TEA, 10, unit_cost=30000)
    f.receive(client, LOOSE, 5000, unit_cost=40, batch="B2")
    member = f.ok(client.post("/api/v1/customers", json={"name": "王芳", "phone": PHONE}), 201)
    f.ok(client.post(f"/api/v1/customers/{member['id']}/points/adjustments",
                     json={"points": 5000, "reason": "welcome"}), 201)
    f.ok(client.post("/api/v1/coupons", json={"code": "TEA30", "name": "满200减30", "kind": "threshold",
                                              "value": 3000, "threshold": 20000}), 201)
    grant = f.ok(client.post("/api/v1/coupons/TEA30/grants", json={"customer_id": member["id"]}), 201)
    return {"member": member, "coupon": grant["code"]}


def sale(coupon: str, client_id: str, payments: list[dict[str, Any]]) -> dict[str, Any]:
    return {"channel": "pos", "location": "BJ01", "client_id": client_id, "customer": {"phone": PHONE},
            "lines": [{"sku": TEA, "quantity": 1}, {"sku": LOOSE, "quantity": 125}], "coupons": [coupon],
            "payments": payments}


def state(client: TestClient, member_id: int) -> dict[str, Any]:
    """Everything a sale would change."""
    return {
        "orders": f.ok(client.get("/api/v1/orders"))["items"],
        "stock": [(item["on_hand"], item["reserved"]) for sku in (TEA, LOOSE) for item in [f.stock(client, sku)]],
        "points": f.ok(client.get(f"/api/v1/customers/{member_id}/points"))["balance"],
        "coupons": [(c["code"], c["status"]) for c in
                    f.ok(client.get(f"/api/v1/customers/{member_id}/coupons"))["items"]],
        "redeemed": [c["redeemed"] for c in f.ok(client.get("/api/v1/coupons"))["items"]],
        "events": len(f.ok(client.get("/api/v1/events", params={"limit": 1000}))["items"]),
    }


PRICED = ("subtotal", "discount", "coupons", "coupon_discount", "total", "paid_amount", "balance_due", "change",
          "price_list", "customer_id", "location", "status", "channel", "client_id")


def test_the_quote_is_what_placing_then_charges_and_writes_nothing(client: TestClient) -> None:
    arranged = shop(client)
    member_id = arranged["member"]["id"]
    body = sale(arranged["coupon"], str(uuid.uuid4()), [
        {"method": "points", "points": 2000}, {"method": "wechat", "amount": 20000},
        {"method": "cash", "amount": 100000}])
    before = state(client, member_id)

    quote = f.ok(client.post("/api/v1/orders/quote", json=body))
    assert state(client, member_id) == before  # no order, stock, points, coupon or event moved
    # Member prices (62800 + 125 g of 46800 per 500 g), 30 yuan off, 20 yuan in points, the rest wechat + cash.
    assert quote["price_list"] == "member" and quote["subtotal"] == 62800 + 11700
    assert (quote["coupons"], quote["coupon_discount"]) == (["TEA30"], 3000)
    assert quote["total"] == 62800 + 11700 - 3000 and quote["payments_missing"] == 0
    assert quote["change"] == 2000 + 20000 + 100000 - quote["total"]

    order = f.ok(client.post("/api/v1/orders", json=body), 201)
    assert {k: order[k] for k in PRICED} == {k: quote[k] for k in PRICED}
    assert [(ln["sku"], ln["unit_price"], ln["net_amount"]) for ln in order["lines"]] == \
        [(ln["sku"], ln["unit_price"], ln["net_amount"]) for ln in quote["lines"]]
    assert [(p["method"], p["amount"], p["points"]) for p in order["payments"]] == \
        [(p["method"], p["amount"], p["points"]) for p in quote["payments"]]
    after = state(client, member_id)
    assert len(after["orders"]) == 1 and after["points"] == before["points"] - 2000
    assert after["coupons"] == [(arranged["coupon"], "redeemed")]


def test_a_counter_sale_is_quoted_before_it_is_paid(client: TestClient) -> None:
    arranged = shop(client)
    member_id = arranged["member"]["id"]
    before = state(client, member_id)
    unpaid = sale(arranged["coupon"], str(uuid.uuid4()), [])
    quote = f.ok(client.post("/api/v1/orders/quote", json=unpaid))
    total = 62800 + 11700 - 3000
    assert (quote["total"], quote["payments_missing"], quote["paid_amount"], quote["payments"]) == (total, total, 0, [])

    with_points = sale(arranged["coupon"], str(uuid.uuid4()), [{"method": "points", "points": 1500}])
    part = f.ok(client.post("/api/v1/orders/quote", json=with_points))
    assert (part["total"], part["payments_missing"], part["paid_amount"]) == (total, total - 1500, 1500)
    assert [(p["method"], p["amount"]) for p in part["payments"]] == [("points", 1500)]
    assert state(client, member_id) == before

    # What the quote said is left to pay is what settles the sale exactly.
    paid = {**with_points, "payments": [*with_points["payments"],
                                        {"method": "alipay", "amount": part["payments_missing"]}]}
    order = f.ok(client.post("/api/v1/orders", json=paid), 201)
    assert (order["total"], order["balance_due"], order["change"]) == (total, 0, 0)


def test_a_quote_refuses_what_placing_refuses(client: TestClient, client_as: Any) -> None:
    arranged = shop(client)
    too_many = sale(arranged["coupon"], str(uuid.uuid4()), [{"method": "points", "points": 9000}])
    refused = client.post("/api/v1/orders/quote", json=too_many)
    assert refused.status_code == 409 and refused.json()["field"] == "payments.0.points"
    other_store = client_as("clerk", ["HZ01"]).post("/api/v1/orders/quote",
                                                   json=sale(arranged["coupon"], str(uuid.uuid4()), []))
    assert other_store.status_code == 403
    own_store = client_as("clerk", ["BJ01"]).post("/api/v1/orders/quote",
                                                 json=sale(arranged["coupon"], str(uuid.uuid4()), []))
    assert own_store.status_code == 200 and own_store.json()["total"] == 62800 + 11700 - 3000


def test_a_quote_for_a_sale_already_sent_answers_that_sale(client: TestClient) -> None:
    arranged = shop(client)
    body = sale(arranged["coupon"], str(uuid.uuid4()), [{"method": "cash", "amount": 80000}])
    order = f.ok(client.post("/api/v1/orders", json=body), 201)
    again = f.ok(client.post("/api/v1/orders/quote", json=body))
    assert (again["id"], again["total"]) == (order["id"], order["total"])
    assert len(f.ok(client.get("/api/v1/orders"))["items"]) == 1
