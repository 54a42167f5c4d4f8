"""Taobao/Tmall trades through `POST /channels/{shop}/orders` and TMC pushes: exact fen, statuses, buyers,
64-bit ids, duplicates and older updates, refunds, signatures."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from teahub.db.uow import UnitOfWork
from teahub.inventory import service as inventory
from tests import factories as f
from tests.channels import helpers as h

SKU = "LJ-MQ26-250"
CUP = "TB-GAIWAN-01"


def arrange(client: TestClient, platform: str = "tmall") -> None:
    h.warehouse_with(client, {SKU: 20, CUP: 10})
    h.shop(client, "TM01", platform)


def test_one_line_trade_becomes_a_paid_order_in_exact_fen(client: TestClient) -> None:
    arrange(client)
    order = f.ok(h.post_order(client, "TM01", h.fixture("taobao/trade_one_line_wait_send.json")), 201)
    assert order["external_id"] == "4012345678901234567"  # a 64-bit id, exactly
    assert (order["channel"], order["status"], order["location"]) == ("tmall", "paid", "WH01")
    assert (order["total"], order["shipping_fee"], order["paid_amount"]) == (13600, 800, 13600)
    [line] = order["lines"]
    assert (line["sku"], line["quantity"], line["unit_price"], line["amount"], line["net_amount"]) == \
        (SKU, 2, 6900, 13800, 12800)  # the line's payment included the postage: 136 − 8
    assert [p["method"] for p in order["payments"]] == ["platform"]
    assert order["placed_at"].startswith("2026-11-10T16:00:05")  # Beijing time, stored UTC
    assert order["customer_id"] is not None
    assert f.stock(client, SKU, "WH01")["reserved"] == 2


def test_multi_line_trade_prices_each_line_at_what_the_buyer_paid(client: TestClient) -> None:
    arrange(client)
    order = f.ok(h.post_order(client, "TM01", h.fixture("taobao/trade_multi_line_wait_send.json")), 201)
    assert order["total"] == 29990 and order["shipping_fee"] == 0
    assert [(ln["sku"], ln["quantity"], ln["net_amount"]) for ln in order["lines"]] == \
        [(SKU, 3, 18420), (CUP, 2, 11570)]


def test_same_trade_twice_and_an_older_update_have_one_effect(client: TestClient) -> None:
    arrange(client)
    first = f.ok(h.post_order(client, "TM01", h.fixture("taobao/trade_multi_line_shipped.json")), 201)
    assert first["status"] == "shipped"
    assert f.stock(client, SKU, "WH01")["on_hand"] == 17
    again = f.ok(h.post_order(client, "TM01", h.fixture("taobao/trade_multi_line_shipped.json")), 200)
    assert again["id"] == first["id"] and again["status"] == "shipped"
    older = f.ok(h.post_order(client, "TM01", h.fixture("taobao/trade_multi_line_wait_send.json")), 200)
    assert older["id"] == first["id"] and older["status"] == "shipped"
    assert len(h.orders(client, "tmall")) == 1
    assert f.stock(client, SKU, "WH01")["on_hand"] == 17
    messages = h.inbox(client, "TM01")
    assert [m["state"] for m in messages] == ["processed", "processed"]  # the identical document is one message
    assert "older" in (messages[0]["note"] or "")


def test_line_refund_success_becomes_a_teahub_refund_once(client: TestClient, uow: UnitOfWork) -> None:
    arrange(client)
    f.ok(h.post_order(client, "TM01", h.fixture("taobao/trade_multi_line_wait_send.json")), 201)
    refunded = f.ok(h.post_order(client, "TM01", h.fixture("taobao/trade_multi_line_partly_refunded.json")), 200)
    assert refunded["refunded_amount"] == 11570 and refunded["status"] == "paid"
    assert refunded["lines"][1]["refunded_quantity"] == 2
    assert f.stock(client, CUP, "WH01")["reserved"] == 0  # not shipped: the reservation is released
    # The same refund again, by TMC: its refund id was applied already.
    f.ok(h.taobao_push(client, "TM01", h.fixture("taobao/tmc_refund_success.json")))
    order = f.ok(client.get(f"/api/v1/orders/{refunded['id']}"))
    assert order["refunded_amount"] == 11570 and len(order["refunds"]) == 1
    assert inventory.verify_ledger(uow) == []


def test_unknown_sku_is_kept_as_failed_then_replayed_after_a_mapping(client: TestClient) -> None:
    h.warehouse_with(client, {SKU: 20, "GAIWAN-WHITE": 10})
    h.shop(client, "TB01", "taobao")
    failed = h.post_order(client, "TB01", h.fixture("taobao/trade_multi_line_wait_send.json"))
    assert failed.status_code == 422
    problem = failed.json()
    assert problem["field"] == "trade_fullinfo_get_response.trade.orders.order.1.outer_sku_id"
    assert "TB-GAIWAN-01" in problem["detail"]
    [message] = h.inbox(client, "TB01")
    assert (message["state"], message["id"], message["external_id"]) == ("failed", problem["inbox_id"],
                                                                         "4098765432109876543")
    assert h.orders(client, "taobao") == []
    assert f.stock(client, SKU, "WH01")["reserved"] == 0  # nothing moved
    f.ok(client.post("/api/v1/shops/TB01/sku-mappings", json={"outer_code": "TB-GAIWAN-01", "sku": "GAIWAN-WHITE"}),
         201)
    replayed = f.ok(client.post(f"/api/v1/inbox/{message['id']}/replay"))
    assert replayed["state"] == "processed" and replayed["attempts"] == 2
    [order] = h.orders(client, "taobao")
    assert order["external_id"] == "4098765432109876543" and order["total"] == 29990


def test_malformed_trade_is_kept_with_its_reason(client: TestClient) -> None:
    arrange(client)
    body = json.loads(h.fixture("taobao/trade_one_line_wait_send.json"))
    body["trade_fullinfo_get_response"]["trade"]["payment"] = "13.805"
    answer = h.post_order(client, "TM01", json.dumps(body).encode())
    assert answer.status_code == 422 and answer.json()["field"] == "trade_fullinfo_get_response.trade.payment"
    [message] = h.inbox(client, "TM01", state="failed")
    assert "fen" in message["reason"]
    assert h.orders(client, "tmall") == []


def test_tmc_push_with_a_bad_signature_is_refused_and_not_stored(client: TestClient) -> None:
    arrange(client)
    answer = h.taobao_push(client, "TM01", h.fixture("taobao/tmc_trade_buyer_pay.json"), secret="wrong")
    assert answer.status_code == 401
    assert h.inbox(client, "TM01") == []


def test_tmc_refund_for_an_order_teahub_holds_is_applied(client: TestClient) -> None:
    arrange(client)
    order = f.ok(h.post_order(client, "TM01", h.fixture("taobao/trade_multi_line_wait_send.json")), 201)
    ack = f.ok(h.taobao_push(client, "TM01", h.fixture("taobao/tmc_refund_success.json")))
    assert ack == {"response": {"flag": "success", "code": "0", "message": "received"}}
    again = f.ok(h.taobao_push(client, "TM01", h.fixture("taobao/tmc_refund_success.json")))
    assert again == ack
    after = f.ok(client.get(f"/api/v1/orders/{order['id']}"))
    assert after["refunded_amount"] == 11570 and len(after["refunds"]) == 1
    pushes = h.inbox(client, "TM01", external_id="4098765432109876543")
    assert [(m["kind"], m["state"], m["message_id"]) for m in pushes][0] == \
        ("push", "processed", "7198765432101239999")  # the 64-bit message id, exactly
