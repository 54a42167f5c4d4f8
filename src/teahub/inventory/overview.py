"""Stock overviews for people: one location's stock with its minimums, and batches with their expiry.

Read-only. `location_stock` is the stock of one location (as `stock_levels` answers it) with each SKU's minimum
(threshold) and whether it is below it; SKUs with a minimum that never held stock there are listed as zero.
`batch_list` answers batches with their expiry state and what is left of them in the given locations;
`batch_detail` one batch with its stock per location. Scope checks are the caller's (pass the locations a user
may see as `scope`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select

from teahub.catalog import service as catalog
from teahub.catalog.rules import ProductInfo
from teahub.db.uow import UnitOfWork
from teahub.errors import NotFound, ValidationFailed
from teahub.inventory.locations import get_location
from teahub.inventory.lookups import batch_of, stocked_product
from teahub.inventory.models import Batch, Location, StockLevel, StockThreshold
from teahub.inventory.queries import stock_items

# A batch that expires within this many days is near its expiry (sell it first, or move it to a busier store).
NEAR_EXPIRY_DAYS = 60
MAX_ITEMS = 5000


def expiry_state(expires_on: date | None, today: date) -> str:
    """"expired", "near" (within NEAR_EXPIRY_DAYS), "ok", or "none" for teas without an expiry (aging teas)."""
    if expires_on is None:
        return "none"
    if expires_on < today:
        return "expired"
    if (expires_on - today).days <= NEAR_EXPIRY_DAYS:
        return "near"
    return "ok"


def thresholds(uow: UnitOfWork, location: str) -> dict[str, int]:
    """The minimum of each SKU at a location that has one, by SKU."""
    with uow.reading():
        loc = get_location(uow, location)
        rows = uow.session.execute(select(StockThreshold.product_id, StockThreshold.minimum)
                                   .where(StockThreshold.location_id == loc.id)).all()
        products = catalog.get_products_by_id(uow, {r.product_id for r in rows})
        return {products[r.product_id].sku: int(r.minimum) for r in rows if r.product_id in products}


def location_stock(uow: UnitOfWork, location: str, *, q: str | None = None,
                   below_only: bool = False) -> list[dict[str, Any]]:
    """Every SKU held (or with a minimum) at one location: on hand, reserved, available, expired units, its
    minimum, whether available is below that minimum, its unit, and its batches each with its expiry state.
    `q` keeps SKUs whose code or name holds it (case-insensitive)."""
    with uow.reading():
        loc = get_location(uow, location)
        today = uow.now().date()
        items = stock_items(uow, location_ids=[loc.id], limit=MAX_ITEMS)
        minimums = dict(uow.session.execute(select(StockThreshold.product_id, StockThreshold.minimum)
                                            .where(StockThreshold.location_id == loc.id)).all())
        held = {int(item["_cursor"].split(".")[0]) for item in items}
        products = catalog.get_products_by_id(uow, held | set(minimums))
        for product_id in sorted(set(minimums) - held):
            product = products[product_id]
            items.append({"sku": product.sku, "name": product.name, "location": loc.code, "on_hand": 0,
                          "reserved": 0, "available": 0, "expired": 0, "derived": False, "batches": [],
                          "_cursor": f"{product_id}.{loc.id}"})
        rows = []
        needle = (q or "").strip().lower()
        for item in items:
            product_id = int(item.pop("_cursor").split(".")[0])
            product = products[product_id]
            if needle and needle not in product.sku.lower() and needle not in product.name.lower():
                continue
            minimum = minimums.get(product_id)
            below = minimum is not None and item["available"] < minimum
            if below_only and not below:
                continue
            for batch in item["batches"]:
                batch["expiry"] = expiry_state(batch["expires_on"], today)
            rows.append({**item, "unit": product.unit, "minimum": minimum, "below": below,
                         "near_expiry": sum(1 for b in item["batches"] if b["expiry"] == "near" and b["on_hand"]),
                         "category": product.category})
        return rows


def _product_ids_matching(uow: UnitOfWork, q: str) -> list[int]:
    found = catalog.list_products(uow, q=q, limit=MAX_ITEMS)
    return [p["id"] for p in found]


def batch_list(uow: UnitOfWork, *, scope: frozenset[str] | None = None, sku: str | None = None,
               q: str | None = None, expiring_within_days: int | None = None, with_empty: bool = False,
               offset: int = 0, limit: int = 100) -> list[dict[str, Any]]:
    """Batches that are (or, `with_empty`, were) held in the locations of `scope` (None: everywhere), first
    expiring first (batches without an expiry last): product, supplier, dates, unit cost, on hand, reserved and
    available there (nothing of an expired batch is available), the locations holding some, and its expiry
    state. `expiring_within_days` keeps batches with an expiry up to that many days from today (expired ones
    included); `q` matches the product's SKU or name."""
    if expiring_within_days is not None and not 0 <= expiring_within_days <= 36500:
        raise ValidationFailed("give a number of days between 0 and 36500", field="expiring_within_days")
    with uow.reading():
        today = uow.now().date()
        on_hand = func.sum(StockLevel.on_hand)
        stmt = (select(StockLevel.batch_id, on_hand.label("on_hand"), func.sum(StockLevel.reserved).label("reserved"))
                .join(Location, Location.id == StockLevel.location_id)
                .join(Batch, Batch.id == StockLevel.batch_id)
                .group_by(StockLevel.batch_id))
        if scope is not None:
            stmt = stmt.where(Location.code.in_(sorted(scope)))
        if sku is not None:
            stmt = stmt.where(StockLevel.product_id == stocked_product(uow, sku, stocked=False).id)
        if q:
            stmt = stmt.where(StockLevel.product_id.in_(_product_ids_matching(uow, q)))
        if expiring_within_days is not None:
            stmt = stmt.where(Batch.expires_on.is_not(None),
                              Batch.expires_on <= date.fromordinal(today.toordinal() + expiring_within_days))
        if not with_empty:
            stmt = stmt.having(on_hand > 0)
        totals = {r.batch_id: (int(r.on_hand), int(r.reserved)) for r in uow.session.execute(stmt)}
        if not totals:
            return []
        batches = list(uow.session.scalars(
            select(Batch).where(Batch.id.in_(sorted(totals)))
            .order_by(Batch.expires_on.is_(None), Batch.expires_on, Batch.id).offset(offset).limit(limit)))
        holders = _holders(uow, [b.id for b in batches], scope)
        products = catalog.get_products_by_id(uow, {b.product_id for b in batches})
        return [_batch_row(b, products[b.product_id], *totals[b.id], holders.get(b.id, []), today)
                for b in batches]


