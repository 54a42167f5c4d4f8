"""A burst of platform pushes: acknowledged once stored, then processed in batches (new orders placed together,
set-wise) with exactly what processing them one by one makes: the same orders, batches, payments, customers,
events and audit entries; one bad order in a batch fails alone; stock never goes below what exists."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text

from teahub.auth.models import AuditEntry
from teahub.channels import intake, processing
from teahub.channels import service as channels
from teahub.channels.models import ChannelOrder, InboxMessage
from teahub.db.outbox import OutboxEvent
from teahub.db.uow import UnitOfWork
from tests import factories as f
from tests.channels import helpers as h


def youzan_order(tid: str, lines: list[tuple[str, int, str]], *, buyer: str | None = None,
                 status: str = "WAIT_SELLER_SEND_GOODS", updated: str = "2026-11-11 00:00:02") -> dict[str, Any]:
    """A Youzan order as `youzan.trade.get` answers it; lines as (merchant code, units, unit price in yuan)."""
    paid = sum(int(n) * float(price) for _, n, price in lines)
    return {"full_order_info": {
        "order_info": {"tid": tid, "status": status, "created": "2026-11-11 00:00:01",
                       "pay_time": "2026-11-11 00:00:02", "update_time": updated},
        "pay_info": {"payment": f"{paid:.2f}", "post_fee": "0.00", "total_fee": f"{paid:.2f}"},
        "buyer_info": {"fans_nickname": "茶友", **({"yz_open_id": buyer} if buyer else {})},
        "address_info": {"receiver_name": "张*", "receiver_tel": "138****0000", "delivery_province": "浙江省",
                         "delivery_city": "杭州市", "delivery_district": "西湖区", "delivery_address": "龙井路 1 号"},
        "orders": [{"oid": f"{tid}{i}", "title": code, "num": n, "price": price,
                    "payment": f"{n * float(price):.2f}", "outer_sku_id": code, "item_id": 1, "sku_id": 0}
                   for i, (code, n, price) in enumerate(lines)]},
        "refund_order": []}


def burst(prefix: str) -> list[dict[str, Any]]:
    return [
        youzan_order(f"{prefix}1", [("LJ-50", 2, "88.00")], buyer="yz-a"),
        youzan_order(f"{prefix}2", [("LJ-50", 1, "88.00"), ("GAIWAN", 1, "120.50")], buyer="yz-b"),
        youzan_order(f"{prefix}3", [("DHP-100", 3, "66.60")], buyer="yz-a"),  # the same new buyer twice in a batch
        youzan_order(f"{prefix}4", [("GAIWAN", 2, "120.50")]),  # no buyer id
        youzan_order(f"{prefix}5", [("LJ-50", 1, "88.00")], buyer="yz-c", status="WAIT_BUYER_CONFIRM_GOODS"),
    ]


def accept(uow: UnitOfWork, shop_code: str, data: dict[str, Any], **push: Any) -> None:
    tid = data["full_order_info"]["order_info"]["tid"]
    body = h.youzan_body(data, msg_id=push.pop("msg_id", f"{shop_code}-{tid}"), **push)
    processing.accept_push(uow, shop_code, body, {}, {})


def inbox_states(uow: UnitOfWork) -> list[str]:
    with uow.reading():
        return list(uow.session.scalars(select(InboxMessage.state).order_by(InboxMessage.id)))


def comparable(order: dict[str, Any]) -> dict[str, Any]:
    """What must be the same whichever way the order came in (ids, numbers, shop location and times aside)."""
    return {
        "status": order["status"], "price_list": order["price_list"],
        "money": [order[k] for k in ("subtotal", "discount", "shipping_fee", "total", "paid_amount")],
        "lines": [(ln["sku"], ln["quantity"], ln["unit_price"], ln["amount"], ln["discount"], ln["net_amount"],
                   ln["cost"], [(b["batch_code"], b["quantity"], b["state"]) for b in ln["batches"]])
                  for ln in order["lines"]],
        "payments": [(p["method"], p["amount"], p["reference"] == order["external_id"]) for p in order["payments"]],
        "has_customer": order["customer_id"] is not None,
    }


def test_a_burst_is_acknowledged_when_stored_and_placed_in_a_batch_as_one_by_one_would(
        client: TestClient, uow: UnitOfWork) -> None:
    h.warehouse_with(client, {"LJ-50": 20, "DHP-100": 20, "GAIWAN": 20})
    f.location(client, "WH02", "warehouse")
    for sku in ("LJ-50", "DHP-100", "GAIWAN"):
        f.receive(client, sku, 20, location="WH02", batch=f"B-{sku}", unit_cost=1000)
    h.shop(client, "YZ01", "youzan")
    h.shop(client, "YZ02", "youzan", location="WH02")
    for data in burst("E"):
        accept(uow, "YZ01", data)
    # Acknowledged: stored, nothing placed yet.
    assert inbox_states(uow) == ["received"] * 5
    assert h.orders(client, "youzan") == []

    drained = channels.drain(uow.session_factory)
    assert drained.as_dict() == {"processed": 5, "failed": 0, "busy": False}
    # The same orders through the one-by-one path, on a twin shop and warehouse.
    for data in burst("T"):
        accept(uow, "YZ02", data)
    with uow.reading():
        twin_ids = list(uow.session.scalars(select(InboxMessage.id).where(InboxMessage.state == "received")
                                            .order_by(InboxMessage.id)))
    for inbox_id in twin_ids:
        assert channels.process(uow, inbox_id).state == "processed"
    assert inbox_states(uow) == ["processed"] * 10

    with uow.reading():
        held = {(shop_id, ext): order_id for shop_id, ext, order_id in uow.session.execute(
            select(ChannelOrder.shop_id, ChannelOrder.external_id, ChannelOrder.order_id))}
    assert len(held) == 10
    by_shop: dict[int, dict[str, dict[str, Any]]] = {}
    for (shop_id, ext), order_id in held.items():
        by_shop.setdefault(shop_id, {})[ext[1:]] = f.ok(client.get(f"/api/v1/orders/{order_id}"))
    batch, alone = (by_shop[k] for k in sorted(by_shop))
    for n in batch:
        for k, v in comparable(batch[n]).items():
            assert (n, k, v) == (n, k, comparable(alone[n])[k])
    assert batch["5"]["status"] == "shipped" and batch["1"]["status"] == "paid"
    # One customer per buyer: the new buyer of E1 is found again for E3 in the same batch.
    assert batch["1"]["customer_id"] == batch["3"]["customer_id"] == alone["1"]["customer_id"]
    assert len({batch[n]["customer_id"] for n in ("1", "2", "5")}) == 3
    assert batch["4"]["customer_id"] is None

    # The same events, in the same order, and the same audit entries for each order.
    with uow.reading():
        def events_of(order: dict[str, Any]) -> list[tuple[str, int]]:
            return [(t, v) for t, v in uow.session.execute(
                select(OutboxEvent.type, OutboxEvent.version).where(
                    OutboxEvent.aggregate_type == "order", OutboxEvent.aggregate_id == str(order["id"]))
                .order_by(OutboxEvent.seq))]

        def audit_of(order: dict[str, Any]) -> list[str]:
            return list(uow.session.scalars(select(AuditEntry.action).where(
                AuditEntry.entity_type == "order", AuditEntry.entity_id == str(order["id"])).order_by(AuditEntry.id)))

        for n in batch:
            assert events_of(batch[n]) == events_of(alone[n]) != []
            assert audit_of(batch[n]) == audit_of(alone[n])
            assert audit_of(batch[n])[0] == "order.created"
    # Stock: the same units reserved (and shipped for E5) at both warehouses.
    for sku in ("LJ-50", "DHP-100", "GAIWAN"):
        one, two = f.stock(client, sku, "WH01"), f.stock(client, sku, "WH02")
        assert (one["on_hand"], one["reserved"]) == (two["on_hand"], two["reserved"])
    assert f.stock(client, "LJ-50", "WH01")["reserved"] == 3 and f.stock(client, "LJ-50", "WH01")["on_hand"] == 19


def test_a_bad_order_or_one_without_stock_fails_alone_and_moves_nothing(client: TestClient,
                                                                       uow: UnitOfWork) -> None:
    h.warehouse_with(client, {"LJ-50": 5, "GAIWAN": 3})
    h.shop(client, "YZ01", "youzan")
    accept(uow, "YZ01", youzan_order("E1", [("LJ-50", 2, "88.00")]))
    accept(uow, "YZ01", youzan_order("E2", [("NOPE-1", 1, "10.00")]))  # unknown merchant code
    accept(uow, "YZ01", youzan_order("E3", [("LJ-50", 2, "88.00"), ("GAIWAN", 1, "120.50")]))
    accept(uow, "YZ01", youzan_order("E4", [("LJ-50", 2, "88.00"), ("GAIWAN", 1, "120.50")]))  # 1 LJ-50 left
    accept(uow, "YZ01", youzan_order("E5", [("GAIWAN", 2, "120.50")]))  # the GAIWAN E4 could not take

    assert channels.drain(uow.session_factory).as_dict() == {"processed": 3, "failed": 2, "busy": False}
    messages = {m["external_id"]: m for m in h.inbox(client, "YZ01")}
    assert {e: m["state"] for e, m in messages.items()} == {
        "E1": "processed", "E2": "failed", "E3": "processed", "E4": "failed", "E5": "processed"}
    assert "unknown SKU" in messages["E2"]["reason"] and messages["E2"]["field"].endswith("outer_sku_id")
    assert "not enough stock of LJ-50" in messages["E4"]["reason"]
    assert {o["external_id"] for o in h.orders(client, "youzan")} == {"E1", "E3", "E5"}
    assert f.stock(client, "LJ-50", "WH01")["reserved"] == 4
    assert f.stock(client, "GAIWAN", "WH01")["reserved"] == 3
    # Stock arrives: the failed one goes through on replay, once.
    f.receive(client, "LJ-50", 10, location="WH01", batch="B-LJ-2", unit_cost=1000)
    f.receive(client, "GAIWAN", 1, location="WH01", batch="B-GW-2", unit_cost=1000)
    for _ in range(2):
        f.ok(client.post(f"/api/v1/inbox/{messages['E4']['id']}/replay"))
    assert h.inbox(client, "YZ01", external_id="E4")[0]["state"] == "processed"
    assert (f.stock(client, "LJ-50", "WH01")["reserved"], f.stock(client, "GAIWAN", "WH01")["reserved"]) == (6, 4)


def test_later_messages_of_an_order_in_the_same_batch_apply_after_it(client: TestClient, uow: UnitOfWork) -> None:
    h.warehouse_with(client, {"LJ-50": 10})
    h.shop(client, "YZ01", "youzan")
    paid = youzan_order("E1", [("LJ-50", 2, "88.00")], buyer="yz-a")
    shipped = youzan_order("E1", [("LJ-50", 2, "88.00")], buyer="yz-a", status="WAIT_BUYER_CONFIRM_GOODS",
                           updated="2026-11-11 08:00:00")
    accept(uow, "YZ01", paid, version=1)
    accept(uow, "YZ01", paid, version=1, msg_id="YZ01-E1-again")  # the platform sending it again
    accept(uow, "YZ01", shipped, version=2, msg_type="trade_TradeSellerShip", msg_id="YZ01-E1-shipped")
    accept(uow, "YZ01", paid, version=1, msg_id="YZ01-E1-late")  # an older one arriving late

    assert channels.drain(uow.session_factory).as_dict() == {"processed": 4, "failed": 0, "busy": False}
    [order] = h.orders(client, "youzan")
    assert order["status"] == "shipped"
    stock = f.stock(client, "LJ-50", "WH01")
    assert (stock["on_hand"], stock["reserved"]) == (8, 0)


def test_the_webhook_answers_once_stored_and_the_order_follows(client: TestClient, uow: UnitOfWork) -> None:
    h.warehouse_with(client, {"LJ-50": 10})
    h.shop(client, "YZ01", "youzan")
    answer = h.youzan_push(client, "YZ01", youzan_order("E1", [("LJ-50", 1, "88.00")]), msg_id="m-1")
    assert answer.status_code == 200 and answer.json() == {"code": 0, "msg": "success"}
    # The drain ran after the answer (the test client waits for it): the order is there, processed once.
    [order] = h.orders(client, "youzan")
    assert order["external_id"] == "E1" and order["total"] == 8800
    h.youzan_push(client, "YZ01", youzan_order("E1", [("LJ-50", 1, "88.00")]), msg_id="m-1")
    assert len(h.inbox(client, "YZ01")) == 1 and len(h.orders(client, "youzan")) == 1


def test_pushes_are_kept_sealed_and_whole(client: TestClient, uow: UnitOfWork, engine: Engine) -> None:
    """A push holds a buyer's address: stored sealed (not readable in the database), answered back whole."""
    h.warehouse_with(client, {"LJ-50": 10})
    h.shop(client, "YZ01", "youzan")
    data = youzan_order("E7", [("LJ-50", 1, "88.00")], buyer="yz-sealed")
    data["full_order_info"]["address_info"]["delivery_address"] = "龙井路 88 号 茶园小筑"
    body = h.youzan_body(data, msg_id="m-sealed")
    f.ok(client.post("/api/v1/channels/YZ01/webhook", content=body, headers={"content-type": "application/json"}))
    with engine.connect() as conn:
        [raw] = conn.execute(text("select payload from channel_inbox")).scalars().all()
    assert raw.startswith("s1:") and "m-sealed" not in raw and "yz-sealed" not in raw and "88.00" not in raw
    [message] = h.inbox(client, "YZ01")
    assert (message["message_id"], message["external_id"], message["state"]) == ("m-sealed", "E7", "processed")
    stored = f.ok(client.get(f"/api/v1/inbox/{message['id']}"))
    assert stored["payload"].encode() == body


