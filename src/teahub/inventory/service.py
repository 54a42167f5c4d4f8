"""Inventory use cases: locations, receipts, transfers, counts, scrap, thresholds, and the reservations
that sales makes against batches. The only entry point other capabilities call."""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from teahub.catalog import service as catalog
from teahub.catalog.rules import ProductInfo
from teahub.db.uow import UnitOfWork
from teahub.errors import Conflict, NotFound, ValidationFailed
from teahub.inventory import ledger
from teahub.inventory.events import LOCATION_CREATED
from teahub.inventory.ledger import Movement
from teahub.inventory.models import (
    Batch,
    Location,
    StockCount,
    StockCountLine,
    StockLedgerEntry,
    StockLevel,
    StockThreshold,
    Transfer,
    TransferLine,
)
from teahub.inventory.rules import BatchStock, Pick, allocation_order, gift_box_available, pick_batches
from teahub.inventory.schemas import LocationIn, ReceiptIn, ScrapIn, StockCountIn, ThresholdIn, TransferIn

# -- locations -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LocationInfo:
    id: int
    code: str
    name: str
    kind: str


def _location_view(loc: Location) -> dict[str, Any]:
    return {"id": loc.id, "code": loc.code, "name": loc.name, "kind": loc.kind, "address": loc.address,
            "active": loc.active}


def create_location(uow: UnitOfWork, data: LocationIn) -> dict[str, Any]:
    with uow:
        if uow.session.scalar(select(Location.id).where(Location.code == data.code)) is not None:
            raise Conflict(f"location {data.code} already exists", field="code")
        loc = Location(code=data.code, name=data.name, kind=data.kind, address=data.address, active=True,
                       created_at=uow.now())
        uow.session.add(loc)
        uow.session.flush()
        view = _location_view(loc)
        uow.record_event(LOCATION_CREATED, "location", loc.code, view)
        uow.audit("location.created", "location", loc.id, None, view)
        uow.commit()
        return view


def list_locations(uow: UnitOfWork, *, kind: str | None = None, codes: frozenset[str] | None = None
                   ) -> list[dict[str, Any]]:
    with uow.reading():
        stmt = select(Location).order_by(Location.code)
        if kind:
            stmt = stmt.where(Location.kind == kind)
        if codes is not None:
            stmt = stmt.where(Location.code.in_(codes))
        return [_location_view(loc) for loc in uow.session.scalars(stmt)]


# Locations are never deleted and their code and kind never change, so each process remembers them.
_known_locations: weakref.WeakKeyDictionary[Any, dict[str | int, LocationInfo]] = weakref.WeakKeyDictionary()


def _remembered(uow: UnitOfWork) -> dict[str | int, LocationInfo]:
    return _known_locations.setdefault(uow.session.get_bind(), {})


def get_location(uow: UnitOfWork, code: str, field: str = "location") -> LocationInfo:
    with uow.reading():
        known = _remembered(uow)
        if code in known:
            return known[code]
        loc = uow.session.execute(
            select(Location.id, Location.code, Location.name, Location.kind).where(Location.code == code)
        ).first()
        if loc is None:
            raise NotFound(f"no location {code}", field=field)
        info = known[loc.code] = known[loc.id] = LocationInfo(loc.id, loc.code, loc.name, loc.kind)
        return info


def get_location_by_id(uow: UnitOfWork, location_id: int) -> LocationInfo:
    with uow.reading():
        known = _remembered(uow)
        if location_id in known:
            return known[location_id]
        loc = uow.session.get(Location, location_id)
        if loc is None:
            raise NotFound(f"no location {location_id}")
        info = known[loc.code] = known[loc.id] = LocationInfo(loc.id, loc.code, loc.name, loc.kind)
        return info


def location_codes(uow: UnitOfWork, ids: Iterable[int]) -> dict[int, str]:
    return {location_id: get_location_by_id(uow, location_id).code for location_id in set(ids)}


