"""Pull: the scheduled job fetches each shop's orders by modified time from the platform's order API (local
simulators speaking each platform's format and signing, over real HTTP), from a saved checkpoint; and pushes
that only name an order fetch it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from teahub.channels.models import PullCheckpoint
from teahub.channels.pulling import pull_all, pull_shop
from teahub.db.engine import make_session_factory
from teahub.db.uow import UnitOfWork
from teahub.scheduling.registry import default_registry, load_tasks
from tests import factories as f
from tests.channels import helpers as h
from tests.channels.simulators.base import TOKEN, Platform, Server, all_platforms

SKU = "LJ-MQ26-250"
CUP = "TB-GAIWAN-01"


@pytest.fixture(scope="session")
def simulators() -> Iterator[tuple[Server, dict[str, Platform]]]:
    app, platforms = all_platforms()
    with Server(app) as server:
        yield server, platforms


@pytest.fixture
def sim(simulators: tuple[Server, dict[str, Platform]]) -> tuple[Server, dict[str, Platform]]:
    for platform in simulators[1].values():
        platform.reset()
    return simulators


def at(engine: Engine, moment: datetime) -> UnitOfWork:
    return UnitOfWork(make_session_factory(engine), actor="test", clock=lambda: moment)


CASES = [
    ("tmall", "taobao", "taobao/trade_multi_line_wait_send.json", "4098765432109876543", 29990, "paid"),
    ("jd", "jd", "jd/pop_order_get_wait_stock_out.json", "291234567890", 25200, "paid"),
    ("pdd", "pdd", "pdd/order_information_get_wait_send.json", "261111-536178270031234", 8990, "paid"),
    ("douyin", "douyin", "douyin/order_detail_paid.json", "6928374619283746192", 13600, "paid"),
    ("youzan", "youzan", "REAL:youzan/trade_get_closed_partly_refunded.json", "E20190326101702000600011", 100,
     "shipped"),
]


@pytest.mark.parametrize(("platform", "simulator", "document", "external_id", "total", "status"), CASES,
                         ids=[c[0] for c in CASES])
def test_pull_fetches_orders_modified_since_the_checkpoint(client: TestClient, engine: Engine,
                                                           sim: tuple[Server, dict[str, Platform]], platform: str,
                                                           simulator: str, document: str, external_id: str,
                                                           total: int, status: str) -> None:
    server, platforms = sim
    h.warehouse_with(client, {SKU: 10, CUP: 10, "8001": 10, "8002": 10})
    h.shop(client, "S1", platform, api_url=server.url(simulator), access_token=TOKEN)
    raw = h.real(document[5:]) if document.startswith("REAL:") else h.fixture(document)
    held = platforms[simulator].orders[platforms[simulator].put(raw)]
    now = held.modified + timedelta(minutes=30)
    summary = pull_shop(at(engine, now), "S1", since=held.modified - timedelta(hours=1))
    assert (summary["fetched"], summary["processed"], summary["failed"], summary["error"]) == (1, 1, 0, None)
    [order] = h.orders(client, platform)
    assert (order["external_id"], order["total"], order["status"]) == (external_id, total, status)
    assert [m["source"] for m in h.inbox(client, "S1")] == ["pull"]
    # The job, a minute later: from the checkpoint, nothing new; the same order again would have one effect.
    later = pull_all(at(engine, now + timedelta(minutes=1)))
    assert later["shops"]["S1"]["fetched"] == 0 and later["shops"]["S1"]["error"] is None
    uow = at(engine, now)
    with uow.reading():
        checkpoint = uow.session.scalar(select(PullCheckpoint))
        assert checkpoint is not None and checkpoint.modified_through == now + timedelta(minutes=1)


def test_pulled_update_moves_the_order_on_and_an_outage_does_not_skip_it(
        client: TestClient, engine: Engine, sim: tuple[Server, dict[str, Platform]]) -> None:
    server, platforms = sim
    taobao = platforms["taobao"]
    h.warehouse_with(client, {SKU: 10, CUP: 10})
    h.shop(client, "TM01", "tmall", api_url=server.url("tmall"), access_token=TOKEN)
    first = taobao.orders[taobao.put(h.fixture("taobao/trade_multi_line_wait_send.json"))].modified
    t1 = first + timedelta(minutes=5)
    pull_shop(at(engine, t1), "TM01", since=first - timedelta(minutes=10))
    assert h.orders(client, "tmall")[0]["status"] == "paid"
    shipped = taobao.orders[taobao.put(h.fixture("taobao/trade_multi_line_shipped.json"))].modified
    t2 = shipped + timedelta(minutes=5)
    taobao.down = True
    failed = pull_all(at(engine, t2))["shops"]["TM01"]
    assert failed["error"] and "504" in failed["error"]
    uow = at(engine, t2)
    with uow.reading():
        checkpoint = uow.session.scalar(select(PullCheckpoint))
        assert checkpoint is not None and checkpoint.modified_through == t1 and checkpoint.last_error
    taobao.down = False
    caught_up = pull_all(at(engine, t2))["shops"]["TM01"]
    assert caught_up["error"] is None and caught_up["fetched"] == 1
    [order] = h.orders(client, "tmall")
    assert order["status"] == "shipped"
    assert f.stock(client, SKU, "WH01")["on_hand"] == 7
    assert "taobao.trades.sold.increment.get" in taobao.calls and "taobao.trade.fullinfo.get" in taobao.calls


def test_pull_job_is_registered_every_minute() -> None:
    load_tasks()
    job = default_registry.jobs["channels.pull"]
    assert str(job.cadence) == "every 0:01:00"


def test_douyin_push_naming_an_order_fetches_it(client: TestClient, sim: tuple[Server, dict[str, Platform]]) -> None:
    server, platforms = sim
    h.warehouse_with(client, {SKU: 10})
    h.shop(client, "DY01", "douyin", api_url=server.url("douyin"), access_token=TOKEN)
    platforms["douyin"].put(h.fixture("douyin/order_detail_paid.json"))
    ack = f.ok(h.douyin_push(client, "DY01", h.fixture("douyin/push_paid.json")))
    assert ack == {"code": 0, "msg": "success"}
    [order] = h.orders(client, "douyin")
    assert (order["external_id"], order["total"], order["status"]) == ("6928374619283746192", 13600, "paid")
    messages = h.inbox(client, "DY01")
    assert [(m["source"], m["kind"], m["state"]) for m in messages] == \
        [("fetch", "order", "processed"), ("webhook", "push", "processed")]
    assert platforms["douyin"].calls == ["order.orderDetail"]


def test_tmc_push_fetches_the_trade_and_a_repeat_is_one_effect(client: TestClient,
                                                               sim: tuple[Server, dict[str, Platform]]) -> None:
    server, platforms = sim
    h.warehouse_with(client, {SKU: 10, CUP: 10})
    h.shop(client, "TM01", "tmall", api_url=server.url("tmall"), access_token=TOKEN)
    platforms["taobao"].put(h.fixture("taobao/trade_multi_line_wait_send.json"))
    f.ok(h.taobao_push(client, "TM01", h.fixture("taobao/tmc_trade_buyer_pay.json")))
    f.ok(h.taobao_push(client, "TM01", h.fixture("taobao/tmc_trade_buyer_pay.json")))  # redelivered
    [order] = h.orders(client, "tmall")
    assert (order["external_id"], order["total"]) == ("4098765432109876543", 29990)
    assert platforms["taobao"].calls == ["taobao.trade.fullinfo.get"]
    assert f.stock(client, SKU, "WH01")["reserved"] == 3
