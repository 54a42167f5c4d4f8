from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from teahub.api_params import Limit
from teahub.auth.deps import CurrentPrincipal, Uow
from teahub.auth.principal import Principal
from teahub.db.uow import UnitOfWork
from teahub.inventory import service
from teahub.inventory.schemas import (
    LedgerEntryOut,
    LocationIn,
    LocationOut,
    ReceiptIn,
    ReceiptOut,
    ScrapIn,
    StockCountIn,
    StockCountOut,
    StockItemOut,
    StockPage,
    ThresholdIn,
    ThresholdOut,
    TransferIn,
    TransferOut,
)
from teahub.pagination import Page, cursor_int, page

router = APIRouter(tags=["inventory"])
STOCK_ROLES = ("admin", "manager")


def _may_draw_from(principal: Principal, uow: UnitOfWork, code: str, field: str) -> None:
    """Managers may draw on warehouses for their stores; otherwise a location must be in scope."""
    if principal.can_act_for(code):
        return
    if principal.role == "manager" and service.get_location(uow, code, field).kind == "warehouse":
        return
    principal.require_store(code, field)


@router.post("/locations", response_model=LocationOut, status_code=201)
def create_location(body: LocationIn, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    principal.require_role("admin")
    return service.create_location(uow, body)


@router.get("/locations", response_model=Page[LocationOut])
def list_locations(principal: CurrentPrincipal, uow: Uow, kind: str | None = None) -> dict[str, Any]:
    return {"items": service.list_locations(uow, kind=kind), "next": None}


@router.post("/stock/receipts", response_model=ReceiptOut, status_code=201)
def receive(body: ReceiptIn, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    principal.require_role(*STOCK_ROLES)
    principal.require_store(body.location)
    return service.receive_stock(uow, body)


@router.post("/stock/transfers", response_model=TransferOut, status_code=201)
def transfer(body: TransferIn, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    principal.require_role(*STOCK_ROLES)
    _may_draw_from(principal, uow, body.from_location, "from_location")
    principal.require_store(body.to_location, "to_location")
    return service.transfer_stock(uow, body)


@router.post("/stock/counts", response_model=StockCountOut, status_code=201)
def count(body: StockCountIn, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    principal.require_role(*STOCK_ROLES)
    principal.require_store(body.location)
    return service.count_stock(uow, body)


@router.post("/stock/scrap", response_model=StockItemOut, status_code=201)
def scrap(body: ScrapIn, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    principal.require_role(*STOCK_ROLES)
    principal.require_store(body.location)
    return service.scrap_stock(uow, body)


@router.put("/stock/thresholds", response_model=ThresholdOut)
def set_threshold(body: ThresholdIn, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    principal.require_role(*STOCK_ROLES)
    principal.require_store(body.location)
    return service.set_threshold(uow, body)


def _stock_cursor(cursor: str | None) -> tuple[int, int]:
    if not cursor:
        return (0, 0)
    product_id, _, location_id = cursor.partition(".")
    return cursor_int(product_id), cursor_int(location_id)


@router.get("/stock", response_model=StockPage)
def stock(principal: CurrentPrincipal, uow: Uow, sku: str | None = None, location: str | None = None,
          cursor: str | None = None, limit: Limit = 100) -> dict[str, Any]:
    """On hand, reserved and available per SKU x location, by batch. Clerks and managers see their stores
    (managers also the warehouses they draw on)."""
    scope = principal.store_scope
    if location is not None:
        if principal.role == "manager":
            _may_draw_from(principal, uow, location, "location")
        else:
            principal.require_store(location)
        scope = None
    elif scope is not None and principal.role == "manager":
        scope = scope | {loc["code"] for loc in service.list_locations(uow, kind="warehouse")}
    items = service.stock_levels(uow, sku=sku, location=location, scope=scope, after=_stock_cursor(cursor),
                                 limit=limit + 1)
    result = page(items, limit, key="_cursor")
    return result


@router.get("/stock/ledger", response_model=Page[LedgerEntryOut])
def ledger(principal: CurrentPrincipal, uow: Uow, sku: str | None = None, location: str | None = None,
           batch_code: str | None = None, cursor: str | None = None, limit: Limit = 50) -> dict[str, Any]:
    if location is not None:
        principal.require_store(location)
    rows = service.ledger_entries(uow, sku=sku, location=location, batch_code=batch_code,
                                  scope=principal.store_scope, after=cursor_int(cursor), limit=limit + 1)
    return page(rows, limit)
