"""Ticket rules with no I/O: the status machine, the SLA table, breach, and who may manage a ticket."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from teahub.errors import Conflict, Forbidden, InvalidTransition, ValidationFailed

# open → in_progress ⇄ waiting_customer → resolved → closed; resolved may be reopened (back to in_progress).
TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"in_progress", "waiting_customer", "resolved"}),
    "in_progress": frozenset({"waiting_customer", "resolved"}),
    "waiting_customer": frozenset({"in_progress", "resolved"}),
    "resolved": frozenset({"closed", "in_progress"}),
    "closed": frozenset(),
}
DONE = frozenset({"resolved", "closed"})  # the customer has an answer: CSAT may be recorded
OPEN = frozenset(TRANSITIONS) - DONE  # still being worked on

# Hours from opening to resolution, by kind and priority. A parcel that did not arrive and money the customer
# waits for are answered sooner than a complaint or a question.
_STANDARD = {"urgent": 4, "high": 24, "normal": 48, "low": 72}
_FAST = {"urgent": 2, "high": 12, "normal": 24, "low": 48}
SLA_HOURS: dict[str, dict[str, int]] = {
    "complaint": _STANDARD,
    "quality": _STANDARD,
    "enquiry": _STANDARD,
    "delivery": _FAST,
    "refund_request": _FAST,
}

CSAT_SCORES = range(1, 6)


def sla_hours(kind: str, priority: str) -> int:
    return SLA_HOURS[kind][priority]


def due_at(kind: str, priority: str, opened_at: datetime) -> datetime:
    return opened_at + timedelta(hours=sla_hours(kind, priority))


def is_breached(due: datetime, resolved_at: datetime | None, now: datetime) -> bool:
    """Not resolved by the due time: resolved late, or still unresolved after it."""
    return (resolved_at if resolved_at is not None else now) > due


def check_transition(status: str, target: str) -> None:
    if target not in TRANSITIONS.get(status, frozenset()):
        raise InvalidTransition(f"a ticket that is {status} cannot become {target}", field="status",
                                current=status, requested=target)


def check_csat(status: str, score: int, already: int | None) -> None:
    """A score of 1 to 5, once, and only when the customer has had an answer (resolved or closed)."""
    if score not in CSAT_SCORES:
        raise ValidationFailed("a satisfaction score is 1 to 5", field="score")
    if status not in DONE:
        raise InvalidTransition(f"a ticket that is {status} takes no satisfaction score before it is resolved",
                                field="status", current=status)
    if already is not None:
        raise Conflict("this ticket's satisfaction score was recorded already", field="score")


@dataclass(frozen=True)
class Actor:
    """Who acts on a ticket: admins and managers manage every ticket; others only those assigned to them."""

    username: str
    manager: bool


SYSTEM = Actor("system", manager=True)


def check_may_manage(actor: Actor, assignee: str | None) -> None:
    if actor.manager or (assignee is not None and actor.username == assignee):
        return
    raise Forbidden("only an admin, a manager or the ticket's assignee may do this")
