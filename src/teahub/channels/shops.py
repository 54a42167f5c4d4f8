"""Shops on the platforms and their SKU mappings: create, change, list. A shop's secret is sealed at rest and
never answered back."""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from teahub.catalog import service as catalog
from teahub.channels import rules
from teahub.channels.connectors.base import ShopSecrets
from teahub.channels.models import RATIO_SCALE, Shop, SkuMapping
from teahub.channels.schemas import ShopIn, ShopPatch, SkuMappingIn
from teahub.db.uow import UnitOfWork
from teahub.errors import Conflict, NotFound, ValidationFailed
from teahub.inventory import service as inventory


@dataclass(frozen=True)
class ShopInfo:
    """What processing needs of a shop, without the ORM."""

    id: int
    code: str
    platform: str
    location: str
    secrets: ShopSecrets
    api_url: str | None
    pull_enabled: bool
    active: bool


def shop_view(uow: UnitOfWork, shop: Shop) -> dict[str, Any]:
    return {
        "id": shop.id, "code": shop.code, "platform": shop.platform, "name": shop.name,
        "location": inventory.get_location_by_id(uow, shop.location_id).code, "app_key": shop.app_key,
        "has_secret": bool(shop.app_secret), "has_access_token": bool(shop.access_token), "api_url": shop.api_url,
        "allocation": {"ratio": shop.allocation_ratio / RATIO_SCALE, "safety_stock": shop.safety_stock,
                       "cap": shop.stock_cap},
        "pull_enabled": shop.pull_enabled, "active": shop.active, "version": shop.version,
        "created_at": shop.created_at, "updated_at": shop.updated_at,
    }


def _audit_view(view: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in view.items() if k not in ("created_at", "updated_at", "app_key")}


def find_shop(uow: UnitOfWork, code: str, *, lock: bool = False) -> Shop:
    stmt = select(Shop).where(Shop.code == code)
    shop = uow.session.scalar(stmt.with_for_update() if lock else stmt)
    if shop is None:
        raise NotFound(f"no shop {code}", field="shop")
    return shop


def shop_info(shop: Shop, location: str) -> ShopInfo:
    return ShopInfo(shop.id, shop.code, shop.platform, location,
                    ShopSecrets(shop.app_key, shop.app_secret, shop.access_token), shop.api_url,
                    shop.pull_enabled, shop.active)


def get_shop_info(uow: UnitOfWork, code: str) -> ShopInfo:
    with uow.reading():
        return find_shop_info(uow, code)


# Every push looks its shop up; shops change rarely. Each process keeps what it read for a moment: a change made
# through this process applies at once, one made through another within RECENT_SECONDS.
RECENT_SECONDS = 2.0
_recent: weakref.WeakKeyDictionary[Any, dict[str, tuple[float, ShopInfo]]] = weakref.WeakKeyDictionary()


def recent_shop_info(uow: UnitOfWork, code: str) -> ShopInfo | None:
    """The shop as this process read it less than RECENT_SECONDS ago, if it did (no database)."""
    found = _recent.get(_bind(uow), {}).get(code)
    return found[1] if found is not None and found[0] > time.monotonic() else None


def read_shop_info(uow: UnitOfWork, code: str) -> ShopInfo:
    """The shop read now (NotFound when there is none), remembered for `recent_shop_info`."""
    info = get_shop_info(uow, code)
    _recent.setdefault(_bind(uow), {})[code] = (time.monotonic() + RECENT_SECONDS, info)
    return info


def forget_recent(uow: UnitOfWork) -> None:
    _recent.pop(_bind(uow), None)


def _bind(uow: UnitOfWork) -> Any:
    return uow.session_factory.kw["bind"]


def find_shop_info(uow: UnitOfWork, code: str) -> ShopInfo:
    """In the caller's transaction."""
    shop = find_shop(uow, code)
    return shop_info(shop, inventory.get_location_by_id(uow, shop.location_id).code)


def create_shop(uow: UnitOfWork, data: ShopIn) -> dict[str, Any]:
    with uow:
        if uow.session.scalar(select(Shop.id).where(Shop.code == data.code)) is not None:
            raise Conflict(f"shop {data.code} exists already", field="code")
        location = inventory.get_location(uow, data.location)
        now = uow.now()
        shop = Shop(code=data.code, platform=data.platform, name=data.name, location_id=location.id,
                    app_key=data.app_key, app_secret=data.app_secret, access_token=data.access_token,
                    api_url=data.api_url, allocation_ratio=rules.ratio_points(data.allocation.ratio),
                    safety_stock=data.allocation.safety_stock, stock_cap=data.allocation.cap,
                    pull_enabled=data.pull_enabled, active=True, version=1, created_at=now, updated_at=now)
        uow.session.add(shop)
        try:
            uow.session.flush()
        except IntegrityError:
            raise Conflict(f"shop {data.code} exists already", field="code") from None
        view = shop_view(uow, shop)
        uow.audit("shop.created", "shop", shop.code, None, _audit_view(view))
        uow.commit()
        return view


