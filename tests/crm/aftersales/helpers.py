"""Helpers for the after-sales tests: a small shop arranged through the API, tickets, events and audit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from teahub.crm.aftersales.models import Ticket, TicketNote
from teahub.db.engine import make_session_factory
from teahub.db.outbox import OutboxEvent
from teahub.db.uow import UnitOfWork
from tests import factories as f

TICKETS = "/api/v1/tickets"
TEA = "LJ-MQ26-250"
MEMBER_PRICE = 62800
ALICE, BOB, CAROL = "13812345678", "13912345678", "13712345678"


def shop(client: TestClient) -> None:
    """One store, a green tea received as two batches (BAD expires first, so it sells first) and a cup."""
    f.location(client, "BJ01")
    f.product(client, TEA, list_price=68800, member=MEMBER_PRICE)
    f.product(client, "CUP", category="teaware", list_price=5000, member=None, shelf_life_days=None)
    f.receive(client, TEA, 6, batch="BAD", unit_cost=30000, expires_on="2027-01-01")
    f.receive(client, TEA, 30, batch="GOOD", unit_cost=30000, expires_on="2028-01-01")
    f.receive(client, "CUP", 10, batch="C1", unit_cost=2000)


def sale(client: TestClient, quantity: int, phone: str | None = None, sku: str = TEA) -> dict[str, Any]:
    price = 5000 if sku == "CUP" else MEMBER_PRICE if phone else 68800
    return f.ok(f.pos_sale(client, [(sku, quantity)], pay=quantity * price, phone=phone), 201)


def ticket_body(customer_id: int, **extra: Any) -> dict[str, Any]:
    return {"kind": "quality", "subject": "茶叶有异味", "description": "opened the can: it smells musty",
            "customer_id": customer_id, "channel": "phone", **extra}


def open_ticket(client: TestClient, customer_id: int, **extra: Any) -> dict[str, Any]:
    return f.ok(client.post(TICKETS, json=ticket_body(customer_id, **extra)), 201)


def problem(response: Any, status: int, field: str | None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body.get("field") == field, body
    return body  # type: ignore[no-any-return]


def ticket_events(client: TestClient, ticket_id: int | None = None) -> list[dict[str, Any]]:
    items = f.ok(client.get("/api/v1/events", params={"limit": 1000}))["items"]
    return [e for e in items if e["aggregate_type"] == "ticket"
            and (ticket_id is None or e["aggregate_id"] == str(ticket_id))]


def audit_actions(client: TestClient, ticket_id: int) -> list[str]:
    rows = f.ok(client.get("/api/v1/audit", params={"entity_type": "ticket", "entity_id": str(ticket_id)}))
    return [r["action"] for r in rows["items"]]


def counts(engine: Engine) -> tuple[int, int, int]:
    """Tickets, notes and ticket events written so far."""
    with engine.connect() as conn:
        return (conn.scalar(select(func.count()).select_from(Ticket)) or 0,
                conn.scalar(select(func.count()).select_from(TicketNote)) or 0,
                conn.scalar(select(func.count()).select_from(OutboxEvent)
                            .where(OutboxEvent.aggregate_type == "ticket")) or 0)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 5, 4, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def uow_at(engine: Engine, clock: Callable[[], datetime], actor: str = "test") -> UnitOfWork:
    return UnitOfWork(make_session_factory(engine), actor=actor, clock=clock)
