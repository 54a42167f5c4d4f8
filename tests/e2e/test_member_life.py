"""A member's whole life through the API, with the background runner doing its part: join, buy in the store and
online, earn and spend points, get and use a coupon, the same order synced twice, a refund, a complaint about a
batch, a thank-you and a CSAT survey, a repurchase reminder weeks later, and finally export and erasure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from teahub import worker
from teahub.scheduling.registry import load_tasks
from tests import factories as f

TEA, CUP = "LJ-MQ26-250", "CUP-BLUE"
PHONE = "13812345678"
NOW = datetime.now(UTC)


def drain(app: Any, at: datetime | None = None) -> None:
    """Run the background runner until every subscription has caught up (at `at`, when given)."""
    load_tasks()
    for _ in range(10):
        summary = worker.run_once(app.state.engine, **({"clock": lambda: at} if at else {}))
        if all(s["state"] != "more" for s in summary["subscriptions"]):
            return


def points(client: TestClient, customer_id: int) -> int:
    return f.ok(client.get(f"/api/v1/customers/{customer_id}/points"))["balance"]  # type: ignore[no-any-return]


def messages(client: TestClient, customer_id: int) -> list[str]:
    items = f.ok(client.get("/api/v1/care/messages", params={"customer_id": customer_id, "limit": 100}))["items"]
    return [m["source"] for m in items]


def test_a_members_life_end_to_end(client: TestClient, app: Any) -> None:
    f.location(client, "BJ01")
    f.location(client, "WH01", kind="warehouse")
    f.product(client, TEA, list_price=68800, member=62800)  # 250 g can of Longjing
    f.product(client, CUP, category="teaware", list_price=5000, member=None, shelf_life_days=None)
    for location in ("BJ01", "WH01"):
        f.receive(client, TEA, 20, location=location, batch=f"{location}-LJ", unit_cost=30000)
        f.receive(client, CUP, 20, location=location, batch=f"{location}-C", unit_cost=2000)
    # This shop allows up to 5 care messages a week per customer (the default is 2).
    f.ok(client.put("/api/v1/care/policy", json={"max_messages": 5, "window_days": 7}))
    drain(app)  # today's scheduled jobs out of the way; cursors at the end of the feed

    # Join at the counter: a phone makes a member; WeChat and consents for care messages.
    birthday_month = (NOW.month + 5) % 12 + 1  # not this month, nor the reminder's month
    wang = f.ok(client.post("/api/v1/customers", json={
        "name": "王芳", "phone": PHONE, "identities": [{"kind": "wechat_openid", "value": "oWANGFANG01"}],
        "birthday": f"1990-{birthday_month:02d}-12", "address": "北京市东城区前门大街28号"}), 201)
    me = wang["id"]
    assert wang["tier"] == "member"
    for purpose in ("marketing_sms", "marketing_wechat"):
        f.ok(client.post(f"/api/v1/customers/{me}/consents",
                         json={"purpose": purpose, "granted": True, "source": "pos:BJ01"}), 201)

    # Buy in the store at the member price; points follow in the background, once.
    store = f.ok(f.pos_sale(client, [(TEA, 2)], pay=2 * 62800, phone=PHONE), 201)
    assert store["customer_id"] == me and store["total"] == 125600
    drain(app)
    assert points(client, me) == 1256

    # Buy online from the warehouse, synced twice by the shop (same platform id): one order, points once.
    online_body = {"channel": "tmall", "location": "WH01", "external_id": "3951022451234567890",
                   "customer": {"phone": PHONE}, "lines": [{"sku": TEA, "quantity": 1}, {"sku": CUP, "quantity": 2}],
                   "payments": [{"method": "platform", "amount": 62800 + 10000}],
                   "platform_modified_at": NOW.isoformat()}
    online = f.ok(client.post("/api/v1/orders", json=online_body), 201)
    again = client.post("/api/v1/orders", json=online_body)
    assert again.status_code in (200, 201) and again.json()["id"] == online["id"]
    drain(app)
    assert points(client, me) == 1256 + 728

    # Get a coupon (a campaign to the members who bought green tea), spend it with points on a third order.
    f.ok(client.post("/api/v1/coupons", json={"code": "THANKS20", "name": "回购券", "kind": "fixed", "value": 2000}),
         201)
    segment = f.ok(client.post("/api/v1/segments", json={"name": "绿茶会员", "rules": {
        "tiers": ["member", "silver"], "bought_categories": ["green"]}}), 201)
    assert f.ok(client.get(f"/api/v1/segments/{segment['id']}"))["size"] == 1
    campaign = f.ok(client.post("/api/v1/campaigns", json={
        "name": "谢谢回购", "segment_id": segment["id"], "kind": "coupon", "coupon_code": "THANKS20"}), 201)
    f.ok(client.post(f"/api/v1/campaigns/{campaign['id']}/launch"))
    f.ok(client.post(f"/api/v1/campaigns/{campaign['id']}/launch"))  # a second launch grants nothing more
    [granted] = f.ok(client.get(f"/api/v1/customers/{me}/coupons"))["items"]
    third = f.ok(client.post("/api/v1/orders", json={
        "channel": "pos", "location": "BJ01", "customer": {"id": me}, "lines": [{"sku": TEA, "quantity": 1}],
        "coupons": [granted["code"]],
        "payments": [{"method": "points", "points": 800}, {"method": "wechat", "amount": 62800 - 2000 - 800}]}),
        201)
    assert third["total"] == 60800
    drain(app)
    assert points(client, me) == 1256 + 728 - 800 + 600  # earned only on the 600 yuan paid in money
    results = f.ok(client.get(f"/api/v1/campaigns/{campaign['id']}/results"))
    assert results["redemptions"] == 1 and results["revenue"] == 60800

    # A refund of one can from the store order takes back its points in proportion.
    f.ok(client.post(f"/api/v1/orders/{store['id']}/refunds",
                     json={"lines": [{"sku": TEA, "quantity": 1}], "reason": "味道不对"}), 201)
    drain(app)
    assert points(client, me) == 1256 + 728 - 800 + 600 - 628

    # Complain about the store batch; the quality report shows it and lists its buyers for a recall.
    ticket = f.ok(client.post("/api/v1/tickets", json={
        "kind": "quality", "subject": "茶叶有异味", "customer_id": me, "order_id": store["id"], "sku": TEA,
        "batch_code": "BJ01-LJ", "channel": "phone"}), 201)
    report = f.ok(client.get("/api/v1/reports/quality", params={"by": "batch"}))
    [row] = [r for r in report["items"] if r["batch_code"] == "BJ01-LJ"]
    assert row["complaints"] == 1 and row["refunded_units"] == 1
    buyers = f.ok(client.get(f"/api/v1/reports/quality/batches/{TEA}/BJ01-LJ/buyers"))
    assert [b["customer_id"] for b in buyers["items"]] == [me]

    # The online order is delivered (thank-you), the ticket resolved and closed (CSAT survey).
    for step in ("allocate", "ship", "complete"):
        f.ok(client.post(f"/api/v1/orders/{online['id']}/{step}"))
    f.ok(client.post(f"/api/v1/tickets/{ticket['id']}/resolve", json={"resolution": "换货并致歉"}))
    f.ok(client.post(f"/api/v1/tickets/{ticket['id']}/close"))
    drain(app)
    # Thank-you for each completed order (the store sales complete at the counter) and the survey.
    assert sorted(messages(client, me)) == ["care:csat_survey"] + ["care:thank_you"] * 3

    # Weeks later the tea runs out: the nightly care run sends one repurchase reminder, once.
    [due] = f.ok(client.get(f"/api/v1/reports/repurchase-due/customers/{me}"))["items"]
    assert due["sku"] == TEA and due["days_left"] > 7
    later = datetime.fromisoformat(due["due_at"]) - timedelta(days=1)
    f.ok(client.post("/api/v1/care/run", json={"rule": "repurchase_due"}))  # not due yet today
    assert "care:repurchase_due" not in messages(client, me)
    drain(app, at=later.replace(hour=2))
    drain(app, at=(later + timedelta(days=1)).replace(hour=2))
    assert messages(client, me).count("care:repurchase_due") == 1

    # The customer 360 sees all of it.
    seen = f.ok(client.get(f"/api/v1/customers/{me}/360"))
    assert seen["customer"]["phone"] == "+8613812345678"
    assert seen["points"]["balance"] == points(client, me)

    # Export everything, then erase: personal data gone, orders kept for the accounts, no more messages.
    exported = f.ok(client.get(f"/api/v1/customers/{me}/export"))
    assert exported["customer"]["phone"] == "+8613812345678"
    assert {o["id"] for o in exported["orders"]} == {store["id"], online["id"], third["id"]}
    assert exported["points"]["balance"] == seen["points"]["balance"]
    assert sorted(m["source"] for m in exported["messages"]) == sorted(messages(client, me))
    erased = f.ok(client.post(f"/api/v1/customers/{me}/erase", json={"reason": "本人来电要求删除"}))
    assert erased["phone"] is None and erased["address"] is None and erased["birthday"] is None
    assert f.ok(client.get(f"/api/v1/orders/{third['id']}"))["total"] == 60800
    assert f.ok(client.get("/api/v1/customers", params={"q": PHONE}))["items"] == []
    before = len(messages(client, me))
    f.ok(client.post("/api/v1/care/run", json={"rule": "win_back"}))
    assert len(messages(client, me)) == before
