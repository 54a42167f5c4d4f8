"""Stock shown on the shops: a stock change marks the shop × SKU dirty, the push job sets the platform's stock
through its own API (simulators over real HTTP, each with its signing), coalesced, retried, resynced."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from teahub.channels import rules
from teahub.db.base import utcnow
from teahub.scheduling.registry import default_registry, load_tasks
from tests import factories as f
from tests.channels.live import Sim, drain, push, shop_with_stock
from tests.channels.simulators.base import Platform

SKU = "LJ-MQ26-250"
OTHER = "TGY-AX26-100"

# platform, simulator, what the platform got for 100 available (ratio 0.5, safety stock 2: 48)
CASES = [
    ("taobao", "taobao", {"num_iid": "6001", "sku_id": "5001", "quantity": 48, "type": 1}),
    ("tmall", "taobao", {"num_iid": "6001", "sku_id": "5001", "quantity": 48, "type": 1}),
    ("jd", "jd", {"skuId": "5001", "stockNum": 48}),
    ("pdd", "pdd", {"goods_id": "6001", "sku_id": "5001", "quantity": 48, "update_type": 1}),
    ("douyin", "douyin", {"sku_id": "5001", "product_id": "6001", "stock_num": 48, "incremental": False}),
    ("youzan", "youzan", {"item_id": "6001", "sku_id": "5001", "quantity": 48, "type": 0}),
]


def _mapped(client: TestClient, sim: Sim, platform: str, *, quantity: int = 100, **mapping: Any) -> None:
    server, _ = sim
    shop_with_stock(client, server, platform, sku=SKU, quantity=quantity)
    body = {"platform_sku_id": "5001", "item_id": "6001", "sku": SKU, **mapping}
    f.ok(client.post("/api/v1/shops/S1/sku-mappings", json=body), 201)


def _sell(client: TestClient, quantity: int) -> None:
    f.ok(f.pos_sale(client, [(SKU, quantity)], pay=10000 * quantity), 201)


def _updates(platform: Platform) -> list[dict[str, Any]]:
    return [{k: v for k, v in u.items() if k != "idempotent_id"} for u in platform.stock]


@pytest.mark.parametrize(("platform", "simulator", "expected"), CASES, ids=[c[0] for c in CASES])
def test_a_sale_at_the_store_lowers_what_the_shop_shows(client: TestClient, engine: Engine, sim: Sim,
                                                       platform: str, simulator: str,
                                                       expected: dict[str, Any]) -> None:
    _mapped(client, sim, platform)
    remote = sim[1][simulator]
    t0 = utcnow()
    assert push(engine, t0)["pushed"] == 1
    assert _updates(remote) == [expected]
    _sell(client, 4)  # 96 left: 96 × 0.5 − 2 = 46
    assert remote.stock[1:] == []  # nothing moves before the job runs
    assert push(engine, t0 + timedelta(seconds=6))["pushed"] == 1
    quantity_key = next(k for k in ("quantity", "stockNum", "stock_num") if k in expected)
    assert _updates(remote)[-1] == {**expected, quantity_key: 46}
    if platform == "douyin":  # an idempotent_id per update, the same again for a retry of it
        assert all(u["idempotent_id"] for u in remote.stock) and \
            remote.stock[0]["idempotent_id"] != remote.stock[1]["idempotent_id"]
    view = f.ok(client.get("/api/v1/shops/S1/stock"))
    [item] = view["items"]
    assert (item["sku"], item["available"], item["quantity"], item["pushed_quantity"], item["dirty"],
            item["last_error"]) == (SKU, 96, 46, 46, False, None)
    assert item["targets"][0]["quantity"] == 46 and item["pushed_at"] is not None


def test_ten_changes_make_one_push_and_the_window_holds_a_second(client: TestClient, engine: Engine,
                                                                sim: Sim) -> None:
    _mapped(client, sim, "taobao")
    remote = sim[1]["taobao"]
    t0 = utcnow()
    push(engine, t0)
    for _ in range(10):
        _sell(client, 1)
    assert drain(engine, t0) == 10
    assert push(engine, t0 + timedelta(seconds=6))["pushed"] == 1
    assert [u["quantity"] for u in remote.stock] == [48, 43]  # 90 × 0.5 − 2
    assert push(engine, t0 + timedelta(seconds=7)) == {"pushed": 0, "unchanged": 0, "failed": 0, "calls": 0}
    _sell(client, 2)  # within the coalescing window of the last push: it waits
    assert push(engine, t0 + timedelta(seconds=8))["pushed"] == 0
    assert f.ok(client.get("/api/v1/shops/S1/stock"))["items"][0]["dirty"] is True
    assert push(engine, t0 + timedelta(seconds=12))["pushed"] == 1
    assert [u["quantity"] for u in remote.stock] == [48, 43, 42]
    # A change that leaves the figure where it was pushes nothing (88 and 89 both show 42).
    f.receive(client, SKU, 1, location="BJ01", batch="B-2", unit_cost=1000)
    assert push(engine, t0 + timedelta(seconds=30)) == {"pushed": 0, "unchanged": 1, "failed": 0, "calls": 0}
    assert len(remote.stock) == 3


def test_a_failed_push_is_visible_and_retried_with_backoff(client: TestClient, engine: Engine, sim: Sim) -> None:
    _mapped(client, sim, "douyin")
    remote = sim[1]["douyin"]
    remote.refuse_stock = 2
    t0 = utcnow()
    assert push(engine, t0)["failed"] == 1
    [item] = f.ok(client.get("/api/v1/shops/S1/stock"))["items"]
    assert item["dirty"] is True and item["attempts"] == 1 and "库存同步失败" in item["last_error"]
    assert item["pushed_quantity"] is None and item["retry_at"] is not None
    assert push(engine, t0 + timedelta(seconds=5))["failed"] == 0  # backing off (10 s)
    assert push(engine, t0 + timedelta(seconds=11))["failed"] == 1  # refused again: 20 s now
    assert push(engine, t0 + timedelta(seconds=25))["pushed"] == 0
    assert push(engine, t0 + timedelta(seconds=32))["pushed"] == 1
    assert [u["stock_num"] for u in remote.stock] == [48]
    [item] = f.ok(client.get("/api/v1/shops/S1/stock"))["items"]
    assert (item["dirty"], item["attempts"], item["last_error"], item["pushed_quantity"]) == (False, 0, None, 48)


def test_an_unreachable_platform_is_retried(client: TestClient, engine: Engine, sim: Sim) -> None:
    _mapped(client, sim, "taobao")
    remote = sim[1]["taobao"]
    remote.down = True
    t0 = utcnow()
    assert push(engine, t0)["failed"] == 1
    assert "504" in f.ok(client.get("/api/v1/shops/S1/stock"))["items"][0]["last_error"]
    remote.down = False
    assert push(engine, t0 + timedelta(seconds=11))["pushed"] == 1
    assert [u["quantity"] for u in remote.stock] == [48]


def test_resync_pushes_every_mapped_sku_even_unchanged(client: TestClient, engine: Engine, sim: Sim) -> None:
    _mapped(client, sim, "pdd")
    remote = sim[1]["pdd"]
    push(engine, utcnow())
    assert len(remote.stock) == 1
    answer = f.ok(client.post("/api/v1/shops/S1/stock/resync"))
    assert answer == {"shop": "S1", "marked": 1, "pushed": 1, "unchanged": 0, "failed": 0, "calls": 1}
    assert [u["quantity"] for u in remote.stock] == [48, 48]
    assert f.ok(client.get("/api/v1/shops/S1/stock"))["items"][0]["dirty"] is False


def test_a_new_allocation_is_shown_on_the_shop_at_the_next_push(client: TestClient, engine: Engine,
                                                                sim: Sim) -> None:
    _mapped(client, sim, "pdd")
    remote = sim[1]["pdd"]
    t0 = utcnow()
    push(engine, t0)
    assert [u["quantity"] for u in remote.stock] == [48]  # 100 × 0.5 − 2
    f.ok(client.patch("/api/v1/shops/S1", json={"allocation": {"ratio": 0.8, "safety_stock": 5}}))
    assert f.ok(client.get("/api/v1/shops/S1/stock"))["items"][0]["dirty"] is True
    assert push(engine, t0 + timedelta(seconds=6))["pushed"] == 1  # no sale needed for the shop to see it
    assert [u["quantity"] for u in remote.stock] == [48, 75]  # 100 × 0.8 − 5
    f.ok(client.patch("/api/v1/shops/S1", json={"name": "拼多多旗舰店"}))  # a new name shows the same figures
    assert f.ok(client.get("/api/v1/shops/S1/stock"))["items"][0]["dirty"] is False


def test_unmapped_skus_are_never_pushed(client: TestClient, engine: Engine, sim: Sim) -> None:
    _mapped(client, sim, "jd")
    f.product(client, OTHER, list_price=10000, member=None, shelf_life_days=540)
    f.receive(client, OTHER, 50, location="BJ01", batch="B-O", unit_cost=1000)
    remote = sim[1]["jd"]
    push(engine, utcnow())
    f.ok(f.pos_sale(client, [(OTHER, 3)], pay=30000), 201)
    push(engine, utcnow() + timedelta(seconds=10))
    assert remote.stock == [{"skuId": "5001", "stockNum": 48}]
    assert [i["sku"] for i in f.ok(client.get("/api/v1/shops/S1/stock"))["items"]] == [SKU]


def test_a_mapping_the_platform_cannot_take_shows_its_error(client: TestClient, engine: Engine, sim: Sim) -> None:
    server, platforms = sim
    shop_with_stock(client, server, "jd", sku=SKU, quantity=10)
    f.ok(client.post("/api/v1/shops/S1/sku-mappings", json={"outer_code": "MQ-250", "sku": SKU}), 201)
    assert push(engine, utcnow())["failed"] == 1
    [item] = f.ok(client.get("/api/v1/shops/S1/stock"))["items"]
    assert "skuId" in item["last_error"] and platforms["jd"].stock == []


def test_units_per_item_and_a_shop_at_another_location(client: TestClient, engine: Engine, sim: Sim) -> None:
    server, platforms = sim
    shop_with_stock(client, server, "youzan", sku=SKU, quantity=1100, allocation={"ratio": 1, "safety_stock": 0,
                                                                                 "cap": 1000})
    f.ok(client.post("/api/v1/shops/S1/sku-mappings",
                     json={"platform_sku_id": "77", "sku": SKU, "units_per_item": 250}), 201)
    f.location(client, "SH01", "store")
    f.receive(client, SKU, 500, location="SH01", batch="B-SH", unit_cost=1000)  # not where the shop ships from
    push(engine, utcnow())
    assert platforms["youzan"].stock == [{"item_id": "77", "quantity": 4, "type": 0}]  # min(1100, 1000) ÷ 250


def test_the_jobs_and_the_subscription_are_registered() -> None:
    load_tasks()
    assert str(default_registry.jobs["channels.stock_push"].cadence) == "every 0:00:05"
    assert str(default_registry.jobs["channels.stock_resync"].cadence) == "daily at 19:00 UTC"
    assert str(default_registry.jobs["channels.reconcile"].cadence) == "daily at 20:00 UTC"
    assert default_registry.subscriptions["channels.stock_dirty"].event_types == ("stock.changed",)


# -- the rule, without I/O --------------------------------------------------------------------------
@pytest.mark.parametrize(("available", "ratio", "safety", "cap", "shown"), [
    (100, "0.5", 2, None, 48),
    (7, "0.5", 0, None, 3),  # floor(3.5)
    (3, "1", 5, None, 0),  # never below 0
    (1000, "0.8", 10, 500, 500),  # at most the cap
    (1000, "0", 0, None, 0),
    (0, "1", 0, 0, 0),
    (333, "0.3333", 1, None, 109),  # floor(110.9889) − 1
])
def test_available_to_sell(available: int, ratio: str, safety: int, cap: int | None, shown: int) -> None:
    from decimal import Decimal

    assert rules.available_to_sell(available, rules.ratio_points(Decimal(ratio)), safety, cap) == shown


def test_platform_pieces() -> None:
    assert rules.platform_pieces(1100, 250) == 4
    assert rules.platform_pieces(249, 250) == 0
    assert rules.platform_pieces(-5, 1) == 0

