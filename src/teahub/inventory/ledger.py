"""The stock engine: locks stock rows, applies movements with their ledger rows, and reports the change.

Every change of on hand or reserved goes through `apply`, in the caller's transaction. Rows are locked in
one order (location, product, row id) so concurrent orders queue instead of deadlocking; the CHECK
constraints on stock_levels are the last word: a movement that would oversell fails in the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import cast

from sqlalchemy import Table, and_, bindparam, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from teahub.db.uow import UnitOfWork
from teahub.errors import InsufficientStock
from teahub.inventory.events import STOCK_CHANGED, STOCK_LOW
from teahub.inventory.models import Batch, StockLedgerEntry, StockLevel, StockThreshold
from teahub.inventory.rules import BatchStock

_levels = cast(Table, StockLevel.__table__)


@dataclass(frozen=True)
class Movement:
    product_id: int
    location_id: int
    batch_id: int
    on_hand: int = 0  # signed change
    reserved: int = 0  # signed change
    kind: str | None = None  # ledger kind when on hand changes
    unit_cost: int = 0


@dataclass(frozen=True)
class Totals:
    on_hand: int
    reserved: int
    available: int
    expired: int


class LockedStock(dict[tuple[int, int], list[BatchStock]]):
    """The batch rows locked for some products at some locations: (location, product) → batches."""

    def __init__(self, location_ids: set[int], product_ids: set[int]) -> None:
        super().__init__()
        self.location_ids = location_ids
        self.product_ids = product_ids

    def covers(self, pairs: set[tuple[int, int]]) -> bool:
        return all(loc in self.location_ids and p in self.product_ids for loc, p in pairs)


def lock_batches(uow: UnitOfWork, location_ids: Iterable[int], product_ids: Iterable[int]) -> LockedStock:
    """Lock and load every batch row of these products at these locations."""
    locations, products = set(location_ids), set(product_ids)
    stmt = (
        select(StockLevel.id, StockLevel.location_id, StockLevel.product_id, StockLevel.batch_id,
               StockLevel.on_hand, StockLevel.reserved, Batch.code, Batch.unit_cost, Batch.expires_on,
               Batch.produced_on, Batch.received_at)
        .join(Batch, Batch.id == StockLevel.batch_id)
        .where(StockLevel.location_id.in_(sorted(locations)), StockLevel.product_id.in_(sorted(products)))
        .order_by(StockLevel.location_id, StockLevel.product_id, StockLevel.id)
        .with_for_update(of=StockLevel)
    )
    found = LockedStock(locations, products)
    for row in uow.session.execute(stmt):
        found.setdefault((row.location_id, row.product_id), []).append(
            BatchStock(row.id, row.batch_id, row.code, row.on_hand, row.reserved, row.unit_cost,
                       row.expires_on, row.produced_on, row.received_at)
        )
    return found


def totals_of(batches: list[BatchStock], today: date) -> Totals:
    on_hand = sum(b.on_hand for b in batches)
    reserved = sum(b.reserved for b in batches)
    expired = sum(b.on_hand - b.reserved for b in batches if b.expired(today))
    return Totals(on_hand, reserved, on_hand - reserved - expired, expired)


def apply(uow: UnitOfWork, movements: list[Movement], *, reference: str | None, reason: str,
          skus: dict[int, str], location_codes: dict[int, str], note: str | None = None,
          locked: LockedStock | None = None) -> None:
    """Apply movements to stock levels, write their ledger rows, and record stock.changed / stock.low.
    `locked` is what the caller already locked with lock_batches (it is locked here otherwise)."""
    if not movements:
        return
    session = uow.session
    pairs = {(m.location_id, m.product_id) for m in movements}
    if locked is None or not locked.covers(pairs):
        locked = lock_batches(uow, {loc for loc, _ in pairs}, {p for _, p in pairs})
    today = uow.now().date()
    before = {pair: totals_of(locked.get(pair, []), today) for pair in pairs}
    try:
        _write_levels(uow, movements)
    except IntegrityError as exc:  # a CHECK constraint refused: the stock is not there
        raise InsufficientStock("not enough stock for this movement") from exc
    now = uow.now()
    ledger_rows = [
        {"at": now, "kind": m.kind, "product_id": m.product_id, "location_id": m.location_id,
         "batch_id": m.batch_id, "quantity": m.on_hand, "unit_cost": m.unit_cost, "reference": reference,
         "actor": uow.actor, "note": note}
        for m in movements if m.on_hand != 0
    ]
    if ledger_rows:
        session.execute(insert(StockLedgerEntry), ledger_rows)
    after = _totals_after(uow, before, locked, movements, today)
    minimums = _thresholds(uow, pairs)
    for location_id, product_id in sorted(pairs):
        sku, code = skus[product_id], location_codes[location_id]
        totals = after[(location_id, product_id)]
        aggregate = f"{sku}@{code}"
        uow.record_event(STOCK_CHANGED, "stock", aggregate, {
            "sku": sku, "location": code, "on_hand": totals.on_hand, "reserved": totals.reserved,
            "available": totals.available, "reason": reason, "reference": reference,
        })
        minimum = minimums.get((location_id, product_id))
        was = before[(location_id, product_id)].available
        if minimum is not None and totals.available < minimum <= was:
            uow.record_event(STOCK_LOW, "stock", aggregate, {
                "sku": sku, "location": code, "available": totals.available, "minimum": minimum,
            })


def _totals_after(uow: UnitOfWork, before: dict[tuple[int, int], Totals],
                  locked: LockedStock, movements: list[Movement], today: date
                  ) -> dict[tuple[int, int], Totals]:
    """Totals after the movements, from what was locked plus the changes (no second read)."""
    expired_known = {b.batch_id: b.expired(today) for batches in locked.values() for b in batches}
    unknown = {m.batch_id for m in movements if m.batch_id not in expired_known}
    if unknown:
        for batch_id, expires_on in uow.session.execute(
                select(Batch.id, Batch.expires_on).where(Batch.id.in_(unknown))):
            expired_known[batch_id] = expires_on is not None and expires_on < today
    acc = {pair: [t.on_hand, t.reserved, t.expired] for pair, t in before.items()}
    for m in movements:
        values = acc[(m.location_id, m.product_id)]
        values[0] += m.on_hand
        values[1] += m.reserved
        if expired_known[m.batch_id]:
            values[2] += m.on_hand - m.reserved
    return {pair: Totals(v[0], v[1], v[0] - v[1] - v[2], v[2]) for pair, v in acc.items()}


def _write_levels(uow: UnitOfWork, movements: list[Movement]) -> None:
    session = uow.session
    merged: dict[tuple[int, int, int], list[int]] = {}
    for m in movements:
        key = (m.product_id, m.location_id, m.batch_id)
        delta = merged.setdefault(key, [0, 0])
        delta[0] += m.on_hand
        delta[1] += m.reserved
    dialect = session.get_bind().dialect.name
    ins = postgresql.insert if dialect == "postgresql" else sqlite.insert
    additions = {k for k, (oh, rs) in merged.items() if oh > 0 and rs == 0}
    for product_id, location_id, batch_id in additions:
        quantity = merged[(product_id, location_id, batch_id)][0]
        stmt = ins(StockLevel).values(product_id=product_id, location_id=location_id, batch_id=batch_id,
                                      on_hand=quantity, reserved=0)
        stmt = stmt.on_conflict_do_update(
            index_elements=["product_id", "location_id", "batch_id"],
            set_={"on_hand": StockLevel.on_hand + quantity},
        )
        session.execute(stmt)
    changes = [
        {"p": p, "l": loc, "b": b, "oh": oh, "rs": rs}
        for (p, loc, b), (oh, rs) in merged.items()
        if (p, loc, b) not in additions and (oh or rs)
    ]
    if changes:
        session.execute(
            update(_levels)
            .where(_levels.c.product_id == bindparam("p"), _levels.c.location_id == bindparam("l"),
                   _levels.c.batch_id == bindparam("b"))
            .values(on_hand=_levels.c.on_hand + bindparam("oh"), reserved=_levels.c.reserved + bindparam("rs")),
            changes,
        )
        session.flush()


def _thresholds(uow: UnitOfWork, pairs: set[tuple[int, int]]) -> dict[tuple[int, int], int]:
    condition = or_(*(and_(StockThreshold.location_id == loc, StockThreshold.product_id == p)
                      for loc, p in pairs))
    rows = uow.session.execute(
        select(StockThreshold.location_id, StockThreshold.product_id, StockThreshold.minimum).where(condition)
    )
    return {(r.location_id, r.product_id): r.minimum for r in rows}
