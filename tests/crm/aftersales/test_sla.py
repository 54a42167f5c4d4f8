"""SLA due times by kind and priority, and breach, with a clock the test moves."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from teahub.crm.aftersales import service
from teahub.crm.aftersales.schemas import TicketIn, TicketPatch
from teahub.customers import service as customers
from teahub.customers.schemas import CustomerIn
from tests import factories as f
from tests.crm.aftersales.helpers import TICKETS, Clock, uow_at


def _customer(engine: Engine, clock: Clock, phone: str = "13812345678") -> int:
    view, _ = customers.create_customer(uow_at(engine, clock), CustomerIn(name="王芳", phone=phone))
    return int(view["id"])


def _open(engine: Engine, clock: Clock, customer_id: int, kind: str = "complaint", priority: str = "normal"
          ) -> dict[str, Any]:
    body = TicketIn.model_validate({"kind": kind, "subject": "subject", "customer_id": customer_id,
                                    "priority": priority})
    return service.open_ticket(uow_at(engine, clock), body)


@pytest.mark.parametrize(("kind", "priority", "hours"), [
    ("complaint", "urgent", 4), ("complaint", "high", 24), ("complaint", "normal", 48), ("complaint", "low", 72),
    ("quality", "normal", 48), ("enquiry", "low", 72),
    ("delivery", "urgent", 2), ("delivery", "normal", 24), ("refund_request", "high", 12),
    ("refund_request", "low", 48),
])
def test_due_time_follows_kind_and_priority(engine: Engine, kind: str, priority: str, hours: int) -> None:
    clock = Clock()
    ticket = _open(engine, clock, _customer(engine, clock), kind, priority)
    assert ticket["created_at"] == clock.now
    assert ticket["due_at"] == clock.now + timedelta(hours=hours)


def test_a_new_priority_moves_the_due_time_from_opening(engine: Engine) -> None:
    clock = Clock()
    opened_at = clock.now
    ticket = _open(engine, clock, _customer(engine, clock), "complaint", "low")
    clock.advance(hours=10)
    urgent = service.update_ticket(uow_at(engine, clock), ticket["id"], TicketPatch(priority="urgent"))
    assert urgent["due_at"] == opened_at + timedelta(hours=4)
    assert urgent["breached"] is True  # 10 hours after opening, 4 were allowed


def test_breached_when_not_resolved_by_the_due_time(engine: Engine) -> None:
    clock = Clock()
    customer = _customer(engine, clock)
    late = _open(engine, clock, customer)  # complaint, normal: 48 h
    on_time = _open(engine, clock, customer)
    resolved_late = _open(engine, clock, customer)
    clock.advance(hours=10)
    service.resolve_ticket(uow_at(engine, clock), on_time["id"], "answered")
    clock.advance(hours=37, minutes=59)  # 47:59 after opening
    assert not any(t["breached"] for t in service.list_tickets(uow_at(engine, clock)))
    assert service.list_tickets(uow_at(engine, clock), breached=True) == []
    clock.advance(minutes=2)  # 48:01
    assert service.get_ticket(uow_at(engine, clock), late["id"])["breached"] is True
    assert [t["id"] for t in service.list_tickets(uow_at(engine, clock), breached=True)] == [
        resolved_late["id"], late["id"]]
    clock.advance(hours=2)
    service.resolve_ticket(uow_at(engine, clock), resolved_late["id"], "answered, late")
    clock.advance(days=30)
    breached = service.list_tickets(uow_at(engine, clock), breached=True)
    assert [t["id"] for t in breached] == [resolved_late["id"], late["id"]]  # resolving late stays a breach
    assert [t["id"] for t in service.list_tickets(uow_at(engine, clock), breached=False)] == [on_time["id"]]
    assert service.get_ticket(uow_at(engine, clock), on_time["id"])["breached"] is False


def test_reopening_runs_the_sla_on(engine: Engine) -> None:
    clock = Clock()
    ticket = _open(engine, clock, _customer(engine, clock), "delivery", "urgent")  # 2 h
    clock.advance(hours=1)
    assert service.resolve_ticket(uow_at(engine, clock), ticket["id"], "found it")["breached"] is False
    clock.advance(hours=5)
    assert service.get_ticket(uow_at(engine, clock), ticket["id"])["breached"] is False
    reopened = service.reopen_ticket(uow_at(engine, clock), ticket["id"])
    assert reopened["status"] == "in_progress" and reopened["breached"] is True


def test_breached_tickets_are_listed_through_the_api(client: TestClient, engine: Engine) -> None:
    clock = Clock()
    customer = f.ok(client.post("/api/v1/customers", json={"name": "王芳", "phone": "13812345678"}), 201)["id"]
    clock.now = clock.now.replace(year=2020)  # opened long ago: long past due
    old = _open(engine, clock, customer, "complaint", "low")
    fresh = f.ok(client.post(TICKETS, json={"kind": "complaint", "subject": "new", "customer_id": customer}), 201)
    breached = f.ok(client.get(TICKETS, params={"breached": "true"}))["items"]
    assert [(t["id"], t["breached"]) for t in breached] == [(old["id"], True)]
    assert [t["id"] for t in f.ok(client.get(TICKETS, params={"breached": "false"}))["items"]] == [fresh["id"]]
