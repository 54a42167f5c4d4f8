"""The mechanics every sales use case shares: loading an order under lock, moving it to a new status with
its event, attaching batches and payments, paying back, and handing its goods to the inventory."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select

from teahub.catalog import service as catalog
from teahub.db.uow import UnitOfWork
from teahub.errors import NotFound, ValidationFailed
from teahub.inventory import service as inventory
from teahub.inventory.rules import Pick
from teahub.inventory.service import Held, StockRequest
from teahub.money import half_up_div
from teahub.sales import events, rules
from teahub.sales.models import LineAllocation, Order, OrderLine, Payment
from teahub.sales.schemas import PaymentIn
from teahub.sales.views import event_payload, location_codes, money_split, order_view

# Checks that the caller may act for a location (by code); raises Forbidden otherwise.
Authorize = Callable[[str], None]


def load_for_update(uow: UnitOfWork, order_id: int, authorize: Authorize | None) -> tuple[Order, dict[int, str]]:
    order = uow.session.scalar(select(Order).where(Order.id == order_id).with_for_update()
                               .execution_options(populate_existing=True))
    if order is None:
        raise NotFound(f"no order {order_id}", field="id")
    codes = location_codes(uow, order)
    if authorize is not None:
        authorize(codes[order.location_id])
    return order, codes


def finish(uow: UnitOfWork, order: Order, codes: dict[int, str], action: str, before: str) -> dict[str, Any]:
    view = order_view(order, codes)
    uow.audit(action, "order", order.id, {"status": before}, {"status": order.status, "version": order.version})
    uow.commit()
    return view


def bump(uow: UnitOfWork, order: Order, event_type: str, payload: dict[str, Any],
          at: datetime | None = None) -> None:
    order.version += 1
    order.updated_at = uow.now()
    uow.record_event(event_type, "order", order.id, payload, version=order.version, occurred_at=at)


def transition(uow: UnitOfWork, order: Order, target: str, codes: dict[int, str], *, at: datetime | None = None,
                at_counter: bool = False) -> None:
    rules.check_transition(order.status, target, on_credit=order.on_credit, at_counter=at_counter)
    order.status = target
    moment = at or uow.now()
    if target == "paid":
        order.paid_at = moment
    elif target == "shipped":
        order.shipped_at = moment
    elif target == "completed":
        order.completed_at = moment
    elif target == "cancelled":
        order.cancelled_at = moment
        from teahub.loyalty import coupons

        coupons.release(uow, order.id)  # a cancelled order gives its coupons back
    bump(uow, order, events.status_event(target), event_payload(order, codes), at=moment)


def attach_picks(order: Order, picks: list[list[Pick]], state: str) -> None:
    for line, line_picks in zip(order.lines, picks, strict=True):
        attach_line(line, line_picks, state)


def attach_line(line: OrderLine, picks: list[Pick], state: str) -> None:
    for pick in picks:
        line.allocations.append(LineAllocation(
            product_id=pick.product_id, sku=pick.sku, batch_id=pick.batch_id, batch_code=pick.batch_code,
            location_id=pick.location_id, quantity=pick.quantity, unit_cost=pick.unit_cost, state=state,
            returned_quantity=0))
        line.cost += pick.quantity * pick.unit_cost


def tenders(uow: UnitOfWork, payments: list[PaymentIn]) -> list[rules.Tender]:
    """What each payment is worth in fen (points at the programme's value)."""
    from teahub.loyalty import service as loyalty

    return [rules.Tender(p.method, loyalty.points_value(uow, p.points or 0) if p.method == "points" else p.amount or 0)
            for p in payments]


def record_payments(uow: UnitOfWork, order: Order, payments: list[PaymentIn], settlement: rules.Settlement,
                    at: datetime) -> None:
    """Add the payments to the order; points are taken from the customer's balance in this transaction."""
    from teahub.loyalty import service as loyalty

    for i, (given, applied) in enumerate(zip(payments, settlement.applied, strict=True)):
        if applied.amount == 0:
            continue
        if given.method == "points":
            if order.customer_id is None:
                raise ValidationFailed("points are paid by a member: name the customer", field=f"payments.{i}")
            spent = sum(1 for p in order.payments if p.method == "points" and p.amount > 0)
            loyalty.spend_points(uow, order.customer_id, given.points or 0, f"order:{order.id}:points:{spent + 1}",
                                 order_id=order.id, field=f"payments.{i}.points")
        tendered = given.amount if given.amount is not None and given.amount != applied.amount else None
        order.payments.append(Payment(method=applied.method, amount=applied.amount, points=given.points,
                                      tendered=tendered, reference=given.reference, paid_at=at))
        order.paid_amount += applied.amount


def pay_back(uow: UnitOfWork, order: Order, amount: int, at: datetime) -> None:
    """Pay back `amount` fen: the part paid in points goes back as points, in proportion; the rest through
    the money methods the buyer used, newest first."""
    from teahub.loyalty import service as loyalty

    split = money_split(order)
    points_left = split["points_paid"] - split["points_refunded"]
    paid = sum(p.amount for p in order.payments if p.amount > 0)
    in_points = min(points_left, half_up_div(amount * split["points_paid"], paid)) if paid else 0
    if in_points > 0:
        value = loyalty.points_value(uow, 1)
        points = in_points // value
        returned = sum(1 for p in order.payments if p.method == "points" and p.amount < 0)
        order.payments.append(Payment(method="points", amount=-in_points, points=-points, reference=None, paid_at=at))
        loyalty.return_points(uow, order.customer_id or 0, points, f"order:{order.id}:points-back:{returned + 1}",
                              order_id=order.id)
    left = amount - max(in_points, 0)
    for payment in sorted((p for p in order.payments if p.amount > 0 and p.method != "points"),
                          key=lambda p: p.id or 0, reverse=True):
        if left <= 0:
            break
        already = -sum(p.amount for p in order.payments if p.amount < 0 and p.method == payment.method)
        back = min(left, max(payment.amount - already, 0))
        if back:
            order.payments.append(Payment(method=payment.method, amount=-back, reference=None, paid_at=at))
            left -= back
    order.refunded_amount += amount - left


def reserve_lines(uow: UnitOfWork, order: Order) -> None:
    products = catalog.get_products_by_id(uow, {line.product_id for line in order.lines})
    location = inventory.get_location_by_id(uow, order.location_id)
    requests = [StockRequest(products[line.product_id], line.quantity, f"lines.{i}.quantity")
                for i, line in enumerate(order.lines)]
    attach_picks(order, inventory.reserve(uow, location, requests, f"order:{order.id}"), state="reserved")


def held_units(order: Order, state: str) -> list[tuple[LineAllocation, Held]]:
    return [(a, Held(a.product_id, a.location_id, a.batch_id, a.quantity - a.returned_quantity, a.unit_cost))
            for line in order.lines for a in line.allocations if a.state == state]


def ship_goods(uow: UnitOfWork, order: Order) -> None:
    """The reserved units leave the building."""
    held = held_units(order, "reserved")
    inventory.ship(uow, [h for _, h in held], f"order:{order.id}")
    for allocation, _ in held:
        allocation.state = "shipped"


def release_goods(uow: UnitOfWork, order: Order) -> None:
    """The reserved units go back to being available."""
    held = held_units(order, "reserved")
    inventory.release(uow, [h for _, h in held], f"order:{order.id}")
    for allocation, _ in held:
        allocation.state = "released"
