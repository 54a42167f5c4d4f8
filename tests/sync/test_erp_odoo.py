"""Odoo over JSON-RPC against a local simulator: customers → res.partner (clear phone, once), orders →
sale.order once in effect (a create that timed out after Odoo made it is found, not made twice), business errors
dead-letter and replay."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from teahub.sync import deadletters
from teahub.sync.erp import base
from teahub.sync.erp.options import set_options
from tests.sync import erp_helpers
from tests.sync.erp_helpers import PHONE, add_erp_target, drain, sale, shop
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
