"""Stock pushed back to the shops: each shop shows available × ratio − safety stock (capped) of every SKU mapped
to it, through its platform's stock API.

- A stock change (`stock.changed`, a subscription) marks (shop, SKU) dirty for every active shop shipping from
  that location that has the SKU mapped (or a gift box made of it): one row per shop × SKU, so ten changes
  make one push (`marks` counts them, so a push never clears a change made while it ran).
- Every few seconds the push job takes the dirty rows whose last push is older than the coalescing window,
  reads what is available, and pushes each platform SKU mapped to it (full quantity), skipping a figure that
  has not changed. A shop's updates go to its connector together, so a platform that sets several SKUs in one
  call (Taobao/Tmall) gets them batched; each row still gets its own outcome. A failure keeps the row dirty with
  its error and a growing backoff.
- A resync (daily, or asked for) pushes every mapped SKU of a shop whether it changed or not.

Quantities are teahub base units (grams for loose tea); a platform SKU shows quantity ÷ its units per item.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from teahub.catalog import service as catalog
from teahub.channels import rules, shops
from teahub.channels.client import TIMEOUT, PlatformClient
from teahub.channels.connectors import connector_for
from teahub.channels.connectors.base import StockBatching, StockPushed, StockUpdate, stock_updates
from teahub.channels.models import Shop, ShopStock, SkuMapping
from teahub.channels.schemas import ShopPatch, SkuMappingIn
from teahub.db.uow import UnitOfWork
from teahub.errors import DomainError, NotFound
from teahub.inventory import service as inventory

COALESCE = timedelta(seconds=5)  # at most one push per shop × SKU in this long
LEASE = timedelta(minutes=2)  # a worker pushing a row holds it this long at most
BACKOFF_FIRST = timedelta(seconds=10)
BACKOFF_MAX = timedelta(minutes=30)
BATCH = 500  # rows per run of the push job


def backoff(attempts: int) -> timedelta:
    """10 s, 20 s, 40 s, … at most 30 minutes."""
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


# -- marking dirty --------------------------------------------------------------------------------
def on_stock_changed(uow: UnitOfWork, event: dict[str, Any]) -> None:
    """The subscription's handler (inside its transaction): mark the shops × SKUs this change shows on."""
    payload = event.get("payload") or {}
    sku, location = payload.get("sku"), payload.get("location")
    if not sku or not location:
        return
    mark(uow, affected(uow, str(location), str(sku)))


def affected(uow: UnitOfWork, location_code: str, sku: str) -> list[tuple[int, str]]:
    """(shop id, mapped SKU) of the active shops shipping from the location that show this SKU, or a gift box
    holding it."""
    try:
        location = inventory.get_location(uow, location_code)
    except NotFound:
        return []
    rows = uow.session.execute(
        select(SkuMapping.shop_id, SkuMapping.sku).join(Shop, Shop.id == SkuMapping.shop_id)
        .where(Shop.location_id == location.id, Shop.active).distinct()).all()
    found = {(shop_id, mapped) for shop_id, mapped in rows if mapped == sku}
    others = {mapped for _, mapped in rows if mapped != sku}
    if others:
        boxes = {p.sku for p in catalog.get_products(uow, others).values()
                 if p.is_gift_box and any(c.sku == sku for c in p.components)}
        found |= {(shop_id, mapped) for shop_id, mapped in rows if mapped in boxes}
    return sorted(found)


def mark(uow: UnitOfWork, pairs: list[tuple[int, str]], *, force: bool = False) -> int:
    """Mark (shop id, SKU) dirty in the caller's transaction: one row each, dirty since the first mark."""
    if not pairs:
        return 0
    table = ShopStock.__table__
    now = uow.now()
    ins = postgresql.insert if uow.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = ins(table).values([{"shop_id": shop_id, "sku": sku, "dirty_since": now, "marks": 1, "force": force,
                               "attempts": 0} for shop_id, sku in sorted(set(pairs))])
    stmt = stmt.on_conflict_do_update(index_elements=["shop_id", "sku"], set_={
        "dirty_since": func.coalesce(table.c.dirty_since, stmt.excluded.dirty_since),
        "marks": table.c.marks + 1,
        "force": or_(table.c.force, stmt.excluded.force),
    })
    uow.session.execute(stmt)
    return len(set(pairs))


