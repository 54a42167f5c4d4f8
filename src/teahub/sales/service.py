"""Sales use cases: placing an order on any channel, and moving it through its lifecycle.

One order = one transaction: the order, its stock reservations (or, at the counter, the stock leaving),
its payments, events and audit entry are written together or not at all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from teahub.catalog import service as catalog
from teahub.catalog.rules import ProductInfo, line_amount, price_for
from teahub.db.uow import UnitOfWork
from teahub.errors import CreditLimitExceeded, InvalidTransition, NotFound, ValidationFailed
from teahub.inventory import service as inventory
from teahub.inventory.rules import Pick
from teahub.inventory.service import Held, LocationInfo, StockRequest
from teahub.sales import events, rules
from teahub.sales.models import IdempotencyRecord, LineAllocation, Order, OrderLine, Payment
from teahub.sales.schemas import OrderIn, PaymentIn
from teahub.sales.views import event_payload, json_view, location_codes, order_view

MARKETPLACES = frozenset({"tmall", "taobao", "jd", "pdd", "douyin"})
PRICE_LIST_BY_TIER = {"member": "member", "vip": "vip"}
Authorize = Callable[[str], None]


# -- placing an order ----------------------------------------------------------------------------------


def place_order(uow: UnitOfWork, data: OrderIn, *, caller: str = "system", idempotency_key: str | None = None,
                authorize: Authorize | None = None) -> tuple[dict[str, Any], int]:
    """Create an order, or answer the one this request already made. Answers (order view, HTTP-ish status):
    201 when created, 200 when an earlier identical request, client id or channel order id matched."""
    request_hash = hashlib.sha256(
        json.dumps(data.model_dump(mode="json"), sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    for _attempt in range(3):
        try:
            return _place(uow, data, caller, idempotency_key, request_hash, authorize)
        except IntegrityError:
            # A concurrent twin (same key, client id or channel order id) committed first: answer it.
            if not (idempotency_key or data.client_id or data.external_id):
                raise
    raise RuntimeError("order could not be placed after retries")


def create_order(uow: UnitOfWork, data: OrderIn) -> dict[str, Any]:
    """Place an order as the system (demo data, imports, other capabilities)."""
    return place_order(uow, data)[0]


def _place(uow: UnitOfWork, data: OrderIn, caller: str, key: str | None, request_hash: str,
           authorize: Authorize | None) -> tuple[dict[str, Any], int]:
    with uow:
        session = uow.session
        record = None
        if key is not None:
            record = session.get(IdempotencyRecord, (caller, key))
            if record is not None:
                if record.request_hash != request_hash:
                    raise ValidationFailed("this Idempotency-Key was used with another request body",
                                           field="Idempotency-Key")
                return record.response, record.status_code
            record = IdempotencyRecord(caller=caller, key=key, request_hash=request_hash, status_code=0,
                                       response={}, created_at=uow.now())
            session.add(record)
            session.flush()  # claims the key now: a concurrent twin waits here, then finds our answer
        existing = _find_existing(uow, data)
        if existing is not None:
            view, status = _update_existing(uow, existing, data), 200
        else:
            view, status = _create(uow, data, authorize), 201
        if record is not None:
            record.response = json_view(view)
            record.status_code = status
        uow.commit()
        return view, status


def _find_existing(uow: UnitOfWork, data: OrderIn) -> Order | None:
    if data.client_id is not None:
        found = uow.session.scalar(select(Order).where(Order.client_id == data.client_id).with_for_update())
        if found is not None:
            return found
    if data.external_id is not None:
        return uow.session.scalar(select(Order).where(Order.channel == data.channel,
                                                      Order.external_id == data.external_id).with_for_update())
    return None


@dataclass
class _PricedLine:
    product: ProductInfo
    quantity: int
    unit_price: int
    price_list: str
    amount: int
    line_discount: int
    external_line_id: str | None


def _create(uow: UnitOfWork, data: OrderIn, authorize: Authorize | None) -> dict[str, Any]:
    now = uow.now()
    placed_at = data.sold_at or now
    location = _order_location(uow, data)
    if authorize is not None:
        authorize(location.code)
    customer = None
    if data.customer is not None:
        from teahub.customers import service as customers

        customer = customers.resolve_customer(uow, data.customer.model_dump(exclude_none=True))
    price_list = PRICE_LIST_BY_TIER.get(customer.tier or "", "list") if customer else "list"
    priced = _price_lines(uow, data, price_list, placed_at)
    shares = rules.distribute(data.discount, [p.amount - p.line_discount for p in priced])
    subtotal = sum(p.amount for p in priced)
    discount = sum(p.line_discount for p in priced) + data.discount
    total = subtotal - discount + data.shipping_fee

    if data.draft and data.payments:
        raise ValidationFailed("a draft (quote) takes no payment", field="payments")
    at_counter = data.channel == "pos"
    if at_counter and not data.payments:
        raise ValidationFailed("a sale at the counter is paid at once: add payments", field="payments")
    settlement = rules.settle([rules.Tender(p.method, p.amount) for p in data.payments], total) \
        if data.payments else None
    on_credit = data.channel == "b2b" and settlement is None and not data.draft
    if on_credit:
        _check_credit(uow, customer, total)

    order = Order(channel=data.channel, external_id=data.external_id, client_id=data.client_id,
                  status="draft" if data.draft else "confirmed", location_id=location.id,
                  customer_id=customer.id if customer else None, price_list=price_list, subtotal=subtotal,
                  discount=discount, shipping_fee=data.shipping_fee, total=total, paid_amount=0,
                  refunded_amount=0, on_credit=on_credit, needs_review=False, note=data.note, placed_at=placed_at,
                  platform_modified_at=data.platform_modified_at, version=0, created_at=now, updated_at=now,
                  lines=[], payments=[], refunds=[])
    for i, (p, share) in enumerate(zip(priced, shares, strict=True), start=1):
        order.lines.append(OrderLine(
            line_no=i, product_id=p.product.id, sku=p.product.sku, name=p.product.name, unit=p.product.unit,
            quantity=p.quantity, unit_price=p.unit_price, price_basis=p.product.price_basis,
            price_list=p.price_list, amount=p.amount, discount=p.line_discount + share,
            net_amount=p.amount - p.line_discount - share, cost=0, refunded_quantity=0, refunded_amount=0,
            returned_cost=0, external_line_id=p.external_line_id, allocations=[]))
    uow.session.add(order)
    uow.session.flush()
    reference = f"order:{order.id}"
    if not data.draft:
        requests = [StockRequest(p.product, p.quantity, f"lines.{i}.quantity") for i, p in enumerate(priced)]
        picks = inventory.reserve(uow, location, requests, reference, consume=at_counter)
        _attach(order, picks, state="shipped" if at_counter else "reserved")
    codes = location_codes(uow, order)
    _bump(uow, order, events.CREATED, {
        **event_payload(order, codes),
        "lines": [{"sku": line.sku, "quantity": line.quantity, "net_amount": line.net_amount} for line in order.lines],
    })
    change = 0
    if settlement is not None:
        change = settlement.change
        _record_payments(order, data.payments, settlement, placed_at)
        _transition(uow, order, "paid", codes, at=placed_at)
    if at_counter:
        order.shipped_at = placed_at
        _transition(uow, order, "completed", codes, at=placed_at, at_counter=True)
    if data.status is not None and data.status != order.status:
        _advance(uow, order, data.status, codes, at=placed_at)
    view = order_view(order, codes, change=change)
    uow.audit("order.created", "order", order.id, None, json_view(view))
    return view


def _order_location(uow: UnitOfWork, data: OrderIn) -> LocationInfo:
    if data.location is None:
        if data.channel == "pos":
            raise ValidationFailed("a sale at the counter names its store", field="location")
        return inventory.default_warehouse(uow)
    location = inventory.get_location(uow, data.location)
    if data.channel == "pos" and location.kind != "store":
        raise ValidationFailed(f"{location.code} is a {location.kind}, not a store", field="location")
    return location


def _price_lines(uow: UnitOfWork, data: OrderIn, price_list: str, at: datetime) -> list[_PricedLine]:
    products = catalog.get_products(uow, {line.sku for line in data.lines})
    priced = []
    for i, line in enumerate(data.lines):
        product = products.get(line.sku)
        if product is None:
            raise ValidationFailed(f"unknown SKU {line.sku}", field=f"lines.{i}.sku")
        if not product.active:
            raise ValidationFailed(f"{line.sku} is no longer sold", field=f"lines.{i}.sku")
        if line.unit_price is not None:
            if data.channel == "pos":
                raise ValidationFailed("at the counter the price list sets the price", field=f"lines.{i}.unit_price")
            unit_price, used = line.unit_price, "agreed"
        else:
            unit_price, used = price_for(product, price_list, at)
        amount = line_amount(line.quantity, unit_price, product.price_basis)
        if line.discount > amount:
            raise ValidationFailed("the discount exceeds the line amount", field=f"lines.{i}.discount")
        priced.append(_PricedLine(product, line.quantity, unit_price, used, amount, line.discount,
                                  line.external_line_id))
    if data.discount > sum(p.amount - p.line_discount for p in priced):
        raise ValidationFailed("the discount exceeds the order amount", field="discount")
    return priced


def _check_credit(uow: UnitOfWork, customer: Any, total: int) -> None:
    if customer is None:
        raise ValidationFailed("a B2B order on credit needs its customer", field="customer")
    from teahub.customers import service as customers

    customers.lock_customer(uow, customer.id)  # concurrent orders of one customer check credit in turn
    if customer.credit_limit is None:
        raise CreditLimitExceeded("this customer has no credit: pay the order now", field="customer",
                                  credit_limit=0, outstanding=0)
    outstanding = uow.session.scalar(
        select(func.coalesce(func.sum(Order.total - Order.paid_amount), 0))
        .where(Order.customer_id == customer.id, Order.on_credit.is_(True), Order.status != "cancelled",
               Order.status != "draft")
    ) or 0
    if outstanding + total > customer.credit_limit:
        raise CreditLimitExceeded(
            f"over credit limit: {outstanding} fen outstanding + {total} for this order > {customer.credit_limit}",
            field="customer", credit_limit=customer.credit_limit, outstanding=int(outstanding))


def _attach(order: Order, picks: list[list[Pick]], state: str) -> None:
    for line, line_picks in zip(order.lines, picks, strict=True):
        _attach_line(line, line_picks, state)


def _attach_line(line: OrderLine, picks: list[Pick], state: str) -> None:
    for pick in picks:
        line.allocations.append(LineAllocation(
            product_id=pick.product_id, sku=pick.sku, batch_id=pick.batch_id, batch_code=pick.batch_code,
            location_id=pick.location_id, quantity=pick.quantity, unit_cost=pick.unit_cost, state=state,
            returned_quantity=0))
        line.cost += pick.quantity * pick.unit_cost


def _record_payments(order: Order, payments: list[PaymentIn], settlement: rules.Settlement, at: datetime) -> None:
    for given, applied in zip(payments, settlement.applied, strict=True):
        if applied.amount == 0:
            continue
        order.payments.append(Payment(method=applied.method, amount=applied.amount,
                                      tendered=given.amount if given.amount != applied.amount else None,
                                      reference=given.reference, paid_at=at))
        order.paid_amount += applied.amount


def _bump(uow: UnitOfWork, order: Order, event_type: str, payload: dict[str, Any],
          at: datetime | None = None) -> None:
    order.version += 1
    order.updated_at = uow.now()
    uow.record_event(event_type, "order", order.id, payload, version=order.version, occurred_at=at)


def _transition(uow: UnitOfWork, order: Order, target: str, codes: dict[int, str], *, at: datetime | None = None,
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
    _bump(uow, order, events.status_event(target), event_payload(order, codes), at=moment)


# -- the lifecycle -------------------------------------------------------------------------------------


def _load(uow: UnitOfWork, order_id: int, authorize: Authorize | None) -> tuple[Order, dict[int, str]]:
    order = uow.session.scalar(select(Order).where(Order.id == order_id).with_for_update()
                               .execution_options(populate_existing=True))
    if order is None:
        raise NotFound(f"no order {order_id}", field="id")
    codes = location_codes(uow, order)
    if authorize is not None:
        authorize(codes[order.location_id])
    return order, codes


def _finish(uow: UnitOfWork, order: Order, codes: dict[int, str], action: str, before: str) -> dict[str, Any]:
    view = order_view(order, codes)
    uow.audit(action, "order", order.id, {"status": before}, {"status": order.status, "version": order.version})
    uow.commit()
    return view


def confirm(uow: UnitOfWork, order_id: int, authorize: Authorize | None = None) -> dict[str, Any]:
    """A draft (quote) becomes an order: its stock is reserved."""
    with uow:
        order, codes = _load(uow, order_id, authorize)
        before = order.status
        rules.check_transition(order.status, "confirmed")
        _reserve_lines(uow, order)
        _transition(uow, order, "confirmed", codes)
        return _finish(uow, order, codes, "order.confirmed", before)


def _reserve_lines(uow: UnitOfWork, order: Order) -> None:
    products = catalog.get_products_by_id(uow, {line.product_id for line in order.lines})
    location = inventory.get_location_by_id(uow, order.location_id)
    requests = [StockRequest(products[line.product_id], line.quantity, f"lines.{i}.quantity")
                for i, line in enumerate(order.lines)]
    _attach(order, inventory.reserve(uow, location, requests, f"order:{order.id}"), state="reserved")


def pay(uow: UnitOfWork, order_id: int, payments: list[PaymentIn], authorize: Authorize | None = None
        ) -> dict[str, Any]:
    with uow:
        order, codes = _load(uow, order_id, authorize)
        before = order.status
        due = order.total - order.paid_amount
        if order.status in ("draft", "cancelled") or due <= 0:
            raise InvalidTransition(f"an order that is {order.status} with {due} fen due takes no payment",
                                    field="status")
        settlement = rules.settle([rules.Tender(p.method, p.amount) for p in payments], due)
        _record_payments(order, payments, settlement, uow.now())
        if order.status == "confirmed":
            _transition(uow, order, "paid", codes)
        else:  # on credit: settled after it shipped
            _bump(uow, order, events.PAYMENT_RECEIVED, event_payload(order, codes))
        view = _finish(uow, order, codes, "order.paid", before)
        view["change"] = settlement.change
        return view


def allocate(uow: UnitOfWork, order_id: int, authorize: Authorize | None = None) -> dict[str, Any]:
    """The reserved batches are fixed for picking; a batch that expired since is swapped for a good one."""
    with uow:
        order, codes = _load(uow, order_id, authorize)
        before = order.status
        rules.check_transition(order.status, "allocated", on_credit=order.on_credit)
        _swap_expired(uow, order)
        _transition(uow, order, "allocated", codes)
        return _finish(uow, order, codes, "order.allocated", before)


def _held(order: Order, state: str) -> list[tuple[LineAllocation, Held]]:
    return [(a, Held(a.product_id, a.location_id, a.batch_id, a.quantity - a.returned_quantity, a.unit_cost))
            for line in order.lines for a in line.allocations if a.state == state]


def _swap_expired(uow: UnitOfWork, order: Order) -> None:
    held = _held(order, "reserved")
    swaps = inventory.reallocate_expired(uow, [h for _, h in held], f"order:{order.id}")
    for old, picks in swaps:
        for allocation, h in held:
            if h == old and allocation.state == "reserved":
                allocation.state = "released"
                line = next(line for line in order.lines if allocation in line.allocations)
                line.cost -= h.quantity * h.unit_cost
                _attach_line(line, picks, "reserved")
                break


def ship(uow: UnitOfWork, order_id: int, authorize: Authorize | None = None) -> dict[str, Any]:
    """The goods leave: stock moves out of the allocated batches."""
    with uow:
        order, codes = _load(uow, order_id, authorize)
        before = order.status
        rules.check_transition(order.status, "shipped", on_credit=order.on_credit)
        held = _held(order, "reserved")
        inventory.ship(uow, [h for _, h in held], f"order:{order.id}")
        for allocation, _ in held:
            allocation.state = "shipped"
        _transition(uow, order, "shipped", codes)
        return _finish(uow, order, codes, "order.shipped", before)


def complete(uow: UnitOfWork, order_id: int, authorize: Authorize | None = None) -> dict[str, Any]:
    with uow:
        order, codes = _load(uow, order_id, authorize)
        before = order.status
        _transition(uow, order, "completed", codes)
        return _finish(uow, order, codes, "order.completed", before)


def cancel(uow: UnitOfWork, order_id: int, reason: str | None = None, authorize: Authorize | None = None
           ) -> dict[str, Any]:
    """Cancel before shipment: reservations are released and what was paid is paid back."""
    with uow:
        order, codes = _load(uow, order_id, authorize)
        before = order.status
        rules.check_transition(order.status, "cancelled", on_credit=order.on_credit)
        held = _held(order, "reserved")
        inventory.release(uow, [h for _, h in held], f"order:{order.id}")
        for allocation, _ in held:
            allocation.state = "released"
        _pay_back(order, order.paid_amount - order.refunded_amount, uow.now())
        if reason:
            order.note = f"{order.note}\n{reason}" if order.note else reason
        _transition(uow, order, "cancelled", codes)
        return _finish(uow, order, codes, "order.cancelled", before)


def _pay_back(order: Order, amount: int, at: datetime) -> None:
    """Pay back through the methods the buyer used, newest first."""
    left = amount
    for payment in sorted((p for p in order.payments if p.amount > 0), key=lambda p: p.id or 0, reverse=True):
        if left <= 0:
            break
        already = -sum(p.amount for p in order.payments if p.amount < 0 and p.method == payment.method)
        back = min(left, max(payment.amount - already, 0))
        if back:
            order.payments.append(Payment(method=payment.method, amount=-back, reference=None, paid_at=at))
            left -= back
    order.refunded_amount += amount - left


def _advance(uow: UnitOfWork, order: Order, target: str, codes: dict[int, str], *, at: datetime) -> None:
    """Bring a channel order to the status its platform reports, step by step along the lifecycle."""
    for step in rules.path_to(order.status, target):
        if step == "paid" and order.paid_amount < order.total:
            if order.channel not in MARKETPLACES:
                raise ValidationFailed(f"an order can only be {target} once paid: add payments", field="status")
            order.payments.append(Payment(method="platform", amount=order.total - order.paid_amount,
                                          reference=order.external_id, paid_at=at))
            order.paid_amount = order.total
        if step == "confirmed":
            _reserve_lines(uow, order)
        if step == "shipped":
            held = _held(order, "reserved")
            inventory.ship(uow, [h for _, h in held], f"order:{order.id}")
            for allocation, _ in held:
                allocation.state = "shipped"
        if step == "cancelled":
            held = _held(order, "reserved")
            inventory.release(uow, [h for _, h in held], f"order:{order.id}")
            for allocation, _ in held:
                allocation.state = "released"
            _pay_back(order, order.paid_amount - order.refunded_amount, at)
        _transition(uow, order, step, codes, at=at)


def _update_existing(uow: UnitOfWork, order: Order, data: OrderIn) -> dict[str, Any]:
    """The same channel order again: apply its newer status; an older platform update is ignored."""
    codes = location_codes(uow, order)
    newer = (data.platform_modified_at is not None and
             (order.platform_modified_at is None or data.platform_modified_at > order.platform_modified_at))
    if newer and data.channel == order.channel and data.external_id == order.external_id:
        before = order.status
        order.platform_modified_at = data.platform_modified_at
        if data.status is not None and data.status != order.status and \
                (data.status == "cancelled" or data.status in rules.PATH):
            _advance(uow, order, data.status, codes, at=data.platform_modified_at or uow.now())
        uow.audit("order.updated_from_channel", "order", order.id, {"status": before}, {"status": order.status})
    return order_view(order, codes)


# -- merging customers --------------------------------------------------------------------------------------


def reassign_orders(uow: UnitOfWork, from_customer_id: int, to_customer_id: int) -> list[int]:
    """Move every order of one customer to another (customer merge); answers the moved order ids."""
    with uow:
        ids = list(uow.session.scalars(select(Order.id).where(Order.customer_id == from_customer_id)
                                       .order_by(Order.id)))
        move_orders(uow, ids, to_customer_id)
        uow.commit()
        return ids


def move_orders(uow: UnitOfWork, order_ids: list[int], to_customer_id: int) -> None:
    """Attach exactly these orders to a customer (a merge, or its reversal); each order records the change."""
    if not order_ids:
        return
    with uow:
        orders = list(uow.session.scalars(select(Order).where(Order.id.in_(order_ids)).order_by(Order.id)
                                          .with_for_update()))
        codes = location_codes(uow, *orders)
        for order in orders:
            previous, order.customer_id = order.customer_id, to_customer_id
            _bump(uow, order, events.CUSTOMER_CHANGED,
                  {**event_payload(order, codes), "previous_customer_id": previous})
        uow.commit()
