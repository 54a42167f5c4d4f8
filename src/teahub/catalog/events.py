"""Events the catalog records in the outbox, in the same transaction as the change.

Products: aggregate_type "product", aggregate_id the product id, version the product's own `version`
(1 when created, +1 on every change). Categories: aggregate_type "category", aggregate_id the category id,
version from the per-aggregate counter.
"""

from __future__ import annotations

from typing import Final

PRODUCT_CREATED: Final = "product.created"
"""A product was added. Payload: the product as GET /products/{sku} shows it (ProductOut): id, sku, name,
name_en, category (code), unit, price_basis, prices {list, member, vip, special, special_from,
special_until} in fen, tea {…} or null, is_gift_box, components [{sku, name, quantity}], active, version,
created_at, updated_at."""

PRODUCT_UPDATED: Final = "product.updated"
"""A product changed (names, category, prices, tea attributes, gift box composition, or active).
Payload: the product after the change (ProductOut, as for product.created). Not recorded when a change
request alters nothing."""

CATEGORY_CREATED: Final = "category.created"
"""A category was added through the API. Payload: CategoryOut: id, code, name, name_en, parent (code or
null), ages (effective), ages_own. The default tree seeded by bootstrap records no events."""

AGGREGATE_PRODUCT: Final = "product"
AGGREGATE_CATEGORY: Final = "category"

ALL: Final = (PRODUCT_CREATED, PRODUCT_UPDATED, CATEGORY_CREATED)
