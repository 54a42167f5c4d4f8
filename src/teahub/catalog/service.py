"""The catalog's entry point for the rest of teahub: categories, products, prices and gift boxes.

Product use cases live here; category use cases in `categories`, and the product facts other capabilities
call (`get_products` / `get_products_by_id`, fast and ORM-free, from inside their own transactions) in
`facts`. Callers outside the catalog import this module only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from teahub.catalog import events, rules
from teahub.catalog.categories import (
    DEFAULT_CATEGORIES,
    MAX_CATEGORY_DEPTH,
    category_tree,
    create_category,
    descendants,
    ensure_default_categories,
    flush_unique,
    list_categories,
)
from teahub.catalog.facts import get_products, get_products_by_id
from teahub.catalog.models import Category, GiftBoxComponent, Product
from teahub.catalog.rules import Component, ProductInfo
from teahub.catalog.schemas import ComponentIn, ProductIn, ProductPatch
from teahub.db.uow import UnitOfWork
from teahub.errors import Conflict, NotFound, ValidationFailed

__all__ = [
    "DEFAULT_CATEGORIES", "MAX_CATEGORY_DEPTH", "NOT_NULL", "PRICE_COLUMNS", "STATE_COLUMNS", "TEA_COLUMNS",
    "Component", "ProductInfo", "create_category", "create_product", "ensure_default_categories", "get_product",
    "get_products", "get_products_by_id", "list_categories", "list_products", "product_view", "update_product",
    "upsert_product",
]

PRICE_COLUMNS = {"list": "list_price", "member": "member_price", "vip": "vip_price",
                 "special": "special_price", "special_from": "special_from", "special_until": "special_until"}
TEA_COLUMNS = ("origin", "cultivar", "grade", "harvest_year", "season", "form", "processing", "taste_notes",
               "brewing", "storage", "shelf_life_days")
STATE_COLUMNS = ("name", "name_en", "category", "unit", "price_basis", *PRICE_COLUMNS.values(),
                 *TEA_COLUMNS, "active")
NOT_NULL = {"name": "name", "category": "category", "unit": "unit", "active": "active"}


# -- product views --------------------------------------------------------------------------------
def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def product_view(p: Product) -> dict[str, Any]:
    tea: dict[str, Any] | None = {col: getattr(p, col) for col in TEA_COLUMNS}
    assert tea is not None
    tea["taste_notes"] = list(p.taste_notes or [])
    brewing = p.brewing
    tea["brewing"] = ({k: brewing.get(k) for k in ("water_c", "grams_per_100ml", "steeps")}
                      if brewing else None)
    if not any(v for v in tea.values()):
        tea = None
    return {
        "id": p.id,
        "sku": p.sku,
        "name": p.name,
        "name_en": p.name_en,
        "category": p.category.code,
        "unit": p.unit,
        "price_basis": p.price_basis,
        "prices": {"list": p.list_price, "member": p.member_price, "vip": p.vip_price,
                   "special": p.special_price, "special_from": _iso(p.special_from),
                   "special_until": _iso(p.special_until)},
        "tea": tea,
        "is_gift_box": p.is_gift_box,
        "components": sorted(({"sku": c.component.sku, "name": c.component.name, "quantity": c.quantity}
                              for c in p.components), key=lambda c: c["sku"]),
        "active": p.active,
        "version": p.version,
        "created_at": _iso(p.created_at),
        "updated_at": _iso(p.updated_at),
    }


def get_product(uow: UnitOfWork, sku: str) -> dict[str, Any]:
    with uow.reading():
        return product_view(_find(uow.session, sku))


def list_products(uow: UnitOfWork, *, category: str | None = None, q: str | None = None,
                  active: bool | None = None, after_id: int = 0, limit: int = 50) -> list[dict[str, Any]]:
    """Products by id. `category` includes its sub-categories; `q` matches SKU, name or English name
    (case-insensitive substring)."""
    with uow.reading():
        session = uow.session
        stmt = select(Product).where(Product.id > after_id)
        if category is not None:
            tree = category_tree(session)
            root = next((c for c in tree.values() if c.code == category), None)
            if root is None:
                raise ValidationFailed(f"no category {category}", field="category")
            stmt = stmt.where(Product.category_id.in_(sorted(descendants(tree, root.id))))
        if q and "\x00" in q:
            raise ValidationFailed("the search text holds a NUL character", field="q")
        if q:
            pattern = "%" + q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            stmt = stmt.where(Product.sku.ilike(pattern, escape="\\") | Product.name.ilike(pattern, escape="\\")
                              | Product.name_en.ilike(pattern, escape="\\"))
        if active is not None:
            stmt = stmt.where(Product.active == active)
        return [product_view(p) for p in session.scalars(stmt.order_by(Product.id).limit(limit))]


def _find(session: Session, sku: str, *, lock: bool = False) -> Product:
    product = _find_or_none(session, sku, lock=lock)
    if product is None:
        raise NotFound(f"no product {sku}", field="sku")
    return product


def _find_or_none(session: Session, sku: str, *, lock: bool = False) -> Product | None:
    if "\x00" in sku:  # no stored SKU holds NUL, and PostgreSQL refuses it in a query
        return None
    stmt = select(Product).where(Product.sku == sku)
    if lock:  # PostgreSQL: concurrent changes of one product queue here; SQLite writers are serialized
        stmt = stmt.with_for_update(of=Product)
    return session.scalars(stmt).unique().one_or_none()


# -- product changes ------------------------------------------------------------------------------
def create_product(uow: UnitOfWork, data: ProductIn) -> dict[str, Any]:
    with uow:
        view = _create(uow, data)
        uow.commit()
        return view


def update_product(uow: UnitOfWork, sku: str, data: ProductPatch) -> dict[str, Any]:
    """Change the fields given; a request that changes nothing records nothing."""
    with uow:
        product = _find(uow.session, sku, lock=True)
        view = _change(uow, product, _patch_changes(product, data),
                       data.components if "components" in data.model_fields_set else None,
                       "components" in data.model_fields_set)
        uow.commit()
        return view


def upsert_product(uow: UnitOfWork, data: ProductIn) -> tuple[dict[str, Any], bool]:
    """Create the product, or bring the existing one with this SKU in line with `data` (imports).
    Optional parts not given (name_en, price_basis, tea, components, active) are kept; `prices` is
    taken whole. Answers (view, created)."""
    with uow:
        product = _find_or_none(uow.session, data.sku, lock=True)
        if product is None:
            view, created = _create(uow, data), True
        else:
            changes = _state_from_in(data)
            given = data.model_fields_set
            for optional, columns in (("name_en", ("name_en",)), ("tea", TEA_COLUMNS), ("active", ("active",))):
                if optional not in given:
                    for column in columns:
                        changes.pop(column)
            if "price_basis" not in given and data.unit == product.unit:
                changes.pop("price_basis")
            view, created = _change(uow, product, changes, data.components,
                                    "components" in given and data.components is not None), False
        uow.commit()
        return view, created


def _state_from_in(data: ProductIn) -> dict[str, Any]:
    state: dict[str, Any] = {
        "name": data.name, "name_en": data.name_en or None, "category": data.category, "unit": data.unit,
        "price_basis": data.price_basis if data.price_basis is not None else rules.default_price_basis(data.unit),
        "active": data.active,
    }
    for key, column in PRICE_COLUMNS.items():
        state[column] = _utc(getattr(data.prices, key))
    state.update(_tea_state(data.tea, None))
    return state


def _tea_state(tea: Any, given: set[str] | None) -> dict[str, Any]:
    """Tea columns from a TeaIn; `given` limits them to the fields sent (None: all, null tea clears)."""
    if tea is None:
        return {col: ([] if col == "taste_notes" else None) for col in TEA_COLUMNS}
    state = {}
    for col in TEA_COLUMNS:
        if given is not None and col not in given:
            continue
        value = getattr(tea, col)
        if col == "brewing":
            value = value.model_dump(exclude_none=True) if value is not None else None
        if col == "taste_notes":
            value = list(value)
        elif isinstance(value, str):
            value = value or None  # an empty text is no text (imports send "")
        state[col] = value
    return state


def _utc(value: Any) -> Any:
    return value.astimezone(UTC) if isinstance(value, datetime) else value


def _patch_changes(product: Product, data: ProductPatch) -> dict[str, Any]:
    given = data.model_fields_set
    changes: dict[str, Any] = {}
    for name in ("name", "name_en", "category", "unit", "active"):
        if name in given:
            value = getattr(data, name)
            if value is None and name in NOT_NULL:
                raise ValidationFailed(f"{name} cannot be removed", field=name)
            changes[name] = (value or None) if name == "name_en" else value
    unit = changes.get("unit", product.unit)
    if "price_basis" in given and data.price_basis is not None:
        changes["price_basis"] = data.price_basis
    elif "price_basis" in given or unit != product.unit:
        changes["price_basis"] = rules.default_price_basis(unit)
    if "prices" in given:
        if data.prices is None:
            raise ValidationFailed("prices cannot be removed; every product needs a list price",
                                   field="prices.list")
        sent = data.prices.model_fields_set
        for key in sent:
            changes[PRICE_COLUMNS[key]] = _utc(getattr(data.prices, key))
        if "special" in sent and data.prices.special is None:
            for key in ("special_from", "special_until"):  # ending a special ends its window
                if key not in sent:
                    changes[PRICE_COLUMNS[key]] = None
    if "tea" in given:
        changes.update(_tea_state(data.tea, data.tea.model_fields_set if data.tea is not None else None))
    return changes


def _current_state(product: Product) -> dict[str, Any]:
    state = {col: getattr(product, col) for col in STATE_COLUMNS if col != "category"}
    state["category"] = product.category.code
    state["taste_notes"] = list(product.taste_notes or [])
    return state


def _check(state: Mapping[str, Any], is_gift_box: bool) -> None:
    rules.check_unit_and_basis(state["unit"], state["price_basis"])
    rules.check_prices(*(state[col] for col in PRICE_COLUMNS.values()))
    if is_gift_box:
        rules.check_gift_box(state["unit"], state["price_basis"])


def _category(session: Session, code: str) -> Category:
    category = session.scalars(select(Category).where(Category.code == code)).one_or_none()
    if category is None:
        raise ValidationFailed(f"no category {code}", field="category")
    return category


def _components(session: Session, components: list[ComponentIn], box_sku: str) -> dict[str, Product]:
    """The component products, checked: existing, active, not gift boxes, each listed once."""
    skus = sorted({c.sku for c in components})
    found = {p.sku: p for p in session.scalars(select(Product).where(Product.sku.in_(skus))).unique()}
    rules.check_components([(c.sku, c.quantity) for c in components], found, box_sku=box_sku)
    return found



def _create(uow: UnitOfWork, data: ProductIn) -> dict[str, Any]:
    session = uow.session
    state = _state_from_in(data)
    is_gift_box = bool(data.components)
    _check(state, is_gift_box)
    category = _category(session, state.pop("category"))
    found = _components(session, data.components or [], data.sku) if is_gift_box else {}
    if session.scalar(select(Product.id).where(Product.sku == data.sku)) is not None:
        raise Conflict(f"product {data.sku} already exists", field="sku")
    now = uow.now()
    product = Product(sku=data.sku, category=category, is_gift_box=is_gift_box, version=1,
                      created_at=now, updated_at=now, **state)
    product.components = [GiftBoxComponent(component=found[c.sku], quantity=c.quantity)
                          for c in data.components or []]
    session.add(product)
    flush_unique(session, f"product {data.sku} already exists", "sku")
    view = product_view(product)
    uow.record_event(events.PRODUCT_CREATED, events.AGGREGATE_PRODUCT, product.id, view, version=product.version)
    uow.audit(events.PRODUCT_CREATED, "product", product.id, None, view)
    return view


def _change(uow: UnitOfWork, product: Product, changes: dict[str, Any],
            components: list[ComponentIn] | None, components_given: bool) -> dict[str, Any]:
    session = uow.session
    before_state = _current_state(product)
    state = {**before_state, **changes}
    if components_given:
        if product.is_gift_box and not components:
            raise ValidationFailed("a gift box holds at least one product", field="components")
        if not product.is_gift_box and components:
            raise ValidationFailed("a product cannot become a gift box; add the box as a new SKU",
                                   field="components")
    _check(state, product.is_gift_box)
    category = (_category(session, state["category"]) if state["category"] != before_state["category"]
                else product.category)
    new_parts: dict[int, tuple[Product, int]] | None = None
    if product.is_gift_box and components:
        found = _components(session, components, product.sku)
        new_parts = {found[c.sku].id: (found[c.sku], c.quantity) for c in components}
        old_parts = {c.component_id: c.quantity for c in product.components}
        if old_parts == {pid: qty for pid, (_, qty) in new_parts.items()}:
            new_parts = None
    if state == before_state and new_parts is None:
        return product_view(product)

    before = product_view(product)
    state.pop("category")
    for column, value in state.items():
        if getattr(product, column) != value:
            setattr(product, column, value)
    product.category = category
    if new_parts is not None:
        _replace_components(product, new_parts)
    product.version += 1
    product.updated_at = uow.now()
    session.flush()
    after = product_view(product)
    uow.record_event(events.PRODUCT_UPDATED, events.AGGREGATE_PRODUCT, product.id, after, version=product.version)
    uow.audit(events.PRODUCT_UPDATED, "product", product.id, before, after)
    return after


def _replace_components(product: Product, parts: Mapping[int, tuple[Product, int]]) -> None:
    """Change quantities in place, drop the missing, add the new (never delete and re-add one key)."""
    for row in list(product.components):
        if row.component_id not in parts:
            product.components.remove(row)
        else:
            row.quantity = parts[row.component_id][1]
    kept = {row.component_id for row in product.components}
    for component_id, (component, quantity) in parts.items():
        if component_id not in kept:
            product.components.append(GiftBoxComponent(component=component, quantity=quantity))
