"""Youzan with real captured `youzan.trade.get` answers: a closed order with two partial refunds, a virtual
order awaiting shipment; and Youzan's push (URL-encoded `msg`, MD5 sign, versions)."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select

from teahub.channels.models import ChannelOrder
from teahub.db.uow import UnitOfWork
from tests import factories as f
from tests.channels import helpers as h

CLOSED = "youzan/trade_get_closed_partly_refunded.json"
VIRTUAL = "youzan/trade_get_virtual_wait_send.json"


def arrange(client: TestClient) -> None:
    h.warehouse_with(client, {"8001": 10, "8002": 10, "TICKET-PARK": 5})
    h.shop(client, "YZ01", "youzan")


def test_closed_partly_refunded_order_keeps_exact_money_refunds_and_buyer(client: TestClient,
                                                                          uow: UnitOfWork) -> None:
    arrange(client)
    order = f.ok(h.post_order(client, "YZ01", h.real(CLOSED)), 201)
    assert order["external_id"] == "E20190326101702000600011"
    assert (order["total"], order["paid_amount"], order["shipping_fee"]) == (100, 100, 0)
    assert [(ln["sku"], ln["quantity"], ln["unit_price"], ln["amount"], ln["net_amount"]) for ln in order["lines"]] \
        == [("8002", 2, 30, 60, 50), ("8001", 3, 20, 60, 50)]
    assert order["status"] == "shipped"  # consigned before it was refunded and closed
    assert order["refunded_amount"] == 100 and len(order["refunds"]) == 2
    assert [r["amount"] for r in order["refunds"]] == [50, 50]
    assert f.stock(client, "8002", "WH01")["on_hand"] == 8  # refund only: nothing came back
    customer = f.ok(client.get(f"/api/v1/customers/{order['customer_id']}"))
    kinds = {(i["kind"], i["value"]) for i in customer["identities"]}
    assert ("wechat_openid", "oHIuujjq9q4n0oxoyfTskwyP6hbk") in kinds
    assert not any("*" in value for _, value in kinds)  # the masked phone identifies nobody
    with uow.reading():
        held = uow.session.scalar(select(ChannelOrder))
        assert held is not None
        assert (held.receiver_phone, held.receiver_name) == ("136****9324", "yht测试")  # as received
        assert held.line_ids == ["1507387350277163963", "1507387350277163964"]
    # Again: one order, the refunds once.
    again = f.ok(h.post_order(client, "YZ01", h.real(CLOSED)), 200)
    assert again["id"] == order["id"] and again["refunded_amount"] == 100 and len(again["refunds"]) == 2


def test_virtual_order_without_merchant_code_waits_for_a_mapping(client: TestClient) -> None:
    arrange(client)
    failed = h.post_order(client, "YZ01", h.real(VIRTUAL))
    assert failed.status_code == 422
    assert failed.json()["field"] == "full_order_info.orders.0.outer_sku_id"
    assert "450996611" in failed.json()["detail"]
    assert f.stock(client, "TICKET-PARK", "WH01")["reserved"] == 0
    f.ok(client.post("/api/v1/shops/YZ01/sku-mappings", json={"platform_sku_id": "450996611",
                                                              "sku": "TICKET-PARK"}), 201)
    replay = f.ok(client.post("/api/v1/inbox/replay", params={"shop": "YZ01"}))
    assert (replay["replayed"], replay["processed"], replay["failed"]) == (1, 1, 0)
    [summary] = h.orders(client, "youzan")
    assert (summary["external_id"], summary["status"], summary["total"]) == ("E20190118092109008800023", "paid", 1)
    order = f.ok(client.get(f"/api/v1/orders/{summary['id']}"))
    assert order["payments"][0]["method"] == "platform"
    assert f.stock(client, "TICKET-PARK", "WH01")["reserved"] == 1


def test_push_with_the_whole_order_is_applied_and_a_lower_version_ignored(client: TestClient) -> None:
    arrange(client)
    f.ok(client.post("/api/v1/shops/YZ01/sku-mappings", json={"platform_sku_id": "450996611",
                                                              "sku": "TICKET-PARK"}), 201)
    data = json.loads(h.real(VIRTUAL))
    ack = f.ok(h.youzan_push(client, "YZ01", data, version=1548800000, msg_id="m-1"))
    assert ack == {"code": 0, "msg": "success"}
    twice = f.ok(h.youzan_push(client, "YZ01", data, version=1548800000, msg_id="m-1"))
    assert twice == ack
    shipped = json.loads(h.real(VIRTUAL))
    shipped["full_order_info"]["order_info"].update(status="WAIT_BUYER_CONFIRM_GOODS",
                                                    consign_time="2019-01-18 10:00:00")
    f.ok(h.youzan_push(client, "YZ01", shipped, msg_type="trade_TradeSellerShip", version=1548810000, msg_id="m-3"))
    # An older version of the order arrives late: ignored.
    f.ok(h.youzan_push(client, "YZ01", data, version=1548800001, msg_id="m-2"))
    [summary] = h.orders(client, "youzan")
    assert summary["status"] == "shipped"
    messages = h.inbox(client, "YZ01")
    assert [m["message_id"] for m in messages] == ["m-2", "m-3", "m-1"]
    assert all(m["state"] == "processed" for m in messages)
    assert "older" in (messages[0]["note"] or "")


def test_push_with_a_wrong_sign_is_refused(client: TestClient) -> None:
    arrange(client)
    answer = h.youzan_push(client, "YZ01", json.loads(h.real(VIRTUAL)), secret="not-the-secret")
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert h.inbox(client, "YZ01") == []


def test_a_new_secret_or_a_paused_shop_applies_to_the_next_push_at_once(client: TestClient) -> None:
    """Pushes check the shop as this process last read it; a change made here applies to the very next push."""
    arrange(client)
    f.ok(client.post("/api/v1/shops/YZ01/sku-mappings", json={"platform_sku_id": "450996611",
                                                              "sku": "TICKET-PARK"}), 201)
    data = json.loads(h.real(VIRTUAL))
    assert h.youzan_push(client, "YZ01", data, msg_id="m-old").status_code == 200
    f.ok(client.patch("/api/v1/shops/YZ01", json={"app_secret": "a-brand-new-shop-secret"}))
    assert h.youzan_push(client, "YZ01", data, msg_id="m-stale").status_code == 401  # the old secret
    assert h.youzan_push(client, "YZ01", data, msg_id="m-new", secret="a-brand-new-shop-secret").status_code == 200
    f.ok(client.patch("/api/v1/shops/YZ01", json={"active": False}))
    assert h.youzan_push(client, "YZ01", data, msg_id="m-paused",
                         secret="a-brand-new-shop-secret").status_code == 401
    assert sorted(m["message_id"] for m in h.inbox(client, "YZ01")) == ["m-new", "m-old"]


def test_a_push_is_named_from_its_envelope_as_reading_it_whole_names_it() -> None:
    """Pushes are stored under their message id, topic and order id before processing; Youzan's are read from the
    envelope without decoding the order inside, and must be exactly what reading the whole push gives."""
    from teahub.channels.connectors import connector_for
    from teahub.channels.connectors.base import PushKeys, push_keys

    youzan = connector_for("youzan")
    document = json.loads(h.real(VIRTUAL))
    whole = json.loads(h.youzan_body(document, msg_type="trade_TradeClose", version=7, msg_id="m-1"))
    no_msg_id = {**whole, "msg_id": ""}
    no_order_id = {k: v for k, v in whole.items() if k != "id"}
    not_a_trade = {**whole, "type": "item_ItemUpdate"}
    for message in (whole, no_msg_id, no_order_id, not_a_trade):
        read = youzan.read_push(message)
        assert push_keys(youzan, message) == PushKeys(read.message_id, read.topic, read.external_id)
    assert push_keys(youzan, whole) == PushKeys("m-1", "trade_TradeClose", document["full_order_info"][
        "order_info"]["tid"])
