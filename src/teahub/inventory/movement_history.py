"""What was moved and counted: transfers and stock counts as they were recorded, newest first (read-only).

Scope checks are the caller's: pass the locations a user may see as `scope` (None: every location). A transfer
is in scope when either of its locations is; a count when its location is.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import aliased

from teahub.catalog import service as catalog
from teahub.db.uow import UnitOfWork
from teahub.inventory.models import Batch, Location, StockCount, Transfer


def transfer_list(uow: UnitOfWork, *, scope: frozenset[str] | None = None, location: str | None = None,
                  before_id: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Transfers, newest first, with their lines (SKU, name, unit, batch, quantity). `location` keeps those
    from or to it; `before_id` pages on from an id."""
    with uow.reading():
        source, target = aliased(Location), aliased(Location)
        stmt = (select(Transfer, source.code, target.code)
                .join(source, source.id == Transfer.from_location_id)
                .join(target, target.id == Transfer.to_location_id))
        if scope is not None:
            codes = sorted(scope)
            stmt = stmt.where(or_(source.code.in_(codes), target.code.in_(codes)))
        if location is not None:
            stmt = stmt.where(or_(source.code == location, target.code == location))
        if before_id is not None:
            stmt = stmt.where(Transfer.id < before_id)
        rows = uow.session.execute(stmt.order_by(Transfer.id.desc()).limit(limit)).all()
        lines = [line for transfer, _, _ in rows for line in transfer.lines]
        names = _names(uow, {line.product_id for line in lines}, {line.batch_id for line in lines})
        return [{"id": t.id, "from_location": src, "to_location": dst, "created_at": t.created_at,
                 "actor": t.actor, "note": t.note,
                 "lines": [_line(names, line.product_id, line.batch_id, quantity=line.quantity) for line in t.lines]}
                for t, src, dst in rows]


def count_list(uow: UnitOfWork, *, scope: frozenset[str] | None = None, location: str | None = None,
               before_id: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Stock counts, newest first, with their lines (SKU, name, unit, batch, expected, counted, difference)."""
    with uow.reading():
        stmt = select(StockCount, Location.code).join(Location, Location.id == StockCount.location_id)
        if scope is not None:
            stmt = stmt.where(Location.code.in_(sorted(scope)))
        if location is not None:
            stmt = stmt.where(Location.code == location)
        if before_id is not None:
            stmt = stmt.where(StockCount.id < before_id)
        rows = uow.session.execute(stmt.order_by(StockCount.id.desc()).limit(limit)).all()
        lines = [line for count, _ in rows for line in count.lines]
        names = _names(uow, {line.product_id for line in lines}, {line.batch_id for line in lines})
        return [{"id": c.id, "location": code, "counted_at": c.counted_at, "actor": c.actor, "note": c.note,
                 "lines": [_line(names, line.product_id, line.batch_id, expected=line.expected,
                                 counted=line.counted, difference=line.difference) for line in c.lines]}
                for c, code in rows]


_Names = tuple[dict[int, Any], dict[int, str]]


def _names(uow: UnitOfWork, product_ids: set[int], batch_ids: set[int]) -> _Names:
    products = catalog.get_products_by_id(uow, product_ids)
    batches: dict[int, str] = {}
    if batch_ids:
        batches = {int(i): str(code) for i, code in uow.session.execute(
            select(Batch.id, Batch.code).where(Batch.id.in_(sorted(batch_ids))))}
    return products, batches


def _line(names: _Names, product_id: int, batch_id: int, **figures: int) -> dict[str, Any]:
    products, batches = names
    product = products[product_id]
    return {"sku": product.sku, "name": product.name, "unit": product.unit, "batch_code": batches[batch_id],
            **figures}
