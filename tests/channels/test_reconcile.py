"""Reconciliation with a shop: the platform's orders modified in the last N days (the simulators, over real
HTTP) compared with teahub's; missing and stale ones repaired through the inbox, the rest reported."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from teahub.channels.reconcile import reconcile_all, reconcile_shop
from teahub.errors import ValidationFailed
from tests import factories as f
from tests.channels import helpers as h
from tests.channels.live import Sim, at
from tests.channels.simulators.base import TOKEN

SKU = "LJ-MQ26-250"
CUP = "TB-GAIWAN-01"
TID = "4098765432109876543"
ONE = "4012345678901234567"


def _arranged(client: TestClient, sim: Sim) -> None:
    server, platforms = sim
    h.warehouse_with(client, {SKU: 20, CUP: 10})
    h.shop(client, "TB01", "taobao", api_url=server.url("taobao"), access_token=TOKEN)
    f.ok(h.post_order(client, "TB01", h.fixture("taobao/trade_multi_line_wait_send.json")), 201)
    # Since then, on the platform: that trade shipped (teahub missed it) and another came (teahub never got it).
    platforms["taobao"].put(h.fixture("taobao/trade_multi_line_shipped.json"))
    platforms["taobao"].put(h.fixture("taobao/trade_one_line_wait_send.json"))


def test_missing_and_stale_orders_are_repaired(client: TestClient, engine: Engine, sim: Sim) -> None:
    _arranged(client, sim)
    moment = sim[1]["taobao"].orders[TID].modified + timedelta(hours=1)
    answer = reconcile_shop(at(engine, moment), "TB01", days=3)
    assert answer == {"shop": "TB01", "days": 3, "checked": 2, "missing": 1, "repaired": 2, "differences": []}
    orders = {o["external_id"]: o for o in h.orders(client, "taobao")}
    assert orders[TID]["status"] == "shipped" and orders[ONE]["status"] == "paid"
    assert {m["source"] for m in h.inbox(client, "TB01")} == {"api", "pull"}
    # Again: nothing left to repair.
    again = reconcile_shop(at(engine, moment), "TB01", days=3)
    assert (again["checked"], again["missing"], again["repaired"], again["differences"]) == (2, 0, 0, [])


def test_what_cannot_be_repaired_is_reported(client: TestClient, engine: Engine, sim: Sim) -> None:
    _arranged(client, sim)
    [order] = h.orders(client, "taobao")
    f.ok(client.post(f"/api/v1/orders/{order['id']}/cancel", json={"reason": "buyer called"}))
    moment = sim[1]["taobao"].orders[TID].modified + timedelta(hours=1)
    answer = reconcile_shop(at(engine, moment), "TB01", days=3)
    assert (answer["checked"], answer["missing"], answer["repaired"]) == (2, 1, 1)
    assert {"external_id": TID, "field": "status", "platform": "shipped", "teahub": "cancelled"} in \
        answer["differences"]


def test_an_order_that_cannot_be_processed_is_reported(client: TestClient, engine: Engine, sim: Sim) -> None:
    server, platforms = sim
    h.warehouse_with(client, {CUP: 10})  # the tea is in no catalog: its line cannot be mapped
    h.shop(client, "TB01", "taobao", api_url=server.url("taobao"), access_token=TOKEN)
    platforms["taobao"].put(h.fixture("taobao/trade_one_line_wait_send.json"))
    moment = platforms["taobao"].orders[ONE].modified + timedelta(hours=1)
    answer = reconcile_all(at(engine, moment), days=2)["shops"]["TB01"]
    assert (answer["checked"], answer["missing"], answer["repaired"]) == (1, 1, 0)
    fields = [d["field"] for d in answer["differences"]]
    assert fields == ["order", "inbox"] and "unknown SKU" in answer["differences"][1]["teahub"]
    assert [m["state"] for m in h.inbox(client, "TB01")] == ["failed"]


def test_reconcile_over_the_api_and_its_limits(client: TestClient, sim: Sim) -> None:
    server, platforms = sim
    h.warehouse_with(client, {SKU: 5})
    h.shop(client, "TB01", "taobao", api_url=server.url("taobao"), access_token=TOKEN)
    answer = f.ok(client.post("/api/v1/channels/TB01/reconcile", params={"days": 1}))
    assert answer == {"shop": "TB01", "days": 1, "checked": 0, "missing": 0, "repaired": 0, "differences": []}
    assert platforms["taobao"].calls == ["taobao.trades.sold.increment.get"]
    bad = client.post("/api/v1/channels/TB01/reconcile", params={"days": 400})
    assert bad.status_code == 422
    platforms["taobao"].down = True
    down = client.post("/api/v1/channels/TB01/reconcile")
    assert down.status_code == 409 and down.json()["field"] == "api_url"
    assert client.post("/api/v1/channels/NOPE/reconcile").status_code == 404


def test_days_out_of_range_names_the_field(engine: Engine) -> None:
    from teahub.db.base import utcnow

    with pytest.raises(ValidationFailed) as caught:
        reconcile_shop(at(engine, utcnow()), "TB01", days=0)
    assert caught.value.field == "days"