def mark_shop(uow: UnitOfWork, shop_id: int, *, force: bool) -> int:
    with uow:
        skus = uow.session.scalars(select(SkuMapping.sku).where(SkuMapping.shop_id == shop_id).distinct()).all()
        marked = mark(uow, [(shop_id, sku) for sku in skus], force=force)
        uow.commit()
        return marked


# -- pushing --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Claim:
    shop_id: int
    sku: str
    marks: int
    force: bool
    pushed_quantity: int | None


def _claim(uow: UnitOfWork, shop_id: int | None, limit: int) -> list[_Claim]:
    """Take the due rows (dirty, past the coalescing window unless forced, past their backoff, not held by
    another worker) by a conditional update of their lease: one worker pushes a row at a time."""
    now = uow.now()
    with uow:
        due = (select(ShopStock).where(
            ShopStock.dirty_since.is_not(None),
            or_(ShopStock.force, ShopStock.pushed_at.is_(None), ShopStock.pushed_at <= now - COALESCE),
            or_(ShopStock.retry_at.is_(None), ShopStock.retry_at <= now),
            or_(ShopStock.lease_until.is_(None), ShopStock.lease_until < now))
            .order_by(ShopStock.dirty_since).limit(limit))
        if shop_id is not None:
            due = due.where(ShopStock.shop_id == shop_id)
        claims = []
        for row in uow.session.scalars(due).all():
            taken = uow.session.execute(
                update(ShopStock).where(ShopStock.shop_id == row.shop_id, ShopStock.sku == row.sku,
                                        or_(ShopStock.lease_until.is_(None), ShopStock.lease_until < now))
                .values(lease_until=now + LEASE).execution_options(synchronize_session=False))
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                claims.append(_Claim(row.shop_id, row.sku, row.marks, row.force, row.pushed_quantity))
        uow.commit()
        return claims


@dataclass(frozen=True)
class _ShopContext:
    shop: shops.ShopInfo
    ratio: int
    safety_stock: int
    cap: int | None
    location: inventory.LocationInfo
    mappings: dict[str, list[SkuMapping]]


def _context(uow: UnitOfWork, shop_id: int) -> _ShopContext | None:
    with uow.reading():
        shop = uow.session.get(Shop, shop_id)
        if shop is None:
            return None
        location = inventory.get_location_by_id(uow, shop.location_id)
        mappings: dict[str, list[SkuMapping]] = defaultdict(list)
        for m in uow.session.scalars(select(SkuMapping).where(SkuMapping.shop_id == shop_id)
                                     .order_by(SkuMapping.id)):
            uow.session.expunge(m)
            mappings[m.sku].append(m)
        return _ShopContext(shops.shop_info(shop, location.code), shop.allocation_ratio, shop.safety_stock,
                            shop.stock_cap, location, dict(mappings))


def shown(context: _ShopContext, available: int) -> int:
    return rules.available_to_sell(available, context.ratio, context.safety_stock, context.cap)


def _available(uow: UnitOfWork, location: inventory.LocationInfo, skus: list[str]) -> dict[str, int]:
    products = catalog.get_products(uow, skus)
    known = [products[s] for s in skus if s in products]
    by_id = inventory.available(uow, location, known) if known else {}
    return {p.sku: by_id.get(p.id, 0) for p in known}


def _update_for(mapping: SkuMapping, quantity: int, shop_code: str, marks: int) -> StockUpdate:
    pieces = rules.platform_pieces(quantity, mapping.units_per_item)
    key = hashlib.sha256(f"{shop_code}:{mapping.id}:{marks}:{pieces}".encode()).hexdigest()[:32]
    return StockUpdate(platform_sku_id=mapping.platform_sku_id, merchant_code=mapping.outer_code, quantity=pieces,
                       item_id=mapping.item_id, idempotency_key=key)


