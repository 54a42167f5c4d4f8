"""After-sales' entry point for the rest of teahub: opening tickets, working them through their statuses, notes,
the customer's satisfaction score, and tickets following merged customers. The use cases live in the modules
named below."""

from __future__ import annotations

from teahub.crm.aftersales.handling import (
    add_note,
    close_ticket,
    move_tickets,
    reassign_tickets,
    record_csat,
    reopen_ticket,
    resolve_ticket,
    update_ticket,
)
from teahub.crm.aftersales.opening import open_ticket
from teahub.crm.aftersales.queries import get_ticket, list_tickets
from teahub.crm.aftersales.rules import SYSTEM, Actor

__all__ = [
    "SYSTEM", "Actor", "add_note", "close_ticket", "get_ticket", "list_tickets", "move_tickets", "open_ticket",
    "reassign_tickets", "record_csat", "reopen_ticket", "resolve_ticket", "update_ticket",
]
