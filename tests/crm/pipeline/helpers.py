"""Helpers for the pipeline tests: arrange a shop and B2B customers through the API, count what was written."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from teahub.auth.models import AuditEntry
from teahub.crm.pipeline.models import (
    Activity,
    CrmTask,
    Lead,
    Opportunity,
    OpportunityStageChange,
    Quote,
    QuoteVersion,
)
from teahub.crm.pipeline.rules import BUSINESS_TZ
from teahub.customers.models import Customer
from teahub.db.outbox import OutboxEvent
from teahub.db.uow import UnitOfWork
from teahub.sales.models import Order
from tests import factories as f

API = "/api/v1"
SKU = "TGY-GIFT-2026"  # a 铁观音 gift can, by the piece
LOOSE = "LJ-LOOSE"  # loose 龙井, by the gram, priced per 斤 (500 g)


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def assert_problem(response: Any, status: int, field: str | None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body.get("field") == field, body
    return body  # type: ignore[no-any-return]


def shop(client: TestClient, quantity: int = 100) -> None:
    f.location(client, "WH01", "warehouse")
    f.location(client, "BJ01")
    f.product(client, SKU, list_price=58800, member=None)
    f.product(client, LOOSE, unit="g", price_basis=500, list_price=68000, member=None)
    f.receive(client, SKU, quantity, location="WH01", batch="TGY26-01", unit_cost=20000, expires_on="2028-01-01")
    f.receive(client, LOOSE, 10_000, location="WH01", batch="LJ26-01", unit_cost=60, expires_on="2027-09-01")


def company(client: TestClient, name: str = "杭州某科技有限公司", credit_limit: int | None = 1_000_000,
            **extra: Any) -> dict[str, Any]:
    body = {"name": name, "kind": "company", "company_name": name, "payment_terms": "monthly", **extra}
    if credit_limit is not None:
        body["credit_limit"] = credit_limit
    return ok(client.post(f"{API}/customers", json=body), 201)  # type: ignore[no-any-return]


def in_days(days: int) -> str:
    """A calendar day in China, `days` from today."""
    return (datetime.now(UTC).astimezone(BUSINESS_TZ).date() + timedelta(days=days)).isoformat()


def quote_body(customer_id: int, lines: list[tuple[str, int, int]] | None = None, *, valid_days: int = 14,
               **extra: Any) -> dict[str, Any]:
    return {"customer_id": customer_id, "valid_until": in_days(valid_days),
            "lines": [{"sku": s, "quantity": q, "unit_price": p} for s, q, p in (lines or [(SKU, 10, 50000)])],
            **extra}


def sent_quote(client: TestClient, customer_id: int, lines: list[tuple[str, int, int]] | None = None,
               **extra: Any) -> dict[str, Any]:
    quote = ok(client.post(f"{API}/quotes", json=quote_body(customer_id, lines, **extra)), 201)
    return ok(client.post(f"{API}/quotes/{quote['id']}/send"))  # type: ignore[no-any-return]


def counts(uow: UnitOfWork) -> dict[str, int]:
    """Rows in every table a pipeline command may write: equal before and after means nothing was written."""
    with uow.reading():
        return {model.__tablename__: uow.session.scalar(select(func.count()).select_from(model)) or 0
                for model in (Lead, Opportunity, OpportunityStageChange, Activity, CrmTask, Quote, QuoteVersion,
                              Customer, Order, OutboxEvent, AuditEntry)}


def events(uow: UnitOfWork, aggregate_type: str, aggregate_id: int | None = None) -> list[dict[str, Any]]:
    with uow.reading():
        stmt = select(OutboxEvent).where(OutboxEvent.aggregate_type == aggregate_type)
        if aggregate_id is not None:
            stmt = stmt.where(OutboxEvent.aggregate_id == str(aggregate_id))
        return [e.envelope() for e in uow.session.scalars(stmt.order_by(OutboxEvent.seq))]


def audits(uow: UnitOfWork, entity_type: str, entity_id: int) -> list[dict[str, Any]]:
    with uow.reading():
        return [{"action": a.action, "actor": a.actor, "before": a.before, "after": a.after}
                for a in uow.session.scalars(select(AuditEntry).where(
                    AuditEntry.entity_type == entity_type, AuditEntry.entity_id == str(entity_id))
                    .order_by(AuditEntry.id))]


def clock(at: datetime) -> Any:
    return lambda: at


def day(value: str) -> date:
    return date.fromisoformat(value)