def default_warehouse(uow: UnitOfWork) -> LocationInfo:
    """Where orders of online channels ship from when they name no location: the first warehouse."""
    with uow.reading():
        loc = uow.session.scalar(select(Location).where(Location.kind == "warehouse", Location.active)
                                 .order_by(Location.id).limit(1))
        if loc is None:
            raise ValidationFailed("there is no warehouse: name the location", field="location")
        return LocationInfo(loc.id, loc.code, loc.name, loc.kind)


# -- products --------------------------------------------------------------------------------------------


def _product(uow: UnitOfWork, sku: str, field: str = "sku", *, stocked: bool = True) -> ProductInfo:
    product = catalog.get_products(uow, [sku]).get(sku)
    if product is None:
        raise NotFound(f"unknown SKU {sku}", field=field)
    if stocked and product.is_gift_box:
        raise ValidationFailed(f"{sku} is a gift box: its stock is made of its components' stock", field=field)
    return product


def _batch(uow: UnitOfWork, product_id: int, code: str, field: str = "batch_code") -> Batch:
    batch = uow.session.scalar(select(Batch).where(Batch.product_id == product_id, Batch.code == code))
    if batch is None:
        raise NotFound(f"no batch {code} of this SKU", field=field)
    return batch


# -- receipts, transfers, counts, scrap ----------------------------------------------------------------


def receive_stock(uow: UnitOfWork, data: ReceiptIn) -> dict[str, Any]:
    """Receive a quantity of one SKU as a batch (new, or more of an existing batch at the same cost)."""
    with uow:
        location = get_location(uow, data.location)
        product = _product(uow, data.sku)
        expires_on = data.expires_on
        if expires_on is None and data.produced_on and product.shelf_life_days and not product.ages:
            expires_on = data.produced_on + timedelta(days=product.shelf_life_days)
        if expires_on and data.produced_on and expires_on <= data.produced_on:
            raise ValidationFailed("expires_on must be after produced_on", field="expires_on")
        batch = uow.session.scalar(
            select(Batch).where(Batch.product_id == product.id, Batch.code == data.batch_code)
        )
        if batch is None:
            batch = Batch(product_id=product.id, code=data.batch_code, supplier=data.supplier,
                          produced_on=data.produced_on, expires_on=expires_on, unit_cost=data.unit_cost,
                          received_at=uow.now())
            uow.session.add(batch)
            uow.session.flush()
        elif batch.unit_cost != data.unit_cost:
            raise Conflict(f"batch {data.batch_code} was received at a unit cost of {batch.unit_cost}; "
                           "a different cost needs a new batch code", field="unit_cost")
        ledger.apply(uow, [Movement(product.id, location.id, batch.id, on_hand=data.quantity, kind="receipt",
                                    unit_cost=batch.unit_cost)],
                     reference=f"batch:{batch.id}", reason="receipt", skus={product.id: product.sku},
                     location_codes={location.id: location.code})
        answer = {"sku": product.sku, "location": location.code, "batch_code": batch.code,
                  "quantity": data.quantity}
        uow.audit("stock.received", "batch", batch.id, None, {**answer, "unit_cost": batch.unit_cost,
                                                              "expires_on": str(batch.expires_on)})
        answer["stock"] = _stock_items(uow, product_ids=[product.id], location_ids=[location.id])[0]
        uow.commit()
        return answer


