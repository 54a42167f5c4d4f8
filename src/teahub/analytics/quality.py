"""Product and batch quality from what was sold, complained about and refunded (read-only, across tables).

Per product (by SKU sold) or per batch (SKU × batch code the units came from): units sold, complaints (tickets of
kind complaint or quality naming the product or batch), refunds (count, units, amount) and both as rates per
1000 units sold, worst complaint rate first, so that a bad batch stands out. A refund is traced to batches
through its line's allocations, taken in the order sales takes them back.

Orders count once sold (as in the profit report); units by the time the order was placed, refunds by the time
they were made and tickets by the time they were opened, each within [since, until).

And for a recall: who received a batch (`batch_trace`), with each customer's open tickets.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, case, func, select

from teahub.analytics.profit import SOLD, batch_trace
from teahub.catalog.models import Product
from teahub.crm.aftersales.models import Ticket
from teahub.crm.aftersales.rules import OPEN
from teahub.db.uow import UnitOfWork
from teahub.inventory.models import Batch
from teahub.sales.models import LineAllocation, Order, OrderLine, Refund, RefundLine

Grouping = Literal["product", "batch"]
Key = tuple[str, str | None]  # (sku, batch code or None per product)
COMPLAINT_KINDS = ("complaint", "quality")


@dataclass
class _Figures:
    units_sold: int = 0
    complaints: int = 0
    open_complaints: int = 0
    refund_ids: set[int] = field(default_factory=set)
    refunded_units: int = 0
    refunded_amount: int = 0


def _window(column: Any, since: datetime | None, until: datetime | None) -> list[ColumnElement[bool]]:
    conditions = []
    if since is not None:
        conditions.append(column >= since)
    if until is not None:
        conditions.append(column < until)
    return conditions


def _in_window(at: datetime, since: datetime | None, until: datetime | None) -> bool:
    return (since is None or at >= since) and (until is None or at < until)


def _per_1000(count: int, units: int) -> float | None:
    return round(count * 1000 / units, 2) if units else None


def quality(uow: UnitOfWork, by: Grouping, *, since: datetime | None = None, until: datetime | None = None,
            limit: int = 100) -> list[dict[str, Any]]:
    figures: dict[Key, _Figures] = defaultdict(_Figures)
    with uow.reading():
        _sold(uow, by, since, until, figures)
        _complaints(uow, by, since, until, figures)
        if by == "product":
            _refunds_by_product(uow, since, until, figures)
        else:
            _refunds_by_batch(uow, since, until, figures)
        names, suppliers = _labels(uow, figures)
    rows = [
        {"sku": sku, "batch_code": code, "name": names.get(sku), "supplier": suppliers.get((sku, code)),
         "units_sold": f.units_sold, "complaints": f.complaints, "open_complaints": f.open_complaints,
         "refunds": len(f.refund_ids), "refunded_units": f.refunded_units, "refunded_amount": f.refunded_amount,
         "complaint_rate": _per_1000(f.complaints, f.units_sold),
         "refund_rate": _per_1000(f.refunded_units, f.units_sold)}
        for (sku, code), f in figures.items()
    ]
    rows.sort(key=_worst_first)
    return rows[:limit]


def _worst_first(row: dict[str, Any]) -> tuple[bool, float, int, float, str, str]:
    complaint_rate, refund_rate = row["complaint_rate"], row["refund_rate"]
    return (complaint_rate is None, -(complaint_rate or 0.0), -int(row["complaints"]), -(refund_rate or 0.0),
            str(row["sku"]), str(row["batch_code"] or ""))


def _sold(uow: UnitOfWork, by: Grouping, since: datetime | None, until: datetime | None,
          figures: dict[Key, _Figures]) -> None:
    keys: tuple[Any, ...] = ((OrderLine.sku,) if by == "product"
                             else (LineAllocation.sku, LineAllocation.batch_code))
    units: Any = func.sum(OrderLine.quantity if by == "product" else LineAllocation.quantity)
    stmt: Select[Any] = select(*keys, units)
    if by == "batch":
        stmt = (stmt.select_from(LineAllocation).join(OrderLine, OrderLine.id == LineAllocation.line_id)
                .where(LineAllocation.state != "released"))
    stmt = (stmt.join(Order, Order.id == OrderLine.order_id)
            .where(Order.status.in_(SOLD), *_window(Order.placed_at, since, until)).group_by(*keys))
    for *key, sold in uow.session.execute(stmt):
        figures[_key(key)].units_sold += int(sold or 0)


def _key(values: Iterable[Any]) -> Key:
    sku, *code = values
    return str(sku), (str(code[0]) if code and code[0] is not None else None)


def _complaints(uow: UnitOfWork, by: Grouping, since: datetime | None, until: datetime | None,
                figures: dict[Key, _Figures]) -> None:
    keys: list[Any] = [Ticket.sku] if by == "product" else [Ticket.sku, Ticket.batch_code]
    still_open = func.sum(case((Ticket.status.in_(sorted(OPEN)), 1), else_=0))
    stmt = (select(*keys, func.count(Ticket.id), still_open)
            .where(Ticket.kind.in_(COMPLAINT_KINDS), *(k.is_not(None) for k in keys),
                   *_window(Ticket.created_at, since, until))
            .group_by(*keys))
    for row in uow.session.execute(stmt):
        *key, count, opened = row
        f = figures[_key(key)]
        f.complaints += int(count)
        f.open_complaints += int(opened or 0)


def _refunds_by_product(uow: UnitOfWork, since: datetime | None, until: datetime | None,
                        figures: dict[Key, _Figures]) -> None:
    stmt = (select(OrderLine.sku, Refund.id, func.sum(RefundLine.quantity), func.sum(RefundLine.amount))
            .join(Refund, Refund.id == RefundLine.refund_id)
            .join(OrderLine, OrderLine.id == RefundLine.line_id)
            .join(Order, Order.id == OrderLine.order_id)
            .where(Order.status.in_(SOLD), *_window(Refund.created_at, since, until))
            .group_by(OrderLine.sku, Refund.id))
    for sku, refund_id, units, amount in uow.session.execute(stmt):
        f = figures[(str(sku), None)]
        f.refund_ids.add(int(refund_id))
        f.refunded_units += int(units or 0)
        f.refunded_amount += int(amount or 0)


def _refunds_by_batch(uow: UnitOfWork, since: datetime | None, until: datetime | None,
                      figures: dict[Key, _Figures]) -> None:
    """Every refund of a line takes its units back from the line's batches in turn (per component for a gift
    box), as sales does; the refund's amount is shared over those batches by units."""
    refund_lines = uow.session.execute(
        select(RefundLine.line_id, RefundLine.refund_id, RefundLine.quantity, RefundLine.amount, Refund.created_at,
               OrderLine.quantity)
        .join(Refund, Refund.id == RefundLine.refund_id)
        .join(OrderLine, OrderLine.id == RefundLine.line_id)
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.status.in_(SOLD))
        .order_by(RefundLine.line_id, RefundLine.refund_id, RefundLine.id)).all()
    if not refund_lines:
        return
    line_ids = sorted({r[0] for r in refund_lines})
    allocations: dict[int, list[Any]] = defaultdict(list)
    for chunk in _chunks(line_ids):
        for a in uow.session.execute(
                select(LineAllocation.id, LineAllocation.line_id, LineAllocation.product_id, LineAllocation.sku,
                       LineAllocation.batch_code, LineAllocation.quantity)
                .where(LineAllocation.line_id.in_(chunk), LineAllocation.state != "released")
                .order_by(LineAllocation.id)):
            allocations[a.line_id].append(a)
    taken: dict[int, int] = defaultdict(int)  # allocation id -> units attributed to earlier refunds
    for line_id, refund_id, quantity, amount, created_at, line_quantity in refund_lines:
        parts = _units_back(allocations[line_id], line_quantity, quantity, taken)
        if not parts or not _in_window(created_at, since, until):
            continue
        for (sku, code, units), share in zip(parts, _shares(amount, [u for _, _, u in parts]), strict=True):
            f = figures[(sku, code)]
            f.refund_ids.add(int(refund_id))
            f.refunded_units += units
            f.refunded_amount += share