def update_shop(uow: UnitOfWork, code: str, patch: ShopPatch) -> dict[str, Any]:
    with uow:
        shop = find_shop(uow, code, lock=True)
        before = _audit_view(shop_view(uow, shop))
        given = patch.model_fields_set
        for name in ("name", "app_key", "app_secret", "access_token", "api_url", "pull_enabled", "active"):
            value = getattr(patch, name)
            if name in given and (value is not None or name in ("access_token", "api_url")):
                setattr(shop, name, value)
        if patch.location is not None:
            shop.location_id = inventory.get_location(uow, patch.location).id
        if patch.allocation is not None:
            shop.allocation_ratio = rules.ratio_points(patch.allocation.ratio)
            shop.safety_stock = patch.allocation.safety_stock
            shop.stock_cap = patch.allocation.cap
        shop.version += 1
        shop.updated_at = uow.now()
        view = shop_view(uow, shop)
        uow.audit("shop.updated", "shop", shop.code, before, _audit_view(view))
        uow.commit()
        return view


def get_shop(uow: UnitOfWork, code: str) -> dict[str, Any]:
    with uow.reading():
        return shop_view(uow, find_shop(uow, code))


def list_shops(uow: UnitOfWork, *, platform: str | None = None) -> list[dict[str, Any]]:
    with uow.reading():
        stmt = select(Shop).order_by(Shop.code)
        if platform is not None:
            stmt = stmt.where(Shop.platform == platform)
        return [shop_view(uow, shop) for shop in uow.session.scalars(stmt)]


def active_shop_codes(uow: UnitOfWork) -> list[str]:
    with uow.reading():
        return list(uow.session.scalars(select(Shop.code).where(Shop.active, Shop.pull_enabled).order_by(Shop.code)))


# -- SKU mappings ---------------------------------------------------------------------------------
def _mapping_view(mapping: SkuMapping, shop_code: str) -> dict[str, Any]:
    return {"id": mapping.id, "shop": shop_code, "platform_sku_id": mapping.platform_sku_id,
            "outer_code": mapping.outer_code, "sku": mapping.sku, "units_per_item": mapping.units_per_item,
            "created_at": mapping.created_at}


def add_mapping(uow: UnitOfWork, code: str, data: SkuMappingIn) -> dict[str, Any]:
    """Map a platform SKU id or merchant code to a teahub SKU; mapping the same key again replaces it."""
    if (data.platform_sku_id is None) == (data.outer_code is None):
        raise ValidationFailed("give either platform_sku_id or outer_code", field="platform_sku_id")
    with uow:
        shop = find_shop(uow, code)
        product = catalog.get_products(uow, [data.sku]).get(data.sku)
        if product is None:
            raise ValidationFailed(f"unknown SKU {data.sku}", field="sku")
        key = (SkuMapping.platform_sku_id == data.platform_sku_id if data.platform_sku_id is not None
               else SkuMapping.outer_code == data.outer_code)
        mapping = uow.session.scalar(select(SkuMapping).where(SkuMapping.shop_id == shop.id, key).with_for_update())
        before = _mapping_view(mapping, code) if mapping is not None else None
        if mapping is None:
            mapping = SkuMapping(shop_id=shop.id, platform_sku_id=data.platform_sku_id, outer_code=data.outer_code,
                                 sku=data.sku, units_per_item=data.units_per_item, created_at=uow.now())
            uow.session.add(mapping)
        else:
            mapping.sku, mapping.units_per_item = data.sku, data.units_per_item
        try:
            uow.session.flush()
        except IntegrityError:
            raise Conflict("this platform SKU was mapped at the same moment: try again",
                           field="platform_sku_id") from None
        view = _mapping_view(mapping, code)
        uow.audit("shop.sku_mapped", "shop", code, before, view)
        uow.commit()
        return view


def list_mappings(uow: UnitOfWork, code: str) -> list[dict[str, Any]]:
    with uow.reading():
        shop = find_shop(uow, code)
        rows = uow.session.scalars(select(SkuMapping).where(SkuMapping.shop_id == shop.id).order_by(SkuMapping.id))
        return [_mapping_view(m, code) for m in rows]


def delete_mapping(uow: UnitOfWork, code: str, mapping_id: int) -> None:
    with uow:
        shop = find_shop(uow, code)
        mapping = uow.session.scalar(select(SkuMapping).where(SkuMapping.shop_id == shop.id,
                                                              SkuMapping.id == mapping_id))
        if mapping is None:
            raise NotFound(f"shop {code} has no SKU mapping {mapping_id}", field="mapping_id")
        uow.audit("shop.sku_unmapped", "shop", code, _mapping_view(mapping, code), None)
        uow.session.delete(mapping)
        uow.commit()


@dataclass(frozen=True)
class Mapped:
    sku: str
    units_per_item: int


def shop_mappings(uow: UnitOfWork, shop_id: int) -> tuple[dict[str, Mapped], dict[str, Mapped]]:
    """(by platform SKU id, by merchant code) of a shop, inside the caller's transaction."""
    by_id: dict[str, Mapped] = {}
    by_code: dict[str, Mapped] = {}
    for m in uow.session.scalars(select(SkuMapping).where(SkuMapping.shop_id == shop_id)):
        target = by_id if m.platform_sku_id is not None else by_code
        target[m.platform_sku_id or m.outer_code or ""] = Mapped(m.sku, m.units_per_item)
    return by_id, by_code