def transfer_stock(uow: UnitOfWork, data: TransferIn) -> dict[str, Any]:
    """Move stock between locations, batch by batch (the batch keeps its identity and cost)."""
    with uow:
        source = get_location(uow, data.from_location, "from_location")
        target = get_location(uow, data.to_location, "to_location")
        if source.id == target.id:
            raise ValidationFailed("a transfer needs two different locations", field="to_location")
        products = [_product(uow, line.sku, f"lines.{i}.sku") for i, line in enumerate(data.lines)]
        locked = ledger.lock_batches(uow, [source.id, target.id], [p.id for p in products])
        today = uow.now().date()
        movements: list[Movement] = []
        lines: list[TransferLine] = []
        taken: dict[int, int] = defaultdict(int)  # level id → units already taken in this transfer
        for i, (line, product) in enumerate(zip(data.lines, products, strict=True)):
            batches = [_minus(b, taken[b.level_id]) for b in locked.get((source.id, product.id), [])]
            if line.batch_code is not None:
                batches = [b for b in batches if b.batch_code == line.batch_code]
                if not batches:
                    raise NotFound(f"no batch {line.batch_code} of {product.sku} at {source.code}",
                                   field=f"lines.{i}.batch_code")
            picks = pick_batches(batches, line.quantity, ages=product.ages, today=today, product_id=product.id,
                                 location_id=source.id, sku=product.sku, field=f"lines.{i}.quantity")
            for pick in picks:
                taken[pick.level_id] += pick.quantity
                movements.append(Movement(product.id, source.id, pick.batch_id, on_hand=-pick.quantity,
                                          kind="transfer_out", unit_cost=pick.unit_cost))
                movements.append(Movement(product.id, target.id, pick.batch_id, on_hand=pick.quantity,
                                          kind="transfer_in", unit_cost=pick.unit_cost))
                lines.append(TransferLine(product_id=product.id, batch_id=pick.batch_id, quantity=pick.quantity))
        transfer = Transfer(from_location_id=source.id, to_location_id=target.id, created_at=uow.now(),
                            actor=uow.actor, note=data.note, lines=lines)
        uow.session.add(transfer)
        uow.session.flush()
        ledger.apply(uow, movements, reference=f"transfer:{transfer.id}", reason="transfer",
                     skus={p.id: p.sku for p in products},
                     location_codes={source.id: source.code, target.id: target.code}, note=data.note,
                     locked=locked)
        view = _transfer_view(uow, transfer, source.code, target.code)
        uow.audit("stock.transferred", "transfer", transfer.id, None, view)
        uow.commit()
        return view


def _minus(batch: BatchStock, taken: int) -> BatchStock:
    if not taken:
        return batch
    return BatchStock(batch.level_id, batch.batch_id, batch.batch_code, batch.on_hand - taken, batch.reserved,
                      batch.unit_cost, batch.expires_on, batch.produced_on, batch.received_at)


def _transfer_view(uow: UnitOfWork, transfer: Transfer, source: str, target: str) -> dict[str, Any]:
    batch_ids = {line.batch_id for line in transfer.lines}
    batches = {b.id: b for b in uow.session.scalars(select(Batch).where(Batch.id.in_(batch_ids)))}
    skus = {p.id: p.sku for p in catalog.get_products_by_id(uow, {b.product_id for b in batches.values()}).values()}
    return {
        "id": transfer.id, "from_location": source, "to_location": target,
        "created_at": transfer.created_at.isoformat(),
        "lines": [{"sku": skus[line.product_id], "batch_code": batches[line.batch_id].code,
                   "quantity": line.quantity} for line in transfer.lines],
    }


