"""Working a ticket: assigning, prioritizing, moving it through its statuses, notes and the customer's score.

Each use case locks the ticket, checks everything, then changes it; a refused change writes nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from teahub.crm.aftersales import events, rules
from teahub.crm.aftersales.models import Ticket, TicketNote
from teahub.crm.aftersales.opening import check_assignee
from teahub.crm.aftersales.records import audit_state, bump, event_fields, load, ticket_view
from teahub.crm.aftersales.schemas import TicketPatch
from teahub.db.uow import UnitOfWork
from teahub.errors import InvalidTransition, ValidationFailed


def _finish(uow: UnitOfWork, ticket: Ticket, action: str, before: dict[str, Any]) -> dict[str, Any]:
    uow.audit(action, "ticket", ticket.id, before, audit_state(ticket))
    view = ticket_view(ticket, uow.now())
    uow.commit()
    return view


def _text(value: str | None, field: str, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationFailed(f"{what} must not be blank", field=field)
    return text


def update_ticket(uow: UnitOfWork, ticket_id: int, patch: TicketPatch,
                  actor: rules.Actor = rules.SYSTEM) -> dict[str, Any]:
    """Change the assignee (null unassigns), the priority (the due time follows) and the status (resolving
    needs a resolution: see `resolve_ticket`). Fields left out stay as they are."""
    given = patch.model_fields_set
    with uow:
        ticket = load(uow, ticket_id, lock=True)
        rules.check_may_manage(actor, ticket.assignee)
        before = audit_state(ticket)
        assignee = check_assignee(uow, patch.assignee) if "assignee" in given else ticket.assignee
        status = patch.status if patch.status is not None else ticket.status
        if status != ticket.status:
            if status == "resolved":
                raise ValidationFailed("resolving a ticket needs a resolution: resolve it", field="status")
            rules.check_transition(ticket.status, status)
        if assignee != ticket.assignee:
            previous_assignee, ticket.assignee = ticket.assignee, assignee
            bump(uow, ticket, events.TICKET_ASSIGNED,
                 events.TicketAssigned(**event_fields(ticket), previous_assignee=previous_assignee))
        if patch.priority is not None and patch.priority != ticket.priority:
            previous_priority, ticket.priority = ticket.priority, patch.priority
            ticket.due_at = rules.due_at(ticket.kind, ticket.priority, ticket.created_at)
            bump(uow, ticket, events.TICKET_PRIORITY_CHANGED,
                 events.TicketPriorityChanged(**event_fields(ticket), previous_priority=previous_priority))
        if status != ticket.status:
            _move(uow, ticket, status)
        if ticket.version == before["version"]:
            return ticket_view(ticket, uow.now())  # nothing to change
        return _finish(uow, ticket, "ticket.updated", before)


def _move(uow: UnitOfWork, ticket: Ticket, target: str, resolution: str | None = None) -> None:
    rules.check_transition(ticket.status, target)
    previous, now = ticket.status, uow.now()
    if target == "resolved":
        ticket.resolution, ticket.resolved_at = resolution, now
    elif target == "closed":
        ticket.closed_at = now
    elif previous == "resolved":  # reopened: it is being worked on again, and its SLA runs on
        ticket.resolution, ticket.resolved_at = None, None
    ticket.status = target
    bump(uow, ticket, events.status_event(target),
         events.TicketStatusChanged(**event_fields(ticket), previous_status=previous))


def resolve_ticket(uow: UnitOfWork, ticket_id: int, resolution: str,
                   actor: rules.Actor = rules.SYSTEM) -> dict[str, Any]:
    text = _text(resolution, "resolution", "a resolution")
    with uow:
        ticket = load(uow, ticket_id, lock=True)
        rules.check_may_manage(actor, ticket.assignee)
        before = audit_state(ticket)
        _move(uow, ticket, "resolved", text)
        return _finish(uow, ticket, "ticket.resolved", before)


def close_ticket(uow: UnitOfWork, ticket_id: int, actor: rules.Actor = rules.SYSTEM) -> dict[str, Any]:
    with uow:
        ticket = load(uow, ticket_id, lock=True)
        rules.check_may_manage(actor, ticket.assignee)
        before = audit_state(ticket)
        _move(uow, ticket, "closed")
        return _finish(uow, ticket, "ticket.closed", before)


def reopen_ticket(uow: UnitOfWork, ticket_id: int, actor: rules.Actor = rules.SYSTEM) -> dict[str, Any]:
    """A resolved ticket goes back to in_progress (a closed one stays closed: open a new ticket)."""
    with uow:
        ticket = load(uow, ticket_id, lock=True)
        rules.check_may_manage(actor, ticket.assignee)
        if ticket.status != "resolved":
            raise InvalidTransition(f"only a resolved ticket can be reopened; this one is {ticket.status}",
                                    field="status", current=ticket.status, requested="in_progress")
        before = audit_state(ticket)
        _move(uow, ticket, "in_progress")
        return _finish(uow, ticket, "ticket.reopened", before)


def add_note(uow: UnitOfWork, ticket_id: int, body: str, actor: rules.Actor = rules.SYSTEM) -> dict[str, Any]:
    """Append an internal note (author and time); notes are never changed or removed."""
    text = _text(body, "body", "a note")
    with uow:
        ticket = load(uow, ticket_id, lock=True)
        before = audit_state(ticket)
        note = TicketNote(author=actor.username, body=text, created_at=uow.now())
        ticket.notes.append(note)
        uow.session.flush()
        bump(uow, ticket, events.TICKET_NOTE_ADDED,
             events.TicketNoteAdded(**event_fields(ticket), note_id=note.id, author=note.author))
        return _finish(uow, ticket, "ticket.note_added", before)


def record_csat(uow: UnitOfWork, ticket_id: int, score: int, comment: str | None = None) -> dict[str, Any]:
    """The customer's satisfaction (1 to 5, and a comment): once, after the ticket was resolved."""
    with uow:
        ticket = load(uow, ticket_id, lock=True)
        rules.check_csat(ticket.status, score, ticket.csat_score)
        before = audit_state(ticket)
        ticket.csat_score, ticket.csat_comment = score, (comment or "").strip() or None
        ticket.csat_at = uow.now()
        bump(uow, ticket, events.TICKET_CSAT_RECORDED, events.TicketCsatRecorded(**event_fields(ticket), score=score))
        return _finish(uow, ticket, "ticket.csat_recorded", before)


def reassign_tickets(uow: UnitOfWork, from_customer_id: int, to_customer_id: int) -> list[int]:
    """Tickets follow their customer into a merge; answers the moved ticket ids (to reverse it later)."""
    with uow:
        ids = list(uow.session.scalars(select(Ticket.id).where(Ticket.customer_id == from_customer_id)
                                       .order_by(Ticket.id)))
        move_tickets(uow, ids, to_customer_id)
        uow.commit()
        return ids


def move_tickets(uow: UnitOfWork, ticket_ids: list[int], to_customer_id: int) -> None:
    """Attach exactly these tickets to a customer (a merge, or its reversal); each records the change."""
    if not ticket_ids:
        return
    with uow:
        tickets = uow.session.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids)).order_by(Ticket.id)
                                      .with_for_update(of=Ticket))
        for ticket in tickets:
            previous, ticket.customer_id = ticket.customer_id, to_customer_id
            bump(uow, ticket, events.TICKET_CUSTOMER_CHANGED,
                 events.TicketCustomerChanged(**event_fields(ticket), previous_customer_id=previous))
        uow.commit()
