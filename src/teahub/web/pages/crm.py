"""The CRM area: its index at `/crm`, and what its pages share (reading forms, money in yuan, answering a form
post, the customer picker). The pages themselves live in crm_pipeline, crm_quotes, crm_tickets and crm_campaigns.

Every action calls the same service function, with the same role checks, as the API route it mirrors."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from teahub.analytics.sold import customer_names
from teahub.crm.aftersales import service as aftersales
from teahub.crm.pipeline import service as pipeline
from teahub.customers import service as customers
from teahub.db.uow import UnitOfWork
from teahub.errors import ValidationFailed
from teahub.web.forms import yuan_to_fen
from teahub.web.i18n import translator
from teahub.web.rendering import language_of, render
from teahub.web.session import PagePrincipal, PageUow

router = APIRouter()

SHOP_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")
OPEN_TICKET_STATUSES = ("open", "in_progress", "waiting_customer")


# -- reading forms ----------------------------------------------------------------------------------
async def read_form(request: Request) -> FormData:
    """The posted form (read once by Starlette; the route itself stays a plain, threaded function)."""
    return await request.form()


Form = Annotated[FormData, Depends(read_form)]


def text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    if not isinstance(value, str):
        return None
    return value.strip() or None


def texts(form: FormData, name: str) -> list[str]:
    return [v.strip() for v in form.getlist(name) if isinstance(v, str) and v.strip()]


def integer(form: FormData, name: str, field: str | None = None) -> int | None:
    value = text(form, name)
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        raise ValidationFailed("a whole number is needed", field=field or name) from None
    if not -(2**63) < number < 2**63:
        raise ValidationFailed("the number is out of range", field=field or name)
    return number


def fen(form: FormData, name: str, field: str | None = None) -> int | None:
    return yuan_to_fen(text(form, name), field or name)


def day(form: FormData, name: str, field: str | None = None) -> date | None:
    value = text(form, name)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed("a date is needed (YYYY-MM-DD)", field=field or name) from None


def day_start(value: date) -> datetime:
    """The first moment of a day in China, as an aware time."""
    return datetime.combine(value, time(0), SHOP_TZ)


def day_end(value: date) -> datetime:
    """The last second of a day in China."""
    return datetime.combine(value, time(23, 59, 59), SHOP_TZ)


# -- rendering --------------------------------------------------------------------------------------
def crm_render(request: Request, template: str, principal: Any, **context: Any) -> Response:
    """`render`, with `dv(code)` for the templates: a domain value (a stage, a status, a kind) in the user's
    language; in English the code made readable ("in_progress" → "In progress")."""
    translate = translator(language_of(request))

    def dv(code: str | None) -> str:
        if code is None:
            return ""
        shown = translate(code)
        return shown.replace("_", " ").capitalize() if shown == code else shown

    return render(request, template, principal, dv=dv, **context)


# -- names ------------------------------------------------------------------------------------------
def names_of(uow: UnitOfWork, ids: set[int | None] | list[int | None]) -> dict[int, str]:
    """Customers' names by id (names are not masked: the API shows them to every role)."""
    wanted = sorted({i for i in ids if i is not None})
    with uow.reading():
        return customer_names(uow, wanted)


# -- the index --------------------------------------------------------------------------------------
@router.get("/crm", response_class=HTMLResponse)
def crm_index(request: Request, principal: PagePrincipal, uow: PageUow) -> Response:
    with uow.reading():
        board = pipeline.pipeline_board(uow, per_stage=1)
        overdue = sum(len(aftersales.list_tickets(uow, status=status, breached=True, limit=101))
                      for status in OPEN_TICKET_STATUSES)
        opened = sum(len(aftersales.list_tickets(uow, status=status, limit=101)) for status in OPEN_TICKET_STATUSES)
    return crm_render(request, "crm/index.html", principal, page_title="CRM", forecast=board["open"],
                  overdue=overdue, open_tickets=opened)


# -- the customer picker (ticket and quote forms) ---------------------------------------------------
@router.get("/crm/customer-options", response_class=HTMLResponse)
def customer_options(request: Request, principal: PagePrincipal, uow: PageUow, customer_q: str = "",
                     kind: str | None = None) -> Response:
    """Customers matching a search (name, phone or its last four digits), as the API lists them: masked for a
    role that does not see personal data."""
    found: list[dict[str, Any]] = []
    if customer_q.strip():
        rows = customers.list_customers(uow, q=customer_q[:100], kind=kind if kind in ("person", "company") else None,
                                        limit=20)
        found = [customers.shown_to(row, principal.sees_personal_data) for row in rows]
    return crm_render(request, "crm/_customer_options.html", principal, found=found, searched=bool(customer_q.strip()))