def count_stock(uow: UnitOfWork, data: StockCountIn) -> dict[str, Any]:
    """Record what was counted and post the differences as count adjustments."""
    with uow:
        location = get_location(uow, data.location)
        products = [_product(uow, line.sku, f"lines.{i}.sku") for i, line in enumerate(data.lines)]
        locked = ledger.lock_batches(uow, [location.id], [p.id for p in products])
        movements: list[Movement] = []
        count_lines: list[StockCountLine] = []
        seen: set[tuple[int, int]] = set()
        for i, (line, product) in enumerate(zip(data.lines, products, strict=True)):
            batches = locked.get((location.id, product.id), [])
            if line.batch_code is not None:
                batch_row = _batch(uow, product.id, line.batch_code, f"lines.{i}.batch_code")
                batch = next((b for b in batches if b.batch_id == batch_row.id), None)
                batch_id, on_hand, reserved, cost = (
                    batch_row.id, batch.on_hand if batch else 0, batch.reserved if batch else 0,
                    batch_row.unit_cost,
                )
            else:
                holding = [b for b in batches if b.on_hand > 0] or batches
                if len(holding) != 1:
                    raise ValidationFailed(
                        f"{product.sku} has {len(holding)} batches at {location.code}: name the batch_code",
                        field=f"lines.{i}.batch_code")
                only = holding[0]
                batch_id, on_hand, reserved, cost = only.batch_id, only.on_hand, only.reserved, only.unit_cost
            if (product.id, batch_id) in seen:
                raise ValidationFailed("the same batch is counted twice", field=f"lines.{i}")
            seen.add((product.id, batch_id))
            if line.counted < reserved:
                raise Conflict(f"{reserved} units of this batch are reserved by orders; counted {line.counted}: "
                               "release or reallocate those orders first", field=f"lines.{i}.counted")
            difference = line.counted - on_hand
            count_lines.append(StockCountLine(product_id=product.id, batch_id=batch_id, expected=on_hand,
                                              counted=line.counted, difference=difference))
            if difference:
                movements.append(Movement(product.id, location.id, batch_id, on_hand=difference,
                                          kind="count_adjustment", unit_cost=cost))
        count = StockCount(location_id=location.id, counted_at=uow.now(), actor=uow.actor, note=data.note,
                           lines=count_lines)
        uow.session.add(count)
        uow.session.flush()
        ledger.apply(uow, movements, reference=f"count:{count.id}", reason="count",
                     skus={p.id: p.sku for p in products}, location_codes={location.id: location.code},
                     note=data.note, locked=locked)
        batch_codes = dict(uow.session.execute(
            select(Batch.id, Batch.code).where(Batch.id.in_([cl.batch_id for cl in count_lines]))).all())
        skus = {p.id: p.sku for p in products}
        view = {"id": count.id, "location": location.code, "counted_at": count.counted_at.isoformat(),
                "lines": [{"sku": skus[cl.product_id], "batch_code": batch_codes[cl.batch_id],
                           "expected": cl.expected, "counted": cl.counted, "difference": cl.difference}
                          for cl in count_lines]}
        uow.audit("stock.counted", "stock_count", count.id, None, view)
        uow.commit()
        return view


def scrap_stock(uow: UnitOfWork, data: ScrapIn) -> dict[str, Any]:
    with uow:
        location = get_location(uow, data.location)
        product = _product(uow, data.sku)
        batch = _batch(uow, product.id, data.batch_code)
        locked = ledger.lock_batches(uow, [location.id], [product.id])
        level = next((b for b in locked.get((location.id, product.id), []) if b.batch_id == batch.id), None)
        free = level.free if level else 0
        if free < data.quantity:
            raise Conflict(f"only {free} unreserved units of batch {batch.code} at {location.code}",
                           field="quantity")
        ledger.apply(uow, [Movement(product.id, location.id, batch.id, on_hand=-data.quantity, kind="scrap",
                                    unit_cost=batch.unit_cost)],
                     reference=f"batch:{batch.id}", reason="scrap", skus={product.id: product.sku},
                     location_codes={location.id: location.code}, note=data.reason, locked=locked)
        uow.audit("stock.scrapped", "batch", batch.id, None,
                  {"sku": product.sku, "location": location.code, "quantity": data.quantity, "reason": data.reason})
        item = _stock_items(uow, product_ids=[product.id], location_ids=[location.id])[0]
        uow.commit()
        return item


def set_threshold(uow: UnitOfWork, data: ThresholdIn) -> dict[str, Any]:
    with uow:
        location = get_location(uow, data.location)
        product = _product(uow, data.sku)
        row = uow.session.get(StockThreshold, (product.id, location.id))
        before = {"minimum": row.minimum} if row else None
        if row is None:
            uow.session.add(StockThreshold(product_id=product.id, location_id=location.id, minimum=data.minimum))
        else:
            row.minimum = data.minimum
        view = {"location": location.code, "sku": product.sku, "minimum": data.minimum}
        uow.audit("stock.threshold_set", "stock", f"{product.sku}@{location.code}", before, view)
        uow.commit()
        return view


# -- reservations and sales (called by sales, inside its transaction) ------------------------------------


