"""Gross profit from what was sold and the cost of the batches it came from (read-only, across tables).

A line earns its net amount less what was refunded, and costs its batches less the cost of units that came
back into stock. Orders count once they are paid (or shipped on credit); drafts, unpaid and cancelled
orders do not.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Select, func, select

from teahub.catalog.models import Category, Product
from teahub.customers.models import Customer
from teahub.db.uow import UnitOfWork
from teahub.inventory.models import Batch, Location
from teahub.sales.models import LineAllocation, Order, OrderLine

SOLD = ("paid", "allocated", "shipped", "completed")
Grouping = Literal["product", "customer", "category", "channel", "location", "order"]


def profit(uow: UnitOfWork, by: Grouping, *, since: datetime | None = None, until: datetime | None = None,
           location: str | None = None, channel: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    revenue = func.sum(OrderLine.net_amount - OrderLine.refunded_amount)
    cost = func.sum(OrderLine.cost - OrderLine.returned_cost)
    quantity = func.sum(OrderLine.quantity - OrderLine.refunded_quantity)
    keys = {
        "product": (OrderLine.sku, func.max(OrderLine.name)),
        "customer": (Order.customer_id, func.max(Customer.name)),
        "category": (Category.code, func.max(Category.name)),
        "channel": (Order.channel, Order.channel),
        "location": (Location.code, func.max(Location.name)),
        "order": (Order.id, func.max(Order.channel)),
    }
    key, label = keys[by]
    columns: tuple[Any, ...] = (key.label("key"), label.label("label"), quantity.label("quantity"),
                                revenue.label("revenue"), cost.label("cost"),
                                func.count(func.distinct(Order.id)).label("orders"))
    stmt: Select[Any] = (select(*columns)
            .join(Order, Order.id == OrderLine.order_id)
            .where(Order.status.in_(SOLD)))
    if by == "customer":
        stmt = stmt.outerjoin(Customer, Customer.id == Order.customer_id)
    if by == "category":
        stmt = stmt.join(Product, Product.id == OrderLine.product_id).join(Category, Category.id == Product.category_id)
    if by == "location" or location is not None:
        stmt = stmt.join(Location, Location.id == Order.location_id)
    if location is not None:
        stmt = stmt.where(Location.code == location)
    if channel is not None:
        stmt = stmt.where(Order.channel == channel)
    if since is not None:
        stmt = stmt.where(Order.placed_at >= since)
    if until is not None:
        stmt = stmt.where(Order.placed_at < until)
    stmt = stmt.group_by(key).order_by((revenue - cost).desc()).limit(limit)
    with uow.reading():
        rows = uow.session.execute(stmt).all()
    return [
        {"key": str(r.key) if r.key is not None else None, "label": r.label, "orders": int(r.orders),
         "quantity": int(r.quantity or 0), "revenue": int(r.revenue or 0), "cost": int(r.cost or 0),
         "gross_profit": int((r.revenue or 0) - (r.cost or 0)),
         "margin": round((int(r.revenue) - int(r.cost)) / int(r.revenue), 4) if r.revenue else None}
        for r in rows
    ]


def batch_trace(uow: UnitOfWork, sku: str, batch_code: str) -> dict[str, Any]:
    """Recall: the batch, its supplier, and every order and customer its units went to."""
    with uow.reading():
        batch = uow.session.execute(
            select(Batch, Product.sku).join(Product, Product.id == Batch.product_id)
            .where(Product.sku == sku, Batch.code == batch_code)).first()
        if batch is None:
            from teahub.errors import NotFound

            raise NotFound(f"no batch {batch_code} of {sku}", field="batch_code")
        b = batch[0]
        rows = uow.session.execute(
            select(Order.id, Order.channel, Order.status, Order.customer_id, Order.placed_at, Customer.name,
                   func.sum(LineAllocation.quantity - LineAllocation.returned_quantity).label("units"))
            .join(OrderLine, OrderLine.id == LineAllocation.line_id)
            .join(Order, Order.id == OrderLine.order_id)
            .outerjoin(Customer, Customer.id == Order.customer_id)
            .where(LineAllocation.batch_id == b.id, LineAllocation.state != "released")
            .group_by(Order.id, Order.channel, Order.status, Order.customer_id, Order.placed_at, Customer.name)
            .order_by(Order.id)).all()
        from teahub.sales.views import order_number

        return {
            "sku": sku, "batch_code": b.code, "supplier": b.supplier, "produced_on": b.produced_on,
            "expires_on": b.expires_on, "unit_cost": b.unit_cost,
            "orders": [{"id": r.id, "number": order_number(r.id), "channel": r.channel, "status": r.status,
                        "customer_id": r.customer_id, "customer_name": r.name, "placed_at": r.placed_at,
                        "units": int(r.units)} for r in rows if r.units],
            "customers": sorted({r.customer_id for r in rows if r.customer_id is not None and r.units}),
        }
