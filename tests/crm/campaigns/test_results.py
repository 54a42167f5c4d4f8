"""A campaign's results: the redemptions of its coupons and the revenue of the orders that redeemed them, or
the orders recipients of its message placed within the attribution window; net of refunds, with gross profit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from teahub.crm.campaigns import service
from teahub.db.uow import UnitOfWork
from tests.analytics.shop import ago
from tests.crm.campaigns.helpers import (
    API,
    COST,
    GREEN,
    PRICE,
    consent,
    coupon,
    coupon_campaign,
    ok,
    person,
    segment,
    sell,
    shop,
)


def _code(client: TestClient, who: dict[str, Any]) -> str:
    return str(ok(client.get(f"{API}/customers/{who['id']}/coupons"))["items"][0]["code"])


def test_coupon_results_count_redemptions_and_their_revenue(client: TestClient) -> None:
    shop(client)
    buyer = person(client, "用券", "13400000001", tier="gold")
    cancelled = person(client, "取消", "13400000002", tier="gold")
    idle = person(client, "没买", "13400000003", tier="gold")
    made = segment(client, "金卡", {"tiers": ["gold"]})
    coupon(client, value=2000)
    coupon(client, "OTHER", value=1000, public=True)
    campaign = coupon_campaign(client, made["id"])
    ok(client.post(f"{API}/campaigns/{campaign['id']}/launch"))

    used = sell(client, buyer, GREEN, at=ago(1), quantity=3, coupons=[_code(client, buyer)])
    ok(client.post(f"{API}/orders/{used['id']}/refunds", json={"lines": [{"sku": GREEN, "quantity": 1}]}), 201)
    given_back = ok(client.post(f"{API}/orders", json={
        "channel": "web", "location": "BJ01", "customer": {"id": cancelled["id"]},
        "lines": [{"sku": GREEN, "quantity": 1}], "coupons": [_code(client, cancelled)]}), 201)
    ok(client.post(f"{API}/orders/{given_back['id']}/cancel"))
    sell(client, idle, GREEN, at=ago(1))  # bought, but without the campaign's coupon
    sell(client, idle, GREEN, at=ago(1), coupons=["OTHER"])

    order = ok(client.get(f"{API}/orders/{used['id']}"))
    results = ok(client.get(f"{API}/campaigns/{campaign['id']}/results"))
    assert (results["recipients"], results["reached"], results["outcomes"]["granted"]) == (3, 3, 3)
    assert (results["redemptions"], results["discount"], results["orders"], results["buyers"]) == (1, 2000, 1, 1)
    assert results["revenue"] == order["total"] - order["refunded_amount"] == 3 * PRICE - 2000 - order[
        "refunded_amount"]
    assert order["refunded_amount"] > 0
    assert results["gross_profit"] == order["gross_profit"] == results["revenue"] - 2 * COST
    assert results["conversion_rate"] == round(1 / 3, 4)
    assert results["attribution_ends_at"] is None


def test_message_results_count_recipients_orders_within_the_attribution_window(client: TestClient,
                                                                                app: Any) -> None:
    shop(client)
    reached = person(client, "收到", "13400000011", tier="gold")
    refused = person(client, "没同意", "13400000012", tier="gold")
    consent(client, reached, "marketing_sms", True)
    made = segment(client, "金卡", {"tiers": ["gold"]})
    campaign = ok(client.post(f"{API}/campaigns", json={
        "name": "春茶上新", "segment_id": made["id"], "kind": "message", "attribution_days": 14,
        "message": {"channel": "sms", "template": "spring_tea_2026"}}), 201)
    sent_at = ago(20)
    service.launch_campaign(UnitOfWork(app.state.session_factory, actor="user:root", clock=lambda: sent_at),
                            campaign["id"])

    sell(client, reached, GREEN, at=sent_at - timedelta(hours=1))  # before the message
    inside = sell(client, reached, GREEN, at=sent_at + timedelta(days=5), quantity=2)
    sell(client, reached, GREEN, at=sent_at + timedelta(days=14, minutes=1))  # the window closed
    sell(client, refused, GREEN, at=sent_at + timedelta(days=5))  # got no message

    results = ok(client.get(f"{API}/campaigns/{campaign['id']}/results"))
    assert (results["recipients"], results["reached"], results["outcomes"]["no_consent"]) == (2, 1, 1)
    assert (results["orders"], results["buyers"], results["revenue"]) == (1, 1, inside["total"])
    assert results["revenue"] == 2 * PRICE
    assert results["gross_profit"] == inside["gross_profit"] == 2 * (PRICE - COST)
    assert (results["redemptions"], results["discount"], results["conversion_rate"]) == (None, None, 1.0)
    assert results["attribution_ends_at"] is not None
    assert results["attribution_ends_at"].startswith((sent_at + timedelta(days=14)).date().isoformat())


def test_results_of_a_draft_are_empty(client: TestClient) -> None:
    made = segment(client, "金卡", {"tiers": ["gold"]})
    coupon(client)
    campaign = coupon_campaign(client, made["id"])
    results = ok(client.get(f"{API}/campaigns/{campaign['id']}/results"))
    assert (results["status"], results["recipients"], results["redemptions"], results["revenue"],
            results["conversion_rate"]) == ("draft", 0, 0, 0, None)
    assert client.get(f"{API}/campaigns/999/results").status_code == 404
