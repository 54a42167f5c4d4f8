"""Segments and campaigns under /api/v1: admins and managers define and launch; every role reads."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter

from teahub.analytics import campaigns as results
from teahub.api_params import Limit, PathId, QueryId
from teahub.auth.deps import CurrentPrincipal, Uow
from teahub.auth.principal import Principal
from teahub.crm.campaigns import service
from teahub.crm.campaigns.schemas import (
    CampaignIn,
    CampaignOut,
    CampaignResults,
    Kind,
    MemberOut,
    Outcome,
    PreviewIn,
    PreviewOut,
    RecipientOut,
    SegmentIn,
    SegmentOut,
    SegmentPatch,
    Status,
)
from teahub.pagination import Page, cursor_int, page

router = APIRouter(tags=["campaigns"])
PLANNERS = ("admin", "manager")
LAUNCH_BUDGET_SECONDS = 20.0  # then answer; the rest of a large launch goes on in the worker


def _planner(principal: Principal) -> None:
    principal.require_role(*PLANNERS)


# -- segments ----------------------------------------------------------------------------------------------
@router.post("/segments", response_model=SegmentOut, status_code=201)
def create_segment(body: SegmentIn, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    """Define a segment by rules, all of which must hold (admin, manager)."""
    _planner(principal)
    return service.create_segment(uow, body)


@router.get("/segments", response_model=Page[SegmentOut])
def list_segments(principal: CurrentPrincipal, uow: Uow, cursor: str | None = None,
                  limit: Limit = 50) -> dict[str, Any]:
    """By id, without sizes (read one segment for its size). Pass `next` as `cursor` for more."""
    return page(service.list_segments(uow, after_id=cursor_int(cursor), limit=limit + 1), limit)


@router.post("/segments/preview", response_model=PreviewOut)
def preview(body: PreviewIn, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    """How many customers a rule set selects now, and the first 20 of them, without saving it."""
    return service.preview(uow, body.rules)


@router.get("/segments/{segment_id}", response_model=SegmentOut)
def get_segment(segment_id: PathId, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    """The segment with its `size`: how many customers meet its rules now."""
    return service.get_segment(uow, segment_id)


@router.patch("/segments/{segment_id}", response_model=SegmentOut)
def update_segment(segment_id: PathId, body: SegmentPatch, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    """Change the name, description or rules (admin, manager); `version` guards against lost updates."""
    _planner(principal)
    return service.update_segment(uow, segment_id, body)


@router.delete("/segments/{segment_id}", status_code=204)
def delete_segment(segment_id: PathId, principal: CurrentPrincipal, uow: Uow) -> None:
    """Remove a segment that no campaign was made for (admin, manager)."""
    _planner(principal)
    service.delete_segment(uow, segment_id)


@router.get("/segments/{segment_id}/members", response_model=Page[MemberOut])
def segment_members(segment_id: PathId, principal: CurrentPrincipal, uow: Uow, cursor: str | None = None,
                    limit: Limit = 50) -> dict[str, Any]:
    """The customers meeting the rules now, by id. Pass `next` as `cursor` for more."""
    rows = service.segment_members(uow, segment_id, after_id=cursor_int(cursor), limit=limit + 1)
    return page(rows, limit)


# -- campaigns ---------------------------------------------------------------------------------------------
@router.post("/campaigns", response_model=CampaignOut, status_code=201)
def create_campaign(body: CampaignIn, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    """A draft campaign: a loyalty coupon to grant, or a message to send, to a segment (admin, manager)."""
    _planner(principal)
    return service.create_campaign(uow, body)


@router.get("/campaigns", response_model=Page[CampaignOut])
def list_campaigns(principal: CurrentPrincipal, uow: Uow, status: Status | None = None, kind: Kind | None = None,
                   segment_id: QueryId = None, cursor: str | None = None, limit: Limit = 50) -> dict[str, Any]:
    """Newest first. Pass `next` as `cursor` for more."""
    rows = service.list_campaigns(uow, status=status, kind=kind, segment_id=segment_id,
                                  before_id=cursor_int(cursor) or None, limit=limit + 1)
    return page(rows, limit)


@router.get("/campaigns/{campaign_id}", response_model=CampaignOut)
def get_campaign(campaign_id: PathId, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    return service.get_campaign(uow, campaign_id)


@router.post("/campaigns/{campaign_id}/launch", response_model=CampaignOut)
def launch_campaign(campaign_id: PathId, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    """Take the segment's members as recipients and grant each the coupon or send each the message (admin,
    manager). Safe to repeat: a launched campaign resumes where it stopped; a finished one is answered as is.
    A large segment is answered after about 20 seconds with status `launched` and `pending` recipients; the
    worker's resume job (every 5 minutes) or another launch call goes on with them."""
    _planner(principal)
    return service.launch_campaign(uow, campaign_id, budget_seconds=LAUNCH_BUDGET_SECONDS)


@router.get("/campaigns/{campaign_id}/recipients", response_model=Page[RecipientOut])
def list_recipients(campaign_id: PathId, principal: CurrentPrincipal, uow: Uow,
                    outcome: Outcome | Literal["pending"] | None = None, cursor: str | None = None,
                    limit: Limit = 50) -> dict[str, Any]:
    """Recipients by customer id, with their outcome and why (`pending`: not yet processed)."""
    rows = service.list_recipients(uow, campaign_id, outcome=outcome, after_customer_id=cursor_int(cursor),
                                   limit=limit + 1)
    return page(rows, limit, key="customer_id")


@router.get("/campaigns/{campaign_id}/results", response_model=CampaignResults)
def campaign_results(campaign_id: PathId, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    """Outcome counts and what the campaign brought: redemptions of its coupons, or the recipients' orders
    within `attribution_days` of the message; their revenue (net of refunds) and gross profit, in fen."""
    return results.campaign_results(uow, campaign_id)
