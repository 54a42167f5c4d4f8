"""B2B quotes in the browser: the list, a new quote, and one quote with its negotiation rounds side by side, a new
round, send, accept (the credit check's answer shown, and a manager's approval over the limit) and reject. The same
service calls and role checks as the quote routes of `teahub.crm.pipeline.routes`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from teahub.api_params import PathId
from teahub.catalog import service as catalog
from teahub.crm.pipeline import rules, service
from teahub.crm.pipeline.routes import APPROVER_ROLES, WRITE_ROLES
from teahub.crm.pipeline.schemas import QuoteIn, QuoteVersionIn, RejectIn
from teahub.customers import service as customers
from teahub.db.uow import UnitOfWork
from teahub.errors import CreditLimitExceeded, Forbidden
from teahub.web.forms import validated, yuan_to_fen
from teahub.web.pages.crm import Form, crm_render, day, integer, names_of, text
from teahub.web.rendering import is_htmx, navigate
from teahub.web.session import PagePrincipal, PageUow

router = APIRouter()

QUOTE_STATUSES = ("draft", "sent", "accepted", "rejected", "expired")
BLANK_ROWS = 2
MAX_ROWS = 200


def _lines(uow: UnitOfWork, form: FormData) -> list[dict[str, Any]]:
    """The quote's lines from the form's rows (a row without a SKU is left out). A price left blank is the
    product's list price."""
    skus, quantities = form.getlist("sku"), form.getlist("quantity")
    prices, discounts = form.getlist("unit_price"), form.getlist("discount")
    rows: list[dict[str, Any]] = []
    for i, sku in enumerate(skus[:MAX_ROWS + 1]):
        sku = str(sku).strip()
        if not sku:
            continue
        n = len(rows)
        quantity = str(quantities[i]).strip() if i < len(quantities) else ""
        rows.append({"sku": sku, "quantity": int(quantity) if quantity.isdigit() else quantity or None,
                     "unit_price": yuan_to_fen(str(prices[i]) if i < len(prices) else None, f"lines.{n}.unit_price"),
                     "discount": yuan_to_fen(str(discounts[i]) if i < len(discounts) else None,
                                             f"lines.{n}.discount") or 0})
    missing = {str(r["sku"]) for r in rows if r["unit_price"] is None}
    if missing:
        products = catalog.get_products(uow, missing)
        for row in rows:
            if row["unit_price"] is None and row["sku"] in products:
                row["unit_price"] = products[row["sku"]].list_price
    return rows


def _default_until(uow: UnitOfWork) -> str:
    return (rules.business_date(uow.now()) + timedelta(days=30)).isoformat()


@router.get("/crm/quotes", response_class=HTMLResponse)
def quotes_page(request: Request, principal: PagePrincipal, uow: PageUow, status: str | None = None,
                customer_id: int | None = None) -> Response:
    status = status if status in QUOTE_STATUSES else None
    customer_id = customer_id if customer_id and 0 < customer_id < 2**63 else None
    quotes = service.list_quotes(uow, status=status, customer_id=customer_id, limit=100)
    return crm_render(request, "crm/quotes.html", principal, page_title="Quotes", quotes=quotes, status=status or "",
                  statuses=QUOTE_STATUSES, names=names_of(uow, [q["customer_id"] for q in quotes]),
                  can_write=principal.has_role(*WRITE_ROLES), valid_until=_default_until(uow),
                  rows=[{}] * 3)


@router.get("/crm/quotes/line-row", response_class=HTMLResponse)
def line_row(request: Request, principal: PagePrincipal) -> Response:
    """One more empty line for a quote form."""
    return crm_render(request, "crm/_quote_line.html", principal, line={})


@router.post("/crm/quotes", response_class=HTMLResponse)
def create_quote(request: Request, principal: PagePrincipal, uow: PageUow, form: Form) -> Response:
    principal.require_role(*WRITE_ROLES)
    data = validated(QuoteIn, customer_id=integer(form, "customer_id"), opportunity_id=integer(form, "opportunity_id"),
                 location=text(form, "location"), owner=text(form, "owner"), valid_until=day(form, "valid_until"),
                 note=text(form, "note"), lines=_lines(uow, form))
    quote = service.create_quote(uow, data, default_owner=principal.username)
    return navigate(request, f"/crm/quotes/{quote['id']}")