def batch_detail(uow: UnitOfWork, sku: str, batch_code: str, *,
                 scope: frozenset[str] | None = None) -> dict[str, Any]:
    """One batch: its product, supplier, dates, unit cost and expiry state, with its stock per location of
    `scope` (None: every location). A batch never held in those locations is not found there."""
    with uow.reading():
        today = uow.now().date()
        product = stocked_product(uow, sku, stocked=False)
        batch = batch_of(uow, product.id, batch_code)
        stmt = (select(Location.code, Location.name, Location.kind, StockLevel.on_hand, StockLevel.reserved)
                .join(Location, Location.id == StockLevel.location_id)
                .where(StockLevel.batch_id == batch.id).order_by(Location.code))
        if scope is not None:
            stmt = stmt.where(Location.code.in_(sorted(scope)))
        levels = uow.session.execute(stmt).all()
        if scope is not None and not levels:
            raise NotFound(f"no batch {batch_code} of this SKU in your locations", field="batch_code")
        expired = batch.expires_on is not None and batch.expires_on < today
        locations = [{"location": r.code, "name": r.name, "kind": r.kind, "on_hand": int(r.on_hand),
                      "reserved": int(r.reserved), "available": 0 if expired else int(r.on_hand - r.reserved)}
                     for r in levels]
        row = _batch_row(batch, product, sum(r["on_hand"] for r in locations),
                         sum(r["reserved"] for r in locations),
                         [r["location"] for r in locations if r["on_hand"]], today)
        return {**row, "locations": locations}


def _holders(uow: UnitOfWork, batch_ids: list[int], scope: frozenset[str] | None) -> dict[int, list[str]]:
    if not batch_ids:
        return {}
    stmt = (select(StockLevel.batch_id, Location.code).join(Location, Location.id == StockLevel.location_id)
            .where(StockLevel.batch_id.in_(batch_ids), StockLevel.on_hand > 0).order_by(Location.code))
    if scope is not None:
        stmt = stmt.where(Location.code.in_(sorted(scope)))
    holders: dict[int, list[str]] = {}
    for batch_id, code in uow.session.execute(stmt):
        holders.setdefault(batch_id, []).append(code)
    return holders


def _batch_row(batch: Batch, product: ProductInfo, on_hand: int, reserved: int, locations: list[str],
               today: date) -> dict[str, Any]:
    state = expiry_state(batch.expires_on, today)
    return {
        "batch_code": batch.code, "sku": product.sku, "name": product.name, "unit": product.unit,
        "supplier": batch.supplier, "produced_on": batch.produced_on, "expires_on": batch.expires_on,
        "days_left": (batch.expires_on - today).days if batch.expires_on is not None else None,
        "expiry": state, "unit_cost": batch.unit_cost, "received_at": batch.received_at,
        "on_hand": on_hand, "reserved": reserved,
        "available": 0 if state == "expired" else on_hand - reserved, "locations": locations,
    }
