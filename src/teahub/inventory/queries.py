"""What is in stock: levels by SKU, location and batch (gift boxes derived), the ledger, and its check."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select

from teahub.catalog import service as catalog
from teahub.catalog.rules import ProductInfo
from teahub.db.uow import UnitOfWork
from teahub.inventory import reservations
from teahub.inventory.locations import get_location, list_locations
from teahub.inventory.lookups import stocked_product
from teahub.inventory.models import Batch, Location, StockLedgerEntry, StockLevel


def stock_levels(uow: UnitOfWork, sku: str | None = None, location: str | None = None,
                 scope: frozenset[str] | None = None, after: tuple[int, int] = (0, 0), limit: int = 500
                 ) -> list[dict[str, Any]]:
    """On hand, reserved and available per SKU x location, with its batches. Gift boxes are derived."""
    with uow.reading():
        product_ids = None
        if sku is not None:
            product = stocked_product(uow, sku, stocked=False)
            if product.is_gift_box:
                return _gift_box_items(uow, product, location, scope)
            product_ids = [product.id]
        location_ids = None
        if location is not None:
            location_ids = [get_location(uow, location).id]
        return stock_items(uow, product_ids=product_ids, location_ids=location_ids, scope=scope, after=after,
                            limit=limit)


def stock_items(uow: UnitOfWork, *, product_ids: list[int] | None = None, location_ids: list[int] | None = None,
                 scope: frozenset[str] | None = None, after: tuple[int, int] = (0, 0), limit: int = 500
                 ) -> list[dict[str, Any]]:
    today = uow.now().date()
    pairs_stmt = select(StockLevel.product_id, StockLevel.location_id).distinct()
    if product_ids is not None:
        pairs_stmt = pairs_stmt.where(StockLevel.product_id.in_(product_ids))
    if location_ids is not None:
        pairs_stmt = pairs_stmt.where(StockLevel.location_id.in_(location_ids))
    if scope is not None:
        pairs_stmt = pairs_stmt.join(Location, Location.id == StockLevel.location_id).where(Location.code.in_(scope))
    pairs_stmt = pairs_stmt.where(
        (StockLevel.product_id > after[0]) | ((StockLevel.product_id == after[0]) & (StockLevel.location_id > after[1]))
    ).order_by(StockLevel.product_id, StockLevel.location_id).limit(limit)
    pairs = [tuple(p) for p in uow.session.execute(pairs_stmt)]
    if not pairs:
        if product_ids and location_ids and len(product_ids) == 1 and len(location_ids) == 1:
            pairs = [(product_ids[0], location_ids[0])]  # nothing ever held there: answer zeros
        else:
            return []
    pids = {p for p, _ in pairs}
    lids = {loc for _, loc in pairs}
    rows = uow.session.execute(
        select(StockLevel, Batch).join(Batch, Batch.id == StockLevel.batch_id)
        .where(StockLevel.product_id.in_(pids), StockLevel.location_id.in_(lids))
        .order_by(StockLevel.product_id, StockLevel.location_id, Batch.expires_on, Batch.id)
    ).all()
    products = catalog.get_products_by_id(uow, pids)
    locations = dict(uow.session.execute(select(Location.id, Location.code).where(Location.id.in_(lids))).all())
    grouped: dict[tuple[int, int], list[Any]] = defaultdict(list)
    for level, batch in rows:
        grouped[(level.product_id, level.location_id)].append((level, batch))
    items = []
    for pid, lid in pairs:
        batches = []
        on_hand = reserved = expired_units = 0
        for level, batch in grouped.get((pid, lid), []):
            expired = batch.expires_on is not None and batch.expires_on < today
            free = level.on_hand - level.reserved
            on_hand += level.on_hand
            reserved += level.reserved
            expired_units += free if expired else 0
            batches.append({"batch_code": batch.code, "on_hand": level.on_hand, "reserved": level.reserved,
                            "available": 0 if expired else free, "unit_cost": batch.unit_cost,
                            "produced_on": batch.produced_on, "expires_on": batch.expires_on,
                            "expired": expired, "supplier": batch.supplier})
        product = products[pid]
        items.append({"sku": product.sku, "name": product.name, "location": locations[lid], "on_hand": on_hand,
                      "reserved": reserved, "available": on_hand - reserved - expired_units,
                      "expired": expired_units, "derived": False, "batches": batches,
                      "_cursor": f"{pid}.{lid}"})
    return items


def _gift_box_items(uow: UnitOfWork, box: ProductInfo, location: str | None,
                    scope: frozenset[str] | None) -> list[dict[str, Any]]:
    codes = [location] if location else [loc["code"] for loc in list_locations(uow, codes=scope)]
    items: list[dict[str, Any]] = []
    for code in codes:
        loc = get_location(uow, code)
        boxes = reservations.available(uow, loc, [box])[box.id]
        items.append({"sku": box.sku, "name": box.name, "location": code, "on_hand": boxes, "reserved": 0,
                      "available": boxes, "expired": 0, "derived": True, "batches": [],
                      "_cursor": f"{box.id}.{loc.id}"})
    return items


def ledger_entries(uow: UnitOfWork, *, sku: str | None = None, location: str | None = None,
                   batch_code: str | None = None, scope: frozenset[str] | None = None, after: int = 0,
                   limit: int = 50) -> list[dict[str, Any]]:
    with uow.reading():
        stmt = (select(StockLedgerEntry, Batch.code, Location.code.label("location_code"))
                .join(Batch, Batch.id == StockLedgerEntry.batch_id)
                .join(Location, Location.id == StockLedgerEntry.location_id)
                .where(StockLedgerEntry.id > after))
        if sku is not None:
            product = stocked_product(uow, sku, stocked=False)
            stmt = stmt.where(StockLedgerEntry.product_id == product.id)
            if batch_code is not None:
                stmt = stmt.where(Batch.code == batch_code)
        if location is not None:
            stmt = stmt.where(Location.code == location)
        if scope is not None:
            stmt = stmt.where(Location.code.in_(scope))
        rows = uow.session.execute(stmt.order_by(StockLedgerEntry.id).limit(limit)).all()
        products = catalog.get_products_by_id(uow, {r[0].product_id for r in rows})
        return [{"id": e.id, "at": e.at.isoformat(), "kind": e.kind, "sku": products[e.product_id].sku,
                 "location": loc, "batch_code": code, "quantity": e.quantity, "unit_cost": e.unit_cost,
                 "reference": e.reference, "actor": e.actor, "note": e.note} for e, code, loc in rows]


def verify_ledger(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Every stock level must equal the sum of its ledger rows: answers the rows where it does not."""
    with uow.reading():
        sums = {
            (r.product_id, r.location_id, r.batch_id): int(r.total)
            for r in uow.session.execute(
                select(StockLedgerEntry.product_id, StockLedgerEntry.location_id, StockLedgerEntry.batch_id,
                       func.sum(StockLedgerEntry.quantity).label("total"))
                .group_by(StockLedgerEntry.product_id, StockLedgerEntry.location_id, StockLedgerEntry.batch_id))
        }
        levels = {(lv.product_id, lv.location_id, lv.batch_id): lv.on_hand
                  for lv in uow.session.scalars(select(StockLevel))}
        keys = set(sums) | set(levels)
        return [{"product_id": k[0], "location_id": k[1], "batch_id": k[2], "on_hand": levels.get(k, 0),
                 "ledger": sums.get(k, 0)} for k in sorted(keys) if levels.get(k, 0) != sums.get(k, 0)]
