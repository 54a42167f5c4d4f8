"""The catalog: products with their tea attributes and prices (`/products`), and one product's page with its
stock by location and its batches (`/products/{sku}`). Admins change prices there, as the API lets them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from teahub.catalog import service as catalog
from teahub.catalog.schemas import PricesPatch, ProductPatch
from teahub.db.uow import UnitOfWork
from teahub.errors import ValidationFailed
from teahub.inventory import overview
from teahub.inventory import service as inventory
from teahub.pagination import cursor_int
from teahub.web.forms import validated, yuan_to_fen
from teahub.web.pages.stock import fragment_wanted, read_scope
from teahub.web.rendering import language_of, render
from teahub.web.session import PagePrincipal, PageUow

router = APIRouter()
PAGE_SIZE = 50
PRICE_FIELDS = ("list", "member", "vip")
PRICE_EDITORS = ("admin",)  # as PATCH /api/v1/products/{sku}


def category_names(uow: UnitOfWork, language: str) -> dict[str, str]:
    """Each category's name in the user's language (Chinese names are the catalog's own)."""
    return {c["code"]: (c["name_en"] or c["name"]) if language == "en" else c["name"]
            for c in catalog.list_categories(uow)}


def _category_options(uow: UnitOfWork, language: str) -> list[dict[str, Any]]:
    categories = catalog.list_categories(uow)
    by_code = {c["code"]: c for c in categories}

    def depth(code: str) -> int:
        parent = by_code[code]["parent"]
        return 0 if parent is None or parent not in by_code else 1 + depth(parent)

    names = category_names(uow, language)
    return [{"code": c["code"], "name": names[c["code"]], "depth": depth(c["code"])} for c in categories]


@router.get("/products", response_class=HTMLResponse)
def products(request: Request, principal: PagePrincipal, uow: PageUow, q: str | None = None,
             category: str | None = None, cursor: str | None = None) -> Response:
    q = (q or "").strip() or None
    category = category or None
    found = catalog.list_products(uow, category=category, q=q, after_id=cursor_int(cursor), limit=PAGE_SIZE + 1)
    more = len(found) > PAGE_SIZE
    items = found[:PAGE_SIZE]
    language = language_of(request)
    context: dict[str, Any] = {"items": items, "next": str(items[-1]["id"]) if more else None, "q": q or "",
               "category": category or "", "category_names": category_names(uow, language)}
    if fragment_wanted(request):
        return render(request, "catalog/_results.html", principal, **context)
    return render(request, "catalog/index.html", principal, page_title="Catalog",
                  categories=_category_options(uow, language), **context)


@router.get("/products/{sku:path}", response_class=HTMLResponse)
def product(request: Request, sku: str, principal: PagePrincipal, uow: PageUow) -> Response:
    view = catalog.get_product(uow, sku)
    scope = read_scope(principal, uow)
    stock = inventory.stock_levels(uow, sku=sku, scope=scope, limit=500)
    batches = [] if view["is_gift_box"] else overview.batch_list(uow, scope=scope, sku=sku, with_empty=True,
                                                                 limit=200)
    return render(request, "catalog/product.html", principal, page_title="Product", product=view,
                  stock=stock, batches=batches, category_names=category_names(uow, language_of(request)),
                  may_edit_prices=principal.role in PRICE_EDITORS, saved=False)


@router.post("/products/{sku:path}/prices", response_class=HTMLResponse)
def change_prices(request: Request, sku: str, principal: PagePrincipal, uow: PageUow,
                  list_price: Annotated[str, Form(max_length=20)],
                  member_price: Annotated[str, Form(max_length=20)] = "",
                  vip_price: Annotated[str, Form(max_length=20)] = "") -> Response:
    principal.require_role(*PRICE_EDITORS)
    prices = {name: yuan_to_fen(typed, f"prices.{name}")
              for name, typed in (("list", list_price), ("member", member_price), ("vip", vip_price))}
    if prices["list"] is None:
        raise ValidationFailed("every product needs a list price", field="prices.list")
    patch = ProductPatch(prices=validated(PricesPatch, prefix="prices.", **prices))
    view = catalog.update_product(uow, sku, patch)
    if fragment_wanted(request):
        return render(request, "catalog/_prices.html", principal, product=view, may_edit_prices=True, saved=True)
    return RedirectResponse(f"/products/{sku}", status_code=303)
