"""An order's timeline: what happened to it and when (placed, confirmed, paid, allocated, shipped, completed,
cancelled, refunds, payments on credit, a new customer, a review needed), read from the events sales recorded
for it in the outbox (aggregate `order`, id = the order's id), oldest first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from teahub.db.outbox import OutboxEvent
from teahub.db.uow import UnitOfWork
from teahub.sales import events
from teahub.sales.models import Order

# The step each event type stands for (the order's status for lifecycle events).
STEPS = {
    events.CREATED: "placed",
    events.REFUNDED: "refunded",
    events.PAYMENT_RECEIVED: "payment_received",
    events.CUSTOMER_CHANGED: "customer_changed",
    events.NEEDS_REVIEW: "needs_review",
    **{events.status_event(s): s for s in ("confirmed", "paid", "allocated", "shipped", "completed", "cancelled")},
}


def _step(event: OutboxEvent, placed_at: datetime | None) -> dict[str, Any]:
    payload = event.payload or {}
    step: dict[str, Any] = {
        "step": STEPS.get(event.type, event.type), "type": event.type, "at": event.occurred_at,
        "recorded_at": event.occurred_at, "version": event.version, "status": payload.get("status"),
    }
    if event.type == events.CREATED:
        # Placed when the sale happened (an offline counter sale is recorded later, when it is sent).
        step["at"] = placed_at or event.occurred_at
        step["total"] = payload.get("total")
    elif event.type == events.REFUNDED:
        step.update(amount=payload.get("amount"), restock=payload.get("restock"),
                    lines=[{"sku": line.get("sku"), "quantity": line.get("quantity"), "amount": line.get("amount")}
                           for line in payload.get("lines", [])])
    elif event.type in (events.status_event("paid"), events.PAYMENT_RECEIVED):
        step["amount"] = payload.get("paid_amount")
    elif event.type == events.NEEDS_REVIEW:
        step["reason"] = payload.get("reason")
    elif event.type == events.CUSTOMER_CHANGED:
        step.update(customer_id=payload.get("customer_id"), previous_customer_id=payload.get("previous_customer_id"))
    return step


def order_timeline(uow: UnitOfWork, order_id: int) -> list[dict[str, Any]]:
    """The order's steps in the order they happened: {step, type, at, version, status, ...} where `step` is
    placed | confirmed | paid | allocated | shipped | completed | cancelled | refunded | payment_received |
    customer_changed | needs_review, with the amount of a payment or refund, a refund's lines, a review's reason
    or the customers of a change; `at` is when it happened (for `placed`, the order's time of sale) and
    `recorded_at` when it was recorded. The caller checks that the order may be seen (sales.views.get_order)."""
    with uow.reading():
        placed_at = uow.session.scalar(select(Order.placed_at).where(Order.id == order_id))
        rows = uow.session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.aggregate_type == "order", OutboxEvent.aggregate_id == str(order_id))
            .order_by(OutboxEvent.version))
        return [_step(row, placed_at) for row in rows]



def with_actors(steps: list[dict[str, Any]], audit: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The steps with who made them (`actor`), from the order's audit entries (oldest first, as
    `auth.service.audit_entries` answers them). Each sales command ends with one audit entry whose `after` holds
    the order's version: the steps after the previous command's version up to it are that command's. A step no
    entry accounts for for sure (a customer merge moving the order, a channel update) gets no actor."""
    actors: dict[int, str] = {}
    lower: int | None = 0
    for entry in audit:
        after = entry.get("after") or {}
        version = after.get("version") if isinstance(after, dict) else None
        if not isinstance(version, int):
            lower = None  # a command that left no version: where the next one starts is unknown
            continue
        first = version if lower is None else lower + 1
        for v in range(first, version + 1):
            actors.setdefault(v, entry["actor"])
        lower = version
    return [{**step, "actor": actors.get(step["version"]) if step["step"] != "customer_changed" else None}
            for step in steps]
