"""What the ticket use cases share: a ticket's views, loading it under lock, and recording a change with its
event. Internal to after-sales; other capabilities call `teahub.crm.aftersales.service`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select

from teahub.crm.aftersales import events, rules
from teahub.crm.aftersales.models import Ticket
from teahub.db.uow import UnitOfWork
from teahub.errors import NotFound


def ticket_number(ticket_id: int) -> str:
    return f"TK{ticket_id:08d}"


def summary_view(t: Ticket, now: datetime) -> dict[str, Any]:
    return {
        "id": t.id, "number": ticket_number(t.id), "kind": t.kind, "subject": t.subject,
        "customer_id": t.customer_id, "order_id": t.order_id, "sku": t.sku, "batch_code": t.batch_code,
        "channel": t.channel, "priority": t.priority, "status": t.status, "assignee": t.assignee,
        "due_at": t.due_at, "breached": rules.is_breached(t.due_at, t.resolved_at, now),
        "resolved_at": t.resolved_at, "closed_at": t.closed_at, "csat_score": t.csat_score,
        "created_at": t.created_at, "updated_at": t.updated_at, "version": t.version,
    }


def ticket_view(t: Ticket, now: datetime) -> dict[str, Any]:
    return {
        **summary_view(t, now), "description": t.description, "resolution": t.resolution,
        "csat_comment": t.csat_comment, "csat_at": t.csat_at, "opened_by": t.opened_by,
        "notes": [{"id": n.id, "author": n.author, "body": n.body, "created_at": n.created_at} for n in t.notes],
    }


def audit_state(t: Ticket) -> dict[str, Any]:
    """What the audit log keeps of a ticket before and after a change (JSON)."""
    return {
        "kind": t.kind, "subject": t.subject, "order_id": t.order_id, "sku": t.sku, "batch_code": t.batch_code,
        "channel": t.channel, "status": t.status, "priority": t.priority, "assignee": t.assignee,
        "due_at": _iso(t.due_at),
        "resolution": t.resolution, "resolved_at": _iso(t.resolved_at), "closed_at": _iso(t.closed_at),
        "csat_score": t.csat_score, "customer_id": t.customer_id, "version": t.version,
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def event_fields(t: Ticket) -> dict[str, Any]:
    return {"id": t.id, "kind": t.kind, "customer_id": t.customer_id, "order_id": t.order_id, "sku": t.sku,
            "batch_code": t.batch_code, "status": t.status, "priority": t.priority, "assignee": t.assignee,
            "due_at": t.due_at}


def load(uow: UnitOfWork, ticket_id: int, *, lock: bool = False) -> Ticket:
    stmt = select(Ticket).where(Ticket.id == ticket_id)
    if lock:  # PostgreSQL: changes of one ticket queue here; SQLite serializes writers already
        stmt = stmt.with_for_update(of=Ticket).execution_options(populate_existing=True)
    ticket = uow.session.scalar(stmt)
    if ticket is None:
        raise NotFound(f"no ticket {ticket_id}", field="id")
    return ticket


def bump(uow: UnitOfWork, ticket: Ticket, event_type: str, payload: BaseModel) -> None:
    """The ticket changed: its version advances and the change is recorded as an event."""
    ticket.version += 1
    ticket.updated_at = uow.now()
    record(uow, ticket, event_type, payload)


def record(uow: UnitOfWork, ticket: Ticket, event_type: str, payload: BaseModel) -> None:
    uow.record_event(event_type, events.AGGREGATE, ticket.id, payload.model_dump(mode="json"),
                     version=ticket.version)
