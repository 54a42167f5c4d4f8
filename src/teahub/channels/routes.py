"""Shops, SKU mappings, platform orders and pushes, the inbox and replay, pull."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from teahub.api_params import Limit, PathId
from teahub.auth.deps import CurrentPrincipal, Uow, session_factory
from teahub.channels import intake, service
from teahub.channels.schemas import (
    InboxMessageDetail,
    InboxMessageOut,
    InboxState,
    Platform,
    PullOut,
    ReconcileOut,
    ReplayOut,
    ResyncOut,
    ShopIn,
    ShopOut,
    ShopPatch,
    ShopStockOut,
    SkuMappingIn,
    SkuMappingOut,
)
from teahub.errors import ValidationFailed
from teahub.pagination import Page, cursor_int, page
from teahub.sales.schemas import OrderOut

router = APIRouter(tags=["channels"])
ShopCode = Annotated[str, Path(min_length=1, max_length=32)]
ShopQuery = Annotated[str | None, Query(min_length=1, max_length=32, description="a shop code")]
MANAGE = ("admin",)  # shops hold the platforms' secrets
OPERATE = ("admin", "manager", "integration")
PERSONAL = ("admin", "manager", "integration")  # raw messages hold buyers' personal data
OBJECT_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "description": "exactly as the platform sends it"}}}}}


# -- platform pushes (first: the busiest route, matched before the others) ---------------------------
@router.post("/channels/{shop}/webhook", response_model=dict[str, Any], openapi_extra=OBJECT_BODY)
async def webhook(shop: ShopCode, request: Request, background: BackgroundTasks) -> Any:
    """A platform's push, in its own format and signing (over the raw body); 401 when the signature is wrong.
    The answer, the platform's own acknowledgement, comes once every message is stored; they are processed
    right after, in batches (a burst is acknowledged as fast as it can be stored)."""
    body = await request.body()
    factory = session_factory(request)
    ack = await intake.accept(factory, shop, body, dict(request.headers), dict(request.query_params),
                              actor=f"channel:{shop}")
    if not service.draining(factory):  # else the one at work takes this push too
        background.add_task(service.drain, factory, standby=True)
    return ack


# -- shops ----------------------------------------------------------------------------------------
@router.post("/shops", response_model=ShopOut, status_code=201)
def create_shop(body: ShopIn, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    """A shop on a platform: credentials (sealed; the secret is never answered), the location it ships from and
    its stock allocation (available × ratio − safety stock, at most cap)."""
    principal.require_role(*MANAGE)
    return service.create_shop(uow, body)


@router.get("/shops", response_model=Page[ShopOut])
def list_shops(principal: CurrentPrincipal, uow: Uow, platform: Platform | None = None) -> dict[str, Any]:
    principal.require_role(*OPERATE)
    return {"items": service.list_shops(uow, platform=platform), "next": None}


@router.get("/shops/{shop}", response_model=ShopOut)
def get_shop(shop: ShopCode, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    principal.require_role(*OPERATE)
    return service.get_shop(uow, shop)


@router.patch("/shops/{shop}", response_model=ShopOut)
def update_shop(shop: ShopCode, body: ShopPatch, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    principal.require_role(*MANAGE)
    return service.update_shop(uow, shop, body)


@router.post("/shops/{shop}/sku-mappings", response_model=SkuMappingOut, status_code=201)
def add_mapping(shop: ShopCode, body: SkuMappingIn, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    """Sell a platform SKU (its platform SKU id, or a merchant code that is no teahub SKU) as a teahub SKU."""
    principal.require_role(*OPERATE)
    return service.add_mapping(uow, shop, body)


@router.get("/shops/{shop}/sku-mappings", response_model=Page[SkuMappingOut])
def list_mappings(shop: ShopCode, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    principal.require_role(*OPERATE)
    return {"items": service.list_mappings(uow, shop), "next": None}


@router.delete("/shops/{shop}/sku-mappings/{mapping_id}", status_code=204)
def delete_mapping(shop: ShopCode, mapping_id: PathId, principal: CurrentPrincipal, uow: Uow) -> Response:
    principal.require_role(*OPERATE)
    service.delete_mapping(uow, shop, mapping_id)
    return Response(status_code=204)


# -- stock shown on the shops ----------------------------------------------------------------------
@router.get("/shops/{shop}/stock", response_model=ShopStockOut)
def shop_stock(shop: ShopCode, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    """Per mapped SKU: available at the shop's location, what the shop should show (available × ratio − safety
    stock, capped), what was pushed and when, whether a push is pending, and the last error."""
    principal.require_role(*OPERATE)
    return service.shop_stock(uow, shop)


@router.post("/shops/{shop}/stock/resync", response_model=ResyncOut)
def resync_stock(shop: ShopCode, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    """Push every mapped SKU's figure to the shop now, changed or not (as the nightly resync does)."""
    principal.require_role(*OPERATE)
    return service.resync_shop(uow, shop)


