"""Orders: the list at `/orders` (filters kept in the URL, updated with HTMX) and the order page at
`/orders/{id}` with its lines, payments, refunds, timeline and the actions its state allows.

Every read and action calls the same sales service functions, with the same role checks and store scope, as the
API routes in `teahub.sales.routes`."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from teahub.analytics.sold import customer_names
from teahub.api_params import MAX_ID, PathId
from teahub.auth import service as auth
from teahub.auth.principal import Principal
from teahub.customers import service as customers
from teahub.db.uow import UnitOfWork
from teahub.errors import ValidationFailed
from teahub.inventory import service as inventory
from teahub.loyalty import service as loyalty
from teahub.sales import refunds, rules, service, timeline, views
from teahub.sales.models import CHANNELS, STATUSES
from teahub.sales.schemas import RefundIn, ShipIn
from teahub.web.formatting import SHOP_TIME
from teahub.web.forms import blank, validated, yuan_to_fen
from teahub.web.rendering import is_htmx, language_of, render
from teahub.web.session import PagePrincipal, PageUow

router = APIRouter()

PAGE_SIZE = 50
# Roles that may read the audit log through the API (GET /api/v1/audit): they see who made each step.
AUDIT_READERS = ("admin", "manager")
# The order number as shown (SO00000123), or its digits.
ORDER_NUMBER = re.compile(r"(?i)(?:so)?([0-9]{1,18})")
Text = Annotated[str | None, Query(max_length=64)]


# -- the list -----------------------------------------------------------------------------------------------
def _choice(value: str | None, allowed: tuple[str, ...], field: str) -> str | None:
    if not value:
        return None
    if value not in allowed:
        raise ValidationFailed(f"{field} is one of {', '.join(allowed)}", field=field)
    return value


def _day(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed("give a date as YYYY-MM-DD", field=field) from None


def _beijing_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=SHOP_TIME)


def _search_terms(q: str) -> tuple[int | None, str]:
    """What a search names: an order by its number (SO00000123, or the digits alone) and an external id."""
    q = q.strip()
    found = ORDER_NUMBER.fullmatch(q)
    order_id = int(found.group(1)) if found else None
    return (order_id if order_id is not None and 0 < order_id <= MAX_ID else None), q


def _customer_names(uow: UnitOfWork, ids: set[int]) -> dict[int, str]:
    """The names of the listed orders' customers, in one query. A name is shown to every role (the API masks
    phone, email, address and birthday for clerks: the order page shows those, masked as the API masks them)."""
    with uow.reading():
        return customer_names(uow, sorted(ids))


def _list(uow: UnitOfWork, principal: Principal, filters: dict[str, Any], cursor: str | None
          ) -> tuple[list[dict[str, Any]], str | None]:
    """One page of orders, newest first, as GET /api/v1/orders lists them (same store scope)."""
    if filters["store"] is not None:
        principal.require_store(filters["store"], field="store")
    since, until = filters["since"], filters["until"]
    review = {"yes": True, "no": False}.get(filters["needs_review"] or "")
    common: dict[str, Any] = dict(
        channel=filters["channel"], status=filters["status"], location=filters["store"],
        since=_beijing_midnight(since) if since else None,
        until=_beijing_midnight(until + timedelta(days=1)) if until else None,
        needs_review=review, scope=principal.store_scope)
    if filters["q"]:
        order_id, external_id = _search_terms(filters["q"])
        rows = views.list_orders(uow, external_id=external_id, limit=PAGE_SIZE, **common)
        if order_id is not None and all(r["id"] != order_id for r in rows):
            rows += [r for r in views.list_orders(uow, before_id=order_id + 1, limit=1, **common)
                     if r["id"] == order_id]
        return sorted(rows, key=lambda r: r["id"], reverse=True), None
    before = int(cursor) if cursor and cursor.isascii() and cursor.isdigit() and 0 < int(cursor) <= MAX_ID else None
    rows = views.list_orders(uow, before_id=before, limit=PAGE_SIZE + 1, **common)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return rows, str(rows[-1]["id"]) if more and rows else None


def _url(filters: dict[str, Any], **extra: str | None) -> str:
    query = {k: str(v) for k, v in {**filters, **extra}.items() if v not in (None, "")}
    return "/orders" + (f"?{urlencode(query)}" if query else "")


@router.get("/orders", response_class=HTMLResponse)
def orders_list(request: Request, principal: PagePrincipal, uow: PageUow, channel: Text = None,
                status: Text = None, store: Text = None, since: Text = None, until: Text = None,
                needs_review: Text = None, q: Text = None, cursor: Text = None) -> Response:
    filters: dict[str, Any] = {
        "channel": _choice(channel, CHANNELS, "channel"), "status": _choice(status, STATUSES, "status"),
        "store": store or None, "since": _day(since, "since"), "until": _day(until, "until"),
        "needs_review": _choice(needs_review, ("yes", "no"), "needs_review"), "q": (q or "").strip() or None,
    }
    rows, next_cursor = _list(uow, principal, filters, cursor)
    people = _customer_names(uow, {r["customer_id"] for r in rows if r["customer_id"] is not None})
    context: dict[str, Any] = {
        "rows": rows, "people": people, "filters": filters, "cursor": cursor or None,
        "next_url": _url(filters, cursor=next_cursor) if next_cursor else None,
        "first_url": _url(filters) if cursor else None,
    }
    if is_htmx(request) and not request.headers.get("hx-history-restore-request"):
        # The filters changed: only the results, and the address bar shows the filters (without the blanks).
        return render(request, "orders/_results.html", principal, headers={"HX-Push-Url": _url(filters, cursor=cursor)},
                      **context)
    stores = [loc for loc in inventory.list_locations(uow) if principal.can_act_for(loc["code"])]
    return render(request, "orders/list.html", principal, page_title="Orders", stores=stores, channels=CHANNELS,
                  statuses=STATUSES, **context)


# -- one order ----------------------------------------------------------------------------------------------
def _authorize(principal: Principal) -> service.Authorize:
    return lambda code: principal.require_store(code)


def _actions(order: dict[str, Any]) -> dict[str, bool]:
    """The actions the order's state allows (the lifecycle rules of sales); a button is shown only for these."""
    status, on_credit = order["status"], order["on_credit"]
    left = any(line["quantity"] > line["refunded_quantity"] for line in order["lines"])
    return {
        "confirm": rules.can_transition(status, "confirmed", on_credit=on_credit),
        "allocate": rules.can_transition(status, "allocated", on_credit=on_credit),
        "ship": rules.can_transition(status, "shipped", on_credit=on_credit),
        "complete": rules.can_transition(status, "completed", on_credit=on_credit),
        "cancel": rules.can_transition(status, "cancelled", on_credit=on_credit),
        "refund": status in rules.REFUNDABLE and left and order["paid_amount"] > order["refunded_amount"],
    }