def test_pushes_arriving_together_are_each_stored_once_and_a_forged_one_refused_alone(
        client: TestClient, app: Any, uow: UnitOfWork, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fifty pushes at the same moment on one server (stored together, in groups): ten of them twice, and one
    signed with a wrong secret among them. Each good push is acknowledged, stored once and placed once; the forged
    one alone is refused and leaves nothing."""
    h.warehouse_with(client, {"LJ-50": 1000})
    h.shop(client, "YZ01", "youzan")
    bodies = [h.youzan_body(youzan_order(f"G{i}", [("LJ-50", 1, "88.00")], buyer=f"yz-g{i % 5}"), msg_id=f"g-{i}")
              for i in range(40)]
    forged = h.youzan_body(youzan_order("G-forged", [("LJ-50", 1, "88.00")]), msg_id="g-forged",
                           secret="not-the-shop-secret")
    sent = [*bodies, *bodies[:10], forged]
    groups: list[int] = []
    store = intake.store_pushes

    def counted(uow_: UnitOfWork, pushes: list[processing.CheckedPush]) -> None:
        groups.append(len(pushes))
        store(uow_, pushes)

    monkeypatch.setattr(intake, "store_pushes", counted)

    async def post_all() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://teahub") as http:
            return await asyncio.gather(*(http.post("/api/v1/channels/YZ01/webhook", content=body,
                                                    headers={"content-type": "application/json"})
                                          for body in sent))

    # On a thread of its own: this test process's main thread may hold an event loop of an earlier test's.
    with concurrent.futures.ThreadPoolExecutor(1) as own_thread:
        answers = own_thread.submit(asyncio.run, post_all()).result()
    assert [a.status_code for a in answers] == [200] * 50 + [401]
    assert all(a.json() == {"code": 0, "msg": "success"} for a in answers[:50])
    assert sum(groups) == 50 and len(groups) < 50  # together: fewer writes than pushes
    channels.drain(uow.session_factory, wait=True)  # what the pushes' own drainers had not reached yet
    messages = h.inbox(client, "YZ01", limit=100)
    assert sorted(m["message_id"] for m in messages) == sorted(f"g-{i}" for i in range(40))
    assert {m["state"] for m in messages} == {"processed"}
    placed = h.orders(client, "youzan")
    assert sorted(o["external_id"] for o in placed) == sorted(f"G{i}" for i in range(40))


def test_a_backlog_is_taken_in_larger_batches_and_a_quiet_inbox_in_small_ones(
        client: TestClient, uow: UnitOfWork, monkeypatch: pytest.MonkeyPatch) -> None:
    h.warehouse_with(client, {"LJ-50": 1000})
    h.shop(client, "YZ01", "youzan")
    sizes: list[int] = []
    take = processing._drain_batch

    def counted(uow_: UnitOfWork, *, wait: bool, size: int) -> processing.Drained | None:
        sizes.append(size)
        return take(uow_, wait=wait, size=size)

    monkeypatch.setattr(processing, "_drain_batch", counted)
    for i in range(processing.BATCH + processing.BACKLOG_BATCH + 10):
        accept(uow, "YZ01", youzan_order(f"B{i}", [("LJ-50", 1, "88.00")], buyer=f"yz-{i % 9}"))
    assert channels.drain(uow.session_factory, wait=True).processed == 360
    assert sizes == [processing.BATCH, processing.BACKLOG_BATCH, processing.BACKLOG_BATCH]
    sizes.clear()
    accept(uow, "YZ01", youzan_order("B-quiet", [("LJ-50", 1, "88.00")]))
    assert channels.drain(uow.session_factory, wait=True).processed == 1
    assert sizes == [processing.BATCH]


def test_drainers_running_at_once_process_each_message_once(client: TestClient, uow: UnitOfWork) -> None:
    h.warehouse_with(client, {"LJ-50": 1000})
    h.shop(client, "YZ01", "youzan")
    for i in range(240):
        accept(uow, "YZ01", youzan_order(f"E{i}", [("LJ-50", 1 + i % 2, "88.00")], buyer=f"yz-{i % 7}"))
    totals: list[processing.Drained] = []
    lock = threading.Lock()

    def drainer() -> None:
        result = channels.drain(uow.session_factory, wait=True)
        with lock:
            totals.append(result)

    threads = [threading.Thread(target=drainer) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(t.processed for t in totals) == 240 and sum(t.failed for t in totals) == 0
    with uow.reading():
        assert uow.session.scalar(select(func.count()).select_from(ChannelOrder)) == 240
    assert f.stock(client, "LJ-50", "WH01")["reserved"] == sum(1 + i % 2 for i in range(240))


def test_a_message_left_received_is_processed_by_the_worker_within_seconds(client: TestClient,
                                                                         uow: UnitOfWork) -> None:
    """A server stopped between storing a push and processing it: the worker's job takes it up."""
    from teahub.scheduling.registry import default_registry, load_tasks

    load_tasks()
    h.warehouse_with(client, {"LJ-50": 10})
    h.shop(client, "YZ01", "youzan")
    accept(uow, "YZ01", youzan_order("E1", [("LJ-50", 1, "88.00")]))
    assert inbox_states(uow) == ["received"]
    job = default_registry.jobs["channels.inbox"]
    assert str(job.cadence) == "every 0:00:10"
    assert job.run(uow) == {"processed": 1, "failed": 0, "busy": False}
    assert inbox_states(uow) == ["processed"] and len(h.orders(client, "youzan")) == 1


def test_metrics_show_what_waits_in_each_shops_inbox(client: TestClient, uow: UnitOfWork) -> None:
    """Pushes are answered before they are processed: Prometheus sees the backlog and its age per shop."""
    h.warehouse_with(client, {"LJ-50": 10})
    h.shop(client, "YZ01", "youzan")
    h.shop(client, "YZ02", "youzan")
    accept(uow, "YZ01", youzan_order("E1", [("LJ-50", 1, "88.00")]))
    accept(uow, "YZ01", youzan_order("E2", [("NOPE", 1, "88.00")]))
    waiting = client.get("/metrics").text
    assert 'teahub_channel_inbox_messages{shop="YZ01",state="received"} 2.0' in waiting
    assert 'teahub_channel_inbox_messages{shop="YZ02",state="received"} 0.0' in waiting
    age = float(waiting.split('teahub_channel_inbox_oldest_received_seconds{shop="YZ01"} ')[1].split()[0])
    assert 0 <= age < 60
    channels.drain(uow.session_factory)
    done = client.get("/metrics").text
    assert 'teahub_channel_inbox_messages{shop="YZ01",state="received"} 0.0' in done
    assert 'teahub_channel_inbox_messages{shop="YZ01",state="processed"} 1.0' in done
    assert 'teahub_channel_inbox_messages{shop="YZ01",state="failed"} 1.0' in done
    assert 'teahub_channel_inbox_oldest_received_seconds{shop="YZ01"} 0.0' in done
    assert 'teahub_channel_stock_failing{shop="YZ01"} 0.0' in done


def test_one_drainer_per_schema_on_postgresql(client: TestClient, uow: UnitOfWork, engine: Engine) -> None:
    """While another drainer of this teahub holds the batch lock, a drainer leaves the messages to it; a teahub
    in another schema of the same database does not hold them up."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serializes writers; there is no drain lock to share")
    h.warehouse_with(client, {"LJ-50": 10})
    h.shop(client, "YZ01", "youzan")
    accept(uow, "YZ01", youzan_order("E1", [("LJ-50", 1, "88.00")]))
    lock = "select pg_advisory_xact_lock(:key, hashtext(:schema))"
    with engine.connect() as other:
        ours = other.scalar(text("select current_schema()"))
        other.rollback()
        with other.begin():
            other.execute(text(lock), {"key": processing._DRAIN_LOCK_KEY, "schema": ours})
            assert channels.drain(uow.session_factory).as_dict() == {"processed": 0, "failed": 0, "busy": True}
        with other.begin():
            other.execute(text(lock), {"key": processing._DRAIN_LOCK_KEY, "schema": f"{ours}_elsewhere"})
            assert channels.drain(uow.session_factory).as_dict() == {"processed": 1, "failed": 0, "busy": False}
