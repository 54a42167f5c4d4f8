"""Selling on every channel at once never sells more than exists: a platform order that arrives when the stock
is gone is kept in the inbox as failed, with its reason, visible, and replayed once stock comes in."""

from __future__ import annotations

import threading
from typing import Any

from fastapi.testclient import TestClient

from tests import factories as f
from tests.channels import helpers as h
from tests.channels.live import Sim
from tests.channels.simulators.base import TOKEN

SKU = "LJ-MQ26-250"
CUP = "TB-GAIWAN-01"
ONE_LINE = "taobao/trade_one_line_wait_send.json"  # 2 × SKU
MULTI_LINE = "taobao/trade_multi_line_wait_send.json"  # 3 × SKU, 2 × CUP


def test_an_order_with_no_stock_left_is_kept_failed_and_visible(client: TestClient) -> None:
    h.warehouse_with(client, {SKU: 1})
    h.shop(client, "TB01", "taobao")
    answer = h.post_order(client, "TB01", h.fixture(ONE_LINE))
    assert answer.status_code == 409, answer.text
    problem = answer.json()
    assert problem["inbox_id"] and "stock" in problem["detail"].lower()
    [message] = h.inbox(client, "TB01", state="failed")
    assert message["external_id"] == "4012345678901234567" and "stock" in message["reason"].lower()
    assert h.orders(client, "taobao") == []
    assert (f.stock(client, SKU, "WH01")["on_hand"], f.stock(client, SKU, "WH01")["reserved"]) == (1, 0)
    # Stock comes in; the kept order is replayed into a real order.
    f.receive(client, SKU, 5, location="WH01", batch="B-2", unit_cost=1000)
    replayed = f.ok(client.post("/api/v1/inbox/replay", params={"shop": "TB01"}))
    assert (replayed["replayed"], replayed["processed"]) == (1, 1)
    [order] = h.orders(client, "taobao")
    assert order["external_id"] == "4012345678901234567"
    assert f.stock(client, SKU, "WH01")["reserved"] == 2


def test_a_push_for_an_order_with_no_stock_is_acknowledged_and_kept(client: TestClient, sim: Sim) -> None:
    server, platforms = sim
    h.warehouse_with(client, {SKU: 1, CUP: 10})
    h.shop(client, "TM01", "tmall", api_url=server.url("tmall"), access_token=TOKEN)
    platforms["taobao"].put(h.fixture(MULTI_LINE))
    ack = f.ok(h.taobao_push(client, "TM01", h.fixture("taobao/tmc_trade_buyer_pay.json")))
    assert ack["response"]["flag"] == "success"  # stored: the platform need not send it again
    messages = h.inbox(client, "TM01")
    assert [(m["source"], m["state"]) for m in messages] == [("fetch", "failed"), ("webhook", "failed")]
    assert all("stock" in (m["reason"] or "").lower() for m in messages)
    assert h.orders(client, "tmall") == []


def test_two_shops_selling_the_last_units_at_once_sell_them_once(client: TestClient) -> None:
    h.warehouse_with(client, {SKU: 3, CUP: 10})
    h.shop(client, "TB01", "taobao")
    h.shop(client, "TM01", "tmall")
    answers: dict[str, Any] = {}

    def send(shop: str, document: str) -> None:
        answers[shop] = h.post_order(client, shop, h.fixture(document)).status_code

    threads = [threading.Thread(target=send, args=("TB01", ONE_LINE)),
               threading.Thread(target=send, args=("TM01", MULTI_LINE))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers.values()) == [201, 409]
    stock = f.stock(client, SKU, "WH01")
    assert stock["reserved"] <= stock["on_hand"] == 3
    failed = h.inbox(client, "TB01", state="failed") + h.inbox(client, "TM01", state="failed")
    assert len(failed) == 1
