"""The store counter (POS) at `/pos`: one screen to ring up a sale, made for speed and for a dropped network.

The page is a shell; its script (static/pos.js) keeps the store's products and prices in the browser
(IndexedDB), prices the sale with `POST /api/v1/orders/quote` while online, places it with `POST /api/v1/orders`
and queues sales made offline. The small JSON reads it needs live here, each calling the same services with the
same role checks and store scope as the API:

- `/pos/catalog.json?store=BJ01`: the active products with their prices and what is available at the store, the
  member tiers' price lists and what a point is worth (cached by the page for offline sales);
- `/pos/members.json?q=...`: members by full phone or its last four digits (personal data masked as the API masks
  it for the caller), with their tier, price list, points balance and unused coupons;
- `/pos/orders/{id}/points.json`: the points an order spent and earned (for the receipt);
- `/pos/sw.js`: the service worker that lets the counter page open again without a network.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from teahub.api_params import PathId
from teahub.auth.principal import Principal
from teahub.catalog import service as catalog
from teahub.customers import service as customers
from teahub.db.uow import UnitOfWork
from teahub.errors import ValidationFailed
from teahub.inventory import service as inventory
from teahub.loyalty import coupons
from teahub.loyalty import service as loyalty
from teahub.sales import service as sales
from teahub.web.i18n import translator
from teahub.web.rendering import language_of, render
from teahub.web.session import PagePrincipal, PageUow

router = APIRouter()

COUNTER_ROLES = ("admin", "manager", "clerk")
MEMBERS_SHOWN = 8
PRODUCTS_PAGE = 500
StoreCode = Annotated[str, Query(min_length=1, max_length=32)]
SearchText = Annotated[str, Query(min_length=1, max_length=64)]


# -- who sells where --------------------------------------------------------------------------------------
def _stores(uow: UnitOfWork, principal: Principal) -> list[dict[str, Any]]:
    """The stores this principal may sell for (an admin: every store)."""
    principal.require_role(*COUNTER_ROLES)
    return [loc for loc in inventory.list_locations(uow, kind="store", codes=principal.store_scope)
            if loc["active"]]


def _store(uow: UnitOfWork, principal: Principal, code: str) -> inventory.LocationInfo:
    principal.require_role(*COUNTER_ROLES)
    principal.require_store(code, "store")
    location = inventory.get_location(uow, code, "store")
    if location.kind != "store":
        raise ValidationFailed(f"{code} is a {location.kind}, not a store", field="store")
    return location


# -- the page ---------------------------------------------------------------------------------------------
@cache
def _own_texts() -> tuple[str, ...]:
    """The English texts of the counter's catalog and the shared one (problem titles): what the script shows."""
    folder = resources.files("teahub.web").joinpath("locale", "zh-CN")
    texts: list[str] = []
    for name in ("common.json", "pos.json"):
        texts.extend(json.loads(folder.joinpath(name).read_text(encoding="utf-8")))
    return tuple(texts)


@router.get("/pos", response_class=HTMLResponse)
def counter(request: Request, principal: PagePrincipal, uow: PageUow,
            store: Annotated[str | None, Query(max_length=32)] = None) -> Response:
    stores = _stores(uow, principal)
    chosen = None
    if store:
        chosen = _store(uow, principal, store)
    elif stores:
        chosen = inventory.get_location(uow, stores[0]["code"], "store")
    translate = translator(language_of(request))
    config = {
        "store": chosen.code if chosen else None, "storeName": chosen.name if chosen else None,
        "user": principal.username, "lang": language_of(request),
    }
    return render(request, "pos/index.html", principal, page_title="Counter", stores=stores, store=chosen,
                  config=config, messages={text: translate(text) for text in _own_texts()})


@cache
def _service_worker() -> str:
    return resources.files("teahub.web").joinpath("static", "pos-sw.js").read_text(encoding="utf-8")


