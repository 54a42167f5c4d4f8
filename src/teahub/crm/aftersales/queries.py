"""Reading tickets: one with its notes, and lists filtered by status, kind, assignee, customer, product, batch
and breach of the SLA."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, not_, or_, select
from sqlalchemy.orm import lazyload

from teahub.crm.aftersales.models import Ticket
from teahub.crm.aftersales.records import load, summary_view, ticket_view
from teahub.db.uow import UnitOfWork


def get_ticket(uow: UnitOfWork, ticket_id: int) -> dict[str, Any]:
    with uow.reading():
        return ticket_view(load(uow, ticket_id), uow.now())


def breached_condition(now: Any) -> ColumnElement[bool]:
    """In SQL what `rules.is_breached` says: resolved after the due time, or unresolved past it."""
    return or_(and_(Ticket.resolved_at.is_(None), Ticket.due_at < now),
               and_(Ticket.resolved_at.is_not(None), Ticket.resolved_at > Ticket.due_at))


def list_tickets(uow: UnitOfWork, *, status: str | None = None, kind: str | None = None,
                 assignee: str | None = None, customer_id: int | None = None, order_id: int | None = None,
                 sku: str | None = None, batch_code: str | None = None, breached: bool | None = None,
                 before_id: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Newest first (pass the last id as `before_id` for the next page); notes are not included."""
    with uow.reading():
        now = uow.now()
        stmt = select(Ticket).options(lazyload(Ticket.notes))
        if before_id:
            stmt = stmt.where(Ticket.id < before_id)
        for column, value in ((Ticket.status, status), (Ticket.kind, kind), (Ticket.assignee, assignee),
                              (Ticket.customer_id, customer_id), (Ticket.order_id, order_id), (Ticket.sku, sku),
                              (Ticket.batch_code, batch_code)):
            if value is not None:
                stmt = stmt.where(column == value)
        if breached is not None:
            condition = breached_condition(now)
            stmt = stmt.where(condition if breached else not_(condition))
        tickets = uow.session.scalars(stmt.order_by(Ticket.id.desc()).limit(limit))
        return [summary_view(t, now) for t in tickets]
