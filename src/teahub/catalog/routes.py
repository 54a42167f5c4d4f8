"""Catalog API: products and categories. Anyone signed in reads; admins change."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from teahub.api_params import Limit
from teahub.auth.deps import CurrentPrincipal, Uow
from teahub.catalog import service
from teahub.catalog.schemas import CategoryIn, CategoryOut, ProductIn, ProductOut, ProductPatch
from teahub.pagination import DEFAULT_LIMIT, Page, cursor_int, page

router = APIRouter(tags=["catalog"])


@router.post("/products", response_model=ProductOut, status_code=201)
def create_product(body: ProductIn, principal: CurrentPrincipal, uow: Uow, response: Response) -> dict[str, Any]:
    principal.require_role("admin")
    view = service.create_product(uow, body)
    response.headers["Location"] = f"/api/v1/products/{view['sku']}"
    return view


@router.get("/products", response_model=Page[ProductOut])
def list_products(principal: CurrentPrincipal, uow: Uow, category: str | None = None, q: str | None = None,
                  active: bool | None = None, cursor: str | None = None,
                  limit: Limit = DEFAULT_LIMIT) -> dict[str, Any]:
    """Products in the order they were added. `category` includes its sub-categories; `q` matches SKU,
    name or English name."""
    items = service.list_products(uow, category=category, q=q, active=active, after_id=cursor_int(cursor),
                                  limit=limit + 1)
    return page(items, limit)


@router.get("/products/{sku}", response_model=ProductOut)
def get_product(sku: str, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    return service.get_product(uow, sku)


@router.patch("/products/{sku}", response_model=ProductOut)
def update_product(sku: str, body: ProductPatch, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    principal.require_role("admin")
    return service.update_product(uow, sku, body)


@router.get("/categories", response_model=Page[CategoryOut])
def list_categories(principal: CurrentPrincipal, uow: Uow, cursor: str | None = None,
                    limit: Limit = DEFAULT_LIMIT) -> dict[str, Any]:
    """The category tree as a flat list, each with its parent's code and whether its teas age."""
    return page(service.list_categories(uow, after_id=cursor_int(cursor), limit=limit + 1), limit)


@router.post("/categories", response_model=CategoryOut, status_code=201)
def create_category(body: CategoryIn, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    principal.require_role("admin")
    return service.create_category(uow, body)
