"""Members earn points on what they pay, spend any part of them, get them reversed on refunds, and lose
them when they expire; the balance is always the sum of the ledger, and nothing counts twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from teahub.db.uow import UnitOfWork
from teahub.loyalty import service as loyalty
from tests import factories as f

SKU = "LJ-MQ26-250"
PHONE = "13812345678"


def settle_points(app: Any) -> None:
    """What the background runner does with order events (every event, in order; twice does no harm)."""
    from teahub.sync import service as feed

    factory = app.state.session_factory
    for event in feed.read_events(UnitOfWork(factory), 0, 100_000):
        if event["type"].startswith("order."):
            loyalty.settle_order_points(UnitOfWork(factory, actor="worker"), event)


def shop(client: TestClient) -> dict[str, Any]:
    f.location(client, "BJ01")
    f.product(client, SKU, list_price=68800, member=62800)
    f.receive(client, SKU, 100, unit_cost=30000)
    return f.ok(client.post("/api/v1/customers", json={"name": "王芳", "phone": PHONE}), 201)


def points(client: TestClient, customer_id: int) -> dict[str, Any]:
    return f.ok(client.get(f"/api/v1/customers/{customer_id}/points"))


def test_a_member_earns_one_point_per_whole_yuan_once(client: TestClient, app: Any) -> None:
    wang = shop(client)
    f.ok(f.pos_sale(client, [(SKU, 2)], pay=125600, phone=PHONE), 201)
    settle_points(app)
    settle_points(app)  # the same events again: nothing more
    answer = points(client, wang["id"])
    assert answer["balance"] == 1256
    assert [(e["kind"], e["points"]) for e in answer["entries"]] == [("earn", 1256)]
    assert answer["entries"][0]["expires_at"] is not None


def test_points_pay_part_of_an_order_and_earn_only_on_money(client: TestClient, app: Any) -> None:
    wang = shop(client)
    f.ok(f.pos_sale(client, [(SKU, 2)], pay=125600, phone=PHONE), 201)
    settle_points(app)
    order = f.ok(client.post("/api/v1/orders", json={
        "channel": "pos", "location": "BJ01", "customer": {"phone": PHONE}, "lines": [{"sku": SKU, "quantity": 1}],
        "payments": [{"method": "points", "points": 250}, {"method": "wechat", "amount": 62800 - 250}]}), 201)
    assert [(p["method"], p["amount"], p["points"]) for p in order["payments"]] == [
        ("points", 250, 250), ("wechat", 62550, None)]
    assert points(client, wang["id"])["balance"] == 1256 - 250
    settle_points(app)
    assert points(client, wang["id"])["balance"] == 1256 - 250 + 625
    assert loyalty.ledger_sum(UnitOfWork(app.state.session_factory), wang["id"]) == 1256 - 250 + 625


def test_spending_more_points_than_held_is_refused_and_writes_nothing(client: TestClient, app: Any) -> None:
    wang = shop(client)
    f.ok(f.pos_sale(client, [(SKU, 1)], pay=62800, phone=PHONE), 201)
    settle_points(app)
    refused = client.post("/api/v1/orders", json={
        "channel": "pos", "location": "BJ01", "customer": {"phone": PHONE}, "lines": [{"sku": SKU, "quantity": 1}],
        "payments": [{"method": "points", "points": 1000}, {"method": "wechat", "amount": 61800}]})
    assert refused.status_code == 409
    assert refused.json()["field"] == "payments.0.points" and refused.json()["balance"] == 628
    assert points(client, wang["id"])["balance"] == 628
    assert len(f.ok(client.get("/api/v1/orders"))["items"]) == 1
    assert f.stock(client, SKU)["on_hand"] == 99
    anonymous = client.post("/api/v1/orders", json={
        "channel": "pos", "location": "BJ01", "lines": [{"sku": SKU, "quantity": 1}],
        "payments": [{"method": "points", "points": 100}, {"method": "cash", "amount": 68700}]})
    assert anonymous.status_code == 422 and anonymous.json()["field"] == "payments.0"


def test_refunds_reverse_earned_points_in_proportion_and_give_spent_points_back(client: TestClient,
                                                                                 app: Any) -> None:
    wang = shop(client)
    f.ok(client.post(f"/api/v1/customers/{wang['id']}/points/adjustments",
                     json={"points": 1000, "reason": "welcome gift", "document": "welcome:1"}), 201)
    order = f.ok(client.post("/api/v1/orders", json={
        "channel": "pos", "location": "BJ01", "customer": {"phone": PHONE}, "lines": [{"sku": SKU, "quantity": 4}],
        "payments": [{"method": "points", "points": 1000}, {"method": "alipay", "amount": 4 * 62800 - 1000}]}), 201)
    settle_points(app)
    earned = (4 * 62800 - 1000) // 100
    assert points(client, wang["id"])["balance"] == earned
    refund = f.ok(client.post(f"/api/v1/orders/{order['id']}/refunds",
                              json={"lines": [{"sku": SKU, "quantity": 1}], "reason": "gift declined"}), 201)
    back = [p for p in refund["payments"] if p["amount"] < 0]
    assert sorted((p["method"], p["amount"]) for p in back) == [("alipay", -(62800 - 250)), ("points", -250)]
    settle_points(app)
    reversed_now = round(earned * (62800 - 250) / (4 * 62800 - 1000))
    assert points(client, wang["id"])["balance"] == earned + 250 - reversed_now
    f.ok(client.post(f"/api/v1/orders/{order['id']}/refunds", json={"lines": [{"sku": SKU, "quantity": 3}]}), 201)
    settle_points(app)
    # Everything refunded: every earned point taken back, every spent point returned.
    assert points(client, wang["id"])["balance"] == 1000
    assert loyalty.ledger_sum(UnitOfWork(app.state.session_factory), wang["id"]) == 1000


def test_a_refund_after_spending_can_make_the_balance_negative_and_later_earnings_recover_it(
        client: TestClient, app: Any) -> None:
    wang = shop(client)
    first = f.ok(f.pos_sale(client, [(SKU, 1)], pay=62800, phone=PHONE), 201)
    settle_points(app)
    f.ok(client.post("/api/v1/orders", json={
        "channel": "pos", "location": "BJ01", "customer": {"phone": PHONE}, "lines": [{"sku": SKU, "quantity": 1}],
        "payments": [{"method": "points", "points": 628}, {"method": "cash", "amount": 62800 - 628}]}), 201)
    f.ok(client.post(f"/api/v1/orders/{first['id']}/refunds", json={"lines": [{"sku": SKU, "quantity": 1}]}), 201)
    settle_points(app)
    second_earned = (62800 - 628) // 100
    assert points(client, wang["id"])["balance"] == 628 - 628 - 628 + second_earned
    assert points(client, wang["id"])["balance"] < 0
    f.ok(f.pos_sale(client, [(SKU, 1)], pay=62800, phone=PHONE), 201)
    settle_points(app)
    assert points(client, wang["id"])["balance"] == second_earned - 628 + 628


def test_cancelling_an_order_paid_with_points_returns_them(client: TestClient, app: Any) -> None:
    wang = shop(client)
    f.ok(client.post(f"/api/v1/customers/{wang['id']}/points/adjustments",
                     json={"points": 500, "reason": "apology", "document": "ticket:9"}), 201)
    order = f.ok(client.post("/api/v1/orders", json={
        "channel": "web", "location": "BJ01", "customer": {"phone": PHONE}, "lines": [{"sku": SKU, "quantity": 1}],
        "payments": [{"method": "points", "points": 500}, {"method": "wechat", "amount": 62300}]}), 201)
    assert points(client, wang["id"])["balance"] == 0
    f.ok(client.post(f"/api/v1/orders/{order['id']}/cancel"))
    settle_points(app)
    assert points(client, wang["id"])["balance"] == 500


def test_unused_points_expire_on_schedule(client: TestClient, app: Any) -> None:
    wang = shop(client)
    f.ok(f.pos_sale(client, [(SKU, 1)], pay=62800, phone=PHONE), 201)
    settle_points(app)
    f.ok(client.post("/api/v1/orders", json={
        "channel": "pos", "location": "BJ01", "customer": {"phone": PHONE}, "lines": [{"sku": SKU, "quantity": 1}],
        "payments": [{"method": "points", "points": 100}, {"method": "cash", "amount": 62700}]}), 201)
    later = datetime.now(UTC) + timedelta(days=731)
    factory = app.state.session_factory
    # Only the first sale's earnings (628) have expired; 100 of them were used.
    loyalty_result = loyalty.expire_points(UnitOfWork(factory, clock=lambda: later))
    assert loyalty_result["points_expired"] == 528
    settle_points(app)
    balance = points(client, wang["id"])["balance"]
    assert balance == (62700 // 100)  # only the second sale's points remain, until they expire too
    assert loyalty.expire_points(UnitOfWork(factory, clock=lambda: later))["points_expired"] == 627
    assert loyalty.expire_points(UnitOfWork(factory, clock=lambda: later))["points_expired"] == 0
    assert points(client, wang["id"])["balance"] == 0


def test_tiers_follow_twelve_months_of_spend_and_set_prices(client: TestClient, app: Any) -> None:
    wang = shop(client)
    factory = app.state.session_factory
    for _ in range(4):  # 4 × 62800 = 251200 fen: past the silver threshold (200000)
        f.ok(f.pos_sale(client, [(SKU, 1)], pay=62800, phone=PHONE), 201)
    assert loyalty.recompute_tier(UnitOfWork(factory), wang["id"]) == "silver"
    assert f.ok(client.get(f"/api/v1/customers/{wang['id']}"))["tier"] == "silver"
    f.ok(client.put("/api/v1/loyalty/tiers/silver", json={"price_list": "vip"}))
    f.ok(client.patch(f"/api/v1/products/{SKU}", json={"prices": {"vip": 60000}}))
    order = f.ok(f.pos_sale(client, [(SKU, 1)], pay=60000, phone=PHONE), 201)
    assert order["lines"][0]["price_list"] == "vip"
    a_year_later = datetime.now(UTC) + timedelta(days=400)
    assert loyalty.recompute_tier(UnitOfWork(factory, clock=lambda: a_year_later), wang["id"]) == "member"
    changed = [e for e in f.ok(client.get("/api/v1/events", params={"limit": 1000}))["items"]
               if e["type"] == "tier.changed"]
    assert [(e["payload"]["previous"], e["payload"]["tier"]) for e in changed] == [("member", "silver"),
                                                                                  ("silver", "member")]


def test_unknown_tier_is_refused(client: TestClient) -> None:
    response = client.post("/api/v1/customers", json={"name": "李雷", "phone": "13912345678", "tier": "platinum"})
    assert response.status_code == 422 and response.json()["field"] == "tier"


def test_merging_customers_moves_points_and_reversing_moves_them_back(client: TestClient, app: Any) -> None:
    wang = shop(client)
    other = f.ok(client.post("/api/v1/customers", json={"name": "王芳", "phone": "13912345678"}), 201)
    f.ok(f.pos_sale(client, [(SKU, 1)], pay=62800, phone="13912345678"), 201)
    f.ok(f.pos_sale(client, [(SKU, 1)], pay=62800, phone=PHONE), 201)
    settle_points(app)
    merged = f.ok(client.post(f"/api/v1/customers/{wang['id']}/merge", json={"source_id": other["id"]}))
    factory = app.state.session_factory
    assert points(client, wang["id"])["balance"] == 2 * 628
    assert loyalty.balance(UnitOfWork(factory), other["id"]) == 0
    assert points(client, other["id"])["balance"] == 2 * 628  # a merged customer answers as the survivor
    f.ok(client.post(f"/api/v1/customers/merges/{merged['merge_id']}/reverse"))
    assert points(client, wang["id"])["balance"] == 628
    assert points(client, other["id"])["balance"] == 628
    for customer in (wang, other):
        assert loyalty.ledger_sum(UnitOfWork(factory), customer["id"]) == 628
