"""How orders are shown: the full order with lines, batches, payments, refunds and profit; and lists."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from teahub.db.uow import UnitOfWork
from teahub.errors import Forbidden, NotFound
from teahub.inventory import service as inventory
from teahub.sales.models import Order, OrderLine


def order_number(order_id: int) -> str:
    return f"SO{order_id:08d}"


def location_codes(uow: UnitOfWork, *orders: Order) -> dict[int, str]:
    """Codes of the locations these orders (and their batches) are at; all locations when none given."""
    if not orders:
        return {loc["id"]: loc["code"] for loc in inventory.list_locations(uow)}
    ids = {o.location_id for o in orders} | {a.location_id for o in orders for line in o.lines
                                             for a in line.allocations}
    return inventory.location_codes(uow, ids)


def line_view(line: OrderLine, codes: dict[int, str]) -> dict[str, Any]:
    cost = line.cost - line.returned_cost
    return {
        "line_no": line.line_no, "sku": line.sku, "name": line.name, "unit": line.unit,
        "quantity": line.quantity, "unit_price": line.unit_price, "price_basis": line.price_basis,
        "price_list": line.price_list, "amount": line.amount, "discount": line.discount,
        "net_amount": line.net_amount, "cost": cost,
        "gross_profit": line.net_amount - line.refunded_amount - cost,
        "refunded_quantity": line.refunded_quantity, "refunded_amount": line.refunded_amount,
        "batches": [
            {"sku": a.sku, "batch_code": a.batch_code, "location": codes.get(a.location_id, str(a.location_id)),
             "quantity": a.quantity, "unit_cost": a.unit_cost, "state": a.state,
             "returned_quantity": a.returned_quantity}
            for a in line.allocations
        ],
    }


def order_view(order: Order, codes: dict[int, str], *, change: int = 0) -> dict[str, Any]:
    lines = [line_view(line, codes) for line in order.lines]
    lines_by_id = {line.id: line for line in order.lines}
    cost = sum(v["cost"] for v in lines)
    return {
        "id": order.id, "number": order_number(order.id), "channel": order.channel,
        "external_id": order.external_id, "client_id": order.client_id, "status": order.status,
        "location": codes.get(order.location_id, str(order.location_id)), "customer_id": order.customer_id,
        "price_list": order.price_list, "subtotal": order.subtotal, "discount": order.discount,
        "coupons": list(order.coupon_codes or []), "coupon_discount": order.coupon_discount,
        "shipping_fee": order.shipping_fee, "total": order.total, "paid_amount": order.paid_amount,
        "refunded_amount": order.refunded_amount,
        "balance_due": max(order.total - order.paid_amount, 0) if order.status != "cancelled" else 0,
        "change": change, "on_credit": order.on_credit, "needs_review": order.needs_review,
        "review_note": order.review_note,
        "cost": cost, "gross_profit": order.total - order.shipping_fee - order.refunded_amount - cost
        if order.status != "cancelled" else 0,
        "placed_at": order.placed_at, "paid_at": order.paid_at, "shipped_at": order.shipped_at,
        "carrier": order.carrier, "tracking_no": order.tracking_no,
        "completed_at": order.completed_at, "cancelled_at": order.cancelled_at,
        "platform_modified_at": order.platform_modified_at, "note": order.note, "version": order.version,
        "lines": lines,
        "payments": [{"method": p.method, "amount": p.amount, "points": p.points, "tendered": p.tendered,
                      "reference": p.reference, "paid_at": p.paid_at} for p in order.payments],
        "refunds": [
            {"id": r.id, "amount": r.amount, "reason": r.reason, "restock": r.restock, "created_at": r.created_at,
             "lines": [{"line_no": lines_by_id[rl.line_id].line_no, "sku": lines_by_id[rl.line_id].sku,
                        "quantity": rl.quantity, "amount": rl.amount} for rl in r.lines]}
            for r in order.refunds
        ],
    }


def money_split(order: Order) -> dict[str, int]:
    """What was paid and paid back, in money and in points (fen), over the order's life."""
    cash = [p.amount for p in order.payments if p.method != "points"]
    points = [p.amount for p in order.payments if p.method == "points"]
    return {"cash_paid": sum(a for a in cash if a > 0), "cash_refunded": -sum(a for a in cash if a < 0),
            "points_paid": sum(a for a in points if a > 0), "points_refunded": -sum(a for a in points if a < 0)}