@dataclass(frozen=True)
class StockRequest:
    """Units of one product (a gift box expands to its components) wanted by one order line."""

    product: ProductInfo
    quantity: int
    field: str | None = None


def reserve(uow: UnitOfWork, location: LocationInfo, requests: list[StockRequest], reference: str,
            *, consume: bool = False) -> list[list[Pick]]:
    """Take batches for each request: reserve them (confirmed orders) or, with consume=True, take them out of
    stock at once (a sale at the counter). Answers the picks per request, in order. All or nothing."""
    with uow:
        wanted = _expand(uow, requests)
        product_ids = {p.id for parts in wanted for p, _, _ in parts}
        locked = ledger.lock_batches(uow, [location.id], product_ids)
        today = uow.now().date()
        taken: dict[int, int] = defaultdict(int)
        answer: list[list[Pick]] = []
        skus: dict[int, str] = {}
        for parts in wanted:
            picks: list[Pick] = []
            for product, quantity, field in parts:
                skus[product.id] = product.sku
                batches = [_reserve_view(b, taken[b.level_id]) for b in locked.get((location.id, product.id), [])]
                for pick in pick_batches(batches, quantity, ages=product.ages, today=today, product_id=product.id,
                                         location_id=location.id, sku=product.sku, field=field):
                    taken[pick.level_id] += pick.quantity
                    picks.append(pick)
            answer.append(picks)
        movements = [
            Movement(p.product_id, p.location_id, p.batch_id, on_hand=-p.quantity, kind="sale",
                     unit_cost=p.unit_cost)
            if consume else Movement(p.product_id, p.location_id, p.batch_id, reserved=p.quantity)
            for picks in answer for p in picks
        ]
        ledger.apply(uow, movements, reference=reference, reason="sale" if consume else "reservation",
                     skus=skus, location_codes={location.id: location.code}, locked=locked)
        uow.commit()
        return answer


def _expand(uow: UnitOfWork, requests: list[StockRequest]) -> list[list[tuple[ProductInfo, int, str | None]]]:
    """A gift box is sold as its components: one part per component, its quantity per box times the boxes."""
    component_ids = {c.product_id for r in requests if r.product.is_gift_box for c in r.product.components}
    components = catalog.get_products_by_id(uow, component_ids) if component_ids else {}
    expanded = []
    for request in requests:
        product = request.product
        if product.is_gift_box:
            expanded.append([(components[c.product_id], c.quantity * request.quantity, request.field)
                             for c in product.components])
        else:
            expanded.append([(product, request.quantity, request.field)])
    return expanded


def _reserve_view(batch: BatchStock, taken: int) -> BatchStock:
    if not taken:
        return batch
    return BatchStock(batch.level_id, batch.batch_id, batch.batch_code, batch.on_hand, batch.reserved + taken,
                      batch.unit_cost, batch.expires_on, batch.produced_on, batch.received_at)


@dataclass(frozen=True)
class Held:
    """Units of one batch an order holds or took (what sales keeps per line allocation)."""

    product_id: int
    location_id: int
    batch_id: int
    quantity: int
    unit_cost: int = 0


def release(uow: UnitOfWork, held: list[Held], reference: str) -> None:
    """Give back reservations (an order cancelled before it shipped)."""
    _settle(uow, held, reference, reason="release",
            movement=lambda h: Movement(h.product_id, h.location_id, h.batch_id, reserved=-h.quantity))


def ship(uow: UnitOfWork, held: list[Held], reference: str) -> None:
    """Reserved units leave the building: on hand and reserved both go down; ledger `sale`."""
    _settle(uow, held, reference, reason="shipment",
            movement=lambda h: Movement(h.product_id, h.location_id, h.batch_id, on_hand=-h.quantity,
                                        reserved=-h.quantity, kind="sale", unit_cost=h.unit_cost))


def put_back(uow: UnitOfWork, held: list[Held], reference: str) -> None:
    """Returned resalable goods go back into their batch at the location they left; ledger `return`."""
    _settle(uow, held, reference, reason="return",
            movement=lambda h: Movement(h.product_id, h.location_id, h.batch_id, on_hand=h.quantity,
                                        kind="return", unit_cost=h.unit_cost))


