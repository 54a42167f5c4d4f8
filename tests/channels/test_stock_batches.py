"""Taobao/Tmall stock set in batches: the due SKUs of one item go in `taobao.skus.quantity.update` calls of at most
20 (the simulator over real HTTP checks the signature, the 20 and every SKU id), each row still finished with its
own figure or its own error; the other platforms keep one call per SKU."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from teahub.channels.client import PlatformClient
from teahub.channels.connectors import connector_for
from teahub.channels.connectors.base import ShopSecrets, StockPushed, StockRefused, StockUpdate, stock_updates
from teahub.channels.shops import ShopInfo
from teahub.db.base import utcnow
from tests import factories as f
from tests.channels import helpers as h
from tests.channels.live import Sim, push
from tests.channels.simulators.base import TOKEN, Server
from tests.channels.simulators.taobao import TaobaoPlatform

SINGLE = "taobao.item.quantity.update"
BATCH = "taobao.skus.quantity.update"


def _shop(client: TestClient, server: Server, platform: str,
          targets: list[tuple[str, int, dict[str, Any]]]) -> None:
    """Shop S1 on `platform` shipping from BJ01 (ratio 0.5, safety stock 2), with each teahub SKU in stock and
    mapped to its platform target."""
    f.location(client, "BJ01", "store")
    h.shop(client, "S1", platform, location="BJ01", api_url=server.url(platform), access_token=TOKEN)
    for sku, quantity, target in targets:
        f.product(client, sku, list_price=10000, member=None, shelf_life_days=540)
        f.receive(client, sku, quantity, location="BJ01", batch=f"B-{sku}", unit_cost=1000)
        f.ok(client.post("/api/v1/shops/S1/sku-mappings", json={"sku": sku, **target}), 201)


def _shown(quantity: int) -> int:
    return quantity // 2 - 2


def _items(client: TestClient) -> dict[str, dict[str, Any]]:
    return {i["sku"]: i for i in f.ok(client.get("/api/v1/shops/S1/stock"))["items"]}


def _taobao(sim: Sim) -> TaobaoPlatform:
    remote = sim[1]["taobao"]
    assert isinstance(remote, TaobaoPlatform)
    return remote


@pytest.mark.parametrize("platform", ["taobao", "tmall"])
def test_45_skus_of_one_item_are_set_in_three_calls(client: TestClient, engine: Engine, sim: Sim,
                                                     platform: str) -> None:
    remote = _taobao(sim)
    skus = {f"LJ-{i:02d}": (str(5000 + i), 10 + 2 * i) for i in range(45)}  # every SKU its own figure
    remote.items["6001"] = {sku_id: None for sku_id, _ in skus.values()}
    _shop(client, sim[0], platform, [(sku, quantity, {"platform_sku_id": sku_id, "item_id": "6001"})
                                     for sku, (sku_id, quantity) in skus.items()])
    t0 = utcnow()
    assert push(engine, t0) == {"pushed": 45, "unchanged": 0, "failed": 0, "calls": 3}
    assert [(item, len(ids)) for item, ids in remote.batches] == [("6001", 20), ("6001", 20), ("6001", 5)]
    assert SINGLE not in remote.calls
    assert remote.shown() == {f"6001/{sku_id}": _shown(quantity) for sku_id, quantity in skus.values()}
    items = _items(client)
    assert {sku: (i["pushed_quantity"], i["dirty"], i["last_error"]) for sku, i in items.items()} == \
        {sku: (_shown(quantity), False, None) for sku, (_, quantity) in skus.items()}
    # Two of them sell: the next push sets just those two, together.
    f.ok(f.pos_sale(client, [("LJ-00", 2), ("LJ-01", 4)], pay=60000), 201)
    assert push(engine, t0 + timedelta(seconds=6)) == {"pushed": 2, "unchanged": 0, "failed": 0, "calls": 1}
    assert sorted(remote.batches[-1][1]) == ["5000", "5001"] and len(remote.batches) == 4
    assert (remote.shown()["6001/5000"], remote.shown()["6001/5001"]) == (_shown(8), _shown(8))


def test_each_item_gets_its_own_call_and_a_lone_sku_the_single_call(client: TestClient, engine: Engine,
                                                                    sim: Sim) -> None:
    remote = _taobao(sim)
    remote.items |= {"6001": {"5001": None, "5002": None, "5003": None}, "6002": {"5101": "MQ-A", "5102": "MQ-B"},
                     "6003": {"5201": None}}
    _shop(client, sim[0], "taobao", [
        ("A-1", 20, {"platform_sku_id": "5001", "item_id": "6001"}),
        ("A-2", 30, {"platform_sku_id": "5002", "item_id": "6001"}),
        ("A-3", 40, {"platform_sku_id": "5003", "item_id": "6001"}),
        ("B-1", 50, {"outer_code": "MQ-A", "item_id": "6002"}),  # by merchant code: outerid_quantities
        ("B-2", 60, {"outer_code": "MQ-B", "item_id": "6002"}),
        ("C-1", 70, {"platform_sku_id": "5201", "item_id": "6003"}),  # the only due SKU of its item
        ("D-1", 80, {"platform_sku_id": "6004"}),  # an item without SKUs, named by its item id
    ])
    assert push(engine, utcnow()) == {"pushed": 7, "unchanged": 0, "failed": 0, "calls": 4}
    assert sorted((item, sorted(ids)) for item, ids in remote.batches) == \
        [("6001", ["5001", "5002", "5003"]), ("6002", ["MQ-A", "MQ-B"])]
    assert remote.calls.count(SINGLE) == 2
    assert remote.shown() == {"6001/5001": 8, "6001/5002": 13, "6001/5003": 18, "6002/MQ-A": 23, "6002/MQ-B": 28,
                              "6003/5201": 33, "6004": 38}
    assert all(not i["dirty"] and i["last_error"] is None for i in _items(client).values())


def test_a_refused_batch_fails_each_of_its_skus_and_is_retried(client: TestClient, engine: Engine,
                                                              sim: Sim) -> None:
    remote = _taobao(sim)
    remote.items |= {"6001": {"5001": None, "5002": None, "5003": None}, "6002": {"5101": None, "5102": None}}
    _shop(client, sim[0], "taobao", [
        ("A-1", 20, {"platform_sku_id": "5001", "item_id": "6001"}),
        ("A-2", 30, {"platform_sku_id": "5002", "item_id": "6001"}),
        ("A-3", 40, {"platform_sku_id": "5003", "item_id": "6001"}),
        ("B-1", 50, {"platform_sku_id": "5101", "item_id": "6002"}),
        ("B-2", 60, {"platform_sku_id": "5102", "item_id": "6002"}),
    ])
    remote.refuse_items.add("6001")
    t0 = utcnow()
    assert push(engine, t0) == {"pushed": 2, "unchanged": 0, "failed": 3, "calls": 1}
    items = _items(client)
    for sku in ("A-1", "A-2", "A-3"):
        item = items[sku]
        assert (item["dirty"], item["attempts"], item["pushed_quantity"]) == (True, 1, None)
        assert "库存更新失败" in item["last_error"] and "isv.item-quantity-update-service-error" in item["last_error"]
        assert item["retry_at"] is not None
    assert [(items[s]["dirty"], items[s]["pushed_quantity"], items[s]["last_error"]) for s in ("B-1", "B-2")] == \
        [(False, 23, None), (False, 28, None)]
    assert remote.shown() == {"6002/5101": 23, "6002/5102": 28}
    remote.refuse_items.clear()
    assert push(engine, t0 + timedelta(seconds=5)) == {"pushed": 0, "unchanged": 0, "failed": 0, "calls": 0}
    assert len(remote.batches) == 2  # backing off (10 s): nothing sent
    assert push(engine, t0 + timedelta(seconds=11)) == {"pushed": 3, "unchanged": 0, "failed": 0, "calls": 1}
    assert remote.shown() == {"6001/5001": 8, "6001/5002": 13, "6001/5003": 18, "6002/5101": 23, "6002/5102": 28}
    assert all((i["dirty"], i["attempts"], i["last_error"]) == (False, 0, None) for i in _items(client).values())


def test_a_sku_the_item_does_not_have_fails_its_batch_with_the_platforms_reason(client: TestClient,
                                                                               engine: Engine, sim: Sim) -> None:
    remote = _taobao(sim)
    remote.items["6001"] = {"5001": None, "5002": None}  # 5003 was deleted on the platform
    _shop(client, sim[0], "taobao", [(f"A-{n}", 20, {"platform_sku_id": f"500{n}", "item_id": "6001"})
                                     for n in (1, 2, 3)])
    assert push(engine, utcnow())["failed"] == 3
    assert all("5003" in i["last_error"] and "isv.invalid-parameter" in i["last_error"]
               for i in _items(client).values())
    assert remote.stock == []


@pytest.mark.parametrize(("platform", "method"), [("jd", "jingdong.stock.write.updateSkuStock"),
                                                  ("pdd", "pdd.goods.quantity.update")])
def test_jd_and_pdd_still_set_one_sku_per_call(client: TestClient, engine: Engine, sim: Sim, platform: str,
                                               method: str) -> None:
    remote = sim[1][platform]
    _shop(client, sim[0], platform, [(f"A-{n}", 10 * n + 10, {"platform_sku_id": f"500{n}", "item_id": "6001"})
                                     for n in (1, 2, 3)])
    assert push(engine, utcnow()) == {"pushed": 3, "unchanged": 0, "failed": 0, "calls": 3}
    assert remote.calls.count(method) == 3 and len(remote.stock) == 3
    assert sorted(int(u["quantity" if platform == "pdd" else "stockNum"]) for u in remote.stock) == [8, 13, 18]


# -- the connector against the simulator, without a shop in the database ------------------------------
def _api(server: Server, http: httpx.Client, secret: str = h.SECRET) -> PlatformClient:
    shop = ShopInfo(id=1, code="S1", platform="taobao", location="BJ01",
                    secrets=ShopSecrets(h.APP_KEY, secret, TOKEN), api_url=server.url("taobao"), pull_enabled=False,
                    active=True)
    return PlatformClient(connector_for("taobao"), shop, http)


def _updates(count: int) -> list[StockUpdate]:
    return [StockUpdate(platform_sku_id=str(5000 + i), merchant_code=None, quantity=i, item_id="6001")
            for i in range(count)]


def test_at_most_20_skus_go_in_one_call(sim: Sim) -> None:
    remote = _taobao(sim)
    remote.items["6001"] = {str(5000 + i): None for i in range(21)}
    with httpx.Client() as http:
        api = _api(sim[0], http)
        results = stock_updates(api.connector, api, _updates(21))
        assert all(isinstance(r, StockPushed) for r in results)
        assert [r.call for r in results if isinstance(r, StockPushed)] == [1] * 20 + [2]
        assert [(item, len(ids)) for item, ids in remote.batches] == [("6001", 20)]
        assert remote.calls.count(SINGLE) == 1  # the 21st alone
        assert remote.shown() == {f"6001/{5000 + i}": i for i in range(21)}
        # The platform itself refuses a 21st pair in one call.
        answer = api.call(BATCH, {"num_iid": "6001", "type": 1,
                                  "skuid_quantities": ";".join(f"{5000 + i}:1" for i in range(21))})
        assert answer["error_response"]["sub_code"] == "isv.invalid-parameter"


def test_a_batch_signed_with_another_secret_is_refused(sim: Sim) -> None:
    remote = _taobao(sim)
    remote.items["6001"] = {str(5000 + i): None for i in range(3)}
    with httpx.Client() as http:
        api = _api(sim[0], http, secret="not-the-shops")
        results = stock_updates(api.connector, api, _updates(3))
    assert all(isinstance(r, StockRefused) and "Invalid signature" in r.detail for r in results)
    assert remote.batches == [] and remote.stock == []