def push_due(uow: UnitOfWork, *, shop_id: int | None = None, http: httpx.Client | None = None,
             limit: int = BATCH) -> dict[str, Any]:
    """The push job: push the due dirty rows (of one shop, or all). Safe to run on several workers at once."""
    claims = _claim(uow, shop_id, limit)
    summary = {"pushed": 0, "unchanged": 0, "failed": 0, "calls": 0}
    by_shop: dict[int, list[_Claim]] = defaultdict(list)
    for claim in claims:
        by_shop[claim.shop_id].append(claim)
    own_http = http is None and bool(claims)
    client = httpx.Client(timeout=TIMEOUT) if own_http else http
    try:
        for sid, shop_claims in by_shop.items():
            context = _context(uow, sid)
            if context is None:
                continue
            available = _available(uow, context.location, [c.sku for c in shop_claims])
            api = PlatformClient(connector_for(context.shop.platform), context.shop, client, clock=uow.now)
            for key, count in _push_shop(uow, context, api, shop_claims, available).items():
                summary[key] += count
    finally:
        if own_http and client is not None:
            client.close()
    return summary


def _push_shop(uow: UnitOfWork, context: _ShopContext, api: PlatformClient, claims: list[_Claim],
               available: dict[str, int]) -> dict[str, int]:
    """One shop's claimed rows: those with nothing to push are finished at once; the updates of the others go to
    the connector (all together where it batches them, else row by row), and each row is finished with its
    figure or the first error among its updates. `calls` counts the platform calls behind the rows pushed."""
    counts = {"pushed": 0, "unchanged": 0, "failed": 0, "calls": 0}
    due: list[tuple[_Claim, int, list[StockUpdate]]] = []  # claim, quantity, one update per mapping
    for claim in claims:
        mappings = context.mappings.get(claim.sku, [])
        quantity = shown(context, available.get(claim.sku, 0))
        unchanged = not claim.force and claim.pushed_quantity == quantity
        if not context.shop.active or not mappings or unchanged:  # nothing to show it on (any more), or no news
            _finish(uow, claim, pushed=None, error=None)
            counts["unchanged"] += 1
            continue
        due.append((claim, quantity, [_update_for(m, quantity, context.shop.code, claim.marks) for m in mappings]))
    # Row by row for a connector that cannot batch, so each row is finished right after its calls (its lease).
    groups = [due] if isinstance(api.connector, StockBatching) else [[row] for row in due]
    for group in groups:
        updates = [u for _, _, row_updates in group for u in row_updates]
        results = stock_updates(api.connector, api, updates) if updates else []
        if len(results) != len(updates):
            raise RuntimeError(f"{context.shop.platform}: {len(results)} stock results for {len(updates)} updates")
        calls: set[int] = set()
        start = 0
        for claim, quantity, row_updates in group:
            mine, start = results[start:start + len(row_updates)], start + len(row_updates)
            error = next((r for r in mine if isinstance(r, DomainError)), None)
            if error is not None:
                _finish(uow, claim, pushed=None, error=error.detail)
                counts["failed"] += 1
            else:
                _finish(uow, claim, pushed=quantity, error=None)
                counts["pushed"] += 1
                calls |= {r.call for r in mine if isinstance(r, StockPushed)}
        counts["calls"] += len(calls)
    return counts


def _finish(uow: UnitOfWork, claim: _Claim, *, pushed: int | None, error: str | None) -> None:
    with uow:
        row = uow.session.get(ShopStock, (claim.shop_id, claim.sku), with_for_update=True)
        if row is None:
            return
        now = uow.now()
        row.lease_until = None
        if error is not None:
            row.attempts += 1
            row.retry_at = now + backoff(row.attempts)
            row.last_error, row.last_error_at = error[:4000], now
        else:
            if pushed is not None:
                row.pushed_quantity, row.pushed_at = pushed, now
            row.attempts, row.retry_at, row.last_error = 0, None, None
            if row.marks == claim.marks:  # no change came in while this ran: clean
                row.dirty_since, row.force = None, False
        uow.commit()


# -- resync and the view --------------------------------------------------------------------------
def resync_shop(uow: UnitOfWork, code: str, *, http: httpx.Client | None = None) -> dict[str, Any]:
    """Push every mapped SKU of the shop now, whether it changed or not (a row in backoff waits for it)."""
    shop = shops.get_shop_info(uow, code)
    marked = mark_shop(uow, shop.id, force=True)
    with uow:  # asked for by a person: the backoff of a failing row does not hold it back
        uow.session.execute(update(ShopStock).where(ShopStock.shop_id == shop.id).values(retry_at=None))
        uow.commit()
    summary = push_due(uow, shop_id=shop.id, http=http)
    return {"shop": code, "marked": marked, **summary}


