from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from teahub.api_params import Limit, PathId
from teahub.auth.deps import CurrentPrincipal, Uow
from teahub.customers import service as customers
from teahub.errors import ValidationFailed
from teahub.loyalty import coupons, service
from teahub.loyalty.schemas import (
    AdjustmentIn,
    CouponIn,
    CouponOut,
    CouponPage,
    GrantIn,
    GrantOut,
    GrantPage,
    PointsEntryOut,
    PointsOut,
    ProgrammeOut,
    RecomputeOut,
    TierIn,
    TierOut,
    TierPage,
)
from teahub.pagination import cursor_int, page

router = APIRouter(tags=["loyalty"])
TierCode = Annotated[str, Path(min_length=1, max_length=16, pattern=r"^[a-z0-9_]+$")]
CouponCode = Annotated[str, Path(min_length=2, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]


@router.get("/customers/{customer_id}/points", response_model=PointsOut)
def points(customer_id: PathId, principal: CurrentPrincipal, uow: Uow, cursor: str | None = None,
           limit: Limit = 50) -> dict[str, Any]:
    """The member's balance and ledger, newest first (the balance is the sum of the whole ledger)."""
    customer = customers.get_customer_info(uow, customer_id)
    answer = service.points_of(uow, customer.id, before_id=cursor_int(cursor) or None, limit=limit + 1)
    entries = answer["entries"]
    answer["next"] = str(entries[limit - 1]["id"]) if len(entries) > limit else None
    answer["entries"] = entries[:limit]
    return answer


@router.post("/customers/{customer_id}/points/adjustments", response_model=PointsEntryOut, status_code=201)
def adjust(customer_id: PathId, body: AdjustmentIn, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    principal.require_role("admin", "manager")
    if body.points == 0:
        raise ValidationFailed("an adjustment moves at least one point", field="points")
    customer = customers.get_customer_info(uow, customer_id)
    document = body.document or f"adjust:{customer.id}:{uow.now().isoformat()}"
    return service.adjust_points(uow, customer.id, body.points, body.reason, document)


@router.get("/loyalty/programme", response_model=ProgrammeOut)
def programme(principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    found = service.programme(uow)
    return {"points_per_yuan": found.points_per_yuan, "point_value_fen": found.point_value_fen,
            "expiry_days": found.expiry_days}


@router.get("/loyalty/tiers", response_model=TierPage)
def tiers(principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    return {"items": service.list_tiers(uow), "next": None}


@router.put("/loyalty/tiers/{code}", response_model=TierOut)
def save_tier(code: TierCode, body: TierIn, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    principal.require_role("admin")
    return service.save_tier(uow, code, body.model_dump(exclude_none=True))


@router.post("/loyalty/tiers/recompute", response_model=RecomputeOut)
def recompute(principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    """Recompute every member's tier from their last 12 months (the daily run does the same)."""
    principal.require_role("admin")
    return service.recompute_all_tiers(uow)


@router.post("/coupons", response_model=CouponOut, status_code=201)
def create_coupon(body: CouponIn, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    principal.require_role("admin", "manager")
    return coupons.create_coupon(uow, body.model_dump())


@router.get("/coupons", response_model=CouponPage)
def list_coupons(principal: CurrentPrincipal, uow: Uow, cursor: str | None = None, limit: Limit = 50
                 ) -> dict[str, Any]:
    return page(coupons.list_coupons(uow, after_id=cursor_int(cursor), limit=limit + 1), limit)


@router.post("/coupons/{code}/grants", response_model=GrantOut, status_code=201)
def grant(code: CouponCode, body: GrantIn, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    """Give a customer their own coupon (its own code, used once)."""
    principal.require_role("admin", "manager")
    customer = customers.get_customer_info(uow, body.customer_id)
    return coupons.grant(uow, code, customer.id, body.source)


@router.get("/customers/{customer_id}/coupons", response_model=GrantPage)
def customer_coupons(customer_id: PathId, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    customer = customers.get_customer_info(uow, customer_id)
    return {"items": coupons.customer_coupons(uow, customer.id), "next": None}