def event_payload(order: Order, codes: dict[int, str]) -> dict[str, Any]:
    return {"id": order.id, "number": order_number(order.id), "channel": order.channel,
            "external_id": order.external_id, "status": order.status, "customer_id": order.customer_id,
            "location": codes.get(order.location_id), "total": order.total, "paid_amount": order.paid_amount,
            "refunded_amount": order.refunded_amount,
            "balance_due": max(order.total - order.paid_amount, 0) if order.status != "cancelled" else 0,
            "carrier": order.carrier, "tracking_no": order.tracking_no, **money_split(order)}


def customer_spend(uow: UnitOfWork, customer_id: int, since: datetime) -> int:
    """What a customer spent (paid, less refunds) on orders placed since a moment: for member tiers."""
    with uow.reading():
        spent = uow.session.scalar(
            select(func.coalesce(func.sum(Order.paid_amount - Order.refunded_amount), 0))
            .where(Order.customer_id == customer_id, Order.placed_at >= since,
                   Order.status.in_(("paid", "allocated", "shipped", "completed"))))
        return int(spent or 0)


def get_order(uow: UnitOfWork, order_id: int, scope: frozenset[str] | None = None) -> dict[str, Any]:
    with uow.reading():
        order = uow.session.get(Order, order_id)
        if order is None:
            raise NotFound(f"no order {order_id}", field="id")
        codes = location_codes(uow, order)
        if scope is not None and codes.get(order.location_id) not in scope:
            raise Forbidden("this order belongs to a store you may not act for")
        return order_view(order, codes)


def list_orders(uow: UnitOfWork, *, channel: str | None = None, status: str | None = None,
                location: str | None = None, customer_id: int | None = None, since: datetime | None = None,
                until: datetime | None = None, needs_review: bool | None = None, external_id: str | None = None,
                scope: frozenset[str] | None = None, before_id: int | None = None, limit: int = 50
                ) -> list[dict[str, Any]]:
    """Newest first."""
    with uow.reading():
        codes = location_codes(uow)
        ids_by_code = {code: lid for lid, code in codes.items()}
        stmt = select(Order.id, Order.channel, Order.external_id, Order.status, Order.location_id,
                      Order.customer_id, Order.total, Order.paid_amount, Order.refunded_amount,
                      Order.needs_review, Order.placed_at)
        if before_id:
            stmt = stmt.where(Order.id < before_id)
        if channel:
            stmt = stmt.where(Order.channel == channel)
        if status:
            stmt = stmt.where(Order.status == status)
        if location:
            stmt = stmt.where(Order.location_id == ids_by_code.get(location, -1))
        if scope is not None:
            stmt = stmt.where(Order.location_id.in_([ids_by_code[c] for c in scope if c in ids_by_code]))
        if customer_id is not None:
            stmt = stmt.where(Order.customer_id == customer_id)
        if since is not None:
            stmt = stmt.where(Order.placed_at >= since)
        if until is not None:
            stmt = stmt.where(Order.placed_at < until)
        if needs_review is not None:
            stmt = stmt.where(Order.needs_review == needs_review)
        if external_id is not None:
            stmt = stmt.where(Order.external_id == external_id)
        rows = uow.session.execute(stmt.order_by(Order.id.desc()).limit(limit)).all()
        return [{"id": r.id, "number": order_number(r.id), "channel": r.channel, "external_id": r.external_id,
                 "status": r.status, "location": codes.get(r.location_id), "customer_id": r.customer_id,
                 "total": r.total, "paid_amount": r.paid_amount, "refunded_amount": r.refunded_amount,
                 "needs_review": r.needs_review, "placed_at": r.placed_at} for r in rows]