@router.post("/channels/{shop}/reconcile", response_model=ReconcileOut)
def reconcile(shop: ShopCode, principal: CurrentPrincipal, uow: Uow,
              days: Annotated[int, Query(ge=1, le=90, description="orders modified in the last N days")] = 3
              ) -> dict[str, Any]:
    """Compare the shop's orders modified in the last `days` days with teahub's; missing or stale orders are
    stored and processed through the inbox like a pull; what still differs is reported."""
    principal.require_role(*OPERATE)
    return service.reconcile_shop(uow, shop, days=days)


# -- inbound --------------------------------------------------------------------------------------
def _object_body(body: bytes) -> None:
    text = body.lstrip()
    if not text.startswith(b"{"):
        raise ValidationFailed("send the order as the platform's order-detail API answers it: a JSON object",
                               field="body")


@router.post("/channels/{shop}/orders", response_model=OrderOut, status_code=200, openapi_extra=OBJECT_BODY,
             responses={201: {"model": OrderOut, "description": "a new teahub order"}})
async def receive_order(shop: ShopCode, request: Request, response: Response, principal: CurrentPrincipal,
                        uow: Uow) -> dict[str, Any]:
    """One order exactly as the platform's order-detail API answers it, envelope included (e.g.
    `{"trade_fullinfo_get_response": {"trade": …}}`). Stored in the inbox, then placed or updated; answers the
    teahub order (201 when new). When it cannot be processed it stays in the inbox as failed (`inbox_id`)."""
    principal.require_role(*OPERATE)
    body = await request.body()
    _object_body(body)
    outcome = await run_in_threadpool(service.receive_order, uow, shop, body)
    if outcome.error is not None:
        error = outcome.error
        raise type(error)(error.detail, field=error.field, **{**error.extra, "inbox_id": outcome.inbox_id})
    if outcome.order is None:
        raise ValidationFailed(f"inbox message {outcome.inbox_id} made no order: {'; '.join(outcome.notes)}",
                               field="body", inbox_id=outcome.inbox_id)
    if outcome.created:
        response.status_code = 201
    return outcome.order


@router.post("/channels/{shop}/pull", response_model=PullOut)
def pull(shop: ShopCode, principal: CurrentPrincipal, uow: Uow, since: datetime | None = None) -> dict[str, Any]:
    """Pull the shop's orders modified since its checkpoint (or `since`) now, as the every-minute job does."""
    principal.require_role(*OPERATE)
    return service.pull_shop(uow, shop, since=since)


# -- inbox ----------------------------------------------------------------------------------------
@router.get("/inbox", response_model=Page[InboxMessageOut])
def list_inbox(principal: CurrentPrincipal, uow: Uow, shop: ShopQuery = None,
               state: InboxState | None = None, external_id: str | None = None, cursor: str | None = None,
               limit: Limit = 50) -> dict[str, Any]:
    """Inbound messages, newest first, with their state (received, processed, failed and why)."""
    principal.require_role(*OPERATE)
    rows = service.list_inbox(uow, shop=shop, state=state, external_id=external_id,
                              before_id=cursor_int(cursor) or None, limit=limit + 1)
    return page(rows, limit)


@router.get("/inbox/{inbox_id}", response_model=InboxMessageDetail)
def get_message(inbox_id: PathId, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    """One message with its raw payload as received."""
    principal.require_role(*PERSONAL)
    return service.get_message(uow, inbox_id)


@router.post("/inbox/replay", response_model=ReplayOut)
def replay_failed(principal: CurrentPrincipal, uow: Uow, shop: ShopQuery = None) -> dict[str, Any]:
    """Process every failed message again (of one shop, or all), oldest first."""
    principal.require_role(*OPERATE)
    outcomes = service.replay_failed(uow, shop=shop)
    items = [service.get_message(uow, o.inbox_id) for o in outcomes]
    return {"replayed": len(outcomes), "processed": sum(o.state == "processed" for o in outcomes),
            "failed": sum(o.state == "failed" for o in outcomes), "items": items}


@router.post("/inbox/{inbox_id}/replay", response_model=InboxMessageOut)
def replay(inbox_id: PathId, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    """Process one message again (after adding a SKU mapping, receiving stock, …); a processed one is left as is."""
    principal.require_role(*OPERATE)
    service.replay(uow, inbox_id)
    return service.get_message(uow, inbox_id)