def _units_back(allocations: list[Any], line_quantity: int, returning: int,
                taken: dict[int, int]) -> list[tuple[str, str, int]]:
    per_product: dict[int, list[Any]] = defaultdict(list)
    for a in allocations:
        per_product[a.product_id].append(a)
    parts: list[tuple[str, str, int]] = []
    for group in per_product.values():
        left = sum(a.quantity for a in group) // line_quantity * returning
        for a in group:
            units = min(left, a.quantity - taken[a.id])
            if units > 0:
                taken[a.id] += units
                left -= units
                parts.append((str(a.sku), str(a.batch_code), units))
    return parts


def _shares(total: int, weights: list[int]) -> list[int]:
    """`total` fen split in proportion to the weights, exactly (largest remainder)."""
    whole = sum(weights)
    if not whole:
        return [0] * len(weights)
    shares = [total * w // whole for w in weights]
    order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


def _chunks(values: list[Any], size: int = 1000) -> Iterable[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _labels(uow: UnitOfWork, figures: dict[Key, _Figures]) -> tuple[dict[str, str], dict[Key, str | None]]:
    skus = sorted({sku for sku, _ in figures})
    names: dict[str, str] = {}
    suppliers: dict[Key, str | None] = {}
    wanted_batches = {key for key in figures if key[1] is not None}
    for chunk in _chunks(skus):
        names.update({str(sku): str(name) for sku, name in uow.session.execute(
            select(Product.sku, Product.name).where(Product.sku.in_(chunk)))})
        if wanted_batches:
            for sku, code, supplier in uow.session.execute(
                    select(Product.sku, Batch.code, Batch.supplier).join(Product, Product.id == Batch.product_id)
                    .where(Product.sku.in_(chunk))):
                if (sku, code) in wanted_batches:
                    suppliers[(sku, code)] = supplier
    return names, suppliers


def batch_buyers(uow: UnitOfWork, sku: str, batch_code: str) -> dict[str, Any]:
    """Recall: the customers who received a batch, their orders and units of it, and how many tickets each has
    open (all, and about this batch)."""
    trace = batch_trace(uow, sku, batch_code)
    buyers: dict[int, dict[str, Any]] = {}
    anonymous = 0
    for order in trace["orders"]:
        customer_id = order["customer_id"]
        if customer_id is None:
            anonymous += order["units"]
            continue
        buyer = buyers.setdefault(customer_id, {"customer_id": customer_id, "name": order["customer_name"],
                                                "orders": [], "units": 0, "open_tickets": 0,
                                                "open_tickets_on_batch": 0})
        buyer["orders"].append(order["id"])
        buyer["units"] += order["units"]
    if buyers:
        on_batch = func.sum(case(((Ticket.sku == sku) & (Ticket.batch_code == batch_code), 1), else_=0))
        with uow.reading():
            for chunk in _chunks(sorted(buyers)):
                for customer_id, count, about in uow.session.execute(
                        select(Ticket.customer_id, func.count(Ticket.id), on_batch)
                        .where(Ticket.customer_id.in_(chunk), Ticket.status.in_(sorted(OPEN)))
                        .group_by(Ticket.customer_id)):
                    buyers[customer_id]["open_tickets"] = int(count)
                    buyers[customer_id]["open_tickets_on_batch"] = int(about or 0)
    return {
        "sku": trace["sku"], "batch_code": trace["batch_code"], "supplier": trace["supplier"],
        "produced_on": trace["produced_on"], "expires_on": trace["expires_on"],
        "units": sum(o["units"] for o in trace["orders"]), "anonymous_units": anonymous,
        "items": [buyers[c] for c in sorted(buyers)], "next": None,
    }
