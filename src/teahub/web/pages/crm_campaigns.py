"""Campaigns, coupons and segments in the browser: campaigns with their segment, kind, state and results, and
their launch; the coupons with a form for new ones; segments with their sizes and a rule editor previewing the
size as it is filled in. The same service calls and role checks as `teahub.crm.campaigns.routes` and
`teahub.loyalty.routes`."""

from __future__ import annotations

import re
from typing import Any, get_args

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from teahub.analytics import campaigns as results
from teahub.api_params import PathId
from teahub.catalog import service as catalog
from teahub.crm.campaigns import service
from teahub.crm.campaigns.routes import LAUNCH_BUDGET_SECONDS, PLANNERS
from teahub.crm.campaigns.rules import ConsentPurpose, RfmSegment, SegmentRules
from teahub.crm.campaigns.schemas import CampaignIn, SegmentIn, SegmentPatch
from teahub.db.uow import UnitOfWork
from teahub.inventory import service as inventory
from teahub.loyalty import coupons
from teahub.loyalty import service as loyalty
from teahub.loyalty.schemas import CouponIn
from teahub.web.forms import validated
from teahub.web.pages.crm import (
    Form,
    crm_render,
    day,
    day_end,
    day_start,
    fen,
    integer,
    names_of,
    text,
    texts,
)
from teahub.web.rendering import navigate
from teahub.web.session import PagePrincipal, PageUow

router = APIRouter()

COUPON_ROLES = ("admin", "manager")  # as `POST /coupons`
COUPON_KINDS = ("fixed", "percent", "threshold")
COUPON_CHANNELS = ("pos", "web", "tmall", "taobao", "jd", "pdd", "douyin", "b2b")
CAMPAIGN_STATUSES = ("draft", "launched", "finished")
MESSAGE_CHANNELS = ("sms", "wechat")
RFM_SEGMENTS = get_args(RfmSegment)
# The RFM segments' names as shown (English source, translated by the catalog): "new" and "lost" would otherwise
# read as a lead's status or an opportunity's stage.
RFM_LABELS = {"champions": "Champions", "loyal": "Loyal", "potential_loyalists": "Potential loyalists",
              "new": "New buyers", "promising": "Promising", "need_attention": "Need attention",
              "about_to_sleep": "About to sleep", "at_risk": "At risk", "cant_lose": "Can't lose them",
              "hibernating": "Hibernating", "lost": "Lost buyers"}
CONSENTS = get_args(ConsentPurpose)
# Each recipient's outcome as shown (English source, translated by the catalog).
OUTCOME_LABELS = {"granted": "Coupon granted", "queued": "Message queued", "no_consent": "No consent",
                  "capped": "Frequency cap reached", "unreachable": "Unreachable", "duplicate": "Already sent",
                  "refused": "Refused"}


# -- campaigns --------------------------------------------------------------------------------------
@router.get("/crm/campaigns", response_class=HTMLResponse)
def campaigns_page(request: Request, principal: PagePrincipal, uow: PageUow, status: str | None = None) -> Response:
    status = status if status in CAMPAIGN_STATUSES else None
    found = service.list_campaigns(uow, status=status, limit=50)
    outcome = {c["id"]: results.campaign_results(uow, c["id"]) for c in found if c["status"] != "draft"}
    planner = principal.has_role(*PLANNERS)
    return crm_render(request, "crm/campaigns.html", principal, page_title="Campaigns", campaigns=found,
                  results=outcome, status=status or "", statuses=CAMPAIGN_STATUSES, can_plan=planner,
                  segments=service.list_segments(uow, limit=200) if planner else [],
                  coupons=[c for c in coupons.list_coupons(uow, limit=200) if c["active"]] if planner else [],
                  channels=MESSAGE_CHANNELS)


@router.post("/crm/campaigns", response_class=HTMLResponse)
def create_campaign(request: Request, principal: PagePrincipal, uow: PageUow, form: Form) -> Response:
    principal.require_role(*PLANNERS)
    kind = text(form, "kind")
    data: dict[str, Any] = {"name": text(form, "name"), "segment_id": integer(form, "segment_id"), "kind": kind,
                            "attribution_days": integer(form, "attribution_days") or 14}
    if kind == "coupon":
        data["coupon_code"] = text(form, "coupon_code")
    elif kind == "message":
        data["message"] = {"channel": text(form, "channel"), "template": text(form, "template")}
    campaign = service.create_campaign(uow, validated(CampaignIn, **data))
    return navigate(request, f"/crm/campaigns/{campaign['id']}")


