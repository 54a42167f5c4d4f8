"""Orders through the API: every channel, the lifecycle, pricing, payments and what is refused."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from teahub.db.uow import UnitOfWork
from teahub.inventory import service as inventory
from tests import factories as f

SKU = "LJ-MQ26-250"


def shop(client: TestClient, quantity: int = 100) -> None:
    f.location(client, "WH01", "warehouse")
    f.location(client, "BJ01")
    f.location(client, "HZ01")
    f.product(client, SKU, list_price=68800, member=62800)
    f.receive(client, SKU, quantity, location="BJ01", batch="LJ26-001", unit_cost=30000, expires_on="2027-09-28")
    f.receive(client, SKU, quantity, location="WH01", batch="LJ26-002", unit_cost=30000, expires_on="2027-09-28")


def events_of(client: TestClient, aggregate_type: str | None = None) -> list[dict[str, Any]]:
    items = f.ok(client.get("/api/v1/events", params={"limit": 1000}))["items"]
    return [e for e in items if aggregate_type is None or e["aggregate_type"] == aggregate_type]


def test_pos_sale_in_one_call_with_member_price(client: TestClient) -> None:
    shop(client)
    f.ok(client.post("/api/v1/customers", json={"name": "王芳", "phone": "13812345678"}), 201)
    response = client.post("/api/v1/orders", json={
        "channel": "pos", "location": "BJ01", "customer": {"phone": "13812345678"},
        "lines": [{"sku": SKU, "quantity": 2}], "payments": [{"method": "wechat", "amount": 125600}]})
    order = f.ok(response, 201)
    assert order["status"] == "completed"
    assert order["total"] == 125600
    assert order["channel"] == "pos" and order["external_id"] is None
    assert order["number"].startswith("SO")
    line = order["lines"][0]
    assert (line["unit_price"], line["price_list"], line["amount"]) == (62800, "member", 125600)
    assert line["batches"] == [{"sku": SKU, "batch_code": "LJ26-001", "location": "BJ01", "quantity": 2,
                                "unit_cost": 30000, "state": "shipped", "returned_quantity": 0}]
    assert order["gross_profit"] == 125600 - 60000
    assert f.stock(client, SKU)["on_hand"] == 98
    types = [e["type"] for e in events_of(client, "order")]
    assert types == ["order.created", "order.paid", "order.completed"]
    assert [e["version"] for e in events_of(client, "order")] == [1, 2, 3]


def test_customer_without_phone_pays_list_price(client: TestClient) -> None:
    shop(client)
    order = f.ok(client.post("/api/v1/orders", json={
        "channel": "pos", "location": "BJ01", "customer": {"email": "li@example.com"},
        "lines": [{"sku": SKU, "quantity": 1}], "payments": [{"method": "card", "amount": 68800}]}), 201)
    assert order["lines"][0]["price_list"] == "list"
    assert order["total"] == 68800


def test_loose_tea_is_priced_per_jin_and_rounded_half_up(client: TestClient) -> None:
    shop(client)
    f.product(client, "LJ43-L", unit="g", price_basis=500, list_price=68000, member=None)
    f.receive(client, "LJ43-L", 5000, location="BJ01", unit_cost=60)
    order = f.ok(f.pos_sale(client, [("LJ43-L", 125), ("LJ43-L", 3)], pay=17000 + 408, method="cash"), 201)
    assert [line["amount"] for line in order["lines"]] == [17000, 408]
    assert f.stock(client, "LJ43-L")["on_hand"] == 5000 - 128


def test_cash_gives_change_and_other_methods_must_match(client: TestClient) -> None:
    shop(client)
    order = f.ok(client.post("/api/v1/orders", json={
        "channel": "pos", "location": "BJ01", "lines": [{"sku": SKU, "quantity": 1}],
        "payments": [{"method": "wechat", "amount": 50000}, {"method": "cash", "amount": 20000}]}), 201)
    assert order["change"] == 1200
    assert [(p["method"], p["amount"], p["tendered"]) for p in order["payments"]] == [
        ("wechat", 50000, None), ("cash", 18800, 20000)]
    over = client.post("/api/v1/orders", json={
        "channel": "pos", "location": "BJ01", "lines": [{"sku": SKU, "quantity": 1}],
        "payments": [{"method": "wechat", "amount": 70000}]})
    assert over.status_code == 422 and over.json()["field"] == "payments"


def test_web_order_goes_through_pay_allocate_ship_complete(client: TestClient, uow: UnitOfWork) -> None:
    shop(client)
    order = f.ok(f.web_order(client, [(SKU, 3)]), 201)
    assert (order["status"], order["location"], order["total"]) == ("confirmed", "WH01", 3 * 68800)
    assert f.stock(client, SKU, "WH01")["reserved"] == 3
    oid = order["id"]
    order = f.ok(client.post(f"/api/v1/orders/{oid}/pay", json={"payments": [{"method": "alipay", "amount": 206400}]}))
    assert order["status"] == "paid" and order["balance_due"] == 0
    assert f.ok(client.post(f"/api/v1/orders/{oid}/allocate"))["status"] == "allocated"
    assert f.stock(client, SKU, "WH01")["on_hand"] == 100
    refused = client.post(f"/api/v1/orders/{oid}/ship", json={"carrier": "SF", "tracking_no": "SF 123"})
    assert refused.status_code == 422 and refused.json()["field"] == "tracking_no"  # and nothing moved:
    assert f.ok(client.get(f"/api/v1/orders/{oid}"))["status"] == "allocated"
    shipped = f.ok(client.post(f"/api/v1/orders/{oid}/ship", json={"carrier": "SF", "tracking_no": "SF1400123456789"}))
    assert (shipped["status"], shipped["carrier"], shipped["tracking_no"]) == ("shipped", "SF", "SF1400123456789")
    assert events_of(client, "order")[-1]["payload"]["tracking_no"] == "SF1400123456789"
    item = f.stock(client, SKU, "WH01")
    assert (item["on_hand"], item["reserved"]) == (97, 0)
    assert f.ok(client.post(f"/api/v1/orders/{oid}/complete"))["status"] == "completed"
    assert [e["type"] for e in events_of(client, "order")] == [
        "order.created", "order.paid", "order.allocated", "order.shipped", "order.completed"]
    assert inventory.verify_ledger(uow) == []


def test_cancel_releases_reservation_and_pays_back(client: TestClient) -> None:
    shop(client)
    order = f.ok(f.web_order(client, [(SKU, 5)], payments=[{"method": "wechat", "amount": 5 * 68800}]), 201)
    assert order["status"] == "paid"
    cancelled = f.ok(client.post(f"/api/v1/orders/{order['id']}/cancel", json={"reason": "buyer changed mind"}))
    assert cancelled["status"] == "cancelled"
    assert cancelled["refunded_amount"] == 5 * 68800
    assert cancelled["payments"][-1] == {**cancelled["payments"][-1], "method": "wechat", "amount": -5 * 68800}
    item = f.stock(client, SKU, "WH01")
    assert (item["on_hand"], item["reserved"], item["available"]) == (100, 0, 100)


def test_forbidden_transition_is_a_409_that_changes_nothing(client: TestClient) -> None:
    shop(client)
    order = f.ok(f.web_order(client, [(SKU, 1)]), 201)
    response = client.post(f"/api/v1/orders/{order['id']}/ship")
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["title"] == "Transition not allowed"
    after = f.ok(client.get(f"/api/v1/orders/{order['id']}"))
    assert (after["status"], after["version"]) == ("confirmed", order["version"])
    f.ok(client.post(f"/api/v1/orders/{order['id']}/pay", json={"payments": [{"method": "card", "amount": 68800}]}))
    f.ok(client.post(f"/api/v1/orders/{order['id']}/allocate"))
    f.ok(client.post(f"/api/v1/orders/{order['id']}/ship"))
    assert client.post(f"/api/v1/orders/{order['id']}/cancel").status_code == 409
    assert f.stock(client, SKU, "WH01")["on_hand"] == 99


def test_not_enough_stock_is_a_409_and_nothing_is_written(client: TestClient) -> None:
    shop(client, quantity=3)
    f.product(client, "OTHER")
    f.receive(client, "OTHER", 10, location="BJ01")
    before = len(events_of(client))
    response = f.pos_sale(client, [("OTHER", 2), (SKU, 4)], pay=2 * 68800 + 4 * 68800)
    assert response.status_code == 409
    problem = response.json()
    assert problem["field"] == "lines.1.quantity"
    assert (problem["available"], problem["requested"], problem["sku"]) == (3, 4, SKU)
    assert f.stock(client, "OTHER")["on_hand"] == 10
    assert f.stock(client, SKU)["on_hand"] == 3
    assert f.ok(client.get("/api/v1/orders"))["items"] == []
    assert len(events_of(client)) == before


def test_bad_orders_name_the_field_and_write_nothing(client: TestClient) -> None:
    shop(client)
    base = {"channel": "pos", "location": "BJ01", "lines": [{"sku": SKU, "quantity": 1}],
            "payments": [{"method": "cash", "amount": 68800}]}
    cases = [
        ({**base, "lines": [{"sku": "NOPE", "quantity": 1}]}, "lines.0.sku"),
        ({**base, "lines": [{"sku": SKU, "quantity": 0}]}, "lines.0.quantity"),
        ({**base, "lines": [{"sku": SKU, "quantity": -2}]}, "lines.0.quantity"),
        ({**base, "customer": {"phone": "12345"}}, "phone"),
        ({**base, "payments": []}, "payments"),
        ({**base, "payments": [{"method": "bitcoin", "amount": 68800}]}, "payments.0.method"),
        ({**base, "location": "WH01"}, "location"),
        ({**base, "channel": "nowhere"}, "channel"),
        ({**base, "lines": []}, "lines"),
        ({**base, "discount": 70000}, "discount"),
        ({**base, "lines": [{"sku": SKU, "quantity": 1, "unit_price": 1}]}, "lines.0.unit_price"),
    ]
    for body, field in cases:
        response = client.post("/api/v1/orders", json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert field in response.json()["field"], (field, response.json())
    assert f.ok(client.get("/api/v1/orders"))["items"] == []
    assert f.stock(client, SKU)["on_hand"] == 100
    assert f.ok(client.get("/api/v1/customers"))["items"] == []


def test_idempotency_key_answers_the_first_order_again(client: TestClient) -> None:
    shop(client)
    body = {"channel": "pos", "location": "BJ01", "lines": [{"sku": SKU, "quantity": 1}],
            "payments": [{"method": "cash", "amount": 68800}]}
    first = f.ok(client.post("/api/v1/orders", json=body, headers={"Idempotency-Key": "k-1"}), 201)
    again = client.post("/api/v1/orders", json=body, headers={"Idempotency-Key": "k-1"})
    assert again.status_code == 201
    assert again.json()["id"] == first["id"]
    other = client.post("/api/v1/orders", json={**body, "lines": [{"sku": SKU, "quantity": 2}]},
                        headers={"Idempotency-Key": "k-1"})
    assert other.status_code == 422
    assert other.json()["field"] == "Idempotency-Key"
    assert len(f.ok(client.get("/api/v1/orders"))["items"]) == 1
    assert f.stock(client, SKU)["on_hand"] == 99


def test_channel_order_is_unique_and_older_updates_are_ignored(client: TestClient) -> None:
    shop(client)
    body = {"channel": "tmall", "external_id": "3421987345012345678", "lines": [{"sku": SKU, "quantity": 1,
            "unit_price": 66000}], "status": "paid", "platform_modified_at": "2026-11-20T10:00:00Z"}
    order = f.ok(client.post("/api/v1/orders", json=body), 201)
    assert (order["status"], order["total"], order["external_id"]) == ("paid", 66000, "3421987345012345678")
    assert order["payments"][0]["method"] == "platform"
    same = f.ok(client.post("/api/v1/orders", json=body), 200)
    assert same["id"] == order["id"]
    older = f.ok(client.post("/api/v1/orders", json={**body, "status": "cancelled",
                                                      "platform_modified_at": "2026-11-20T09:00:00Z"}), 200)
    assert older["status"] == "paid"
    newer = f.ok(client.post("/api/v1/orders", json={**body, "status": "shipped",
                                                      "platform_modified_at": "2026-11-21T09:00:00Z"}), 200)
    assert newer["status"] == "shipped"
    assert f.stock(client, SKU, "WH01")["on_hand"] == 99
    assert len(f.ok(client.get("/api/v1/orders", params={"channel": "tmall"}))["items"]) == 1


def test_partial_refund_by_line_restocks_and_keeps_profit_exact(client: TestClient, uow: UnitOfWork) -> None:
    shop(client)
    f.product(client, "CUP", category="teaware", list_price=6800, member=None, shelf_life_days=None)
    f.receive(client, "CUP", 10, location="BJ01", unit_cost=2000)
    order = f.ok(f.pos_sale(client, [(SKU, 3), ("CUP", 2)], pay=3 * 68800 + 2 * 6800, discount=0), 201)
    refunded = f.ok(client.post(f"/api/v1/orders/{order['id']}/refunds", json={
        "lines": [{"sku": SKU, "quantity": 1}, {"sku": "CUP", "quantity": 2}], "reason": "gift declined"}), 201)
    assert refunded["refunded_amount"] == 68800 + 13600
    tea, cup = refunded["lines"]
    assert (tea["refunded_quantity"], tea["cost"], tea["gross_profit"]) == (1, 60000, 2 * 68800 - 60000)
    assert (cup["refunded_quantity"], cup["cost"], cup["gross_profit"]) == (2, 0, 0)
    assert refunded["gross_profit"] == 2 * 68800 - 60000
    assert f.stock(client, SKU)["on_hand"] == 98
    assert f.stock(client, "CUP")["on_hand"] == 10
    assert refunded["payments"][-1]["amount"] == -(68800 + 13600)
    too_much = client.post(f"/api/v1/orders/{order['id']}/refunds", json={"lines": [{"sku": "CUP", "quantity": 1}]})
    assert too_much.status_code == 422
    assert inventory.verify_ledger(uow) == []


def test_refund_without_restock_keeps_the_cost(client: TestClient) -> None:
    shop(client)
    order = f.ok(f.pos_sale(client, [(SKU, 2)], pay=2 * 68800), 201)
    refunded = f.ok(client.post(f"/api/v1/orders/{order['id']}/refunds", json={
        "lines": [{"sku": SKU, "quantity": 1}], "reason": "tea arrived damp", "restock": False}), 201)
    assert refunded["lines"][0]["cost"] == 60000
    assert refunded["gross_profit"] == 68800 - 60000
    assert f.stock(client, SKU)["on_hand"] == 98


def test_money_back_for_part_of_a_line_keeps_the_goods_and_the_rest_refundable(client: TestClient) -> None:
    shop(client)
    order = f.ok(f.pos_sale(client, [(SKU, 2)], pay=2 * 68800), 201)
    url = f"/api/v1/orders/{order['id']}/refunds"
    # 仅退款: ¥50 back for a dented can, the goods stay with the buyer.
    first = f.ok(client.post(url, json={"lines": [{"sku": SKU, "quantity": 0, "amount": 5000}],
                                        "reason": "dented can", "restock": False}), 201)
    line = first["lines"][0]
    assert (first["refunded_amount"], line["refunded_quantity"], line["refunded_amount"]) == (5000, 0, 5000)
    assert first["refunds"][-1]["lines"] == [{"line_no": 1, "sku": SKU, "quantity": 0, "amount": 5000}]
    assert f.stock(client, SKU)["on_hand"] == 98  # nothing came back
    # The line never pays back more than it earned: the last unit brings back only what is left.
    refused = client.post(url, json={"lines": [{"sku": SKU, "amount": 2 * 68800}]})
    assert refused.status_code == 422 and refused.json()["field"] == "lines.0.amount"
    assert client.post(url, json={"lines": [{"sku": SKU}]}).status_code == 422  # neither units nor money
    f.ok(client.post(url, json={"lines": [{"sku": SKU, "quantity": 1}]}), 201)
    last = f.ok(client.post(url, json={"lines": [{"sku": SKU, "quantity": 1}]}), 201)
    assert last["refunds"][-1]["amount"] == 2 * 68800 - 5000 - 68800
    assert last["refunded_amount"] == last["total"] == 2 * 68800


def test_refunding_an_unshipped_order_releases_its_reservation(client: TestClient) -> None:
    shop(client)
    order = f.ok(f.web_order(client, [(SKU, 2)], payments=[{"method": "wechat", "amount": 2 * 68800}]), 201)
    partial = f.ok(client.post(f"/api/v1/orders/{order['id']}/refunds", json={"lines": [{"sku": SKU, "quantity": 1}]}),
                   201)
    assert partial["status"] == "paid"
    assert f.stock(client, SKU, "WH01")["reserved"] == 1
    full = f.ok(client.post(f"/api/v1/orders/{order['id']}/refunds", json={"lines": [{"sku": SKU, "quantity": 1}]}),
                201)
    assert full["status"] == "cancelled"
    assert f.stock(client, SKU, "WH01")["reserved"] == 0


def test_order_discount_is_spread_over_lines_exactly(client: TestClient) -> None:
    shop(client)
    f.product(client, "CUP", category="teaware", list_price=6800, member=None, shelf_life_days=None)
    f.receive(client, "CUP", 10, location="BJ01", unit_cost=2000)
    order = f.ok(f.pos_sale(client, [(SKU, 1), ("CUP", 1)], pay=68800 + 6800 - 1001, discount=1001), 201)
    assert order["total"] == 68800 + 6800 - 1001
    assert sum(line["net_amount"] for line in order["lines"]) == order["total"]
    assert sum(line["discount"] for line in order["lines"]) == 1001


def test_fefo_sells_the_batch_that_expires_first(client: TestClient) -> None:
    f.location(client, "BJ01")
    f.product(client, SKU)
    f.receive(client, SKU, 5, batch="LATE", expires_on="2028-01-01")
    f.receive(client, SKU, 5, batch="SOON", expires_on="2027-01-01")
    order = f.ok(f.pos_sale(client, [(SKU, 7)], pay=7 * 68800), 201)
    assert [(b["batch_code"], b["quantity"]) for b in order["lines"][0]["batches"]] == [("SOON", 5), ("LATE", 2)]


def test_gift_box_is_sold_as_its_components(client: TestClient) -> None:
    shop(client)
    f.product(client, "GW", category="teaware", list_price=16800, member=None, shelf_life_days=None)
    f.receive(client, "GW", 3, location="BJ01", unit_cost=5000)
    f.ok(client.post("/api/v1/products", json={
        "sku": "BOX-MID", "name": "中秋礼盒", "category": "giftbox", "unit": "piece", "prices": {"list": 99900},
        "components": [{"sku": SKU, "quantity": 2}, {"sku": "GW", "quantity": 1}]}), 201)
    assert f.stock(client, "BOX-MID")["available"] == 3
    order = f.ok(f.pos_sale(client, [("BOX-MID", 2)], pay=2 * 99900), 201)
    line = order["lines"][0]
    assert sorted((b["sku"], b["quantity"]) for b in line["batches"]) == [("GW", 2), (SKU, 4)]
    assert line["cost"] == 4 * 30000 + 2 * 5000
    assert f.stock(client, SKU)["on_hand"] == 96
    assert f.stock(client, "GW")["on_hand"] == 1
    assert f.stock(client, "BOX-MID")["available"] == 1
    refused = f.pos_sale(client, [("BOX-MID", 2)], pay=2 * 99900)
    assert refused.status_code == 409
    back = f.ok(client.post(f"/api/v1/orders/{order['id']}/refunds",
                            json={"lines": [{"sku": "BOX-MID", "quantity": 1}]}),
                201)
    assert back["lines"][0]["cost"] == 2 * 30000 + 5000
    assert f.stock(client, "GW")["on_hand"] == 2


def test_b2b_on_credit_ships_before_paying_within_its_limit(client: TestClient) -> None:
    shop(client)
    company = f.ok(client.post("/api/v1/customers", json={
        "name": "杭州某科技有限公司", "kind": "company", "company_name": "杭州某科技有限公司",
        "credit_limit": 300000, "payment_terms": "monthly", "email": "buyer@corp.example"}), 201)
    order = f.ok(client.post("/api/v1/orders", json={
        "channel": "b2b", "customer": {"id": company["id"]}, "lines": [{"sku": SKU, "quantity": 4,
                                                                       "unit_price": 60000}]}), 201)
    assert (order["status"], order["on_credit"], order["total"]) == ("confirmed", True, 240000)
    over = client.post("/api/v1/orders", json={"channel": "b2b", "customer": {"id": company["id"]},
                                               "lines": [{"sku": SKU, "quantity": 1}]})
    assert over.status_code == 409
    assert over.json()["field"] == "customer" and over.json()["title"] == "Over credit limit"
    f.ok(client.post(f"/api/v1/orders/{order['id']}/allocate"))
    f.ok(client.post(f"/api/v1/orders/{order['id']}/ship"))
    paid = f.ok(client.post(f"/api/v1/orders/{order['id']}/pay",
                            json={"payments": [{"method": "bank_transfer", "amount": 240000}]}))
    assert (paid["status"], paid["balance_due"]) == ("shipped", 0)
    f.ok(client.post("/api/v1/orders", json={"channel": "b2b", "customer": {"id": company["id"]},
                                             "lines": [{"sku": SKU, "quantity": 1}]}), 201)


def test_draft_quote_reserves_nothing_until_confirmed(client: TestClient) -> None:
    shop(client)
    draft = f.ok(f.web_order(client, [(SKU, 2)], draft=True), 201)
    assert draft["status"] == "draft"
    assert f.stock(client, SKU, "WH01")["reserved"] == 0
    confirmed = f.ok(client.post(f"/api/v1/orders/{draft['id']}/confirm"))
    assert confirmed["status"] == "confirmed"
    assert f.stock(client, SKU, "WH01")["reserved"] == 2


def test_clerk_sells_only_for_their_store(client: TestClient, client_as) -> None:  # type: ignore[no-untyped-def]
    shop(client)
    f.receive(client, SKU, 5, location="HZ01")
    clerk = client_as("clerk", ["BJ01"])
    f.ok(f.pos_sale(clerk, [(SKU, 1)], pay=68800), 201)
    refused = f.pos_sale(clerk, [(SKU, 1)], location="HZ01", pay=68800)
    assert refused.status_code == 403
    assert f.stock(client, SKU, "HZ01")["on_hand"] == 5
    assert len(f.ok(clerk.get("/api/v1/orders"))["items"]) == 1
    hz = f.ok(f.pos_sale(client, [(SKU, 1)], location="HZ01", pay=68800), 201)
    assert clerk.get(f"/api/v1/orders/{hz['id']}").status_code == 403
    assert clerk.post(f"/api/v1/orders/{hz['id']}/refunds", json={"lines": [{"sku": SKU, "quantity": 1}]}
                      ).status_code == 403


def test_orders_list_filters_and_paginates(client: TestClient) -> None:
    shop(client)
    ids = [f.ok(f.pos_sale(client, [(SKU, 1)], pay=68800), 201)["id"] for _ in range(5)]
    f.ok(f.web_order(client, [(SKU, 1)]), 201)
    first = f.ok(client.get("/api/v1/orders", params={"channel": "pos", "limit": 2}))
    assert [o["id"] for o in first["items"]] == ids[::-1][:2]
    second = f.ok(client.get("/api/v1/orders", params={"channel": "pos", "limit": 2, "cursor": first["next"]}))
    assert [o["id"] for o in second["items"]] == ids[::-1][2:4]
    assert len(f.ok(client.get("/api/v1/orders", params={"status": "confirmed"}))["items"]) == 1


def test_merging_customers_moves_their_orders_and_records_it(client: TestClient) -> None:
    shop(client)
    first = f.ok(f.pos_sale(client, [(SKU, 1)], pay=62800, phone="13812345678"), 201)
    second = f.ok(f.pos_sale(client, [(SKU, 1)], pay=62800, phone="13912345678"), 201)
    merged = f.ok(client.post(f"/api/v1/customers/{first['customer_id']}/merge",
                              json={"source_id": second["customer_id"]}))
    moved = f.ok(client.get(f"/api/v1/orders/{second['id']}"))
    assert moved["customer_id"] == first["customer_id"]
    changed = [e for e in events_of(client, "order") if e["type"] == "order.customer_changed"]
    assert [(e["aggregate_id"], e["payload"]["previous_customer_id"]) for e in changed] == [
        (str(second["id"]), second["customer_id"])]
    f.ok(client.post(f"/api/v1/customers/merges/{merged['merge_id']}/reverse"))
    assert f.ok(client.get(f"/api/v1/orders/{second['id']}"))["customer_id"] == second["customer_id"]
    kept = f.ok(client.get("/api/v1/orders", params={"customer_id": first["customer_id"]}))["items"]
    assert [o["id"] for o in kept] == [first["id"]]


def test_a_managers_approval_lets_a_b2b_order_exceed_the_credit_limit(client: TestClient, app) -> None:  # type: ignore[no-untyped-def]
    from teahub.sales import service as sales
    from teahub.sales.schemas import OrderIn

    shop(client)
    company = f.ok(client.post("/api/v1/customers", json={
        "name": "厦门某贸易公司", "kind": "company", "company_name": "厦门某贸易公司", "credit_limit": 100000,
        "payment_terms": "monthly", "email": "b2b@trade.example"}), 201)
    data = OrderIn.model_validate({"channel": "b2b", "customer": {"id": company["id"]},
                                   "lines": [{"sku": SKU, "quantity": 2, "unit_price": 60000}]})
    view, status = sales.place_order(UnitOfWork(app.state.session_factory, actor="user:lin"), data,
                                     credit_approved_by="user:lin")
    assert status == 201 and view["on_credit"] and view["total"] == 120000
    entries = f.ok(client.get("/api/v1/audit", params={"entity_type": "order", "entity_id": str(view["id"])}))
    override = [e for e in entries["items"] if e["action"] == "order.credit_limit_overridden"]
    assert override and override[0]["after"]["approved_by"] == "user:lin"
