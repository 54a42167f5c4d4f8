"""Yonyou U8 against a local simulator: a token, saleorder/add deduplicated on tradeid, the result polled
(bounded, then resumed by polling the same URL); business failures dead-letter and replay. A cancelled order is
closed in U8 (saleorder/close) once; one cancelled before it was sent is never added."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from teahub.sync import deadletters
from teahub.sync.delivery import deliver
from teahub.sync.erp import base
from teahub.sync.reconcile import reconcile_target
from tests.sync import erp_helpers
from tests.sync.conftest import FAST
from tests.sync.erp_helpers import add_erp_target, cancel, drain, redeliver, sale, shop, web_sale
from tests.sync.helpers import uow_for
from tests.sync.simulators.yonyou import APP_KEY, APP_SECRET, FROM_ACCOUNT, YonyouSimulator

OPTIONS: dict[str, Any] = {"from_account": FROM_ACCOUNT, "to_account": "u8", "app_key": APP_KEY,
                           "poll_interval": 0.01, "poll_attempts": 5,
                           "lookups": {"inventories": {"LJ-MQ26-250": "I-LJ", "DHP-WYS-100": "I-DHP"}}}

erp_engine = erp_helpers.erp_engine  # the fixture


@pytest.fixture
def u8() -> Iterator[YonyouSimulator]:
    sim = YonyouSimulator(polls_needed=3)
    yield sim
    sim.close()


def target(engine: Engine, u8: YonyouSimulator, **kwargs: Any) -> int:
    options = kwargs.pop("options", OPTIONS)
    return add_erp_target(engine, "u8", "yonyou", u8.url, APP_SECRET, options, **kwargs)


def test_an_order_is_added_and_its_result_polled(client: TestClient, erp_engine: Engine,
                                                 u8: YonyouSimulator) -> None:
    shop(client)
    order = sale(client)
    tid = target(erp_engine, u8)

    drain(erp_engine, tid)

    made = u8.orders[order["number"]]
    assert made["money"] == f"{order['total'] / 100:.2f}"
    assert [(e["inventorycode"], e["quantity"]) for e in made["entry"]] == [("I-LJ", 2), ("I-DHP", 1)]
    assert u8.faults.calls["add"] == 1 and u8.faults.calls["result"] == 3
    (request,) = u8.requests.values()
    assert request["tradeid"] == f"teahub-order-{order['id']}"
    link = base.get_link(uow_for(erp_engine), tid, f"order:{order['id']}")
    assert link is not None and link.step == "done" and link.external_id == made["id"]


def test_an_unfinished_request_is_polled_again_later_not_added_again(client: TestClient, erp_engine: Engine,
                                                                     u8: YonyouSimulator) -> None:
    shop(client)
    order = sale(client)
    u8.polls_needed = 7
    tid = target(erp_engine, u8, options={**OPTIONS, "poll_attempts": 2})

    drain(erp_engine, tid)

    assert order["number"] in u8.orders and len(u8.requests) == 1
    assert u8.faults.calls["add"] == 1 and u8.faults.calls["result"] == 7


def test_an_add_that_timed_out_is_not_made_twice(client: TestClient, erp_engine: Engine,
                                                 u8: YonyouSimulator) -> None:
    shop(client)
    order = sale(client)
    u8.faults.fail("add", "timeout")
    tid = target(erp_engine, u8, timeout_seconds=1)

    drain(erp_engine, tid)

    assert list(u8.orders) == [order["number"]] and len(u8.requests) == 1
    assert u8.faults.calls["add"] == 2  # the same tradeid again: answered with the first request's result
    assert deadletters.list_dead_letters(uow_for(erp_engine)) == []


def test_a_business_failure_dead_letters_then_replays(client: TestClient, erp_engine: Engine,
                                                      u8: YonyouSimulator) -> None:
    shop(client)
    order = sale(client)
    u8.business_failures = 1
    tid = target(erp_engine, u8, types=("order.created",))  # no later event of the order to bring it

    drain(erp_engine, tid)
    (letter,) = deadletters.list_dead_letters(uow_for(erp_engine))
    assert "injected business failure" in letter["error"] and u8.orders == {}

    deadletters.replay(uow_for(erp_engine), target="u8")
    drain(erp_engine, tid)
    assert deadletters.list_dead_letters(uow_for(erp_engine)) == []
    assert list(u8.orders) == [order["number"]]


# -- a cancelled order ---------------------------------------------------------------------------------------
def test_a_cancelled_order_is_closed_in_u8_once(client: TestClient, erp_engine: Engine, u8: YonyouSimulator) -> None:
    shop(client)
    order = web_sale(client)
    tid = target(erp_engine, u8)
    drain(erp_engine, tid)
    u8.faults.fail("close", "500")

    cancel(client, order)
    drain(erp_engine, tid)
    redeliver(erp_engine, tid, order)  # the same cancel delivered again
    drain(erp_engine, tid)

    assert u8.orders[order["number"]]["closer"] and u8.faults.calls["close"] == 2  # the 500, then the close
    assert list(u8.closes) == [f"teahub-order-{order['id']}-close"]
    link = base.get_link(uow_for(erp_engine), tid, f"order:{order['id']}")
    assert link is not None and link.step == "closed" and link.external_id == u8.orders[order["number"]]["id"]
    assert deadletters.list_dead_letters(uow_for(erp_engine)) == []
    report = reconcile_target(uow_for(erp_engine), "u8")
    assert report["missing"] == [] and report["different"] == []


def test_an_order_cancelled_before_it_was_sent_is_never_added_to_u8(client: TestClient, erp_engine: Engine,
                                                                    u8: YonyouSimulator) -> None:
    shop(client)
    order = web_sale(client)
    cancel(client, order)
    tid = target(erp_engine, u8)

    drain(erp_engine, tid)

    assert u8.orders == {} and u8.requests == {} and u8.faults.calls["close"] == 0
    link = base.get_link(uow_for(erp_engine), tid, f"order:{order['id']}")
    assert link is not None and link.step == base.NOT_SENT
    assert reconcile_target(uow_for(erp_engine), "u8")["missing"] == []


def test_a_cancel_while_u8_still_processes_the_add_closes_the_order_once_made(
        client: TestClient, erp_engine: Engine, u8: YonyouSimulator) -> None:
    shop(client)
    order = web_sale(client)
    u8.polls_needed = 4
    tid = target(erp_engine, u8, options={**OPTIONS, "poll_attempts": 2})
    first = deliver(uow_for(erp_engine), tid, options=FAST)  # added, still processing after 2 polls: to retry
    assert first.retried == 1 and u8.orders == {}

    cancel(client, order)
    drain(erp_engine, tid)

    assert u8.orders[order["number"]]["closer"] and len(u8.requests) == 1 and u8.faults.calls["add"] == 1
    assert u8.faults.calls["close"] == 1
    assert deadletters.list_dead_letters(uow_for(erp_engine)) == []
