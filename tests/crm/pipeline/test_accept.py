"""Accepting a quote places the B2B order at the quote's prices, once, within the customer's credit, or over it
with a manager's approval."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from teahub.crm.pipeline import service
from teahub.db.engine import make_session_factory
from teahub.db.uow import UnitOfWork
from tests import factories as f
from tests.crm.pipeline.helpers import (
    API,
    LOOSE,
    SKU,
    assert_problem,
    audits,
    company,
    counts,
    events,
    ok,
    sent_quote,
    shop,
)

QUOTES = f"{API}/quotes"


def orders(client: TestClient) -> list[dict[str, Any]]:
    return ok(client.get(f"{API}/orders"))["items"]  # type: ignore[no-any-return]


def test_accepting_places_one_order_at_the_quotes_prices_and_reserves_stock(client: TestClient,
                                                                           uow: UnitOfWork) -> None:
    shop(client)
    customer = company(client, credit_limit=50_000_000)
    opp = ok(client.post(f"{API}/opportunities", json={"customer_id": customer["id"], "title": "中秋礼盒 300 份",
                                                       "stage": "negotiation", "expected_value": 16_000_000}), 201)
    quote = sent_quote(client, customer["id"], [(SKU, 30, 49800), (LOOSE, 1500, 60000)], opportunity_id=opp["id"])
    assert quote["total"] == 30 * 49800 + 180000

    accepted = ok(client.post(f"{QUOTES}/{quote['id']}/accept", json={"version": 1}))
    assert accepted["status"] == "accepted" and accepted["order_id"] is not None
    assert (accepted["accepted_by"], accepted["credit_approved_by"]) == ("user:root", None)
    order = ok(client.get(f"{API}/orders/{accepted['order_id']}"))
    assert (order["channel"], order["customer_id"], order["status"], order["on_credit"]) == (
        "b2b", customer["id"], "confirmed", True)
    assert order["total"] == quote["total"]
    assert [(ln["sku"], ln["quantity"], ln["unit_price"], ln["price_list"]) for ln in order["lines"]] == [
        (SKU, 30, 49800, "agreed"), (LOOSE, 1500, 60000, "agreed")]
    can, loose = f.stock(client, SKU, "WH01"), f.stock(client, LOOSE, "WH01")
    assert (can["on_hand"], can["reserved"], can["available"]) == (100, 30, 70)
    assert (loose["reserved"], loose["available"]) == (1500, 8500)
    assert ok(client.get(f"{API}/opportunities/{opp['id']}"))["stage"] == "won"

    again = ok(client.post(f"{QUOTES}/{quote['id']}/accept"))
    assert again["order_id"] == accepted["order_id"] and again["version"] == accepted["version"]
    assert [o["id"] for o in orders(client)] == [accepted["order_id"]]
    assert f.stock(client, SKU, "WH01")["reserved"] == 30
    accepted_events = [e for e in events(uow, "quote", quote["id"]) if e["type"] == "quote.accepted"]
    assert len(accepted_events) == 1 and accepted_events[0]["payload"]["order_id"] == accepted["order_id"]
    assert [e["type"] for e in events(uow, "opportunity", opp["id"])][-1] == "opportunity.stage_changed"
    assert [a["action"] for a in audits(uow, "quote", quote["id"])][-1] == "quote.accepted"


def test_over_the_credit_limit_is_refused_and_nothing_is_written(client: TestClient, uow: UnitOfWork) -> None:
    shop(client)
    customer = company(client, credit_limit=100_000)
    quote = sent_quote(client, customer["id"], [(SKU, 10, 50000)])
    before = counts(uow)
    problem = assert_problem(client.post(f"{QUOTES}/{quote['id']}/accept"), 409, "customer")
    assert problem["title"] == "Over credit limit"
    assert (problem["credit_limit"], problem["outstanding"]) == (100_000, 0)
    assert counts(uow) == before
    assert orders(client) == []
    assert f.stock(client, SKU, "WH01")["reserved"] == 0
    after = ok(client.get(f"{QUOTES}/{quote['id']}"))
    assert (after["status"], after["order_id"], after["version"]) == ("sent", None, quote["version"])


def test_a_manager_may_approve_going_over_the_limit(client: TestClient, client_as: Any, uow: UnitOfWork) -> None:
    shop(client)
    manager = client_as("manager", ["BJ01"], username="lin")
    customer = company(client, credit_limit=100_000)
    quote = sent_quote(client, customer["id"], [(SKU, 10, 50000)])
    accepted = ok(manager.post(f"{QUOTES}/{quote['id']}/accept", json={"approve_over_limit": True}))
    assert (accepted["status"], accepted["credit_approved_by"], accepted["accepted_by"]) == (
        "accepted", "user:lin", "user:lin")
    order = ok(client.get(f"{API}/orders/{accepted['order_id']}"))
    assert (order["total"], order["on_credit"]) == (500_000, True)
    override = [a for a in audits(uow, "order", order["id"]) if a["action"] == "order.credit_limit_overridden"]
    assert [(a["actor"], a["after"]["approved_by"]) for a in override] == [("user:lin", "user:lin")]
    assert f.stock(client, SKU, "WH01")["reserved"] == 10


def test_a_clerk_cannot_approve_nor_accept(client: TestClient, client_as: Any, uow: UnitOfWork) -> None:
    shop(client)
    clerk = client_as("clerk", ["BJ01"])
    quote = sent_quote(client, company(client, credit_limit=100_000)["id"], [(SKU, 10, 50000)])
    before = counts(uow)
    assert_problem(clerk.post(f"{QUOTES}/{quote['id']}/accept", json={"approve_over_limit": True}), 403,
                   "approve_over_limit")
    assert clerk.post(f"{QUOTES}/{quote['id']}/accept").status_code == 403
    assert counts(uow) == before
    assert ok(client.get(f"{QUOTES}/{quote['id']}"))["status"] == "sent"


def test_accepting_an_earlier_version_is_refused(client: TestClient, uow: UnitOfWork) -> None:
    shop(client)
    quote = sent_quote(client, company(client)["id"])
    ok(client.post(f"{QUOTES}/{quote['id']}/versions", json={
        "valid_until": quote["valid_until"], "lines": [{"sku": SKU, "quantity": 10, "unit_price": 48000}]}), 201)
    ok(client.post(f"{QUOTES}/{quote['id']}/send"))
    before = counts(uow)
    assert_problem(client.post(f"{QUOTES}/{quote['id']}/accept", json={"version": 1}), 409, "version")
    assert counts(uow) == before
    accepted = ok(client.post(f"{QUOTES}/{quote['id']}/accept", json={"version": 2}))
    assert ok(client.get(f"{API}/orders/{accepted['order_id']}"))["lines"][0]["unit_price"] == 48000


def test_not_enough_stock_refuses_acceptance_and_writes_nothing(client: TestClient, uow: UnitOfWork) -> None:
    shop(client, quantity=5)
    quote = sent_quote(client, company(client)["id"], [(SKU, 6, 50000)])
    before = counts(uow)
    assert_problem(client.post(f"{QUOTES}/{quote['id']}/accept"), 409, "lines.0.quantity")
    assert counts(uow) == before
    assert ok(client.get(f"{QUOTES}/{quote['id']}"))["status"] == "sent"


def test_accepting_at_the_same_time_places_one_order(client: TestClient, engine: Engine, uow: UnitOfWork) -> None:
    shop(client)
    quote = sent_quote(client, company(client)["id"], [(SKU, 3, 50000)])
    factory = make_session_factory(engine)
    copies = 6
    barrier = threading.Barrier(copies)

    def accept(_: int) -> int:
        barrier.wait()
        return int(service.accept_quote(UnitOfWork(factory, actor="user:root"), quote["id"])["order_id"])

    with ThreadPoolExecutor(copies) as pool:
        order_ids = set(pool.map(accept, range(copies)))
    assert len(order_ids) == 1
    assert [o["id"] for o in orders(client)] == list(order_ids)
    assert f.stock(client, SKU, "WH01")["reserved"] == 3
    assert len([e for e in events(uow, "quote", quote["id"]) if e["type"] == "quote.accepted"]) == 1