def _quote_page(request: Request, principal: Any, uow: UnitOfWork, quote_id: int, *, status_code: int = 200,
                refused: dict[str, Any] | None = None) -> Response:
    quote = service.get_quote(uow, quote_id)
    versions = service.list_versions(uow, quote_id, limit=50)
    customer = customers.get_customer_info(uow, quote["customer_id"])
    current = quote["current"]
    return crm_render(request, "crm/quote.html", principal, page_title="Quote", status_code=status_code, quote=quote,
                  versions=versions, customer=customer, refused=refused, can_write=principal.has_role(*WRITE_ROLES),
                  can_approve=principal.has_role(*APPROVER_ROLES), revisable=quote["status"] in rules.REVISABLE,
                  valid_until=max(current["valid_until"].isoformat(), rules.business_date(uow.now()).isoformat()),
                  rows=[*current["lines"], *([{}] * BLANK_ROWS)])


@router.get("/crm/quotes/{quote_id}", response_class=HTMLResponse)
def quote_page(request: Request, quote_id: PathId, principal: PagePrincipal, uow: PageUow) -> Response:
    return _quote_page(request, principal, uow, quote_id)


@router.post("/crm/quotes/{quote_id}/versions", response_class=HTMLResponse)
def revise_quote(request: Request, quote_id: PathId, principal: PagePrincipal, uow: PageUow, form: Form) -> Response:
    """A new negotiation round (`POST /quotes/{id}/versions`)."""
    principal.require_role(*WRITE_ROLES)
    data = validated(QuoteVersionIn, valid_until=day(form, "valid_until"), note=text(form, "note"),
                 lines=_lines(uow, form))
    service.revise_quote(uow, quote_id, data)
    return navigate(request, f"/crm/quotes/{quote_id}")


@router.post("/crm/quotes/{quote_id}/send", response_class=HTMLResponse)
def send_quote(request: Request, quote_id: PathId, principal: PagePrincipal, uow: PageUow) -> Response:
    principal.require_role(*WRITE_ROLES)
    service.send_quote(uow, quote_id)
    return navigate(request, f"/crm/quotes/{quote_id}")


@router.post("/crm/quotes/{quote_id}/accept", response_class=HTMLResponse)
def accept_quote(request: Request, quote_id: PathId, principal: PagePrincipal, uow: PageUow, form: Form) -> Response:
    """The customer accepts the round on the table: the B2B order is placed, credit checked. Over the limit the
    refusal is shown with the figures of the check, and a manager or admin may approve going over it."""
    approve = text(form, "approve_over_limit") in ("1", "true", "on")
    if approve and not principal.has_role(*APPROVER_ROLES):
        raise Forbidden("only a manager or admin may approve going over the credit limit", field="approve_over_limit")
    principal.require_role(*WRITE_ROLES)
    try:
        service.accept_quote(uow, quote_id, version=integer(form, "version"),
                             credit_approved_by=principal.actor if approve else None)
    except CreditLimitExceeded as exc:
        refused = {"detail": exc.detail, **exc.extra}
        if is_htmx(request):
            quote = service.get_quote(uow, quote_id)
            return crm_render(request, "crm/_credit_refused.html", principal, status_code=409, refused=refused,
                          quote=quote, can_approve=principal.has_role(*APPROVER_ROLES))
        return _quote_page(request, principal, uow, quote_id, status_code=409, refused=refused)
    return navigate(request, f"/crm/quotes/{quote_id}")


@router.post("/crm/quotes/{quote_id}/reject", response_class=HTMLResponse)
def reject_quote(request: Request, quote_id: PathId, principal: PagePrincipal, uow: PageUow, form: Form) -> Response:
    principal.require_role(*WRITE_ROLES)
    body = validated(RejectIn, reason=text(form, "reason"))
    service.reject_quote(uow, quote_id, body.reason)
    return navigate(request, f"/crm/quotes/{quote_id}")
