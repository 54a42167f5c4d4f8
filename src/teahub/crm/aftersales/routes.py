from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path

from teahub.analytics import quality
from teahub.api_params import Limit, PathId, QueryId
from teahub.auth.deps import CurrentPrincipal, Uow
from teahub.auth.principal import Principal
from teahub.crm.aftersales import service
from teahub.crm.aftersales.schemas import (
    BatchBuyers,
    CsatIn,
    Kind,
    NoteIn,
    QualityReport,
    ResolveIn,
    Status,
    TicketIn,
    TicketOut,
    TicketPatch,
    TicketSummaryOut,
)
from teahub.errors import ValidationFailed
from teahub.pagination import Page, cursor_int, page

router = APIRouter(tags=["aftersales"])
REPORT_ROLES = ("admin", "manager")
Code = Annotated[str, Path(min_length=1, max_length=64)]


def _actor(principal: Principal) -> service.Actor:
    """Admins and managers manage every ticket; anyone else the tickets assigned to them."""
    return service.Actor(principal.username, manager=principal.has_role("admin", "manager"))


@router.post("/tickets", response_model=TicketOut, status_code=201)
def open_ticket(body: TicketIn, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    """Open a ticket for a customer (any role); on an order of theirs, a product and a batch they received."""
    return service.open_ticket(uow, body, _actor(principal))


@router.get("/tickets", response_model=Page[TicketSummaryOut])
def list_tickets(principal: CurrentPrincipal, uow: Uow, status: Status | None = None, kind: Kind | None = None,
                 assignee: str | None = None, customer_id: QueryId = None, order_id: QueryId = None,
                 sku: str | None = None, batch_code: str | None = None, breached: bool | None = None,
                 cursor: str | None = None, limit: Limit = 50) -> dict[str, Any]:
    """Newest first; `breached=true`: not resolved by the SLA due time. Pass `next` as `cursor` for more."""
    rows = service.list_tickets(uow, status=status, kind=kind, assignee=assignee, customer_id=customer_id,
                                order_id=order_id, sku=sku, batch_code=batch_code, breached=breached,
                                before_id=cursor_int(cursor) or None, limit=limit + 1)
    return page(rows, limit)


@router.get("/tickets/{ticket_id}", response_model=TicketOut)
def get_ticket(ticket_id: PathId, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    return service.get_ticket(uow, ticket_id)


@router.patch("/tickets/{ticket_id}", response_model=TicketOut)
def update_ticket(ticket_id: PathId, body: TicketPatch, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    """Assign (admin, manager or the assignee), change priority (the due time follows) or status."""
    return service.update_ticket(uow, ticket_id, body, _actor(principal))


@router.post("/tickets/{ticket_id}/notes", response_model=TicketOut, status_code=201)
def add_note(ticket_id: PathId, body: NoteIn, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    """Append an internal note (any role)."""
    return service.add_note(uow, ticket_id, body.body, _actor(principal))


@router.post("/tickets/{ticket_id}/resolve", response_model=TicketOut)
def resolve(ticket_id: PathId, body: ResolveIn, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    return service.resolve_ticket(uow, ticket_id, body.resolution, _actor(principal))


@router.post("/tickets/{ticket_id}/close", response_model=TicketOut)
def close(ticket_id: PathId, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    return service.close_ticket(uow, ticket_id, _actor(principal))


@router.post("/tickets/{ticket_id}/reopen", response_model=TicketOut)
def reopen(ticket_id: PathId, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    return service.reopen_ticket(uow, ticket_id, _actor(principal))


@router.post("/tickets/{ticket_id}/csat", response_model=TicketOut)
def record_csat(ticket_id: PathId, body: CsatIn, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    """The customer's satisfaction, 1 to 5, once the ticket is resolved; only once."""
    return service.record_csat(uow, ticket_id, body.score, body.comment)


# -- quality report -------------------------------------------------------------------------------
def _utc(value: datetime | None, field: str) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValidationFailed("give a time zone (UTC: ...Z)", field=field)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValidationFailed("the time is out of range", field=field) from None


@router.get("/reports/quality", response_model=QualityReport)
def quality_report(principal: CurrentPrincipal, uow: Uow, by: Literal["product", "batch"] = "product",
                   since: datetime | None = None, until: datetime | None = None,
                   limit: Limit = 100) -> dict[str, Any]:
    """Units sold, complaints and refunds per product or batch, with rates per 1000 units; worst first."""
    principal.require_role(*REPORT_ROLES)
    since, until = _utc(since, "since"), _utc(until, "until")
    rows = quality.quality(uow, by, since=since, until=until, limit=limit)
    return {"by": by, "since": since, "until": until, "items": rows, "next": None}


@router.get("/reports/quality/batches/{sku}/{batch_code}/buyers", response_model=BatchBuyers)
def batch_buyers(sku: Code, batch_code: Code, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    """Recall: the customers who received a batch, with their open tickets."""
    principal.require_role(*REPORT_ROLES)
    return quality.batch_buyers(uow, sku, batch_code)
