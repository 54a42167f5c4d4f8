from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Response

from teahub.api_params import Limit, PathId, QueryId
from teahub.auth.deps import CurrentPrincipal, Uow
from teahub.auth.principal import Principal
from teahub.pagination import Page, cursor_int, page
from teahub.sales import quoting, refunds, service, views
from teahub.sales.schemas import (
    CancelIn,
    Channel,
    OrderIn,
    OrderOut,
    OrderSummaryOut,
    PayIn,
    QuoteOut,
    RefundIn,
    ShipIn,
    Status,
)

router = APIRouter(tags=["orders"])


def _authorize(principal: Principal) -> service.Authorize:
    return lambda code: principal.require_store(code)


@router.post("/orders", response_model=OrderOut, status_code=201,
             responses={200: {"model": OrderOut, "description": "the order this request (or its twin) made"}})
def place_order(body: OrderIn, principal: CurrentPrincipal, uow: Uow, response: Response,
                idempotency_key: Annotated[str | None, Header(max_length=128)] = None) -> dict[str, Any]:
    """Place an order on any channel. A POS sale is paid and completed in this one call."""
    view, status = service.place_order(uow, body, caller=principal.actor, idempotency_key=idempotency_key,
                                       authorize=_authorize(principal))
    response.status_code = status
    return view


@router.post("/orders/quote", response_model=QuoteOut)
def quote_order(body: OrderIn, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    """Price an order exactly as `POST /orders` would (member price, coupons, points, stock), writing nothing.
    A counter sale may be quoted before its payments: `payments_missing` says what is left to pay."""
    return quoting.quote_order(uow, body, caller=principal.actor, authorize=_authorize(principal))


@router.get("/orders", response_model=Page[OrderSummaryOut])
def list_orders(principal: CurrentPrincipal, uow: Uow, channel: Channel | None = None,
                status: Status | None = None, location: str | None = None, customer_id: QueryId = None,
                since: datetime | None = None, until: datetime | None = None, needs_review: bool | None = None,
                external_id: str | None = None, cursor: str | None = None, limit: Limit = 50) -> dict[str, Any]:
    """Newest first; pass `next` as `cursor` for the following page."""
    if location is not None:
        principal.require_store(location)
    rows = views.list_orders(uow, channel=channel, status=status, location=location, customer_id=customer_id,
                             since=since, until=until, needs_review=needs_review, external_id=external_id,
                             scope=principal.store_scope, before_id=cursor_int(cursor) or None, limit=limit + 1)
    return page(rows, limit)


@router.get("/orders/{order_id}", response_model=OrderOut)
def get_order(order_id: PathId, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    return views.get_order(uow, order_id, principal.store_scope)


@router.post("/orders/{order_id}/confirm", response_model=OrderOut)
def confirm(order_id: PathId, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    return service.confirm(uow, order_id, _authorize(principal))


@router.post("/orders/{order_id}/pay", response_model=OrderOut)
def pay(order_id: PathId, body: PayIn, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    return service.pay(uow, order_id, body.payments, _authorize(principal))


@router.post("/orders/{order_id}/allocate", response_model=OrderOut)
def allocate(order_id: PathId, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    return service.allocate(uow, order_id, _authorize(principal))


@router.post("/orders/{order_id}/ship", response_model=OrderOut)
def ship(order_id: PathId, principal: CurrentPrincipal, uow: Uow, body: ShipIn | None = None) -> dict[str, Any]:
    """Ship an allocated order; optionally with its carrier and waybill number."""
    shipment = body or ShipIn()
    return service.ship(uow, order_id, _authorize(principal), carrier=shipment.carrier,
                        tracking_no=shipment.tracking_no)


@router.post("/orders/{order_id}/complete", response_model=OrderOut)
def complete(order_id: PathId, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    return service.complete(uow, order_id, _authorize(principal))


@router.post("/orders/{order_id}/cancel", response_model=OrderOut)
def cancel(order_id: PathId, principal: CurrentPrincipal, uow: Uow, body: CancelIn | None = None) -> dict[str, Any]:
    return service.cancel(uow, order_id, body.reason if body else None, _authorize(principal))


@router.post("/orders/{order_id}/refunds", response_model=OrderOut, status_code=201)
def refund(order_id: PathId, body: RefundIn, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    principal.require_role("admin", "manager", "clerk", "integration")
    return refunds.refund(uow, order_id, body, _authorize(principal))