def _settle(uow: UnitOfWork, held: list[Held], reference: str, *, reason: str, movement: Any) -> None:
    held = [h for h in held if h.quantity > 0]
    if not held:
        return
    with uow:
        # Lock in the same order as reserve() so that settling and reserving never deadlock.
        locked = ledger.lock_batches(uow, {h.location_id for h in held}, {h.product_id for h in held})
        products = catalog.get_products_by_id(uow, {h.product_id for h in held})
        ledger.apply(uow, [movement(h) for h in held], reference=reference, reason=reason,
                     skus={pid: p.sku for pid, p in products.items()},
                     location_codes=location_codes(uow, (h.location_id for h in held)), locked=locked)
        uow.commit()


def reallocate_expired(uow: UnitOfWork, held: list[Held], reference: str) -> list[tuple[Held, list[Pick]]]:
    """Swap reservations on batches that have expired since for good batches. Answers (old, new picks)."""
    with uow:
        today = uow.now().date()
        batch_ids = {h.batch_id for h in held}
        expired = set(uow.session.scalars(
            select(Batch.id).where(Batch.id.in_(batch_ids), Batch.expires_on.is_not(None), Batch.expires_on < today)))
        stale = [h for h in held if h.batch_id in expired]
        if not stale:
            return []
        release(uow, stale, reference)
        products = catalog.get_products_by_id(uow, {h.product_id for h in stale})
        swaps = []
        for h in stale:
            location = get_location_by_id(uow, h.location_id)
            picks = reserve(uow, location, [StockRequest(products[h.product_id], h.quantity)], reference)[0]
            swaps.append((h, picks))
        uow.commit()
        return swaps


# -- what is in stock --------------------------------------------------------------------------------------


def stock_levels(uow: UnitOfWork, sku: str | None = None, location: str | None = None,
                 scope: frozenset[str] | None = None, after: tuple[int, int] = (0, 0), limit: int = 500
                 ) -> list[dict[str, Any]]:
    """On hand, reserved and available per SKU x location, with its batches. Gift boxes are derived."""
    with uow.reading():
        product_ids = None
        if sku is not None:
            product = _product(uow, sku, stocked=False)
            if product.is_gift_box:
                return _gift_box_items(uow, product, location, scope)
            product_ids = [product.id]
        location_ids = None
        if location is not None:
            location_ids = [get_location(uow, location).id]
        return _stock_items(uow, product_ids=product_ids, location_ids=location_ids, scope=scope, after=after,
                            limit=limit)


def available(uow: UnitOfWork, location: LocationInfo, products: list[ProductInfo]) -> dict[int, int]:
    """Sellable units per product at a location (gift boxes: boxes that can be made)."""
    with uow.reading():
        wanted = _expand(uow, [StockRequest(p, 1) for p in products])
        ids = {p.id for parts in wanted for p, _, _ in parts}
        today = uow.now().date()
        rows = uow.session.execute(
            select(StockLevel.product_id, StockLevel.on_hand, StockLevel.reserved, Batch.expires_on)
            .join(Batch, Batch.id == StockLevel.batch_id)
            .where(StockLevel.location_id == location.id, StockLevel.product_id.in_(ids)))
        free: dict[int, int] = defaultdict(int)
        for r in rows:
            if r.expires_on is None or r.expires_on >= today:
                free[r.product_id] += r.on_hand - r.reserved
        return {
            product.id: gift_box_available(free, [(p.id, q) for p, q, _ in parts]) if product.is_gift_box
            else free.get(product.id, 0)
            for product, parts in zip(products, wanted, strict=True)
        }


def _stock_items(uow: UnitOfWork, *, product_ids: list[int] | None = None, location_ids: list[int] | None = None,
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
        boxes = available(uow, loc, [box])[box.id]
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
            product = _product(uow, sku, stocked=False)
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


__all__ = ["Pick", "allocation_order"]
