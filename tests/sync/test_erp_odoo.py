"""Odoo over JSON-RPC against a local simulator: customers → res.partner (clear phone, once), orders →
sale.order once in effect (a create that timed out after Odoo made it is found, not made twice), business errors
dead-letter and replay; a cancelled order's sale.order is cancelled (action_cancel) once, and one cancelled before
it was sent is never made."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from teahub.sync import deadletters
from teahub.sync.erp import base
from teahub.sync.erp.options import set_options
from teahub.sync.reconcile import reconcile_target
from tests.sync import erp_helpers
from tests.sync.erp_helpers import PHONE, add_erp_target, cancel, drain, redeliver, sale, shop, web_sale
from tests.sync.helpers import uow_for
from tests.sync.simulators.odoo import DB, KEY, LOGIN, OdooSimulator

OPTIONS: dict[str, Any] = {"database": DB, "login": LOGIN, "default_partner_id": None,
                           "lookups": {"products": {"LJ-MQ26-250": 10, "DHP-WYS-100": 11}}}

erp_engine = erp_helpers.erp_engine  # the fixture


@pytest.fixture
def odoo() -> Iterator[OdooSimulator]:
    sim = OdooSimulator()
    yield sim
    sim.close()


def target(engine: Engine, odoo: OdooSimulator, **kwargs: Any) -> int:
    return add_erp_target(engine, "odoo", "odoo", odoo.url, KEY, kwargs.pop("options", OPTIONS),
                          types=("order.*", "customer.*"), **kwargs)


def test_orders_and_customers_arrive_once_with_the_clear_phone(client: TestClient, erp_engine: Engine,
                                                               odoo: OdooSimulator) -> None:
    shop(client)
    order = sale(client)
    tid = target(erp_engine, odoo)

    drain(erp_engine, tid)

    (partner,) = odoo.partners()  # the customer's event and the order's both made sure of one partner
    assert partner["ref"] == f"teahub-{order['customer_id']}" and PHONE in partner["phone"]
    (made,) = odoo.orders()  # order.created, order.paid, ... : one sale.order
    assert made["client_order_ref"] == order["number"] and made["partner_id"] == partner["id"]
    assert [(ln["product_id"], ln["product_uom_qty"]) for ln in made["order_line"]] == [(10, 2), (11, 1)]
    assert made["amount_total"] == order["total"] / 100
    link = base.get_link(uow_for(erp_engine), tid, f"order:{order['id']}")
    assert link is not None and (link.mapping, link.mapping_version) == ("odoo-order", 1)
    assert link.external_id == str(made["id"])


def test_a_create_that_timed_out_is_found_on_the_retry_not_made_twice(client: TestClient, erp_engine: Engine,
                                                                      odoo: OdooSimulator) -> None:
    shop(client)
    order = sale(client)
    odoo.faults.fail("sale.order.create", "timeout")  # Odoo creates it, the answer comes after our timeout
    tid = target(erp_engine, odoo, timeout_seconds=1)

    drain(erp_engine, tid)

    assert odoo.faults.calls["sale.order.create"] == 1
    assert [o["client_order_ref"] for o in odoo.orders()] == [order["number"]]
    assert deadletters.list_dead_letters(uow_for(erp_engine)) == []


def test_500s_retry_and_business_errors_dead_letter_then_replay(client: TestClient, erp_engine: Engine,
                                                                odoo: OdooSimulator) -> None:
    shop(client)
    order = sale(client, phone=None)
    odoo.faults.fail("sale.order.search", "500", times=2)
    options = {**OPTIONS, "default_partner_id": 999, "lookups": {"products": {"LJ-MQ26-250": 10}}}
    tid = target(erp_engine, odoo, options=options, max_attempts=3)

    drain(erp_engine, tid)

    letters = deadletters.list_dead_letters(uow_for(erp_engine))
    assert letters and all("DHP-WYS-100" in d["error"] and "lookup table" in d["error"] for d in letters)
    assert odoo.orders() == []
    # Fix the table; the partner Odoo does not know is refused by Odoo itself (a ValidationError).
    set_options(uow_for(erp_engine), "odoo", {**OPTIONS, "default_partner_id": 999})
    deadletters.replay(uow_for(erp_engine), target="odoo")
    drain(erp_engine, tid)
    letters = deadletters.list_dead_letters(uow_for(erp_engine))
    assert letters and "ValidationError" in letters[0]["error"] and "partner 999" in letters[0]["error"]

    partner = odoo._create("res.partner", {"name": "Walk-in", "ref": "walk-in"})
    set_options(uow_for(erp_engine), "odoo", {**OPTIONS, "default_partner_id": partner})
    deadletters.replay(uow_for(erp_engine), target="odoo")
    drain(erp_engine, tid)
    assert deadletters.list_dead_letters(uow_for(erp_engine)) == []
    (made,) = odoo.orders()
    assert made["client_order_ref"] == order["number"] and made["partner_id"] == partner


def test_a_wrong_api_key_is_refused_for_good(client: TestClient, erp_engine: Engine, odoo: OdooSimulator) -> None:
    shop(client)
    sale(client)
    tid = add_erp_target(erp_engine, "odoo", "odoo", odoo.url, "not-the-right-key-at-all", OPTIONS)
    drain(erp_engine, tid)
    letters = deadletters.list_dead_letters(uow_for(erp_engine))
    assert letters and "refused the login" in letters[0]["error"] and odoo.orders() == []


# -- a cancelled order ---------------------------------------------------------------------------------------
def test_a_cancelled_order_is_cancelled_in_odoo_once(client: TestClient, erp_engine: Engine,
                                                    odoo: OdooSimulator) -> None:
    shop(client)
    order = web_sale(client)
    tid = target(erp_engine, odoo)
    drain(erp_engine, tid)
    (made,) = odoo.orders()
    made["state"] = "sale"  # confirmed in Odoo meanwhile: cancelling it there would open Odoo's wizard

    cancel(client, order)
    drain(erp_engine, tid)
    redeliver(erp_engine, tid, order)  # the same cancel delivered again
    drain(erp_engine, tid)

    (made,) = odoo.orders()
    assert made["state"] == "cancel" and odoo.faults.calls["sale.order.action_cancel"] == 1
    link = base.get_link(uow_for(erp_engine), tid, f"order:{order['id']}")
    assert link is not None and link.step == "cancelled" and link.external_id == str(made["id"])
    assert deadletters.list_dead_letters(uow_for(erp_engine)) == []
    report = reconcile_target(uow_for(erp_engine), "odoo")
    assert report["missing"] == [] and report["different"] == []


def test_a_failed_cancel_is_retried_and_a_locked_order_dead_letters(client: TestClient, erp_engine: Engine,
                                                                   odoo: OdooSimulator) -> None:
    shop(client)
    first, second = web_sale(client), web_sale(client)
    tid = target(erp_engine, odoo)
    drain(erp_engine, tid)
    locked = next(o for o in odoo.orders() if o["client_order_ref"] == second["number"])
    locked["locked"] = True
    odoo.faults.fail("sale.order.action_cancel", "500")

    cancel(client, first)
    cancel(client, second)
    drain(erp_engine, tid)

    states = {o["client_order_ref"]: o["state"] for o in odoo.orders()}
    assert states == {first["number"]: "cancel", second["number"]: "draft"}
    assert odoo.faults.calls["sale.order.action_cancel"] == 3  # the 500 tried again; the refusal not
    (letter,) = deadletters.list_dead_letters(uow_for(erp_engine))
    assert letter["record_key"] == f"order:{second['id']}" and "locked order" in letter["error"]
    report = reconcile_target(uow_for(erp_engine), "odoo", repair=False)
    assert [d["record_key"] for d in report["different"]] == [f"order:{second['id']}"]


def test_an_order_cancelled_before_it_was_sent_is_never_made_in_odoo(client: TestClient, erp_engine: Engine,
                                                                     odoo: OdooSimulator) -> None:
    shop(client)
    order = web_sale(client)
    cancel(client, order)
    tid = target(erp_engine, odoo)

    drain(erp_engine, tid)

    assert odoo.orders() == [] and odoo.faults.calls["sale.order.create"] == 0
    link = base.get_link(uow_for(erp_engine), tid, f"order:{order['id']}")
    assert link is not None and link.step == base.NOT_SENT
    assert deadletters.list_dead_letters(uow_for(erp_engine)) == []
    assert reconcile_target(uow_for(erp_engine), "odoo")["missing"] == []
