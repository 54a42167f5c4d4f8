"""Applying what a platform says to teahub: its order placed or moved on (via sales), its refunds recorded once
each, its buyer found by their platform ids, and what teahub keeps of the order (receiver as received, sealed).
Runs inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from teahub.catalog import service as catalog
from teahub.catalog.rules import ProductInfo, line_amount
from teahub.channels import rules
from teahub.channels.connectors.base import Connector, PlatformOrder, PlatformRefund
from teahub.channels.models import ChannelOrder, ChannelRefund
from teahub.channels.shops import Mapped, ShopInfo, shop_mappings
from teahub.customers.rules import normalize_identity
from teahub.db.uow import UnitOfWork
from teahub.errors import DomainError, ValidationFailed
from teahub.sales import service as sales
from teahub.sales.schemas import CustomerRef, IdentityRef, LineIn, OrderIn, PaymentIn, RefundIn, RefundLineIn

Mappings = tuple[dict[str, Mapped], dict[str, Mapped]]  # a shop's SKU mappings: by platform SKU id, by code
# An order can be refunded once the buyer has paid.
REFUNDABLE = frozenset({"paid", "allocated", "shipped", "completed"})


@dataclass
class Applied:
    order: dict[str, Any] | None
    created: bool
    notes: list[str]


def held_order(uow: UnitOfWork, shop_id: int, external_id: str) -> ChannelOrder | None:
    return uow.session.scalar(select(ChannelOrder).where(ChannelOrder.shop_id == shop_id,
                                                         ChannelOrder.external_id == external_id).with_for_update())


def known_external_ids(uow: UnitOfWork, shop_id: int, external_ids: list[str]) -> set[str]:
    """Which of these platform orders of a shop teahub holds already."""
    return set(uow.session.scalars(select(ChannelOrder.external_id).where(
        ChannelOrder.shop_id == shop_id, ChannelOrder.external_id.in_(external_ids))))


def apply_order(uow: UnitOfWork, shop: ShopInfo, connector: Connector, po: PlatformOrder) -> Applied:
    held = held_order(uow, shop.id, po.external_id)
    notes: list[str] = []
    created = False
    view: dict[str, Any] | None = None
    if held is not None and held.order_id is not None and rules.is_older(
            version=po.version, modified_at=po.modified_at, held_version=held.version,
            held_modified_at=held.modified_at):
        notes.append("older than what teahub holds: its status was ignored")
    else:
        if held is None:
            # Claimed first: a concurrent twin of this order waits here (or fails and is retried) before sales.
            held = ChannelOrder(shop_id=shop.id, external_id=po.external_id, platform_status=po.platform_status,
                                line_ids=[], created_at=uow.now(), updated_at=uow.now())
            uow.session.add(held)
            uow.session.flush()
        view, created = _place(uow, shop, connector, po, held, notes)
        held.order_id = view["id"]
        if created:
            held.line_ids = [line.line_id for line in po.lines]
        held.platform_status = po.platform_status[:40]
        if po.modified_at is not None and (held.modified_at is None or po.modified_at > held.modified_at):
            held.modified_at = po.modified_at
        if po.version is not None and (held.version is None or po.version > held.version):
            held.version = po.version
        held.buyer_name = po.buyer_name
        held.receiver_name, held.receiver_phone, held.receiver_address = (
            po.receiver.name, po.receiver.phone, po.receiver.address)
        held.updated_at = uow.now()
        uow.session.flush()
    if held is None or held.order_id is None:
        return Applied(None, False, notes)
    for refund in po.refunds:
        note = apply_refund(uow, shop, held, refund)
        if note:
            notes.append(note)
    if view is None or po.refunds:  # ignored as older, or changed by its refunds since placed
        view = sales.get_order(uow, held.order_id)
    return Applied(view, created, notes)


def apply_new_orders(uow: UnitOfWork, shop: ShopInfo, connector: Connector, pos: list[PlatformOrder]
                     ) -> list[Applied | DomainError]:
    """Orders teahub has not seen yet, of one shop, placed together (`sales.place_new_orders`): what a
    batch of pushes mostly is. Each answers what `apply_order` would, or why it failed (the others go on).
    An order carrying refunds already goes the one-by-one way."""
    answers: list[Applied | DomainError | None] = [None] * len(pos)
    batch: list[tuple[int, OrderIn]] = []
    mappings = shop_mappings(uow, shop.id)
    products = catalog.get_products(uow, _candidate_skus(pos, mappings))
    for i, po in enumerate(pos):
        if po.refunds:
            answers[i] = _apply_alone(uow, shop, connector, po)
            continue
        try:
            batch.append((i, _order_in(uow, shop, connector, po, mappings, products)))
        except DomainError as exc:
            answers[i] = exc
    placed = sales.place_new_orders(uow, [data for _, data in batch], caller=f"channel:{shop.code}",
                                    products=products)
    now = uow.now()
    claims = []
    for (i, _data), answer in zip(batch, placed, strict=True):
        if isinstance(answer, DomainError):
            answers[i] = answer
            continue
        view, status = answer
        po = pos[i]
        claims.append(ChannelOrder(
            shop_id=shop.id, external_id=po.external_id, order_id=view["id"], platform_status=po.platform_status[:40],
            line_ids=[line.line_id for line in po.lines] if status == 201 else [], modified_at=po.modified_at,
            version=po.version, buyer_name=po.buyer_name, receiver_name=po.receiver.name,
            receiver_phone=po.receiver.phone, receiver_address=po.receiver.address, created_at=now, updated_at=now))
        answers[i] = Applied(view, status == 201, [])
    uow.session.add_all(claims)
    uow.flush()
    done = [answer for answer in answers if answer is not None]
    assert len(done) == len(pos), "every order is answered"
    return done


def _apply_alone(uow: UnitOfWork, shop: ShopInfo, connector: Connector, po: PlatformOrder) -> Applied | DomainError:
    try:
        with uow.savepoint():
            return apply_order(uow, shop, connector, po)
    except DomainError as exc:
        return exc


def _order_in(uow: UnitOfWork, shop: ShopInfo, connector: Connector, po: PlatformOrder,
              mappings: Mappings | None = None, products: dict[str, ProductInfo] | None = None) -> OrderIn:
    """A platform order seen for the first time, as sales places it."""
    draft = po.status == "cancelled" and not po.paid  # closed before payment: recorded, no stock held
    payments = [PaymentIn(method="platform", amount=po.total, reference=po.external_id[:64])] \
        if po.paid and po.total > 0 and not draft else []
    return OrderIn(channel=connector.channel, location=shop.location, customer=_customer(po),
                   lines=map_lines(uow, shop, connector, po, mappings, products), payments=payments,
                   shipping_fee=po.shipping_fee, external_id=po.external_id, sold_at=po.placed_at,
                   platform_modified_at=po.modified_at, status=po.status, draft=draft)


def _place(uow: UnitOfWork, shop: ShopInfo, connector: Connector, po: PlatformOrder, held: ChannelOrder,
           notes: list[str]) -> tuple[dict[str, Any], bool]:
    caller = f"channel:{shop.code}"
    if held.order_id is None:
        view, status = sales.place_order(uow, _order_in(uow, shop, connector, po), caller=caller)
        return view, status == 201
    current = sales.get_order(uow, held.order_id)
    target = po.status
    if current["status"] == "cancelled" or (target == "cancelled" and current["status"] in ("shipped", "completed")):
        if target != current["status"]:
            notes.append(f"the platform says {po.platform_status}; the order is {current['status']} in teahub")
        target = None
    data = OrderIn(channel=connector.channel, location=shop.location, external_id=po.external_id,
                   lines=[LineIn(sku=line["sku"], quantity=line["quantity"]) for line in current["lines"]],
                   platform_modified_at=_newer(po, current["platform_modified_at"], uow.now()), status=target)
    view, _status = sales.place_order(uow, data, caller=caller)
    return view, False


def _newer(po: PlatformOrder, held: datetime | None, now: datetime) -> datetime:
    """The modified time sales is given for an update found newer here: a newer version with the same modified
    second (Youzan) still moves the order on."""
    modified = po.modified_at or now
    if held is not None and po.version is not None and modified <= held:
        modified = held + timedelta(microseconds=1)
    return modified


def _customer(po: PlatformOrder) -> CustomerRef | None:
    identities = []
    for kind, value in po.identities:
        try:
            identities.append(IdentityRef(kind=kind, value=normalize_identity(kind, value)))
        except (DomainError, ValueError):
            continue  # a buyer id teahub cannot use identifies nobody; the order still comes in
    return CustomerRef(identities=identities) if identities else None


def map_lines(uow: UnitOfWork, shop: ShopInfo, connector: Connector, po: PlatformOrder,
              mappings: Mappings | None = None, products: dict[str, ProductInfo] | None = None) -> list[LineIn]:
    """Each platform line as a teahub line: the SKU by the shop's mapping (platform SKU id or merchant code),
    else the teahub SKU whose code is the merchant code; priced at what the buyer paid for it. `mappings` and
    `products` (covering `_candidate_skus`) when the caller has them."""
    by_id, by_code = mappings = mappings or shop_mappings(uow, shop.id)
    if products is None:
        products = catalog.get_products(uow, _candidate_skus([po], mappings))
    lines = []
    for line in po.lines:
        target = next((by_code[c] for c in line.merchant_codes if c in by_code), None)
        if target is None and line.platform_sku_id is not None:
            target = by_id.get(line.platform_sku_id)
        if target is None:
            target = next((Mapped(c, 1) for c in line.merchant_codes if c in products), None)
        if target is None or target.sku not in products:
            known = ", ".join(filter(None, [
                f"merchant code {'/'.join(line.merchant_codes)}" if line.merchant_codes else "no merchant code",
                f"platform SKU id {line.platform_sku_id}" if line.platform_sku_id else None]))
            raise ValidationFailed(f"unknown SKU: {connector.platform} line {line.line_id} ({line.title}) has {known}; "
                                   "add the SKU to the catalog or map it for this shop",
                                   field=f"{line.field}.{line.code_field}")
        basis = products[target.sku].price_basis
        quantity = line.quantity * target.units_per_item
        gross = max(line.price * line.quantity, line.paid)
        unit_price = -(-gross * basis // quantity)  # rounded up: the line amount is never below what was paid
        amount = line_amount(quantity, unit_price, basis)
        lines.append(LineIn(sku=target.sku, quantity=quantity, unit_price=unit_price, discount=amount - line.paid,
                            external_line_id=line.line_id[:64]))
    return lines


def _candidate_skus(pos: list[PlatformOrder], mappings: Mappings) -> set[str]:
    """The teahub SKUs these orders' lines may be: their merchant codes and the shop's mapped SKUs."""
    by_id, by_code = mappings
    return {code for po in pos for line in po.lines for code in line.merchant_codes} | {
        m.sku for m in (*by_id.values(), *by_code.values())}


def apply_refund(uow: UnitOfWork, shop: ShopInfo, held: ChannelOrder, refund: PlatformRefund) -> str | None:
    """Record a completed platform refund once (by its refund id): units given back line by line for its amount;
    goods come back into stock when the order had not shipped or the buyer returned them."""
    seen = uow.session.scalar(select(ChannelRefund.id).where(ChannelRefund.shop_id == shop.id,
                                                             ChannelRefund.refund_id == refund.refund_id[:64]))
    if seen is not None or held.order_id is None:
        return None
    order = sales.get_order(uow, held.order_id)
    record = ChannelRefund(shop_id=shop.id, refund_id=refund.refund_id[:64], external_id=held.external_id,
                           order_id=held.order_id, amount=refund.amount, refunded=0, created_at=uow.now())
    uow.session.add(record)
    uow.session.flush()  # claims the refund id: a concurrent twin fails here and is retried
    if order["status"] not in REFUNDABLE:
        return f"refund {refund.refund_id}: the order is {order['status']}, nothing to refund"
    line_nos = {i + 1 for i, line_id in enumerate(held.line_ids) if line_id in refund.line_ids}
    left = [rules.LineLeft(line["line_no"], line["sku"], line["quantity"] - line["refunded_quantity"],
                           line["net_amount"] - line["refunded_amount"])
            for line in order["lines"] if not refund.line_ids or line["line_no"] in line_nos]
    shipped = order["status"] in ("shipped", "completed")
    parts = rules.refund_parts(left, refund.amount, units_back=refund.returned or not shipped)
    if not parts:
        return f"refund {refund.refund_id}: nothing left to refund on its lines"
    result = sales.refund(uow, held.order_id, RefundIn(
        lines=[RefundLineIn(sku=part.line.sku, quantity=part.units, amount=part.amount, line_no=part.line.line_no)
               for part in parts],
        reason=f"{shop.platform} refund {refund.refund_id}"[:200], restock=refund.returned or not shipped))
    made = result["refunds"][-1]
    record.sales_refund_id, record.refunded = made["id"], made["amount"]
    if made["amount"] != refund.amount:  # more than the lines had left
        return (f"refund {refund.refund_id}: the platform refunded {refund.amount} fen, teahub recorded "
                f"{made['amount']}, all its lines had left")
    return None