@router.get("/pos/sw.js")
def service_worker() -> Response:
    """The counter's service worker (static/pos-sw.js), served here so that it may look after `/pos` (its scope)."""
    return Response(_service_worker(), media_type="text/javascript",
                    headers={"Service-Worker-Allowed": "/pos", "Cache-Control": "no-cache"})


# -- what the page reads --------------------------------------------------------------------------------------
@router.get("/pos/catalog.json")
def store_catalog(principal: PagePrincipal, uow: PageUow, store: StoreCode) -> JSONResponse:
    """Everything the counter needs to sell at `store` without the server: products, prices, stock there,
    the tiers' price lists and what a point is worth."""
    location = _store(uow, principal, store)
    products: list[dict[str, Any]] = []
    after = 0
    while True:
        chunk = catalog.list_products(uow, active=True, after_id=after, limit=PRODUCTS_PAGE)
        products.extend(chunk)
        if len(chunk) < PRODUCTS_PAGE:
            break
        after = chunk[-1]["id"]
    infos = catalog.get_products(uow, [p["sku"] for p in products])
    available = inventory.available(uow, location, list(infos.values())) if infos else {}
    programme = loyalty.programme(uow)
    return JSONResponse({
        "store": location.code, "store_name": location.name,
        "products": [{"sku": p["sku"], "name": p["name"], "name_en": p["name_en"], "unit": p["unit"],
                      "price_basis": p["price_basis"], "prices": p["prices"], "category": p["category"],
                      "available": available.get(infos[p["sku"]].id, 0)} for p in products],
        "tiers": {t["code"]: {"name": t["name"], "name_en": t["name_en"], "price_list": t["price_list"]}
                  for t in loyalty.list_tiers(uow) if t["active"]},
        "point_value_fen": programme.point_value_fen,
    }, headers={"Cache-Control": "no-store"})


@router.get("/pos/members.json")
def members(principal: PagePrincipal, uow: PageUow, q: SearchText) -> JSONResponse:
    """Members by full phone or its last four digits (or name), as the caller may see them, with what the
    counter shows: tier and price list, points balance, coupons still to use."""
    principal.require_role(*COUNTER_ROLES)
    found = customers.list_customers(uow, q=q, limit=MEMBERS_SHOWN)
    answer = []
    for row in found:
        view = customers.shown_to(row, principal.sees_personal_data)
        answer.append({
            "id": view["id"], "name": view["name"], "phone": view["phone"], "phone_masked": row["phone_masked"],
            "tier": view["tier"], "price_list": loyalty.price_list_for(uow, view["tier"]),
            "points": loyalty.balance(uow, view["id"]),
            "coupons": [{"code": c["code"], "name": c["name"], "valid_until": c["valid_until"]}
                        for c in coupons.customer_coupons(uow, view["id"]) if c["status"] == "issued"],
        })
    return JSONResponse({"items": answer}, headers={"Cache-Control": "no-store"})


@router.get("/pos/orders/{order_id}/points.json")
def order_points(order_id: PathId, principal: PagePrincipal, uow: PageUow) -> JSONResponse:
    """The points an order earned and spent so far, and the member's balance (earning follows the sale by a
    moment: the page asks again until it shows)."""
    principal.require_role(*COUNTER_ROLES)
    order = sales.get_order(uow, order_id, principal.store_scope)
    if order["customer_id"] is None:
        return JSONResponse({"earned": None, "spent": 0, "balance": None}, headers={"Cache-Control": "no-store"})
    ledger = loyalty.points_of(uow, order["customer_id"], limit=50)
    entries = [e for e in ledger["entries"] if e["order_id"] == order_id]
    return JSONResponse({
        "earned": sum(e["points"] for e in entries if e["kind"] == "earn") if any(
            e["kind"] == "earn" for e in entries) else None,
        "spent": -sum(e["points"] for e in entries if e["kind"] == "spend"),
        "balance": ledger["balance"],
    }, headers={"Cache-Control": "no-store"})
