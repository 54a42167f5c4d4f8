"""Finding the product and batch a stock command names."""

from __future__ import annotations

from sqlalchemy import select

from teahub.catalog import service as catalog
from teahub.catalog.rules import ProductInfo
from teahub.db.uow import UnitOfWork
from teahub.errors import NotFound, ValidationFailed
from teahub.inventory.models import Batch


def stocked_product(uow: UnitOfWork, sku: str, field: str = "sku", *, stocked: bool = True) -> ProductInfo:
    product = catalog.get_products(uow, [sku]).get(sku)
    if product is None:
        raise NotFound(f"unknown SKU {sku}", field=field)
    if stocked and product.is_gift_box:
        raise ValidationFailed(f"{sku} is a gift box: its stock is made of its components' stock", field=field)
    return product


def batch_of(uow: UnitOfWork, product_id: int, code: str, field: str = "batch_code") -> Batch:
    batch = uow.session.scalar(select(Batch).where(Batch.product_id == product_id, Batch.code == code))
    if batch is None:
        raise NotFound(f"no batch {code} of this SKU", field=field)
    return batch


