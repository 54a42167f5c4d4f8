"""Helpers for the customer tests: arrange through the API, look at the tables directly."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from teahub.auth.models import AuditEntry
from teahub.customers.models import Customer, CustomerContact, CustomerIdentity, CustomerMerge
from teahub.db.outbox import OutboxEvent
from teahub.db.uow import UnitOfWork
from teahub.inventory.models import Location
from teahub.sales.models import Order

API = "/api/v1/customers"


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def create(client: TestClient, status: int = 201, **body: Any) -> dict[str, Any]:
    return ok(client.post(API, json=body), status)  # type: ignore[no-any-return]


def assert_problem(response: Any, status: int, field: str | None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body.get("field") == field, body
    return body  # type: ignore[no-any-return]


def counts(uow: UnitOfWork) -> dict[str, int]:
    """Rows in every table a customer command may write: equal before and after means nothing written."""
    with uow.reading():
        return {model.__tablename__: uow.session.scalar(select(func.count()).select_from(model)) or 0
                for model in (Customer, CustomerIdentity, CustomerContact, CustomerMerge, OutboxEvent,
                              AuditEntry, Order)}


def events(uow: UnitOfWork, type_: str, aggregate_id: int | None = None) -> list[dict[str, Any]]:
    with uow.reading():
        stmt = select(OutboxEvent).where(OutboxEvent.type == type_)
        if aggregate_id is not None:
            stmt = stmt.where(OutboxEvent.aggregate_id == str(aggregate_id))
        return [e.envelope() for e in uow.session.scalars(stmt.order_by(OutboxEvent.seq))]


def audits(uow: UnitOfWork, action: str, entity_id: int) -> list[dict[str, Any]]:
    with uow.reading():
        return [{"actor": a.actor, "before": a.before, "after": a.after} for a in uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action, AuditEntry.entity_type == "customer",
                                     AuditEntry.entity_id == str(entity_id)).order_by(AuditEntry.id))]


def order_for(uow: UnitOfWork, customer_id: int, number: str) -> int:
    """An order row of a customer, written directly (only its customer matters to these tests)."""
    with uow:
        location = uow.session.scalar(select(Location).where(Location.code == "BJ01"))
        if location is None:
            location = Location(code="BJ01", name="北京门店", kind="store")
            uow.session.add(location)
            uow.session.flush()
        now = datetime.now(UTC)
        order = Order(client_id=number, channel="pos", status="completed", location_id=location.id,
                      customer_id=customer_id, subtotal=1000, total=1000, paid_amount=1000, placed_at=now)
        uow.session.add(order)
        uow.session.flush()
        uow.commit()
        return order.id


def orders_of(uow: UnitOfWork, customer_id: int) -> list[int]:
    with uow.reading():
        return list(uow.session.scalars(select(Order.id).where(Order.customer_id == customer_id)
                                        .order_by(Order.id)))
