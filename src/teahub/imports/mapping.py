"""From a row of text to a capability's input schema, and from a schema's field back to the file's column.

Money columns are integer fen (as everywhere in teahub); quantities are in the product's base unit.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from pydantic import BaseModel

from teahub.db.uow import UnitOfWork

TRUE = {"1", "true", "yes", "y", "t", "是", "on"}
FALSE = {"0", "false", "no", "n", "f", "否", "off"}
COMPONENT = re.compile(r"^(?P<sku>[^:*×]+?)\s*(?:[:*×]\s*(?P<quantity>\S+))?$")


class CellError(Exception):
    """A cell that cannot be read as what its column holds."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(f"{column}: {reason}")
        self.column = column
        self.reason = reason


class Cells:
    """Typed access to one row's cells; an empty cell reads as None."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values

    def _first(self, columns: tuple[str, ...]) -> tuple[str, str | None]:
        for column in columns:
            value = self.values.get(column, "")
            if value != "":
                return column, value
        return columns[0], None

    def text(self, *columns: str) -> str | None:
        return self._first(columns)[1]

    def lower(self, *columns: str) -> str | None:
        value = self.text(*columns)
        return value.lower() if value is not None else None

    def integer(self, *columns: str) -> int | None:
        column, value = self._first(columns)
        return None if value is None else parse_integer(column, value)

    def day(self, column: str) -> date | None:
        value = self.text(column)
        if value is None:
            return None
        for pattern in ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d"):
            try:
                return datetime.strptime(value[:10] if "T" in value else value, pattern).date()
            except ValueError:
                continue
        raise CellError(column, f"{value!r} is not a date (write it as YYYY-MM-DD)")

    def flag(self, column: str) -> bool | None:
        value = self.lower(column)
        if value is None:
            return None
        if value in TRUE:
            return True
        if value in FALSE:
            return False
        raise CellError(column, f"{value!r} is not yes or no (use true or false)")

    def tags(self, column: str) -> list[str] | None:
        value = self.text(column)
        if value is None:
            return None
        return [tag.strip() for tag in value.split("|") if tag.strip()]


def parse_integer(column: str, value: str) -> int:
    try:
        number = Decimal(value.replace("_", ""))
    except InvalidOperation:
        raise CellError(column, f"{value!r} is not a whole number") from None
    if not number.is_finite() or number != number.to_integral_value():
        raise CellError(column, f"{value!r} is not a whole number")
    return int(number)


def _present(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None and v != [] and v != {}}


class ImportKind:
    """What one kind of file holds: its columns, how a row becomes the service's input, and the call."""

    name: ClassVar[str]
    # input field path -> the columns it may come from, first match wins
    fields: ClassVar[dict[str, tuple[str, ...]]]
    required: ClassVar[tuple[str, ...]]
    # how a row that changed something already there is counted
    existing: ClassVar[str] = "updated"

    def missing_columns(self, columns: list[str]) -> list[str]:
        present = set(columns)
        return [" or ".join(self.fields[f]) for f in self.required if not present & set(self.fields[f])]

    def column_for(self, field: str | None, columns: list[str]) -> str:
        """The file's column behind an input field ("prices.list" -> "price_fen"), for error reports."""
        if not field:
            return ""
        parts = [p for p in re.split(r"[.\[\]]", field) if p]
        for end in range(len(parts), 0, -1):
            candidates = self.fields.get(".".join(parts[:end]))
            if candidates:
                return next((c for c in candidates if c in columns), candidates[0])
        return field

    def parse(self, values: dict[str, str]) -> BaseModel:
        """The row as the service's input; raises CellError or pydantic's ValidationError."""
        return self.schema().model_validate(self.data_of(values))

    def data_of(self, values: dict[str, str]) -> dict[str, Any]:
        return self.data(Cells(values))

    def schema(self) -> type[BaseModel]:
        raise NotImplementedError

    def data(self, cells: Cells) -> dict[str, Any]:
        raise NotImplementedError

    def apply(self, uow: UnitOfWork, data: Any) -> bool:
        """Call the capability's service; True when the row created something new."""
        raise NotImplementedError


