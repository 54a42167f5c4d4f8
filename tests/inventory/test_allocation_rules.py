"""The allocator without a database: FEFO, FIFO, expiry, and never more than there is."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from teahub.errors import InsufficientStock
from teahub.inventory.rules import BatchStock, gift_box_available, pick_batches

TODAY = date(2026, 11, 24)


def batch(batch_id: int, on_hand: int, *, reserved: int = 0, expires: date | None = None,
          produced: date | None = None, received_day: int = 1) -> BatchStock:
    return BatchStock(level_id=batch_id, batch_id=batch_id, batch_code=f"B{batch_id}", on_hand=on_hand,
                      reserved=reserved, unit_cost=100 * batch_id, expires_on=expires, produced_on=produced,
                      received_at=datetime(2026, 1, received_day, tzinfo=UTC))


def pick(batches: list[BatchStock], quantity: int, *, ages: bool = False) -> list[tuple[int, int]]:
    picks = pick_batches(batches, quantity, ages=ages, today=TODAY, product_id=1, location_id=1, sku="X")
    return [(p.batch_id, p.quantity) for p in picks]


def test_fefo_takes_the_batch_that_expires_first() -> None:
    batches = [batch(1, 5, expires=date(2027, 6, 1)), batch(2, 5, expires=date(2027, 1, 1))]
    assert pick(batches, 7) == [(2, 5), (1, 2)]


def test_fifo_takes_the_oldest_aging_tea_first() -> None:
    batches = [batch(1, 5, produced=date(2024, 4, 1)), batch(2, 5, produced=date(2019, 4, 1))]
    assert pick(batches, 6, ages=True) == [(2, 5), (1, 1)]


def test_expired_batches_are_never_allocated() -> None:
    batches = [batch(1, 5, expires=date(2026, 11, 23)), batch(2, 3, expires=date(2027, 1, 1))]
    assert pick(batches, 3) == [(2, 3)]
    with pytest.raises(InsufficientStock) as refused:
        pick(batches, 4)
    assert refused.value.extra["available"] == 3


def test_a_batch_expiring_today_is_still_sold() -> None:
    assert pick([batch(1, 2, expires=TODAY)], 2) == [(1, 2)]


def test_reserved_units_are_not_allocated_again() -> None:
    batches = [batch(1, 5, reserved=4, expires=date(2027, 1, 1)), batch(2, 5, expires=date(2027, 2, 1))]
    assert pick(batches, 3) == [(1, 1), (2, 2)]


def test_gift_box_availability_is_limited_by_the_scarcest_component() -> None:
    assert gift_box_available({1: 10, 2: 3, 3: 100}, [(1, 1), (2, 1), (3, 2)]) == 3
    assert gift_box_available({1: 10}, [(1, 1), (2, 1)]) == 0


@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50), st.booleans()), min_size=1, max_size=6),
       st.integers(1, 200))
def test_picks_never_exceed_what_is_free_and_add_up(spec: list[tuple[int, int, bool]], quantity: int) -> None:
    batches = [batch(i + 1, on_hand, reserved=min(reserved, on_hand),
                     expires=date(2026, 1, 1) if expired else date(2027, 1, i + 1))
               for i, (on_hand, reserved, expired) in enumerate(spec)]
    sellable = sum(b.free for b in batches if not b.expired(TODAY))
    if quantity > sellable:
        with pytest.raises(InsufficientStock):
            pick(batches, quantity)
        return
    picks = pick(batches, quantity)
    assert sum(q for _, q in picks) == quantity
    by_id = {b.batch_id: b for b in batches}
    for batch_id, taken in picks:
        assert 0 < taken <= by_id[batch_id].free
        assert not by_id[batch_id].expired(TODAY)
