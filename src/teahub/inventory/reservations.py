"""Reservations and sales against batches, made by sales inside its own transaction."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from teahub.catalog import service as catalog
from teahub.catalog.rules import ProductInfo
from teahub.db.uow import UnitOfWork
from teahub.errors import InsufficientStock
from teahub.inventory import ledger
from teahub.inventory.ledger import Movement
from teahub.inventory.locations import LocationInfo, get_location_by_id, location_codes
from teahub.inventory.models import Batch, StockLevel
from teahub.inventory.rules import BatchStock, Pick, gift_box_available, pick_batches, sellable


@dataclass(frozen=True)
class StockRequest:
    """Units of one product (a gift box expands to its components) wanted by one order line."""

    product: ProductInfo
    quantity: int
    field: str | None = None


def reserve(uow: UnitOfWork, location: LocationInfo, requests: list[StockRequest], reference: str,
            *, consume: bool = False, short_ok: bool = False) -> list[list[Pick]]:
    """Take batches for each request: reserve them (confirmed orders) or, with consume=True, take them out of
    stock at once (a sale at the counter). Answers the picks per request, in order. All or nothing, unless
    `short_ok`: then what is there is taken and the picks of a request may add up to less than it asked
    (a sale made offline whose goods are gone already: the shortfall is the caller's to flag for review)."""
    with uow:
        wanted = _expand(uow, requests)
        locked = ledger.lock_batches(uow, [location.id], {p.id for parts in wanted for p, _, _ in parts})
        taken: dict[int, int] = defaultdict(int)
        skus: dict[int, str] = {}
        answer = _pick(uow, location, wanted, locked, taken, skus, short_ok=short_ok)
        _hold(uow, [p for picks in answer for p in picks], reference, consume=consume, skus=skus,
              location_codes={location.id: location.code}, locked=locked)
        uow.commit()
        return answer


def reserve_many(uow: UnitOfWork, orders: list[tuple[LocationInfo, list[StockRequest]]], reference: str
                 ) -> list[list[list[Pick]] | InsufficientStock]:
    """Reserve stock for many orders at once (a batch of platform orders), each all or nothing: the rows of
    every product involved are locked once, in the usual order, and the orders take their batches in turn.
    Answers per order its picks per request, or why it could not have them (the others go on)."""
    with uow:
        wanted = [_expand(uow, requests) for _, requests in orders]
        locked = ledger.lock_batches(uow, {location.id for location, _ in orders},
                                     {p.id for parts_list in wanted for parts in parts_list for p, _, _ in parts})
        taken: dict[int, int] = defaultdict(int)
        skus: dict[int, str] = {}
        answer: list[list[list[Pick]] | InsufficientStock] = []
        for (location, _), order_wanted in zip(orders, wanted, strict=True):
            trial = defaultdict(int, taken)
            try:
                picks = _pick(uow, location, order_wanted, locked, trial, skus, short_ok=False)
            except InsufficientStock as exc:
                answer.append(exc)
                continue
            taken = trial
            answer.append(picks)
        held = [p for picks in answer if not isinstance(picks, InsufficientStock) for line in picks for p in line]
        _hold(uow, held, reference, consume=False, skus=skus,
              location_codes={location.id: location.code for location, _ in orders}, locked=locked)
        uow.commit()
        return answer


def _pick(uow: UnitOfWork, location: LocationInfo, wanted: list[list[tuple[ProductInfo, int, str | None]]],
          locked: ledger.LockedStock, taken: dict[int, int], skus: dict[int, str], *, short_ok: bool
          ) -> list[list[Pick]]:
    """Each request's batches, first expiring first, from what `taken` leaves of the locked rows."""
    today = uow.now().date()
    answer: list[list[Pick]] = []
    for parts in wanted:
        picks: list[Pick] = []
        for product, quantity, field in parts:
            skus[product.id] = product.sku
            batches = [_reserve_view(b, taken[b.level_id]) for b in locked.get((location.id, product.id), [])]
            if short_ok:
                quantity = min(quantity, sellable(batches, today))
                if quantity == 0:
                    continue
            for pick in pick_batches(batches, quantity, ages=product.ages, today=today, product_id=product.id,
                                     location_id=location.id, sku=product.sku, field=field):
                taken[pick.level_id] += pick.quantity
                picks.append(pick)
        answer.append(picks)
    return answer


def _hold(uow: UnitOfWork, picks: list[Pick], reference: str, *, consume: bool, skus: dict[int, str],
          location_codes: dict[int, str], locked: ledger.LockedStock) -> None:
    movements = [
        Movement(p.product_id, p.location_id, p.batch_id, on_hand=-p.quantity, kind="sale", unit_cost=p.unit_cost)
        if consume else Movement(p.product_id, p.location_id, p.batch_id, reserved=p.quantity)
        for p in picks
    ]
    ledger.apply(uow, movements, reference=reference, reason="sale" if consume else "reservation",
                 skus=skus, location_codes=location_codes, locked=locked)


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


