"""Opening a ticket: everything it names is checked through its owner's service before anything is written."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from teahub.auth import service as auth
from teahub.catalog import service as catalog
from teahub.crm.aftersales import events, rules
from teahub.crm.aftersales.models import Ticket
from teahub.crm.aftersales.records import audit_state, event_fields, record, ticket_view
from teahub.crm.aftersales.schemas import TicketIn
from teahub.customers import service as customers
from teahub.db.uow import UnitOfWork
from teahub.errors import NotFound, ValidationFailed
from teahub.inventory import service as inventory
from teahub.sales import views as sales_views


@dataclass(frozen=True)
class _Subject:
    """What a ticket is about, once checked."""

    customer_id: int
    order_id: int | None
    sku: str | None
    batch_code: str | None


def open_ticket(uow: UnitOfWork, data: TicketIn, actor: rules.Actor = rules.SYSTEM) -> dict[str, Any]:
    """Open a ticket for a customer, optionally on one of their orders, a product and a batch. Its SLA due
    time follows from its kind and priority."""
    subject = data.subject.strip()
    if not subject:
        raise ValidationFailed("a ticket needs a subject", field="subject")
    description = (data.description or "").strip() or None
    with uow:
        about = _subject(uow, data)
        assignee = check_assignee(uow, data.assignee)
        now = uow.now()
        ticket = Ticket(
            kind=data.kind, subject=subject, description=description, customer_id=about.customer_id,
            order_id=about.order_id, sku=about.sku, batch_code=about.batch_code, channel=data.channel,
            priority=data.priority, status="open", assignee=assignee,
            due_at=rules.due_at(data.kind, data.priority, now), opened_by=actor.username, version=1,
            created_at=now, updated_at=now, notes=[],
        )
        uow.session.add(ticket)
        uow.session.flush()
        record(uow, ticket, events.TICKET_OPENED, events.TicketEvent(**event_fields(ticket)))
        view = ticket_view(ticket, now)
        uow.audit("ticket.opened", "ticket", ticket.id, None, audit_state(ticket))
        uow.commit()
        return view


def _subject(uow: UnitOfWork, data: TicketIn) -> _Subject:
    customer_id = _customer(uow, data.customer_id)
    order = _order(uow, data.order_id, {data.customer_id, customer_id}) if data.order_id is not None else None
    sku = data.sku
    if data.batch_code is not None and sku is None:
        sku = _sku_of_batch(order, data.batch_code)
    if sku is not None:
        _check_product(uow, sku, order)
    if data.batch_code is not None:
        assert sku is not None
        _check_batch(uow, sku, data.batch_code, order)
    return _Subject(customer_id, data.order_id, sku, data.batch_code)


def _customer(uow: UnitOfWork, customer_id: int) -> int:
    """The customer's id (the survivor's, when it was merged)."""
    try:
        return customers.get_customer_info(uow, customer_id).id
    except NotFound as exc:
        raise NotFound(exc.detail, field="customer_id") from None


def _order(uow: UnitOfWork, order_id: int, customer_ids: set[int]) -> dict[str, Any]:
    try:
        order = sales_views.get_order(uow, order_id)
    except NotFound as exc:
        raise NotFound(exc.detail, field="order_id") from None
    if order["customer_id"] not in customer_ids:
        raise ValidationFailed(f"order {order['number']} is not this customer's", field="order_id")
    return order


def _received(order: dict[str, Any]) -> set[tuple[str, str]]:
    """(sku, batch code) of every batch the order's units came from (released reservations are not)."""
    return {(b["sku"], b["batch_code"]) for line in order["lines"] for b in line["batches"]
            if b["state"] != "released"}


def _sku_of_batch(order: dict[str, Any] | None, batch_code: str) -> str:
    """A batch named without its SKU: the order tells which, when only one of its SKUs has that batch."""
    skus = {sku for sku, code in _received(order) if code == batch_code} if order is not None else set()
    if len(skus) != 1:
        raise ValidationFailed("name the sku of the batch", field="sku")
    return skus.pop()


def _check_product(uow: UnitOfWork, sku: str, order: dict[str, Any] | None) -> None:
    if sku not in catalog.get_products(uow, [sku]):
        raise NotFound(f"no product {sku}", field="sku")
    if order is None:
        return
    on_order = {line["sku"] for line in order["lines"]} | {sku for sku, _ in _received(order)}
    if sku not in on_order:
        raise ValidationFailed(f"{sku} is not on order {order['number']}", field="sku")


def _check_batch(uow: UnitOfWork, sku: str, batch_code: str, order: dict[str, Any] | None) -> None:
    # Every batch enters through a receipt, so a batch exists when the stock ledger has a row of it.
    if not inventory.ledger_entries(uow, sku=sku, batch_code=batch_code, limit=1):
        raise NotFound(f"no batch {batch_code} of {sku}", field="batch_code")
    if order is not None and (sku, batch_code) not in _received(order):
        raise ValidationFailed(f"order {order['number']} received no units of batch {batch_code} of {sku}",
                               field="batch_code")


def check_assignee(uow: UnitOfWork, username: str | None) -> str | None:
    """An assignee is an active user, named by user name."""
    if username is None:
        return None
    name = username.strip()
    if not any(u["username"] == name and u["active"] for u in auth.list_users(uow)):
        raise NotFound(f"no active user {username}", field="assignee")
    return name