def resync_all(uow: UnitOfWork) -> dict[str, Any]:
    """The daily job: every active shop's mapped SKUs marked for a full push, then pushed."""
    with uow.reading():
        ids = list(uow.session.scalars(select(Shop.id).where(Shop.active).order_by(Shop.code)))
    marked = sum(mark_shop(uow, shop_id, force=True) for shop_id in ids)
    results = push_due(uow, limit=100_000)
    return {"shops": len(ids), "marked": marked, **results}


def shop_stock(uow: UnitOfWork, code: str) -> dict[str, Any]:
    """Per mapped SKU: available at the shop's location, what the shop should show, what was pushed and when,
    whether a push is pending, and the last error."""
    with uow.reading():
        shop_id = shops.find_shop(uow, code).id
    context = _context(uow, shop_id)
    assert context is not None
    with uow.reading():
        rows = {r.sku: r for r in uow.session.scalars(select(ShopStock).where(ShopStock.shop_id == shop_id))}
        skus = sorted(set(context.mappings) | set(rows))
        available = _available(uow, context.location, skus)
        items = []
        for sku in skus:
            row = rows.get(sku)
            quantity = shown(context, available.get(sku, 0))
            items.append({
                "sku": sku, "available": available.get(sku, 0), "quantity": quantity,
                "pushed_quantity": row.pushed_quantity if row else None, "pushed_at": row.pushed_at if row else None,
                "dirty": bool(row and row.dirty_since is not None), "dirty_since": row.dirty_since if row else None,
                "attempts": row.attempts if row else 0, "retry_at": row.retry_at if row else None,
                "last_error": row.last_error if row else None, "last_error_at": row.last_error_at if row else None,
                "targets": [{"mapping_id": m.id, "platform_sku_id": m.platform_sku_id, "outer_code": m.outer_code,
                             "item_id": m.item_id, "units_per_item": m.units_per_item,
                             "quantity": rules.platform_pieces(quantity, m.units_per_item)}
                            for m in context.mappings.get(sku, [])],
            })
    return {"shop": code, "platform": context.shop.platform, "location": context.location.code,
            "allocation": {"ratio": context.ratio / rules.RATIO_SCALE, "safety_stock": context.safety_stock,
                           "cap": context.cap}, "items": items}


# -- shop settings that change what the shop is shown --------------------------------------------
def update_shop(uow: UnitOfWork, code: str, patch: ShopPatch) -> dict[str, Any]:
    """A shop's settings changed (see shops.update_shop); a new allocation, location or reactivation changes the
    figure each of its SKUs shows, so all of them are marked for a push now rather than at their next sale."""
    with uow:
        view = shops.update_shop(uow, code, patch)
        shows_other_figures = bool({"allocation", "location", "active"} & patch.model_fields_set)
        if shows_other_figures and view["active"]:
            mark_shop(uow, shops.find_shop(uow, code).id, force=False)
        uow.commit()
    shops.forget_recent(uow)  # its pushes are checked against the new secret at once
    return view


# -- SKU mappings with their item id --------------------------------------------------------------
def add_mapping(uow: UnitOfWork, code: str, data: SkuMappingIn) -> dict[str, Any]:
    """A SKU mapping (see shops.add_mapping) with the platform's item id, and its SKU marked for a push."""
    with uow:
        view = shops.add_mapping(uow, code, data)
        mapping = uow.session.get(SkuMapping, view["id"])
        assert mapping is not None
        mapping.item_id = data.item_id
        mark(uow, [(mapping.shop_id, mapping.sku)], force=True)  # a new platform SKU: push it even unchanged
        uow.commit()
        return {**view, "item_id": data.item_id}


def list_mappings(uow: UnitOfWork, code: str) -> list[dict[str, Any]]:
    views = shops.list_mappings(uow, code)
    with uow.reading():
        ids = [v["id"] for v in views]
        items = dict(uow.session.execute(select(SkuMapping.id, SkuMapping.item_id)
                                         .where(SkuMapping.id.in_(ids))).all()) if ids else {}
    return [{**v, "item_id": items.get(v["id"])} for v in views]
