"""JD, Pinduoduo and Douyin orders through `POST /channels/{shop}/orders` and their pushes (PDD push in fen,
Douyin `event-sign`)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from teahub.db.uow import UnitOfWork
from teahub.inventory import service as inventory
from tests import factories as f
from tests.channels import helpers as h

SKU = "LJ-MQ26-250"
CUP = "TB-GAIWAN-01"


def test_jd_order_splits_what_was_paid_over_its_lines(client: TestClient) -> None:
    h.warehouse_with(client, {SKU: 10, CUP: 10})
    h.shop(client, "JD01", "jd")
    order = f.ok(h.post_order(client, "JD01", h.fixture("jd/pop_order_get_wait_stock_out.json")), 201)
    assert (order["external_id"], order["channel"], order["status"]) == ("291234567890", "jd", "paid")
    assert (order["total"], order["shipping_fee"]) == (25200, 600)
    assert [(ln["sku"], ln["quantity"], ln["unit_price"], ln["net_amount"]) for ln in order["lines"]] == \
        [(SKU, 2, 6900, 12300), (CUP, 2, 6900, 12300)]
    customer = f.ok(client.get(f"/api/v1/customers/{order['customer_id']}"))
    assert ("jd", "jd_5f8e2a1b3c4d") in {(i["kind"], i["value"]) for i in customer["identities"]}


def test_jd_push_with_a_bad_signature_is_refused(client: TestClient) -> None:
    h.warehouse_with(client, {SKU: 10})
    h.shop(client, "JD01", "jd")
    body = b'{"id": "m1", "topic": "jos_order_create", "content": {"orderId": "291234567890"}}'
    assert h.query_signed_push(client, "JD01", body, secret="nope").status_code == 401
    assert h.inbox(client, "JD01") == []


def test_pdd_refund_push_in_fen_then_the_refunded_order_refund_once_in_total(client: TestClient,
                                                                           uow: UnitOfWork) -> None:
    h.warehouse_with(client, {SKU: 10})
    h.shop(client, "PDD01", "pdd")
    order = f.ok(h.post_order(client, "PDD01", h.fixture("pdd/order_information_get_wait_send.json")), 201)
    assert (order["external_id"], order["status"], order["total"]) == ("261111-536178270031234", "paid", 8990)
    assert order["customer_id"] is None  # PDD names no buyer
    ack = f.ok(h.query_signed_push(client, "PDD01", h.fixture("pdd/push_refund_agree.json"), "client_id"))
    assert ack == {"success": True}
    after = f.ok(client.get(f"/api/v1/orders/{order['id']}"))
    assert after["refunded_amount"] == 4495 and after["lines"][0]["refunded_quantity"] == 1  # 4495 fen = 1 of 2
    refunded = f.ok(h.post_order(client, "PDD01", h.fixture("pdd/order_information_get_refunded.json")), 200)
    assert refunded["refunded_amount"] == 8990  # refund_status 4: what was left, not twice
    assert refunded["status"] == "cancelled"  # everything refunded before shipment
    assert f.stock(client, SKU, "WH01")["reserved"] == 0
    assert inventory.verify_ledger(uow) == []


def test_douyin_order_in_fen_and_a_206_refund_by_push(client: TestClient) -> None:
    h.warehouse_with(client, {SKU: 10})
    h.shop(client, "DY01", "douyin")
    order = f.ok(h.post_order(client, "DY01", h.fixture("douyin/order_detail_paid.json")), 201)
    assert (order["external_id"], order["status"], order["total"], order["shipping_fee"]) == \
        ("6928374619283746192", "paid", 13600, 800)
    assert order["lines"][0]["net_amount"] == 12800
    ack = f.ok(h.douyin_push(client, "DY01", h.fixture("douyin/push_refunded.json")))
    assert ack == {"code": 0, "msg": "success"}
    f.ok(h.douyin_push(client, "DY01", h.fixture("douyin/push_refunded.json")))  # delivered twice
    after = f.ok(client.get(f"/api/v1/orders/{order['id']}"))
    assert after["refunded_amount"] == 6400 and len(after["refunds"]) == 1
    [message] = h.inbox(client, "DY01", external_id="6928374619283746192", state="processed")[:1]
    assert message["topic"] == "206"


def test_douyin_push_with_a_wrong_event_sign_is_refused(client: TestClient) -> None:
    h.warehouse_with(client, {SKU: 10})
    h.shop(client, "DY01", "douyin")
    answer = h.douyin_push(client, "DY01", h.fixture("douyin/push_paid.json"), secret="wrong")
    assert answer.status_code == 401
    assert h.inbox(client, "DY01") == []


def test_douyin_push_for_an_order_that_cannot_be_fetched_is_kept_failed(client: TestClient) -> None:
    h.warehouse_with(client, {SKU: 10})
    h.shop(client, "DY01", "douyin", api_url="http://127.0.0.1:9")  # nothing listens there
    ack = f.ok(h.douyin_push(client, "DY01", h.fixture("douyin/push_paid.json")))
    assert ack == {"code": 0, "msg": "success"}  # stored: the platform need not send it again
    [message] = h.inbox(client, "DY01")
    assert (message["state"], message["external_id"], message["field"]) == ("failed", "6928374619283746192",
                                                                           "api_url")
    assert h.orders(client, "douyin") == []
