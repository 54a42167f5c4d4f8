"""Coupons: fixed, percent and threshold (满减) discounts within their scope, limits and validity; a customer's
own coupon is used once; a cancelled order gives its coupons back."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi.testclient import TestClient

from teahub.db.uow import UnitOfWork
from teahub.errors import DomainError
from teahub.sales import service as sales
from teahub.sales.schemas import OrderIn
from tests import factories as f

TEA, CUP = "LJ-MQ26-250", "CUP"
PHONE = "13812345678"


def shop(client: TestClient) -> dict[str, Any]:
    f.location(client, "BJ01")
    f.product(client, TEA, list_price=68800, member=62800)
    f.product(client, CUP, category="teaware", list_price=6800, member=None, shelf_life_days=None)
    f.receive(client, TEA, 100, unit_cost=30000)
    f.receive(client, CUP, 100, unit_cost=2000)
    return f.ok(client.post("/api/v1/customers", json={"name": "王芳", "phone": PHONE}), 201)


def coupon(client: TestClient, **body: Any) -> dict[str, Any]:
    return f.ok(client.post("/api/v1/coupons", json={"name": body.get("code", "券"), **body}), 201)


def sale(client: TestClient, lines: list[tuple[str, int]], pay: int, codes: list[str], **extra: Any) -> Any:
    return client.post("/api/v1/orders", json={
        "channel": "pos", "location": "BJ01", "customer": {"phone": PHONE},
        "lines": [{"sku": s, "quantity": q} for s, q in lines], "coupons": codes,
        "payments": [{"method": "wechat", "amount": pay}], **extra})


def test_threshold_coupon_takes_money_off_the_lines_it_covers(client: TestClient) -> None:
    shop(client)
    coupon(client, code="MID200", kind="threshold", value=3000, threshold=20000, categories=["green"], public=True)
    order = f.ok(sale(client, [(TEA, 1), (CUP, 1)], 62800 + 6800 - 3000, ["MID200"]), 201)
    assert (order["coupons"], order["coupon_discount"], order["total"]) == (["MID200"], 3000, 62800 + 6800 - 3000)
    tea, cup = order["lines"]
    assert (tea["discount"], cup["discount"]) == (3000, 0)  # teaware is outside the coupon's scope
    below = sale(client, [(CUP, 2)], 13600, ["MID200"])
    assert below.status_code == 422 and below.json()["field"] == "coupons.0"


def test_percent_coupon_is_capped_and_spread_over_lines(client: TestClient) -> None:
    shop(client)
    coupon(client, code="TEN", kind="percent", percent_off=10, max_discount=5000, public=True, stackable=True)
    order = f.ok(sale(client, [(TEA, 1), (CUP, 1)], 62800 + 6800 - 5000, ["TEN"]), 201)
    assert order["coupon_discount"] == 5000
    assert sum(line["discount"] for line in order["lines"]) == 5000
    assert order["total"] == sum(line["net_amount"] for line in order["lines"])


def test_a_granted_coupon_is_used_once_and_comes_back_when_the_order_is_cancelled(client: TestClient) -> None:
    wang = shop(client)
    coupon(client, code="BDAY", kind="fixed", value=2000)
    granted = f.ok(client.post("/api/v1/coupons/BDAY/grants", json={"customer_id": wang["id"],
                                                                    "source": "care:birthday"}), 201)
    code = granted["code"]
    order = f.ok(client.post("/api/v1/orders", json={
        "channel": "web", "location": "BJ01", "customer": {"phone": PHONE}, "lines": [{"sku": TEA, "quantity": 1}],
        "coupons": [code]}), 201)
    assert order["total"] == 62800 - 2000
    again = sale(client, [(TEA, 1)], 60800, [code])
    assert again.status_code == 422 and "already used" in again.json()["detail"]
    mine = f.ok(client.get(f"/api/v1/customers/{wang['id']}/coupons"))["items"]
    assert [(c["code"], c["status"]) for c in mine] == [(code, "redeemed")]
    f.ok(client.post(f"/api/v1/orders/{order['id']}/cancel"))
    assert f.ok(client.get(f"/api/v1/customers/{wang['id']}/coupons"))["items"][0]["status"] == "issued"
    f.ok(sale(client, [(TEA, 1)], 60800, [code]), 201)
    stranger = client.post("/api/v1/orders", json={
        "channel": "pos", "location": "BJ01", "customer": {"phone": "13912345678"},
        "lines": [{"sku": TEA, "quantity": 1}], "coupons": [code], "payments": [{"method": "cash", "amount": 60800}]})
    assert stranger.status_code == 422


def test_coupons_respect_channel_validity_stacking_and_limits(client: TestClient) -> None:
    shop(client)
    coupon(client, code="ONLINE", kind="fixed", value=1000, channels=["web"], public=True)
    coupon(client, code="OLD", kind="fixed", value=1000, valid_until="2020-01-01T00:00:00Z", public=True)
    coupon(client, code="SOLO", kind="fixed", value=1000, public=True)
    coupon(client, code="STACK", kind="fixed", value=500, public=True, stackable=True)
    coupon(client, code="ONCE", kind="fixed", value=1000, public=True, per_customer_limit=1)
    for codes, field in ((["ONLINE"], "coupons.0"), (["OLD"], "coupons.0"), (["SOLO", "STACK"], "coupons"),
                         (["NOPE"], "coupons.0")):
        refused = sale(client, [(TEA, 1)], 61800, codes)
        assert refused.status_code == 422 and refused.json()["field"] == field, (codes, refused.json())
    f.ok(sale(client, [(TEA, 1)], 61800, ["ONCE"]), 201)
    assert sale(client, [(TEA, 1)], 61800, ["ONCE"]).status_code == 422
    assert f.stock(client, TEA)["on_hand"] == 99


def test_a_coupons_total_limit_holds_under_concurrent_orders(client: TestClient, app: Any) -> None:
    shop(client)
    coupon(client, code="FIRST5", kind="fixed", value=1000, public=True, total_limit=5)
    factory = app.state.session_factory
    barrier = threading.Barrier(12)

    def buy(i: int) -> str:
        data = OrderIn.model_validate({"channel": "pos", "location": "BJ01", "customer": {"phone": f"1391234{i:04d}"},
                                       "lines": [{"sku": CUP, "quantity": 1}], "coupons": ["FIRST5"],
                                       "payments": [{"method": "cash", "amount": 5800}]})
        barrier.wait()
        try:
            sales.place_order(UnitOfWork(factory, actor=f"till-{i}"), data)
            return "used"
        except DomainError:
            return "refused"

    with ThreadPoolExecutor(12) as pool:
        outcomes = Counter(pool.map(buy, range(12)))
    assert outcomes == {"used": 5, "refused": 7}
    listed = f.ok(client.get("/api/v1/coupons"))["items"]
    assert next(c for c in listed if c["code"] == "FIRST5")["redeemed"] == 5