def _order_context(request: Request, uow: UnitOfWork, principal: Principal, order: dict[str, Any]
                   ) -> dict[str, Any]:
    customer, tier = None, None
    if order["customer_id"] is not None:
        customer = customers.shown_to(customers.get_customer(uow, order["customer_id"]), principal.sees_personal_data)
        if customer["tier"]:
            english = language_of(request) == "en"
            tier = next(((t["name_en"] or t["name"]) if english else t["name"] for t in loyalty.list_tiers(uow)
                         if t["code"] == customer["tier"]), customer["tier"])
    steps = timeline.order_timeline(uow, order["id"])
    if principal.has_role(*AUDIT_READERS):
        steps = timeline.with_actors(steps, auth.audit_entries(uow, entity_type="order", entity_id=str(order["id"]),
                                                                 limit=500))
    return {"order": order, "customer": customer, "tier": tier, "steps": steps, "actions": _actions(order),
            "units": {line["sku"]: line["unit"] for line in order["lines"]}}


def _order_page(request: Request, principal: Principal, uow: UnitOfWork, order: dict[str, Any],
                notice: str | None = None) -> Response:
    context = _order_context(request, uow, principal, order)
    if is_htmx(request):
        return render(request, "orders/_order.html", principal, notice=notice, **context)
    return render(request, "orders/order.html", principal, page_title=order["number"], notice=notice, **context)


@router.get("/orders/{order_id}", response_class=HTMLResponse)
def order_page(order_id: PathId, request: Request, principal: PagePrincipal, uow: PageUow) -> Response:
    return _order_page(request, principal, uow, views.get_order(uow, order_id, principal.store_scope))


def _done(request: Request, principal: Principal, uow: UnitOfWork, order: dict[str, Any], notice: str) -> Response:
    """After an action: the order re-rendered (HTMX), or back to its page (a plain form post)."""
    if not is_htmx(request):
        return RedirectResponse(f"/orders/{order['id']}", status_code=303)
    return _order_page(request, principal, uow, order, notice)


