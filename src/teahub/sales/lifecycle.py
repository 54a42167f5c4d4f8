"""Moving an order through its lifecycle: confirm, pay, allocate, ship, complete, cancel; and bringing a
channel order to the status its platform reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from teahub.db.uow import UnitOfWork
from teahub.errors import InvalidTransition, ValidationFailed
from teahub.inventory import service as inventory
from teahub.sales import events, rules
from teahub.sales.models import Order, Payment
from teahub.sales.records import (
    Authorize,
    attach_line,
    bump,
    finish,
    held_units,
    load_for_update,
    pay_back,
    record_payments,
    release_goods,
    reserve_lines,
    ship_goods,
    tenders,
    transition,
)
from teahub.sales.schemas import PaymentIn
from teahub.sales.views import event_payload

MARKETPLACES = frozenset({"tmall", "taobao", "jd", "pdd", "douyin", "youzan"})


def confirm(uow: UnitOfWork, order_id: int, authorize: Authorize | None = None) -> dict[str, Any]:
    """A draft (quote) becomes an order: its stock is reserved."""
    with uow:
        order, codes = load_for_update(uow, order_id, authorize)
        before = order.status
        rules.check_transition(order.status, "confirmed")
        reserve_lines(uow, order)
        transition(uow, order, "confirmed", codes)
        return finish(uow, order, codes, "order.confirmed", before)


def pay(uow: UnitOfWork, order_id: int, payments: list[PaymentIn], authorize: Authorize | None = None
        ) -> dict[str, Any]:
    with uow:
        order, codes = load_for_update(uow, order_id, authorize)
        before = order.status
        due = order.total - order.paid_amount
        if order.status in ("draft", "cancelled") or due <= 0:
            raise InvalidTransition(f"an order that is {order.status} with {due} fen due takes no payment",
                                    field="status")
        settlement = rules.settle(tenders(uow, payments), due)
        record_payments(uow, order, payments, settlement, uow.now())
        if order.status == "confirmed":
            transition(uow, order, "paid", codes)
        else:  # on credit: settled after it shipped
            bump(uow, order, events.PAYMENT_RECEIVED, event_payload(order, codes))
        view = finish(uow, order, codes, "order.paid", before)
        view["change"] = settlement.change
        return view


def allocate(uow: UnitOfWork, order_id: int, authorize: Authorize | None = None) -> dict[str, Any]:
    """The reserved batches are fixed for picking; a batch that expired since is swapped for a good one."""
    with uow:
        order, codes = load_for_update(uow, order_id, authorize)
        before = order.status
        rules.check_transition(order.status, "allocated", on_credit=order.on_credit)
        _swap_expired(uow, order)
        transition(uow, order, "allocated", codes)
        return finish(uow, order, codes, "order.allocated", before)


def _swap_expired(uow: UnitOfWork, order: Order) -> None:
    held = held_units(order, "reserved")
    swaps = inventory.reallocate_expired(uow, [h for _, h in held], f"order:{order.id}")
    for old, picks in swaps:
        for allocation, h in held:
            if h == old and allocation.state == "reserved":
                allocation.state = "released"
                line = next(line for line in order.lines if allocation in line.allocations)
                line.cost -= h.quantity * h.unit_cost
                attach_line(line, picks, "reserved")
                break


def ship(uow: UnitOfWork, order_id: int, authorize: Authorize | None = None, *, carrier: str | None = None,
         tracking_no: str | None = None) -> dict[str, Any]:
    """The goods leave: stock moves out of the allocated batches; the carrier and waybill number go with them."""
    with uow:
        order, codes = load_for_update(uow, order_id, authorize)
        before = order.status
        rules.check_transition(order.status, "shipped", on_credit=order.on_credit)
        ship_goods(uow, order)
        order.carrier, order.tracking_no = carrier or None, tracking_no or None
        transition(uow, order, "shipped", codes)
        return finish(uow, order, codes, "order.shipped", before)


def complete(uow: UnitOfWork, order_id: int, authorize: Authorize | None = None) -> dict[str, Any]:
    with uow:
        order, codes = load_for_update(uow, order_id, authorize)
        before = order.status
        transition(uow, order, "completed", codes)
        return finish(uow, order, codes, "order.completed", before)


def cancel(uow: UnitOfWork, order_id: int, reason: str | None = None, authorize: Authorize | None = None
           ) -> dict[str, Any]:
    """Cancel before shipment: reservations are released and what was paid is paid back."""
    with uow:
        order, codes = load_for_update(uow, order_id, authorize)
        before = order.status
        rules.check_transition(order.status, "cancelled", on_credit=order.on_credit)
        release_goods(uow, order)
        pay_back(uow, order, order.paid_amount - order.refunded_amount, uow.now())
        if reason:
            order.note = f"{order.note}\n{reason}" if order.note else reason
        transition(uow, order, "cancelled", codes)
        return finish(uow, order, codes, "order.cancelled", before)


def advance_to(uow: UnitOfWork, order: Order, target: str, codes: dict[int, str], *, at: datetime) -> None:
    """Bring a channel order to the status its platform reports, step by step along the lifecycle."""
    for step in rules.path_to(order.status, target):
        if step == "paid" and order.paid_amount < order.total:
            if order.channel not in MARKETPLACES:
                raise ValidationFailed(f"an order can only be {target} once paid: add payments", field="status")
            order.payments.append(Payment(method="platform", amount=order.total - order.paid_amount,
                                          reference=order.external_id, paid_at=at))
            order.paid_amount = order.total
        if step == "confirmed":
            reserve_lines(uow, order)
        if step == "shipped":
            ship_goods(uow, order)
        if step == "cancelled":
            release_goods(uow, order)
            pay_back(uow, order, order.paid_amount - order.refunded_amount, at)
        transition(uow, order, step, codes, at=at)
