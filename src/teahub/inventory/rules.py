"""Stock rules with no I/O: which batches an order takes, and what is available.

FEFO (first expiring, first out) for teas with a shelf life; FIFO (first in, first out) for teas that age
(white, pu-erh, dark). An expired batch is never allocated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from teahub.errors import InsufficientStock


@dataclass(frozen=True)
class BatchStock:
    """One batch of one SKU at one location, as the allocator sees it."""

    level_id: int
    batch_id: int
    batch_code: str
    on_hand: int
    reserved: int
    unit_cost: int
    expires_on: date | None
    produced_on: date | None
    received_at: datetime

    @property
    def free(self) -> int:
        return self.on_hand - self.reserved

    def expired(self, today: date) -> bool:
        return self.expires_on is not None and self.expires_on < today


@dataclass(frozen=True)
class Pick:
    """Units taken from one batch at one location."""

    level_id: int
    product_id: int
    sku: str
    location_id: int
    batch_id: int
    batch_code: str
    quantity: int
    unit_cost: int


def allocation_order(batches: list[BatchStock], *, ages: bool) -> list[BatchStock]:
    if ages:  # FIFO: the oldest goods first
        return sorted(batches, key=lambda b: (b.produced_on or b.received_at.date(), b.received_at, b.batch_id))
    return sorted(batches, key=lambda b: (b.expires_on or date.max, b.received_at, b.batch_id))


def sellable(batches: list[BatchStock], today: date) -> int:
    return sum(b.free for b in batches if not b.expired(today) and b.free > 0)


def pick_batches(batches: list[BatchStock], quantity: int, *, ages: bool, today: date, product_id: int,
                 location_id: int, sku: str = "", field: str | None = None) -> list[Pick]:
    """Take `quantity` units from the batches in allocation order; refuse when there are not enough."""
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    available = sellable(batches, today)
    if available < quantity:
        raise InsufficientStock(
            f"not enough stock of {sku or product_id}: {available} available, {quantity} wanted",
            field=field, sku=sku or None, available=available, requested=quantity,
        )
    picks: list[Pick] = []
    left = quantity
    for batch in allocation_order(batches, ages=ages):
        if left == 0:
            break
        if batch.expired(today) or batch.free <= 0:
            continue
        take = min(left, batch.free)
        picks.append(Pick(batch.level_id, product_id, sku, location_id, batch.batch_id, batch.batch_code, take,
                          batch.unit_cost))
        left -= take
    return picks


def gift_box_available(component_available: dict[int, int], components: list[tuple[int, int]]) -> int:
    """How many boxes can be made: the scarcest component decides. components: (product_id, per box)."""
    if not components:
        return 0
    return min(component_available.get(pid, 0) // per_box for pid, per_box in components)
