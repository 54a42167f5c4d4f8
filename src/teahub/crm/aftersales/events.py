"""The events after-sales emits (aggregate type "ticket", aggregate id the ticket id, version the ticket's version
after the change), with their payloads.

- `ticket.opened`: TicketEvent
- `ticket.assigned`: TicketEvent + previous_assignee
- `ticket.priority_changed`: TicketEvent + previous_priority (the due time is recomputed)
- `ticket.status_changed`: TicketEvent + previous_status (in_progress, waiting_customer, and reopening)
- `ticket.resolved`: TicketEvent + previous_status
- `ticket.closed`: TicketEvent + previous_status
- `ticket.note_added`: TicketEvent + note_id, author (the note's text stays internal)
- `ticket.csat_recorded`: TicketEvent + score
- `ticket.customer_changed`: TicketEvent + previous_customer_id (customers merged, or a merge reversed)
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

AGGREGATE = "ticket"

TICKET_OPENED = "ticket.opened"
TICKET_ASSIGNED = "ticket.assigned"
TICKET_PRIORITY_CHANGED = "ticket.priority_changed"
TICKET_STATUS_CHANGED = "ticket.status_changed"
TICKET_RESOLVED = "ticket.resolved"
TICKET_CLOSED = "ticket.closed"
TICKET_NOTE_ADDED = "ticket.note_added"
TICKET_CSAT_RECORDED = "ticket.csat_recorded"
TICKET_CUSTOMER_CHANGED = "ticket.customer_changed"

EVENT_TYPES = (TICKET_OPENED, TICKET_ASSIGNED, TICKET_PRIORITY_CHANGED, TICKET_STATUS_CHANGED, TICKET_RESOLVED,
               TICKET_CLOSED, TICKET_NOTE_ADDED, TICKET_CSAT_RECORDED, TICKET_CUSTOMER_CHANGED)


class TicketEvent(BaseModel):
    id: int
    kind: str
    customer_id: int
    order_id: int | None
    sku: str | None
    batch_code: str | None
    status: str
    priority: str
    assignee: str | None
    due_at: datetime


class TicketAssigned(TicketEvent):
    previous_assignee: str | None


class TicketPriorityChanged(TicketEvent):
    previous_priority: str


class TicketStatusChanged(TicketEvent):
    previous_status: str


class TicketNoteAdded(TicketEvent):
    note_id: int
    author: str


class TicketCsatRecorded(TicketEvent):
    score: int


class TicketCustomerChanged(TicketEvent):
    previous_customer_id: int


def status_event(target: str) -> str:
    return {"resolved": TICKET_RESOLVED, "closed": TICKET_CLOSED}.get(target, TICKET_STATUS_CHANGED)
