"""Integrations: the overview of shops and sync targets at `/integrations`, and each shop's page (details, SKU
mappings, the stock shown on the shop and a resync). The inbox, dead letters, mappings and reconciliation
live in the `integrations_*` modules beside this one. Roles are the API's: shops' secrets for admins, the rest
for admins, managers and integration users."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from teahub.catalog import service as catalog
from teahub.channels import service as channels
from teahub.channels.models import PLATFORMS
from teahub.channels.overview import inbox_totals, shops_overview
from teahub.channels.routes import MANAGE, OPERATE
from teahub.channels.schemas import ShopIn, ShopPatch, SkuMappingIn
from teahub.errors import ValidationFailed
from teahub.inventory import service as inventory
from teahub.sync import service as sync
from teahub.sync.broker import BrokerConfig
from teahub.sync.routes import LOOK as SYNC_LOOK
from teahub.web.forms import blank, validated
from teahub.web.rendering import is_htmx, navigate, render
from teahub.web.session import PagePrincipal, PageUow

router = APIRouter()
M = TypeVar("M", bound=BaseModel)
Text = Annotated[str, Form(max_length=2000)]


# -- small helpers shared by the integrations pages -------------------------------------------------------
def number(value: str | None, field: str) -> Decimal | None:
    text = blank(value)
    if text is None:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValidationFailed(f"{text!r} is not a number", field=field) from None


def after_action(request: Request, page: str, fragment: Callable[[], Response]) -> Response:
    """HTMX swaps the fragment in; a plain form post goes back to the page."""
    return fragment() if is_htmx(request) else RedirectResponse(page, status_code=303)


def broker(request: Request) -> BrokerConfig | None:
    return BrokerConfig.from_settings(request.app.state.settings)


def _allocation(ratio: str, safety_stock: str, cap: str) -> dict[str, Any]:
    """The shop's allocation from its form fields; one left empty takes the API's default (no cap)."""
    given = {"ratio": number(ratio, "allocation.ratio"),
             "safety_stock": number(safety_stock, "allocation.safety_stock"), "cap": number(cap, "allocation.cap")}
    return {k: v for k, v in given.items() if v is not None}


# -- overview -------------------------------------------------------------------------------------------
@router.get("/integrations", response_class=HTMLResponse)
def overview(request: Request, principal: PagePrincipal, uow: PageUow) -> Response:
    principal.require_role(*OPERATE)
    shops = channels.list_shops(uow)
    health = shops_overview(uow)
    status = sync.status(uow, broker(request)) if principal.has_role(*SYNC_LOOK) else None
    locations = inventory.list_locations(uow) if principal.has_role(*MANAGE) else []
    return render(request, "integrations/index.html", principal, page_title="Integrations", shops=shops,
                  health=health, sync_status=status, inbox=inbox_totals(uow), locations=locations,
                  platforms=PLATFORMS, can_manage=principal.has_role(*MANAGE), tab="overview")


@router.post("/integrations/shops", response_class=HTMLResponse)
def create_shop(request: Request, principal: PagePrincipal, uow: PageUow, code: Text, platform: Text, name: Text,
                location: Text, app_key: Text, app_secret: Text, access_token: Text = "", api_url: Text = "",
                ratio: Text = "1", safety_stock: Text = "0", cap: Text = "",
                pull_enabled: Annotated[bool, Form()] = False) -> Response:
    principal.require_role(*MANAGE)
    allocation = _allocation(ratio, safety_stock, cap)
    data = validated(ShopIn, code=code.strip(), platform=platform, name=name.strip(), location=location,
                     app_key=app_key.strip(), app_secret=app_secret, access_token=blank(access_token),
                     api_url=blank(api_url), allocation=allocation, pull_enabled=pull_enabled)
    shop = channels.create_shop(uow, data)
    return navigate(request, f"/integrations/shops/{shop['code']}")


# -- one shop -------------------------------------------------------------------------------------------
def _stock_context(uow: PageUow, code: str) -> dict[str, Any]:
    stock = channels.shop_stock(uow, code)
    products = catalog.get_products(uow, [item["sku"] for item in stock["items"]])
    return {"stock": stock, "products": products}


@router.get("/integrations/shops/{code}", response_class=HTMLResponse)
def shop_page(request: Request, code: str, principal: PagePrincipal, uow: PageUow) -> Response:
    principal.require_role(*OPERATE)
    shop = channels.get_shop(uow, code)
    health = shops_overview(uow).get(shop["code"], {})
    locations = inventory.list_locations(uow) if principal.has_role(*MANAGE) else []
    return render(request, "integrations/shop.html", principal, page_title="Shop", shop=shop, health=health,
                  mappings=channels.list_mappings(uow, code), locations=locations,
                  can_manage=principal.has_role(*MANAGE), tab="overview", **_stock_context(uow, code))


@router.post("/integrations/shops/{code}/edit", response_class=HTMLResponse)
def edit_shop(request: Request, code: str, principal: PagePrincipal, uow: PageUow, name: Text, location: Text,
              ratio: Text, safety_stock: Text, cap: Text = "", api_url: Text = "", app_key: Text = "",
              app_secret: Text = "", access_token: Text = "", pull_enabled: Annotated[bool, Form()] = False,
              active: Annotated[bool, Form()] = False) -> Response:
    principal.require_role(*MANAGE)
    allocation = _allocation(ratio, safety_stock, cap)
    changes: dict[str, Any] = {"name": name.strip(), "location": location, "allocation": allocation,
                               "api_url": blank(api_url), "pull_enabled": pull_enabled, "active": active}
    # Secrets are never shown: an empty field keeps the one stored.
    changes |= {k: v for k, v in (("app_key", blank(app_key)), ("app_secret", blank(app_secret)),
                                  ("access_token", blank(access_token))) if v is not None}
    channels.update_shop(uow, code, validated(ShopPatch, **changes))
    return navigate(request, f"/integrations/shops/{code}")


def _mappings_fragment(request: Request, principal: PagePrincipal, uow: PageUow, code: str,
                       notice: str | None = None) -> Response:
    answer = render(request, "integrations/_mappings.html", principal, shop={"code": code},
                    mappings=channels.list_mappings(uow, code), notice=notice)
    answer.headers["HX-Trigger"] = "shop-stock-changed"  # the stock shown follows the mappings
    return answer


@router.post("/integrations/shops/{code}/mappings", response_class=HTMLResponse)
def add_mapping(request: Request, code: str, principal: PagePrincipal, uow: PageUow, sku: Text,
                key_kind: Text = "platform_sku_id", key: Text = "", units_per_item: Text = "1",
                item_id: Text = "") -> Response:
    principal.require_role(*OPERATE)
    if key_kind not in ("platform_sku_id", "outer_code"):
        raise ValidationFailed("choose the platform SKU id or the merchant code", field="key_kind")
    data = validated(SkuMappingIn, **{key_kind: blank(key)}, sku=sku.strip(), item_id=blank(item_id),
                     units_per_item=number(units_per_item, "units_per_item") or 1)
    if data.platform_sku_id is None and data.outer_code is None:
        raise ValidationFailed("give the platform SKU id or the merchant code", field=key_kind)
    mapping = channels.add_mapping(uow, code, data)
    return after_action(request, f"/integrations/shops/{code}", lambda: _mappings_fragment(
        request, principal, uow, code, notice=f"{mapping['platform_sku_id'] or mapping['outer_code']} → "
                                              f"{mapping['sku']}"))


@router.post("/integrations/shops/{code}/mappings/{mapping_id}/delete", response_class=HTMLResponse)
def delete_mapping(request: Request, code: str, mapping_id: int, principal: PagePrincipal, uow: PageUow) -> Response:
    principal.require_role(*OPERATE)
    channels.delete_mapping(uow, code, mapping_id)
    return after_action(request, f"/integrations/shops/{code}",
                        lambda: _mappings_fragment(request, principal, uow, code))


@router.get("/integrations/shops/{code}/stock", response_class=HTMLResponse)
def shop_stock(request: Request, code: str, principal: PagePrincipal, uow: PageUow) -> Response:
    principal.require_role(*OPERATE)
    return render(request, "integrations/_shop_stock.html", principal, shop={"code": code},
                  **_stock_context(uow, code))


@router.post("/integrations/shops/{code}/resync", response_class=HTMLResponse)
def resync(request: Request, code: str, principal: PagePrincipal, uow: PageUow) -> Response:
    principal.require_role(*OPERATE)
    summary = channels.resync_shop(uow, code)
    return after_action(request, f"/integrations/shops/{code}", lambda: render(
        request, "integrations/_shop_stock.html", principal, shop={"code": code}, resynced=summary,
        **_stock_context(uow, code)))
