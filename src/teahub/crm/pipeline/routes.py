"""The B2B pipeline's API: leads, opportunities and the board, activities, tasks, quotes.

Admins and managers do everything; clerks log activities and read; integrations read."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter

from teahub.api_params import Limit, PathId, QueryId
from teahub.auth.deps import CurrentPrincipal, Uow
from teahub.auth.principal import Principal
from teahub.crm.pipeline import service
from teahub.crm.pipeline.records import parse_time_cursor, time_cursor
from teahub.crm.pipeline.schemas import (
    AcceptIn,
    ActivityIn,
    ActivityKind,
    ActivityOut,
    ActivityPage,
    BoardOut,
    ConvertIn,
    ConvertOut,
    LeadIn,
    LeadOut,
    LeadPatch,
    LeadSource,
    LeadStatus,
    OpportunityIn,
    OpportunityOut,
    OpportunityPatch,
    OpportunitySummaryOut,
    QuoteIn,
    QuoteOut,
    QuoteStatus,
    QuoteSummaryOut,
    QuoteVersionIn,
    QuoteVersionOut,
    RejectIn,
    Stage,
    TaskIn,
    TaskOut,
    TaskPage,
    TaskPatch,
    TaskState,
)
from teahub.errors import Forbidden
from teahub.pagination import DEFAULT_LIMIT, Page, cursor_int, page

router = APIRouter(tags=["pipeline"])

WRITE_ROLES = ("admin", "manager")
LOG_ROLES = ("admin", "manager", "clerk")
APPROVER_ROLES = ("admin", "manager")


def _time_page(items: list[dict[str, Any]], limit: int, field: str) -> dict[str, Any]:
    more = len(items) > limit
    items = items[:limit]
    last = items[-1] if items else None
    return {"items": items, "next": time_cursor(last[field], last["id"]) if more and last else None}


# -- leads ------------------------------------------------------------------------------------------
@router.post("/leads", response_model=LeadOut, status_code=201)
def create_lead(body: LeadIn, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    principal.require_role(*WRITE_ROLES)
    return service.create_lead(uow, body, default_owner=principal.username)


@router.get("/leads", response_model=Page[LeadOut])
def list_leads(principal: CurrentPrincipal, uow: Uow, status: LeadStatus | None = None, owner: str | None = None,
               source: LeadSource | None = None, q: str | None = None, cursor: str | None = None,
               limit: Limit = DEFAULT_LIMIT) -> dict[str, Any]:
    """Newest first; `q` matches name or company (contains), or phone or email (exactly)."""
    rows = service.list_leads(uow, status=status, owner=owner, source=source, q=q,
                              before_id=cursor_int(cursor) or None, limit=limit + 1)
    return page([service.lead_shown_to(row, principal.sees_personal_data) for row in rows], limit)


@router.get("/leads/{lead_id}", response_model=LeadOut)
def get_lead(lead_id: PathId, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    return service.lead_shown_to(service.get_lead(uow, lead_id), principal.sees_personal_data)


@router.patch("/leads/{lead_id}", response_model=LeadOut)
def update_lead(lead_id: PathId, body: LeadPatch, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    principal.require_role(*WRITE_ROLES)
    return service.update_lead(uow, lead_id, body)


@router.post("/leads/{lead_id}/convert", response_model=ConvertOut, status_code=201)
def convert_lead(lead_id: PathId, principal: CurrentPrincipal, uow: Uow,
                 body: ConvertIn | None = None) -> dict[str, Any]:
    """A qualified lead becomes a customer (a company when it names one) and an opportunity, at once."""
    principal.require_role(*WRITE_ROLES)
    return service.convert_lead(uow, lead_id, body or ConvertIn())


# -- opportunities and the board --------------------------------------------------------------------
@router.post("/opportunities", response_model=OpportunityOut, status_code=201)
def create_opportunity(body: OpportunityIn, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    principal.require_role(*WRITE_ROLES)
    return service.create_opportunity(uow, body, default_owner=principal.username)


@router.get("/opportunities", response_model=Page[OpportunitySummaryOut])
def list_opportunities(principal: CurrentPrincipal, uow: Uow, stage: Stage | None = None, owner: str | None = None,
                       customer_id: QueryId = None, cursor: str | None = None,
                       limit: Limit = DEFAULT_LIMIT) -> dict[str, Any]:
    rows = service.list_opportunities(uow, stage=stage, owner=owner, customer_id=customer_id,
                                      before_id=cursor_int(cursor) or None, limit=limit + 1)
    return page(rows, limit)


@router.get("/opportunities/{opportunity_id}", response_model=OpportunityOut)
def get_opportunity(opportunity_id: PathId, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    return service.get_opportunity(uow, opportunity_id)


@router.patch("/opportunities/{opportunity_id}", response_model=OpportunityOut)
def update_opportunity(opportunity_id: PathId, body: OpportunityPatch, principal: CurrentPrincipal,
                       uow: Uow) -> dict[str, Any]:
    """Move between stages (the board's drag) and/or change fields; send `version` to catch concurrent edits."""
    principal.require_role(*WRITE_ROLES)
    return service.update_opportunity(uow, opportunity_id, body)


@router.get("/pipeline", response_model=BoardOut)
def pipeline_board(principal: CurrentPrincipal, uow: Uow, owner: str | None = None, customer_id: QueryId = None,
                   close_from: date | None = None, close_until: date | None = None,
                   per_stage: Limit = DEFAULT_LIMIT) -> dict[str, Any]:
    """Opportunities by stage with count, total and weighted value per stage and for the open stages."""
    return service.pipeline_board(uow, owner=owner, customer_id=customer_id, close_from=close_from,
                                  close_until=close_until, per_stage=per_stage)


# -- activities and tasks ---------------------------------------------------------------------------
@router.post("/activities", response_model=ActivityOut, status_code=201)
def log_activity(body: ActivityIn, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    principal.require_role(*LOG_ROLES)
    if body.by is not None and body.by != principal.username and not principal.has_role(*WRITE_ROLES):
        raise Forbidden("only a manager or admin logs an activity in someone else's name", field="by")
    return service.log_activity(uow, body, by=principal.username)


@router.get("/activities", response_model=ActivityPage)
def list_activities(principal: CurrentPrincipal, uow: Uow, customer_id: QueryId = None, lead_id: QueryId = None,
                    opportunity_id: QueryId = None, kind: ActivityKind | None = None, cursor: str | None = None,
                    limit: Limit = DEFAULT_LIMIT) -> dict[str, Any]:
    """A record's timeline (give customer_id, lead_id or opportunity_id), latest first."""
    rows = service.list_activities(uow, customer_id=customer_id, lead_id=lead_id, opportunity_id=opportunity_id,
                                   kind=kind, after=parse_time_cursor(cursor), limit=limit + 1)
    return _time_page(rows, limit, "occurred_at")


@router.post("/tasks", response_model=TaskOut, status_code=201)
def create_task(body: TaskIn, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    principal.require_role(*WRITE_ROLES)
    return service.create_task(uow, body, default_assignee=principal.username)


@router.get("/tasks", response_model=TaskPage)
def list_tasks(principal: CurrentPrincipal, uow: Uow, assignee: str | None = None, state: TaskState = "open",
               customer_id: QueryId = None, lead_id: QueryId = None, opportunity_id: QueryId = None,
               cursor: str | None = None, limit: Limit = DEFAULT_LIMIT) -> dict[str, Any]:
    """Soonest due first. `state`: open (default), overdue, done or all; `assignee`: a username."""
    rows = service.list_tasks(uow, assignee=assignee, state=state, customer_id=customer_id, lead_id=lead_id,
                              opportunity_id=opportunity_id, after=parse_time_cursor(cursor), limit=limit + 1)
    return _time_page(rows, limit, "due_at")


@router.get("/tasks/{task_id}", response_model=TaskOut)
def get_task(task_id: PathId, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    return service.get_task(uow, task_id)


@router.patch("/tasks/{task_id}", response_model=TaskOut)
def update_task(task_id: PathId, body: TaskPatch, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    """Change a task; `{"done": true}` completes it."""
    principal.require_role(*WRITE_ROLES)
    return service.update_task(uow, task_id, body)


# -- quotes -----------------------------------------------------------------------------------------
@router.post("/quotes", response_model=QuoteOut, status_code=201)
def create_quote(body: QuoteIn, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    """A draft quote with its first version."""
    principal.require_role(*WRITE_ROLES)
    return service.create_quote(uow, body, default_owner=principal.username)


@router.get("/quotes", response_model=Page[QuoteSummaryOut])
def list_quotes(principal: CurrentPrincipal, uow: Uow, status: QuoteStatus | None = None,
                customer_id: QueryId = None, opportunity_id: QueryId = None, owner: str | None = None,
                cursor: str | None = None, limit: Limit = DEFAULT_LIMIT) -> dict[str, Any]:
    rows = service.list_quotes(uow, status=status, customer_id=customer_id, opportunity_id=opportunity_id,
                               owner=owner, before_id=cursor_int(cursor) or None, limit=limit + 1)
    return page(rows, limit)


@router.get("/quotes/{quote_id}", response_model=QuoteOut)
def get_quote(quote_id: PathId, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    return service.get_quote(uow, quote_id)


@router.get("/quotes/{quote_id}/versions", response_model=Page[QuoteVersionOut])
def list_versions(quote_id: PathId, principal: CurrentPrincipal, uow: Uow, cursor: str | None = None,
                  limit: Limit = DEFAULT_LIMIT) -> dict[str, Any]:
    """Every negotiation round, first to latest."""
    rows = service.list_versions(uow, quote_id, after_number=cursor_int(cursor), limit=limit + 1)
    return page(rows, limit, key="number")


@router.post("/quotes/{quote_id}/versions", response_model=QuoteOut, status_code=201)
def revise_quote(quote_id: PathId, body: QuoteVersionIn, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    """A new negotiation round; the quote becomes a draft again, to be sent."""
    principal.require_role(*WRITE_ROLES)
    return service.revise_quote(uow, quote_id, body)


@router.post("/quotes/{quote_id}/send", response_model=QuoteOut)
def send_quote(quote_id: PathId, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    principal.require_role(*WRITE_ROLES)
    return service.send_quote(uow, quote_id)


def _approver(principal: Principal, body: AcceptIn) -> str | None:
    if not body.approve_over_limit:
        return None
    if not principal.has_role(*APPROVER_ROLES):
        raise Forbidden("only a manager or admin may approve going over the credit limit",
                        field="approve_over_limit")
    return principal.actor


@router.post("/quotes/{quote_id}/accept", response_model=QuoteOut)
def accept_quote(quote_id: PathId, principal: CurrentPrincipal, uow: Uow,
                 body: AcceptIn | None = None) -> dict[str, Any]:
    """The customer accepts the current version: the B2B order is placed at the quote's prices (stock reserved,
    credit checked: over the limit is a 409 unless `approve_over_limit` comes from a manager or admin). Accepting
    again answers the same quote and order."""
    body = body or AcceptIn()
    approver = _approver(principal, body)
    principal.require_role(*WRITE_ROLES)
    return service.accept_quote(uow, quote_id, version=body.version, credit_approved_by=approver)


@router.post("/quotes/{quote_id}/reject", response_model=QuoteOut)
def reject_quote(quote_id: PathId, principal: CurrentPrincipal, uow: Uow,
                 body: RejectIn | None = None) -> dict[str, Any]:
    principal.require_role(*WRITE_ROLES)
    return service.reject_quote(uow, quote_id, body.reason if body else None)
