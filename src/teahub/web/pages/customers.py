"""Customers: search by phone (or its last four digits), name or pinyin initials, with tier, lifetime spend and
last purchase; and the customer 360 page. Personal data is masked for the roles the API masks it for."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from teahub.analytics import customer360
from teahub.analytics import dashboard as figures
from teahub.analytics.rules import SEGMENTS
from teahub.api_params import PathId
from teahub.customers import service as customers
from teahub.db.uow import UnitOfWork
from teahub.loyalty import service as loyalty
from teahub.pagination import cursor_int
from teahub.web.rendering import is_htmx, language_of, render
from teahub.web.session import PagePrincipal, PageUow

router = APIRouter()

PAGE_SIZE = 50
REPURCHASE_SHOWN = 8  # the teas closest to being finished (or finished lately)


def _tier_names(uow: UnitOfWork, request: Request) -> dict[str, str]:
    english = language_of(request) == "en"
    return {t["code"]: (t["name_en"] or t["name"]) if english else t["name"] for t in loyalty.list_tiers(uow)}


@router.get("/customers", response_class=HTMLResponse)
def search(request: Request, principal: PagePrincipal, uow: PageUow,
           q: Annotated[str | None, Query(max_length=100)] = None, cursor: str | None = None) -> Response:
    """The list of customers matching `q` (all customers without it), by id, a page at a time."""
    rows = customers.list_customers(uow, q=q, after_id=cursor_int(cursor), limit=PAGE_SIZE + 1)
    more = len(rows) > PAGE_SIZE
    rows = [customers.shown_to(row, principal.sees_personal_data) for row in rows[:PAGE_SIZE]]
    spend = figures.customer_figures(uow, [row["id"] for row in rows])
    context: dict[str, Any] = {"rows": rows, "spend": spend, "q": (q or "").strip(),
                               "next": rows[-1]["id"] if more else None, "tiers": _tier_names(uow, request)}
    # An HTMX search swaps the results only (a history restore asks for the whole page).
    if is_htmx(request) and request.headers.get("hx-history-restore-request") != "true":
        return render(request, "customers/_results.html", principal, **context)
    return render(request, "customers/index.html", principal, page_title="Customers", **context)


@router.get("/customers/{customer_id}", response_class=HTMLResponse)
def customer_page(customer_id: PathId, request: Request, principal: PagePrincipal, uow: PageUow) -> Response:
    """Everything about one customer (GET /api/v1/customers/{id}/360), as cards."""
    answer = customer360.customer_360(uow, customer_id)
    if answer["customer"]["id"] != customer_id:  # merged: the customer it was merged into answers
        return RedirectResponse(f"/customers/{answer['customer']['id']}", status_code=303)
    answer["customer"] = customers.shown_to(answer["customer"], principal.sees_personal_data)
    person = answer["customer"]
    due = answer["repurchase"]["items"]
    answer["repurchase_shown"] = sorted(due, key=lambda d: (abs(d["days_left"]), d["sku"]))[:REPURCHASE_SHOWN]
    return render(request, "customers/detail.html", principal, page_title=person["name"] or "Customer", c=answer,
                  person=person, tiers=_tier_names(uow, request), segments=SEGMENTS)
