"""Stock coming in, moving and going out by hand: receipts, transfers, counts, scrap; and thresholds."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from teahub.catalog import service as catalog
from teahub.db.uow import UnitOfWork
from teahub.errors import Conflict, NotFound, ValidationFailed
from teahub.inventory import ledger
from teahub.inventory.ledger import Movement
from teahub.inventory.locations import get_location
from teahub.inventory.lookups import batch_of, stocked_product
from teahub.inventory.models import Batch, StockCount, StockCountLine, StockThreshold, Transfer, TransferLine
from teahub.inventory.queries import stock_items
from teahub.inventory.rules import BatchStock, pick_batches
from teahub.inventory.schemas import ReceiptIn, ScrapIn, StockCountIn, ThresholdIn, TransferIn


def receive_stock(uow: UnitOfWork, data: ReceiptIn) -> dict[str, Any]:
    """Receive a quantity of one SKU as a batch (new, or more of an existing batch at the same cost)."""
    with uow:
        location = get_location(uow, data.location)
        product = stocked_product(uow, data.sku)
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
        answer["stock"] = stock_items(uow, product_ids=[product.id], location_ids=[location.id])[0]
        uow.commit()
        return answer


def transfer_stock(uow: UnitOfWork, data: TransferIn) -> dict[str, Any]:
    """Move stock between locations, batch by batch (the batch keeps its identity and cost)."""
    with uow:
        source = get_location(uow, data.from_location, "from_location")
        target = get_location(uow, data.to_location, "to_location")
        if source.id == target.id:
            raise ValidationFailed("a transfer needs two different locations", field="to_location")
        products = [stocked_product(uow, line.sku, f"lines.{i}.sku") for i, line in enumerate(data.lines)]
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
        products = [stocked_product(uow, line.sku, f"lines.{i}.sku") for i, line in enumerate(data.lines)]
        locked = ledger.lock_batches(uow, [location.id], [p.id for p in products])
        movements: list[Movement] = []
        count_lines: list[StockCountLine] = []
        seen: set[tuple[int, int]] = set()
        for i, (line, product) in enumerate(zip(data.lines, products, strict=True)):
            batches = locked.get((location.id, product.id), [])
            if line.batch_code is not None:
                batch_row = batch_of(uow, product.id, line.batch_code, f"lines.{i}.batch_code")
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
        product = stocked_product(uow, data.sku)
        batch = batch_of(uow, product.id, data.batch_code)
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
        item = stock_items(uow, product_ids=[product.id], location_ids=[location.id])[0]
        uow.commit()
        return item


def set_threshold(uow: UnitOfWork, data: ThresholdIn) -> dict[str, Any]:
    with uow:
        location = get_location(uow, data.location)
        product = stocked_product(uow, data.sku)
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