@router.get("/crm/campaigns/{campaign_id}", response_class=HTMLResponse)
def campaign_page(request: Request, campaign_id: PathId, principal: PagePrincipal, uow: PageUow) -> Response:
    campaign = service.get_campaign(uow, campaign_id)
    recipients = service.list_recipients(uow, campaign_id, limit=50)
    return crm_render(request, "crm/campaign.html", principal, page_title="Campaign", campaign=campaign,
                  results=results.campaign_results(uow, campaign_id), recipients=recipients,
                  names=names_of(uow, [r["customer_id"] for r in recipients]), can_plan=principal.has_role(*PLANNERS),
                  outcome_labels=OUTCOME_LABELS)


@router.post("/crm/campaigns/{campaign_id}/launch", response_class=HTMLResponse)
def launch_campaign(request: Request, campaign_id: PathId, principal: PagePrincipal, uow: PageUow) -> Response:
    """Take the segment's members and grant each the coupon or send each the message (`POST .../launch`)."""
    principal.require_role(*PLANNERS)
    service.launch_campaign(uow, campaign_id, budget_seconds=LAUNCH_BUDGET_SECONDS)
    return navigate(request, f"/crm/campaigns/{campaign_id}")


# -- coupons ----------------------------------------------------------------------------------------
@router.get("/crm/coupons", response_class=HTMLResponse)
def coupons_page(request: Request, principal: PagePrincipal, uow: PageUow) -> Response:
    can_create = principal.has_role(*COUPON_ROLES)
    return crm_render(request, "crm/coupons.html", principal, page_title="Coupons",
                  coupons=coupons.list_coupons(uow, limit=500), can_create=can_create, kinds=COUPON_KINDS,
                  channels=COUPON_CHANNELS, categories=catalog.list_categories(uow) if can_create else [])


def _words(value: str | None) -> list[str]:
    return [w for w in re.split(r"[\s,，;；]+", value or "") if w]


@router.post("/crm/coupons", response_class=HTMLResponse)
def create_coupon(request: Request, principal: PagePrincipal, uow: PageUow, form: Form) -> Response:
    principal.require_role(*COUPON_ROLES)
    valid_from, valid_until = day(form, "valid_from"), day(form, "valid_until")
    values: dict[str, Any] = {
        "code": text(form, "code"), "name": text(form, "name"), "kind": text(form, "kind"),
        "value": fen(form, "value") or 0, "percent_off": integer(form, "percent_off") or 0,
        "threshold": fen(form, "threshold") or 0, "max_discount": fen(form, "max_discount"),
        "valid_from": day_start(valid_from) if valid_from else None,
        "valid_until": day_end(valid_until) if valid_until else None,
        "channels": texts(form, "channels"), "skus": _words(text(form, "skus")),
        "categories": texts(form, "categories"), "per_customer_limit": integer(form, "per_customer_limit"),
        "total_limit": integer(form, "total_limit"), "stackable": bool(text(form, "stackable")),
        "public": bool(text(form, "public")), "active": True,
    }
    coupons.create_coupon(uow, validated(CouponIn, **values).model_dump())
    return navigate(request, "/crm/coupons")


# -- segments ---------------------------------------------------------------------------------------
def _rules_data(form: FormData) -> dict[str, Any]:
    """The conditions filled in on the rule editor (those left empty are not conditions)."""
    month = text(form, "birth_month")
    if month is not None and month != "current":
        month = integer(form, "birth_month", "rules.birth_month")  # type: ignore[assignment]
    data: dict[str, Any] = {
        "tiers": texts(form, "tiers"), "rfm_segments": texts(form, "rfm_segments"),
        "bought_categories": texts(form, "bought_categories"), "stores": texts(form, "stores"),
        "birth_month": month, "consent": text(form, "consent"),
        "min_lifetime_spend": fen(form, "min_lifetime_spend", "rules.min_lifetime_spend") or None,
    }
    for name in ("last_purchase_within_days", "no_purchase_for_days", "bought_within_days"):
        data[name] = integer(form, name, f"rules.{name}")
    return {name: value for name, value in data.items() if value not in (None, [])}


