"""The B2B pipeline in the browser: the board (drag a card between stages), new opportunities, and the leads
list with conversion. The same service calls and role checks as `teahub.crm.pipeline.routes`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from teahub.api_params import PathId
from teahub.crm.pipeline import rules, service
from teahub.crm.pipeline.routes import WRITE_ROLES
from teahub.crm.pipeline.schemas import ConvertIn, LeadIn, LeadPatch, OpportunityIn, OpportunityPatch
from teahub.web.forms import validated
from teahub.web.pages.crm import Form, crm_render, day, fen, integer, names_of, text
from teahub.web.rendering import navigate
from teahub.web.session import PagePrincipal, PageUow

router = APIRouter()

LEAD_STATUSES = ("new", "contacted", "qualified", "disqualified", "converted")
LEAD_SOURCES = ("referral", "exhibition", "wechat", "website", "phone", "other")
PER_STAGE = 50


# -- the board --------------------------------------------------------------------------------------
def _board(request: Request, principal: Any, uow: Any, owner: str | None, template: str, **extra: Any) -> Response:
    board = service.pipeline_board(uow, owner=owner, per_stage=PER_STAGE)
    names = names_of(uow, [o["customer_id"] for column in board["stages"] for o in column["items"]])
    return crm_render(request, template, principal, page_title="Pipeline", board=board, names=names, owner=owner or "",
                  can_write=principal.has_role(*WRITE_ROLES), stages=rules.STAGES, open_stages=rules.OPEN_STAGES,
                  **extra)


@router.get("/crm/pipeline", response_class=HTMLResponse)
def pipeline_page(request: Request, principal: PagePrincipal, uow: PageUow, owner: str | None = None) -> Response:
    owner = (owner or "").strip()[:64] or None
    return _board(request, principal, uow, owner, "crm/pipeline.html")


@router.post("/crm/pipeline/opportunities/{opportunity_id}/stage", response_class=HTMLResponse)
def move_opportunity(request: Request, opportunity_id: PathId, principal: PagePrincipal, uow: PageUow,
                     form: Form) -> Response:
    """The board's drag (and the card's move form): the API's stage change, `PATCH /opportunities/{id}` with the
    stage and the version the board showed. Answers the board again (its totals changed)."""
    principal.require_role(*WRITE_ROLES)
    patch: dict[str, Any] = {"stage": text(form, "stage"), "version": integer(form, "version")}
    if (reason := text(form, "lost_reason")) is not None:
        patch["lost_reason"] = reason
    service.update_opportunity(uow, opportunity_id, validated(OpportunityPatch, **patch))
    return _board(request, principal, uow, text(form, "owner"), "crm/_board.html")


@router.post("/crm/pipeline/opportunities", response_class=HTMLResponse)
def create_opportunity(request: Request, principal: PagePrincipal, uow: PageUow, form: Form) -> Response:
    principal.require_role(*WRITE_ROLES)
    data = validated(OpportunityIn, customer_id=integer(form, "customer_id"), title=text(form, "title"),
                 stage=text(form, "stage") or "prospecting", expected_value=fen(form, "expected_value") or 0,
                 expected_close_on=day(form, "expected_close_on"), owner=text(form, "owner"),
                 note=text(form, "note"))
    service.create_opportunity(uow, data, default_owner=principal.username)
    return navigate(request, "/crm/pipeline")


# -- leads ------------------------------------------------------------------------------------------
@router.get("/crm/leads", response_class=HTMLResponse)
def leads_page(request: Request, principal: PagePrincipal, uow: PageUow, status: str | None = None,
               q: str | None = None, converted: int | None = None) -> Response:
    status = status if status in LEAD_STATUSES else None
    leads = service.list_leads(uow, status=status, q=(q or "")[:100] or None, limit=100)
    shown = [service.lead_shown_to(lead, principal.sees_personal_data) for lead in leads]
    return crm_render(request, "crm/leads.html", principal, page_title="Leads", leads=shown, status=status or "",
                  q=q or "", statuses=LEAD_STATUSES, sources=LEAD_SOURCES, transitions=rules.LEAD_TRANSITIONS,
                  can_write=principal.has_role(*WRITE_ROLES), converted=converted,
                  open_stages=rules.OPEN_STAGES)


@router.post("/crm/leads", response_class=HTMLResponse)
def create_lead(request: Request, principal: PagePrincipal, uow: PageUow, form: Form) -> Response:
    principal.require_role(*WRITE_ROLES)
    data = validated(LeadIn, name=text(form, "name"), company=text(form, "company"), title=text(form, "title"),
                 phone=text(form, "phone"), email=text(form, "email"), source=text(form, "source"),
                 owner=text(form, "owner"), note=text(form, "note"))
    service.create_lead(uow, data, default_owner=principal.username)
    return navigate(request, "/crm/leads")


@router.post("/crm/leads/{lead_id}/status", response_class=HTMLResponse)
def move_lead(request: Request, lead_id: PathId, principal: PagePrincipal, uow: PageUow, form: Form) -> Response:
    principal.require_role(*WRITE_ROLES)
    patch: dict[str, Any] = {"status": text(form, "status"), "version": integer(form, "version")}
    if (reason := text(form, "disqualified_reason")) is not None:
        patch["disqualified_reason"] = reason
    service.update_lead(uow, lead_id, validated(LeadPatch, **patch))
    return navigate(request, "/crm/leads")


@router.post("/crm/leads/{lead_id}/convert", response_class=HTMLResponse)
def convert_lead(request: Request, lead_id: PathId, principal: PagePrincipal, uow: PageUow, form: Form) -> Response:
    """A qualified lead becomes a customer and an opportunity (the API's `POST /leads/{id}/convert`)."""
    principal.require_role(*WRITE_ROLES)
    draft = {"title": text(form, "title"), "stage": text(form, "stage") or "qualification",
             "expected_value": fen(form, "expected_value") or 0,
             "expected_close_on": day(form, "expected_close_on", "opportunity.expected_close_on")}
    data = validated(ConvertIn, opportunity={k: v for k, v in draft.items() if v is not None})
    answer = service.convert_lead(uow, lead_id, data)
    return navigate(request, f"/crm/leads?converted={answer['opportunity']['id']}")
