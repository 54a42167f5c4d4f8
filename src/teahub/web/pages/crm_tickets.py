"""After-sales tickets in the browser: the list with each ticket's SLA state (overdue ones highlighted), opening a
ticket for a customer (and an order of theirs), notes, status, resolving and closing, and the customer's
satisfaction. The same service calls and role checks as `teahub.crm.aftersales.routes`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from teahub.api_params import PathId
from teahub.auth.principal import Principal
from teahub.crm.aftersales import rules, service
from teahub.crm.aftersales.schemas import CsatIn, NoteIn, ResolveIn, TicketIn, TicketPatch
from teahub.web.forms import validated
from teahub.web.pages.crm import OPEN_TICKET_STATUSES, Form, crm_render, integer, names_of, text
from teahub.web.rendering import navigate
from teahub.web.session import PagePrincipal, PageUow

router = APIRouter()

KINDS = ("complaint", "quality", "delivery", "refund_request", "enquiry")
PRIORITIES = ("low", "normal", "high", "urgent")
STATUSES = ("open", "in_progress", "waiting_customer", "resolved", "closed")
CHANNELS = ("store", "phone", "wechat", "email", "web", "tmall", "taobao", "jd", "pdd", "douyin", "b2b")
DUE_SOON = timedelta(hours=4)


def _actor(principal: Principal) -> service.Actor:
    """As the API: admins and managers manage every ticket; anyone else the tickets assigned to them."""
    return service.Actor(principal.username, manager=principal.has_role("admin", "manager"))


def sla_state(ticket: dict[str, Any], now: datetime) -> str:
    """How the ticket stands against its SLA: overdue (open past its due time), late (resolved after it), due
    soon (within 4 hours), on time."""
    if ticket["status"] in OPEN_TICKET_STATUSES:
        if ticket["breached"]:
            return "overdue"
        return "due soon" if ticket["due_at"] - now <= DUE_SOON else "on time"
    return "resolved late" if ticket["breached"] else "met"


@router.get("/crm/tickets", response_class=HTMLResponse)
def tickets_page(request: Request, principal: PagePrincipal, uow: PageUow, status: str | None = None,
                 kind: str | None = None, sla: str | None = None, mine: str | None = None,
                 customer_id: int | None = None) -> Response:
    status = status if status in STATUSES else None
    kind = kind if kind in KINDS else None
    customer_id = customer_id if customer_id and 0 < customer_id < 2**63 else None
    assignee = principal.username if mine else None
    if sla == "overdue":  # open tickets past their due time
        statuses = [status] if status in OPEN_TICKET_STATUSES else ([] if status else list(OPEN_TICKET_STATUSES))
        tickets = sorted((t for s in statuses for t in service.list_tickets(
            uow, status=s, kind=kind, assignee=assignee, customer_id=customer_id, breached=True, limit=100)),
            key=lambda t: t["due_at"])
    else:
        tickets = service.list_tickets(uow, status=status, kind=kind, assignee=assignee, customer_id=customer_id,
                                       limit=100)
    now = uow.now()
    return crm_render(request, "crm/tickets.html", principal, page_title="Tickets", tickets=tickets,
                  states={t["id"]: sla_state(t, now) for t in tickets},
                  names=names_of(uow, [t["customer_id"] for t in tickets]), status=status or "", kind=kind or "",
                  sla=sla or "", mine=bool(mine), statuses=STATUSES, kinds=KINDS, priorities=PRIORITIES,
                  channels=CHANNELS, sla_hours=rules.SLA_HOURS, customer_id=customer_id)


@router.post("/crm/tickets", response_class=HTMLResponse)
def open_ticket(request: Request, principal: PagePrincipal, uow: PageUow, form: Form) -> Response:
    """Any role opens a ticket for a customer (`POST /tickets`)."""
    data = validated(TicketIn, kind=text(form, "kind"), subject=text(form, "subject"),
                 description=text(form, "description"), customer_id=integer(form, "customer_id"),
                 order_id=integer(form, "order_id"), sku=text(form, "sku"), batch_code=text(form, "batch_code"),
                 channel=text(form, "channel") or "store", priority=text(form, "priority") or "normal",
                 assignee=text(form, "assignee"))
    ticket = service.open_ticket(uow, data, _actor(principal))
    return navigate(request, f"/crm/tickets/{ticket['id']}")


@router.get("/crm/tickets/{ticket_id}", response_class=HTMLResponse)
def ticket_page(request: Request, ticket_id: PathId, principal: PagePrincipal, uow: PageUow) -> Response:
    ticket = service.get_ticket(uow, ticket_id)
    actor = _actor(principal)
    return crm_render(request, "crm/ticket.html", principal, page_title="Ticket", ticket=ticket,
                  state=sla_state(ticket, uow.now()), name=names_of(uow, [ticket["customer_id"]]).get(
                      ticket["customer_id"]), may_manage=actor.manager or ticket["assignee"] == actor.username,
                  is_manager=actor.manager, moves=sorted(rules.TRANSITIONS[ticket["status"]] - {"resolved", "closed"}),
                  priorities=PRIORITIES, done_statuses=rules.DONE)


@router.post("/crm/tickets/{ticket_id}/notes", response_class=HTMLResponse)
def add_note(request: Request, ticket_id: PathId, principal: PagePrincipal, uow: PageUow, form: Form) -> Response:
    body = validated(NoteIn, body=text(form, "body"))
    service.add_note(uow, ticket_id, body.body, _actor(principal))
    return navigate(request, f"/crm/tickets/{ticket_id}")


@router.post("/crm/tickets/{ticket_id}/update", response_class=HTMLResponse)
def update_ticket(request: Request, ticket_id: PathId, principal: PagePrincipal, uow: PageUow,
                  form: Form) -> Response:
    """Assign, change the priority (the due time follows) or move the status (`PATCH /tickets/{id}`)."""
    values: dict[str, Any] = {}
    for name in ("status", "priority"):
        if (value := text(form, name)) is not None:
            values[name] = value
    if "assignee" in form:
        values["assignee"] = text(form, "assignee")  # blank: unassign
    service.update_ticket(uow, ticket_id, validated(TicketPatch, **values), _actor(principal))
    return navigate(request, f"/crm/tickets/{ticket_id}")


@router.post("/crm/tickets/{ticket_id}/resolve", response_class=HTMLResponse)
def resolve(request: Request, ticket_id: PathId, principal: PagePrincipal, uow: PageUow, form: Form) -> Response:
    body = validated(ResolveIn, resolution=text(form, "resolution"))
    service.resolve_ticket(uow, ticket_id, body.resolution, _actor(principal))
    return navigate(request, f"/crm/tickets/{ticket_id}")


@router.post("/crm/tickets/{ticket_id}/close", response_class=HTMLResponse)
def close(request: Request, ticket_id: PathId, principal: PagePrincipal, uow: PageUow) -> Response:
    service.close_ticket(uow, ticket_id, _actor(principal))
    return navigate(request, f"/crm/tickets/{ticket_id}")


@router.post("/crm/tickets/{ticket_id}/reopen", response_class=HTMLResponse)
def reopen(request: Request, ticket_id: PathId, principal: PagePrincipal, uow: PageUow) -> Response:
    service.reopen_ticket(uow, ticket_id, _actor(principal))
    return navigate(request, f"/crm/tickets/{ticket_id}")


@router.post("/crm/tickets/{ticket_id}/csat", response_class=HTMLResponse)
def record_csat(request: Request, ticket_id: PathId, principal: PagePrincipal, uow: PageUow,
                form: Form) -> Response:
    """The customer's satisfaction, 1 to 5, once the ticket is resolved (any role, as the API)."""
    body = validated(CsatIn, score=integer(form, "score"), comment=text(form, "comment"))
    service.record_csat(uow, ticket_id, body.score, body.comment)
    return navigate(request, f"/crm/tickets/{ticket_id}")
