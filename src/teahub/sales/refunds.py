"""Refunds, partial by line and quantity: money back, resalable goods back into their batches, and the
cost of what came back taken off the line so gross profit stays exact."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from teahub.db.uow import UnitOfWork
from teahub.errors import InvalidTransition, ValidationFailed
from teahub.inventory import service as inventory
from teahub.inventory.service import Held
from teahub.sales import events, rules
from teahub.sales.models import LineAllocation, Order, OrderLine, Refund, RefundLine
from teahub.sales.records import Authorize, bump, finish, load_for_update, pay_back, transition
from teahub.sales.schemas import RefundIn
from teahub.sales.views import event_payload


def refund(uow: UnitOfWork, order_id: int, data: RefundIn, authorize: Authorize | None = None) -> dict[str, Any]:
    with uow:
        order, codes = load_for_update(uow, order_id, authorize)
        before = order.status
        if order.status not in rules.REFUNDABLE:
            raise InvalidTransition(f"an order that is {order.status} cannot be refunded"
                                    + (": cancel it instead" if order.status in ("draft", "confirmed") else ""),
                                    field="status")
        shipped = order.status in ("shipped", "completed")
        now = uow.now()
        entry = Refund(reason=data.reason, amount=0, restock=data.restock, created_at=now, actor=uow.actor, lines=[])
        back_to_stock: list[Held] = []
        released: list[Held] = []
        for i, wanted in enumerate(data.lines):
            line = _line(order, wanted.sku, wanted.line_no, i)
            try:
                amount = rules.refund_amount(line.net_amount, line.quantity, line.refunded_quantity,
                                             line.refunded_amount, wanted.quantity, wanted.amount)
            except ValidationFailed as exc:
                raise ValidationFailed(exc.detail, field=f"lines.{i}.{exc.field}") from None
            returned_cost = 0
            if not shipped or data.restock:
                for allocation, units in _units_back(line, wanted.quantity):
                    allocation.returned_quantity += units
                    returned_cost += units * allocation.unit_cost
                    held = Held(allocation.product_id, allocation.location_id, allocation.batch_id, units,
                                allocation.unit_cost)
                    (back_to_stock if shipped else released).append(held)
            line.refunded_quantity += wanted.quantity
            line.refunded_amount += amount
            line.returned_cost += returned_cost
            entry.lines.append(RefundLine(line_id=line.id, quantity=wanted.quantity, amount=amount,
                                          returned_cost=returned_cost))
            entry.amount += amount
        if entry.amount > order.paid_amount - order.refunded_amount:
            raise ValidationFailed("the refund exceeds what was paid and not yet refunded", field="lines")
        reference = f"order:{order.id}"
        inventory.put_back(uow, back_to_stock, reference)
        inventory.release(uow, released, reference)
        order.refunds.append(entry)
        pay_back(uow, order, entry.amount, now)
        uow.session.flush()
        bump(uow, order, events.REFUNDED, {
            **event_payload(order, codes), "refund_id": entry.id, "amount": entry.amount, "restock": data.restock,
            "lines": [{"sku": _sku(order, rl.line_id), "quantity": rl.quantity, "amount": rl.amount}
                      for rl in entry.lines],
        })
        if not shipped and all(line.refunded_quantity == line.quantity for line in order.lines):
            for line in order.lines:  # nothing left to ship: the order ends here
                for allocation in line.allocations:
                    if allocation.state == "reserved":
                        allocation.state = "released"
            transition(uow, order, "cancelled", codes)
        return finish(uow, order, codes, "order.refunded", before)


def _line(order: Order, sku: str, line_no: int | None, index: int) -> OrderLine:
    if line_no is not None:
        line = next((candidate for candidate in order.lines if candidate.line_no == line_no), None)
        if line is None or line.sku != sku:
            raise ValidationFailed(f"line {line_no} is not {sku}", field=f"lines.{index}.line_no")
        return line
    matching = [candidate for candidate in order.lines if candidate.sku == sku]
    if not matching:
        raise ValidationFailed(f"{sku} is not on this order", field=f"lines.{index}.sku")
    if len(matching) > 1:
        raise ValidationFailed(f"{sku} is on several lines: give line_no", field=f"lines.{index}.line_no")
    return matching[0]


def _units_back(line: OrderLine, boxes: int) -> list[tuple[LineAllocation, int]]:
    """Which allocations the returned units come from. A gift box line returns its components in the
    proportion each box holds them."""
    live = [a for a in line.allocations if a.state in ("reserved", "shipped")]
    per_product: dict[int, list[LineAllocation]] = defaultdict(list)
    for allocation in live:
        per_product[allocation.product_id].append(allocation)
    taken: list[tuple[LineAllocation, int]] = []
    for allocations in per_product.values():
        per_unit = sum(a.quantity for a in allocations) // line.quantity
        left = per_unit * boxes
        for allocation in allocations:
            units = min(left, allocation.quantity - allocation.returned_quantity)
            if units > 0:
                taken.append((allocation, units))
                left -= units
    return taken


def _sku(order: Order, line_id: int) -> str:
    return next(line.sku for line in order.lines if line.id == line_id)
