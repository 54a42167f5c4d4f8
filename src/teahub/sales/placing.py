"""Placing an order on any channel, once: an Idempotency-Key, a POS client id or a platform order id that
was seen before answers the order already made (a newer platform update moves it on)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic_core import to_jsonable_python
from sqlalchemy import func, select, tuple_
from sqlalchemy.exc import IntegrityError

from teahub.catalog import service as catalog
from teahub.catalog.rules import ProductInfo, line_amount, price_for
from teahub.db.base import known_empty
from teahub.db.ids import assign_ids
from teahub.db.uow import UnitOfWork
from teahub.errors import CreditLimitExceeded, DomainError, ValidationFailed
from teahub.inventory import service as inventory
from teahub.inventory.service import LocationInfo, StockRequest
from teahub.loyalty import coupons
from teahub.loyalty import service as loyalty
from teahub.loyalty.coupon_rules import LineForCoupon
from teahub.money import distribute
from teahub.sales import events, rules
from teahub.sales.lifecycle import advance_to
from teahub.sales.models import IdempotencyRecord, Order, OrderLine
from teahub.sales.records import Authorize, attach_picks, bump, record_payments, tenders, transition
from teahub.sales.schemas import OrderIn
from teahub.sales.views import event_payload, location_codes, order_view

if TYPE_CHECKING:
    from teahub.customers.service import CustomerInfo


def place_order(uow: UnitOfWork, data: OrderIn, *, caller: str = "system", idempotency_key: str | None = None,
                authorize: Authorize | None = None, credit_approved_by: str | None = None
                ) -> tuple[dict[str, Any], int]:
    """Create an order, or answer the one this request already made. Answers (order view, HTTP-ish status):
    201 when created, 200 when an earlier identical request, client id or channel order id matched.
    `credit_approved_by` names the manager who approved a B2B order over its customer's credit limit."""
    request_hash = hashlib.sha256(json.dumps(data.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
                                  .encode()).hexdigest() if idempotency_key is not None else ""
    for _attempt in range(3):
        try:
            return _place(uow, data, caller, idempotency_key, request_hash, authorize, credit_approved_by)
        except IntegrityError:
            # A concurrent twin (same key, client id or channel order id) committed first: answer it.
            if not (idempotency_key or data.client_id or data.external_id):
                raise
    raise RuntimeError("order could not be placed after retries")


def create_order(uow: UnitOfWork, data: OrderIn) -> dict[str, Any]:
    """Place an order as the system (demo data, imports, other capabilities)."""
    return place_order(uow, data)[0]


def _place(uow: UnitOfWork, data: OrderIn, caller: str, key: str | None, request_hash: str,
           authorize: Authorize | None, credit_approved_by: str | None) -> tuple[dict[str, Any], int]:
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
            view, status = _create(uow, data, authorize, credit_approved_by), 201
        if record is not None:
            record.response = to_jsonable_python(view)
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


@dataclass
class _Plan:
    """A new order priced and built, not yet written."""

    data: OrderIn
    order: Order
    location: LocationInfo
    priced: list[_PricedLine]
    applied: list[coupons.AppliedCoupon]
    settlement: rules.Settlement | None
    over_limit: bool
    credit_approved_by: str | None

    @property
    def requests(self) -> list[StockRequest]:
        return [StockRequest(p.product, p.quantity, f"lines.{i}.quantity") for i, p in enumerate(self.priced)]


def _create(uow: UnitOfWork, data: OrderIn, authorize: Authorize | None,
            credit_approved_by: str | None = None) -> dict[str, Any]:
    plan = _plan(uow, data, authorize, credit_approved_by)
    order = plan.order
    uow.session.add(order)
    uow.session.flush()
    if plan.applied:
        coupons.redeem(uow, plan.applied, order_id=order.id, customer_id=order.customer_id)
    if not data.draft:
        at_counter = data.channel == "pos"
        # A sale the POS made offline happened: the goods left the store. If the server's stock was sold
        # meanwhile, the sale is recorded with what stock there was, and flagged for a person to review.
        offline = at_counter and data.client_id is not None and data.sold_at is not None
        picks = inventory.reserve(uow, plan.location, plan.requests, f"order:{order.id}", consume=at_counter,
                                  short_ok=offline)
        attach_picks(order, picks, state="shipped" if at_counter else "reserved")
        short = rules.shortfalls(
            [(p.product.sku, p.quantity * (sum(c.quantity for c in p.product.components) if p.product.is_gift_box
                                           else 1)) for p in plan.priced],
            [sum(pick.quantity for pick in line_picks) for line_picks in picks])
        if short:
            order.needs_review = True
            order.review_note = "sold offline while the stock was sold elsewhere; not in stock: " + ", ".join(
                f"{quantity} × {sku}" for sku, quantity in short)
    return _record_created(uow, plan)


def _plan(uow: UnitOfWork, data: OrderIn, authorize: Authorize | None, credit_approved_by: str | None,
          products: dict[str, ProductInfo] | None = None, customer: CustomerInfo | None = None) -> _Plan:
    """`products` and `customer` when the caller found them already."""
    now = uow.now()
    placed_at = data.sold_at or now
    location = _order_location(uow, data)
    if authorize is not None:
        authorize(location.code)
    if customer is None and data.customer is not None:
        from teahub.customers import service as customers

        customer = customers.resolve_customer(uow, data.customer.model_dump(exclude_none=True))
    price_list = loyalty.price_list_for(uow, customer.tier) if customer else "list"
    priced = _price_lines(uow, data, price_list, placed_at, products)
    applied = _apply_coupons(uow, data, priced, customer.id if customer else None)
    shares = distribute(data.discount, [p.amount - p.line_discount for p in priced])
    subtotal = sum(p.amount for p in priced)
    discount = sum(p.line_discount for p in priced) + data.discount
    total = subtotal - discount + data.shipping_fee

    if data.draft and data.payments:
        raise ValidationFailed("a draft (quote) takes no payment", field="payments")
    if data.channel == "pos" and not data.payments:
        raise ValidationFailed("a sale at the counter is paid at once: add payments", field="payments")
    settlement = rules.settle(tenders(uow, data.payments), total) if data.payments else None
    on_credit = data.channel == "b2b" and settlement is None and not data.draft
    over_limit = False
    if on_credit:
        over_limit = _check_credit(uow, customer, total, approved=credit_approved_by is not None)

    order = Order(channel=data.channel, external_id=data.external_id, client_id=data.client_id,
                  status="draft" if data.draft else "confirmed", location_id=location.id,
                  customer_id=customer.id if customer else None, price_list=price_list, subtotal=subtotal,
                  discount=discount, shipping_fee=data.shipping_fee, total=total, paid_amount=0,
                  refunded_amount=0, on_credit=on_credit, needs_review=False, note=data.note, placed_at=placed_at,
                  platform_modified_at=data.platform_modified_at, version=0, created_at=now, updated_at=now,
                  coupon_codes=[a.code for a in applied], coupon_discount=sum(a.discount for a in applied))
    known_empty(order, "lines", "payments", "refunds")
    for i, (p, share) in enumerate(zip(priced, shares, strict=True), start=1):
        line = OrderLine(
            line_no=i, product_id=p.product.id, sku=p.product.sku, name=p.product.name, unit=p.product.unit,
            quantity=p.quantity, unit_price=p.unit_price, price_basis=p.product.price_basis,
            price_list=p.price_list, amount=p.amount, discount=p.line_discount + share,
            net_amount=p.amount - p.line_discount - share, cost=0, refunded_quantity=0, refunded_amount=0,
            returned_cost=0, external_line_id=p.external_line_id)
        known_empty(line, "allocations")
        order.lines.append(line)
    return _Plan(data, order, location, priced, applied, settlement, over_limit, credit_approved_by)


def _record_created(uow: UnitOfWork, plan: _Plan) -> dict[str, Any]:
    """The written order's events, payments, status and audit entry; answers its view."""
    order, data = plan.order, plan.data
    at_counter = data.channel == "pos"
    codes = location_codes(uow, order)
    bump(uow, order, events.CREATED, {
        **event_payload(order, codes),
        "lines": [{"sku": line.sku, "quantity": line.quantity, "net_amount": line.net_amount} for line in order.lines],
    })
    change = 0
    if plan.settlement is not None:
        change = plan.settlement.change
        record_payments(uow, order, data.payments, plan.settlement, order.placed_at)
        transition(uow, order, "paid", codes, at=order.placed_at)
    if at_counter:
        order.shipped_at = order.placed_at
        transition(uow, order, "completed", codes, at=order.placed_at, at_counter=True)
    if data.status is not None and data.status != order.status:
        advance_to(uow, order, data.status, codes, at=order.placed_at)
    if order.needs_review:
        bump(uow, order, events.NEEDS_REVIEW, {**event_payload(order, codes), "reason": order.review_note})
    view = order_view(order, codes, change=change)
    uow.audit("order.created", "order", order.id, None, view)
    if plan.over_limit:
        uow.audit("order.credit_limit_overridden", "order", order.id, None,
                  {"approved_by": plan.credit_approved_by, "total": order.total, "customer_id": order.customer_id})
    return view


# -- many new channel orders at once -------------------------------------------------------------------------
# Statuses a batch reaches with nothing more than reserving: further ones (shipped, …) take the one-by-one path.
_BATCH_STATUSES = frozenset({None, "confirmed", "paid"})


def batchable(data: OrderIn) -> bool:
    """Whether `place_new_orders` places this order itself: a new paid or confirmed channel order that needs
    none of what only the one-by-one path does (counter, credit, drafts, coupons, points, client ids)."""
    return (data.external_id is not None and data.client_id is None and data.channel not in ("pos", "b2b")
            and not data.draft and not data.coupons and data.status in _BATCH_STATUSES
            and all(p.method != "points" for p in data.payments))


def place_new_orders(uow: UnitOfWork, orders: list[OrderIn], *, caller: str = "system",
                     products: dict[str, ProductInfo] | None = None
                     ) -> list[tuple[dict[str, Any], int] | DomainError]:
    """Many channel orders at once (a batch from the marketplaces), with the same rules, records, events and
    audit as `place_order`, written set-wise: the orders, lines, batches and payments in a few statements and the
    stock of all of them reserved under one lock (`products`: the catalog entries of their SKUs, when the caller
    has them). Answers per order (view, 201), or (view, 200) when the channel
    order exists already, or why it could not be placed; one order's error leaves the others placed. Orders that
    are not `batchable` are placed one by one."""
    answers: list[tuple[dict[str, Any], int] | DomainError | None] = [None] * len(orders)
    with uow:
        known = _existing_channel_orders(uow, [o for o in orders if o.external_id is not None])
        if products is None:
            products = catalog.get_products(uow, {line.sku for data in orders for line in data.lines})
        chosen: list[int] = []
        for i, data in enumerate(orders):
            if not batchable(data) or (data.channel, data.external_id) in known:
                answers[i] = _one(uow, data, caller)
            elif (unsold := _unsold_line(data, products)) is not None:
                answers[i] = unsold  # refused before its buyer is looked up or made
            else:
                chosen.append(i)
        from teahub.customers import service as customers

        buyers = {i: ref.model_dump(exclude_none=True) for i in chosen if (ref := orders[i].customer) is not None}
        found = dict(zip(buyers, customers.resolve_customers(uow, list(buyers.values())), strict=True))
        plans: list[tuple[int, _Plan]] = []
        for i in chosen:
            customer = found.get(i)
            if isinstance(customer, DomainError):
                answers[i] = customer
                continue
            try:
                plans.append((i, _plan(uow, orders[i], None, None, products, customer)))
            except DomainError as exc:
                answers[i] = exc
        reserved = inventory.reserve_many(uow, [(plan.location, plan.requests) for _, plan in plans],
                                          f"orders from {caller}")
        placed = []
        for (i, plan), picks in zip(plans, reserved, strict=True):
            if isinstance(picks, DomainError):
                answers[i] = picks
                continue
            attach_picks(plan.order, picks, state="reserved")
            placed.append((i, plan))
        uow.session.add_all([plan.order for _, plan in placed])
        assign_ids(uow.session)
        if any(getattr(row, "id", 0) is None for row in uow.session.new):
            uow.session.flush()  # the records below name the new rows by id: the database gives them here
        # (with ids given up front, the orders are written once, as they end up, when the batch commits)
        for i, plan in placed:
            answers[i] = (_record_created(uow, plan), 201)
        uow.commit()
    done = [answer for answer in answers if answer is not None]
    assert len(done) == len(orders), "every order is answered"
    return done


def _unsold_line(data: OrderIn, products: dict[str, ProductInfo]) -> ValidationFailed | None:
    """Why the order cannot be sold: the first line whose SKU is unknown or no longer sold."""
    for i, line in enumerate(data.lines):
        product = products.get(line.sku)
        if product is None:
            return ValidationFailed(f"unknown SKU {line.sku}", field=f"lines.{i}.sku")
        if not product.active:
            return ValidationFailed(f"{line.sku} is no longer sold", field=f"lines.{i}.sku")
    return None


def _existing_channel_orders(uow: UnitOfWork, orders: list[OrderIn]) -> set[tuple[str, str]]:
    if not orders:
        return set()
    found = uow.session.execute(select(Order.channel, Order.external_id).where(
        tuple_(Order.channel, Order.external_id).in_([(o.channel, o.external_id) for o in orders])))
    return {(channel, external_id) for channel, external_id in found}


def _one(uow: UnitOfWork, data: OrderIn, caller: str) -> tuple[dict[str, Any], int] | DomainError:
    try:
        with uow.savepoint():
            return place_order(uow, data, caller=caller)
    except DomainError as exc:
        return exc


def _apply_coupons(uow: UnitOfWork, data: OrderIn, priced: list[_PricedLine], customer_id: int | None
                   ) -> list[coupons.AppliedCoupon]:
    """Coupons come off the lines they cover, after each line's own discount and before the order's."""
    if not data.coupons:
        return []
    if data.draft:
        raise ValidationFailed("coupons are used when the order is placed, not on a draft", field="coupons")
    lines = [LineForCoupon(p.product.sku, p.product.category, p.amount - p.line_discount) for p in priced]
    applied = coupons.price(uow, data.coupons, customer_id=customer_id, channel=data.channel, lines=lines)
    for coupon in applied:
        for p, off in zip(priced, coupon.per_line, strict=True):
            p.line_discount += off
    if data.discount > sum(p.amount - p.line_discount for p in priced):
        raise ValidationFailed("the discount exceeds what is left after the coupons", field="discount")
    return applied


def _order_location(uow: UnitOfWork, data: OrderIn) -> LocationInfo:
    if data.location is None:
        if data.channel == "pos":
            raise ValidationFailed("a sale at the counter names its store", field="location")
        return inventory.default_warehouse(uow)
    location = inventory.get_location(uow, data.location)
    if data.channel == "pos" and location.kind != "store":
        raise ValidationFailed(f"{location.code} is a {location.kind}, not a store", field="location")
    return location


def _price_lines(uow: UnitOfWork, data: OrderIn, price_list: str, at: datetime,
                 products: dict[str, ProductInfo] | None = None) -> list[_PricedLine]:
    if products is None:
        products = catalog.get_products(uow, {line.sku for line in data.lines})
    if (unsold := _unsold_line(data, products)) is not None:
        raise unsold
    priced = []
    for i, line in enumerate(data.lines):
        product = products[line.sku]
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


def _check_credit(uow: UnitOfWork, customer: Any, total: int, *, approved: bool = False) -> bool:
    """Refuse a B2B order on credit beyond the customer's limit, unless a manager approved it.
    Answers whether the order goes over the limit."""
    if customer is None:
        raise ValidationFailed("a B2B order on credit needs its customer", field="customer")
    from teahub.customers import service as customers

    customers.lock_customer(uow, customer.id)  # concurrent orders of one customer check credit in turn
    if customer.credit_limit is None and not approved:
        raise CreditLimitExceeded("this customer has no credit: pay the order now", field="customer",
                                  credit_limit=0, outstanding=0)
    outstanding = uow.session.scalar(
        select(func.coalesce(func.sum(Order.total - Order.paid_amount), 0))
        .where(Order.customer_id == customer.id, Order.on_credit.is_(True), Order.status != "cancelled",
               Order.status != "draft")
    ) or 0
    limit = customer.credit_limit or 0
    over = outstanding + total > limit
    if over and not approved:
        raise CreditLimitExceeded(
            f"over credit limit: {outstanding} fen outstanding + {total} for this order > {limit}",
            field="customer", credit_limit=limit, outstanding=int(outstanding))
    return over


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
            advance_to(uow, order, data.status, codes, at=data.platform_modified_at or uow.now())
        uow.audit("order.updated_from_channel", "order", order.id, {"status": before}, {"status": order.status})
    return order_view(order, codes)
