"""Product facts for other capabilities: `get_products` / `get_products_by_id`, fast and ORM-free, called
from inside the caller's own transaction. Reached from outside the catalog through `teahub.catalog.service`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, aliased

from teahub.catalog.models import Category, GiftBoxComponent, Product
from teahub.catalog.rules import Component, ProductInfo
from teahub.db.uow import UnitOfWork


def get_products(uow: UnitOfWork, skus: Iterable[str]) -> dict[str, ProductInfo]:
    """The products with these SKUs (inactive ones included; unknown ones absent), by SKU."""
    wanted = sorted(set(skus))
    if not wanted:
        return {}
    with uow.reading():
        return {p.sku: p for p in _load_infos(uow.session, _INFOS_BY_SKU, wanted)}


def get_products_by_id(uow: UnitOfWork, ids: Iterable[int]) -> dict[int, ProductInfo]:
    """The products with these ids (inactive ones included; unknown ones absent), by id."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    with uow.reading():
        return {p.id: p for p in _load_infos(uow.session, _INFOS_BY_ID, wanted)}


def _infos_statement(key: Any) -> Any:
    """Products with their category's `ages` up to `categories.MAX_CATEGORY_DEPTH` ancestors. Built once: every order
    asks for its products, and building the statement costs more than running it."""
    c1, c2, c3 = aliased(Category), aliased(Category), aliased(Category)
    return (
        select(Product.id, Product.sku, Product.name, Product.unit, Product.price_basis, Product.list_price,
               Product.member_price, Product.vip_price, Product.special_price, Product.special_from,
               Product.special_until, c1.code, func.coalesce(c1.ages, c2.ages, c3.ages),
               Product.shelf_life_days, Product.is_gift_box, Product.active)
        .join(c1, Product.category_id == c1.id)
        .outerjoin(c2, c1.parent_id == c2.id)
        .outerjoin(c3, c2.parent_id == c3.id)
        .where(key.in_(bindparam("keys", expanding=True)))
    )


_INFOS_BY_SKU = _infos_statement(Product.sku)
_INFOS_BY_ID = _infos_statement(Product.id)


def _load_infos(session: Session, statement: Any, keys: list[Any]) -> list[ProductInfo]:
    """One query for the products, and one more only when gift boxes are among them."""
    rows = session.execute(statement, {"keys": keys}).all()
    boxes = [r[0] for r in rows if r[14]]
    parts: dict[int, list[Component]] = {}
    if boxes:
        for box_id, component_id, sku, quantity in session.execute(
            select(GiftBoxComponent.box_id, GiftBoxComponent.component_id, Product.sku,
                   GiftBoxComponent.quantity)
            .join(Product, Product.id == GiftBoxComponent.component_id)
            .where(GiftBoxComponent.box_id.in_(boxes))
            .order_by(GiftBoxComponent.box_id, Product.sku)
        ):
            parts.setdefault(box_id, []).append(Component(component_id, sku, quantity))
    return [
        ProductInfo(id=r[0], sku=r[1], name=r[2], unit=r[3], price_basis=r[4], list_price=r[5],
                    member_price=r[6], vip_price=r[7], special_price=r[8], special_from=r[9],
                    special_until=r[10], category=r[11], ages=bool(r[12]) if r[12] is not None else False,
                    shelf_life_days=r[13], is_gift_box=bool(r[14]), active=bool(r[15]),
                    components=tuple(parts.get(r[0], ())))
        for r in rows
    ]