@router.post("/orders/{order_id}/confirm", response_class=HTMLResponse)
def confirm(order_id: PathId, request: Request, principal: PagePrincipal, uow: PageUow) -> Response:
    return _done(request, principal, uow, service.confirm(uow, order_id, _authorize(principal)), "Order confirmed")


@router.post("/orders/{order_id}/allocate", response_class=HTMLResponse)
def allocate(order_id: PathId, request: Request, principal: PagePrincipal, uow: PageUow) -> Response:
    return _done(request, principal, uow, service.allocate(uow, order_id, _authorize(principal)), "Stock allocated")


@router.post("/orders/{order_id}/ship", response_class=HTMLResponse)
def ship(order_id: PathId, request: Request, principal: PagePrincipal, uow: PageUow,
         carrier: Annotated[str, Form(max_length=40)] = "", tracking_no: Annotated[str, Form(max_length=64)] = "",
         ) -> Response:
    shipment = validated(ShipIn, carrier=blank(carrier), tracking_no=blank(tracking_no))
    shipped = service.ship(uow, order_id, _authorize(principal), carrier=shipment.carrier,
                           tracking_no=shipment.tracking_no)
    return _done(request, principal, uow, shipped, "Order shipped")


@router.post("/orders/{order_id}/complete", response_class=HTMLResponse)
def complete(order_id: PathId, request: Request, principal: PagePrincipal, uow: PageUow) -> Response:
    return _done(request, principal, uow, service.complete(uow, order_id, _authorize(principal)), "Order completed")


@router.post("/orders/{order_id}/cancel", response_class=HTMLResponse)
def cancel(order_id: PathId, request: Request, principal: PagePrincipal, uow: PageUow,
           reason: Annotated[str, Form(max_length=200)] = "") -> Response:
    view = service.cancel(uow, order_id, reason.strip() or None, _authorize(principal))
    return _done(request, principal, uow, view, "Order cancelled")


def _refund_input(line_no: list[int], sku: list[str], quantity: list[str], money: list[str], pick: list[int],
                  reason: str, restock: str) -> RefundIn:
    """The refund the form asks for: the ticked lines with their quantities (grams for loose tea), and an amount
    in yuan where one is agreed (with no quantity: money back only, the goods stay with the buyer)."""
    if not (len(line_no) == len(sku) == len(quantity)) or len(money) not in (0, len(line_no)):
        raise ValidationFailed("the form's lines do not match", field="lines")
    chosen: list[dict[str, Any]] = []
    for number, line_sku, units, agreed in zip(line_no, sku, quantity, money or [""] * len(line_no), strict=True):
        if number not in pick:
            continue
        index = len(chosen)
        units = units.strip() or "0"
        if not (units.isascii() and units.isdigit()) or len(units) > 9:
            raise ValidationFailed("give the quantity to refund as a whole number", field=f"lines.{index}.quantity")
        amount = yuan_to_fen(agreed, f"lines.{index}.amount")
        if int(units) == 0 and not amount:
            raise ValidationFailed("give the quantity given back, or the amount paid back",
                                   field=f"lines.{index}.quantity")
        chosen.append({"sku": line_sku, "quantity": int(units), "amount": amount or None, "line_no": number})
    if not chosen:
        raise ValidationFailed("choose the lines to refund", field="lines")
    return validated(RefundIn, lines=chosen, reason=blank(reason), restock=restock != "no")


@router.post("/orders/{order_id}/refund", response_class=HTMLResponse)
def refund(order_id: PathId, request: Request, principal: PagePrincipal, uow: PageUow,
           line_no: Annotated[list[int], Form(max_length=200)], sku: Annotated[list[str], Form(max_length=200)],
           quantity: Annotated[list[str], Form(max_length=200)],
           amount: Annotated[list[str], Form(max_length=200)] = [],  # noqa: B006 - FastAPI copies defaults
           pick: Annotated[list[int], Form(max_length=200)] = [],  # noqa: B006
           reason: Annotated[str, Form(max_length=200)] = "",
           restock: Annotated[str, Form(max_length=3)] = "yes") -> Response:
    principal.require_role("admin", "manager", "clerk", "integration")
    data = _refund_input(line_no, sku, quantity, amount, pick, reason, restock)
    return _done(request, principal, uow, refunds.refund(uow, order_id, data, _authorize(principal)), "Refunded")