class ProductImport(ImportKind):
    """Either the catalog fixture format (name_zh, price_fen, …) or the plain one (name, list_price, …)."""

    name = "products"
    tea_fields = ("origin", "cultivar", "grade", "harvest_year", "season", "form", "processing",
                  "storage", "taste_notes", "shelf_life_days")
    fields = {
        "sku": ("sku",),
        "name": ("name", "name_zh"),
        "name_en": ("name_en",),
        "category": ("category",),
        "unit": ("unit",),
        "price_basis": ("price_basis",),
        "prices.list": ("list_price", "price_fen", "price"),
        "prices.member": ("member_price",),
        "prices.vip": ("vip_price",),
        "prices.special": ("special_price",),
        "components": ("components",),
        "active": ("active",),
        **{f"tea.{f}": (f,) for f in tea_fields},
        "tea": ("origin",),
    }
    required = ("sku", "name", "category", "unit", "prices.list")

    def schema(self) -> type[BaseModel]:
        from teahub.catalog.schemas import ProductIn

        return ProductIn

    def data(self, cells: Cells) -> dict[str, Any]:
        tea = _present({
            "origin": cells.text("origin"),
            "cultivar": cells.text("cultivar"),
            "grade": cells.text("grade"),
            "harvest_year": cells.integer("harvest_year"),
            "season": cells.text("season"),
            "form": cells.text("form"),
            "processing": cells.text("processing"),
            "storage": cells.text("storage"),
            "taste_notes": cells.tags("taste_notes"),
            "shelf_life_days": cells.integer("shelf_life_days"),
        })
        prices = {
            "list": cells.integer(*self.fields["prices.list"]),
            "member": cells.integer("member_price"),
            "vip": cells.integer("vip_price"),
            "special": cells.integer("special_price"),
        }
        data = _present({
            "sku": cells.text("sku"),
            "name": cells.text("name", "name_zh"),
            "name_en": cells.text("name_en"),
            "category": cells.lower("category"),
            "unit": cells.lower("unit"),
            "price_basis": cells.integer("price_basis"),
            "tea": tea or None,
            "components": self._components(cells),
            "active": cells.flag("active"),
        })
        data["prices"] = _present(prices)  # a missing list price is reported as prices.list
        return data

    @staticmethod
    def _components(cells: Cells) -> list[dict[str, Any]] | None:
        """`SKU:quantity|SKU:quantity` (quantity 1 when left out) makes the product a gift box."""
        items = cells.tags("components")
        if items is None:
            return None
        components = []
        for item in items:
            match = COMPONENT.match(item)
            if match is None:
                raise CellError("components", f"{item!r} is not SKU:quantity")
            quantity = match["quantity"]
            components.append({"sku": match["sku"],
                               "quantity": parse_integer("components", quantity) if quantity else 1})
        return components

    def apply(self, uow: UnitOfWork, data: Any) -> bool:
        from teahub.catalog.service import upsert_product

        _, created = upsert_product(uow, data)
        return created


class CustomerImport(ImportKind):
    """Customers; a row whose phone, email or other identity is already known answers that customer."""

    name = "customers"
    existing = "already known"
    identity_columns = ("wechat_unionid", "wechat_openid", "taobao", "jd", "pdd", "douyin", "youzan")
    fields = {
        **{f: (f,) for f in ("name", "phone", "email", "kind", "company_name", "credit_limit",
                             "payment_terms", "birthday", "tier", "home_store", "note")},
        "identities": identity_columns,
        "customer": ("name", "phone", "email"),
    }
    required = ("customer",)

    def schema(self) -> type[BaseModel]:
        from teahub.customers.schemas import CustomerIn

        return CustomerIn

    def data(self, cells: Cells) -> dict[str, Any]:
        identities = [{"kind": kind, "value": value} for kind in self.identity_columns
                      if (value := cells.text(kind)) is not None]
        return _present({
            "name": cells.text("name"),
            "phone": cells.text("phone"),
            "email": cells.text("email"),
            "identities": identities,
            "kind": cells.lower("kind"),
            "company_name": cells.text("company_name"),
            "credit_limit": cells.integer("credit_limit"),
            "payment_terms": cells.text("payment_terms"),
            "birthday": cells.day("birthday"),
            "tier": cells.lower("tier"),
            "home_store": cells.text("home_store"),
            "note": cells.text("note"),
        })

    def apply(self, uow: UnitOfWork, data: Any) -> bool:
        from teahub.customers.service import create_customer

        _, created = create_customer(uow, data)
        return created


class StockImport(ImportKind):
    """Stock receipts: one batch of one SKU arriving at one location per row."""

    name = "stock"
    fields = {f: (f,) for f in ("location", "sku", "batch_code", "quantity", "unit_cost", "produced_on",
                                "expires_on", "supplier")}
    required = ("location", "sku", "batch_code", "quantity", "unit_cost")

    def schema(self) -> type[BaseModel]:
        from teahub.inventory.schemas import ReceiptIn

        return ReceiptIn

    def data(self, cells: Cells) -> dict[str, Any]:
        return _present({
            "location": cells.text("location"),
            "sku": cells.text("sku"),
            "batch_code": cells.text("batch_code"),
            "quantity": cells.integer("quantity"),
            "unit_cost": cells.integer("unit_cost"),
            "produced_on": cells.day("produced_on"),
            "expires_on": cells.day("expires_on"),
            "supplier": cells.text("supplier"),
        })

    def apply(self, uow: UnitOfWork, data: Any) -> bool:
        from teahub.inventory.service import receive_stock

        receive_stock(uow, data)
        return True


KINDS: dict[str, ImportKind] = {kind.name: kind for kind in (ProductImport(), CustomerImport(), StockImport())}