def _rules(form: FormData) -> SegmentRules:
    return validated(SegmentRules, prefix="rules.", **_rules_data(form))


def _choices(uow: UnitOfWork) -> dict[str, Any]:
    """What the rule editor offers: the tiers, categories and locations that exist, RFM segments, consents."""
    return {"tiers": loyalty.list_tiers(uow), "categories": catalog.list_categories(uow),
            "locations": inventory.list_locations(uow), "rfm_segments": RFM_SEGMENTS, "consents": CONSENTS,
            "rfm_labels": RFM_LABELS}


@router.get("/crm/segments", response_class=HTMLResponse)
def segments_page(request: Request, principal: PagePrincipal, uow: PageUow) -> Response:
    return crm_render(request, "crm/segments.html", principal, page_title="Segments",
                  segments=service.list_segments(uow, limit=200), can_plan=principal.has_role(*PLANNERS),
                  rules={}, segment=None, **_choices(uow))


@router.get("/crm/segments/{segment_id}/size", response_class=HTMLResponse)
def segment_size(request: Request, segment_id: PathId, principal: PagePrincipal, uow: PageUow) -> Response:
    """A segment's size now (`GET /segments/{id}`), loaded into the list row by row."""
    segment = service.get_segment(uow, segment_id)
    return crm_render(request, "crm/_segment_size.html", principal, segment=segment)


@router.post("/crm/segments/preview", response_class=HTMLResponse)
def preview(request: Request, principal: PagePrincipal, uow: PageUow, form: Form) -> Response:
    """How many customers the rules being edited select now (`POST /segments/preview`)."""
    if not _rules_data(form):
        return crm_render(request, "crm/_segment_preview.html", principal, answer=None)
    return crm_render(request, "crm/_segment_preview.html", principal, answer=service.preview(uow, _rules(form)))


@router.post("/crm/segments", response_class=HTMLResponse)
def create_segment(request: Request, principal: PagePrincipal, uow: PageUow, form: Form) -> Response:
    principal.require_role(*PLANNERS)
    data = validated(SegmentIn, name=text(form, "name"), description=text(form, "description"),
                 rules=_rules(form).stored())
    segment = service.create_segment(uow, data)
    return navigate(request, f"/crm/segments/{segment['id']}")


@router.get("/crm/segments/{segment_id}", response_class=HTMLResponse)
def segment_page(request: Request, segment_id: PathId, principal: PagePrincipal, uow: PageUow) -> Response:
    segment = service.get_segment(uow, segment_id)
    members = service.segment_members(uow, segment_id, limit=20)
    campaigns = service.list_campaigns(uow, segment_id=segment_id, limit=50)
    return crm_render(request, "crm/segment.html", principal, page_title="Segment", segment=segment, members=members,
                  campaigns=campaigns, rules=segment["rules"], can_plan=principal.has_role(*PLANNERS),
                  **_choices(uow))


@router.post("/crm/segments/{segment_id}", response_class=HTMLResponse)
def update_segment(request: Request, segment_id: PathId, principal: PagePrincipal, uow: PageUow,
                   form: Form) -> Response:
    """New name, description or rules (`PATCH /segments/{id}` with the version the form showed)."""
    principal.require_role(*PLANNERS)
    patch = validated(SegmentPatch, name=text(form, "name"), description=text(form, "description"),
                  rules=_rules(form).stored(), version=integer(form, "version"))
    service.update_segment(uow, segment_id, patch)
    return navigate(request, f"/crm/segments/{segment_id}")


@router.post("/crm/segments/{segment_id}/delete", response_class=HTMLResponse)
def delete_segment(request: Request, segment_id: PathId, principal: PagePrincipal, uow: PageUow) -> Response:
    principal.require_role(*PLANNERS)
    service.delete_segment(uow, segment_id)
    return navigate(request, "/crm/segments")
