"""Catalog rules as plain Python: line amounts, which price applies, what makes a product valid.

No I/O here. Services load the data, call these, and save.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from teahub.errors import ValidationFailed

Unit = Literal["g", "piece"]
PriceList = Literal["list", "member", "vip"]

UNITS: tuple[str, ...] = ("g", "piece")
PRICE_LISTS: tuple[str, ...] = ("list", "member", "vip")
# Loose tea is priced per 两 (50 g), 斤 (500 g) or kg; everything else per piece.
GRAM_PRICE_BASES: tuple[int, ...] = (50, 500, 1000)
DEFAULT_PRICE_BASIS: Mapping[str, int] = {"g": 500, "piece": 1}
# Prices live in 32-bit integer columns: every price is below this many fen.
MAX_PRICE = 2_000_000_000


# -- money ------------------------------------------------------------------------------------------
def line_amount(quantity: int, unit_price: int, price_basis: int) -> int:
    """quantity × unit_price ÷ price_basis in fen, rounded half-up (half away from zero) to the fen.

    Integer arithmetic only: 125 g at 68000 per 500 g is 17000; 1 g of it is 136 (136.0); 3 g at 1 fen
    per 500 g is 0 (0.006).
    """
    for name, value in (("quantity", quantity), ("unit_price", unit_price), ("price_basis", price_basis)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if price_basis <= 0:
        raise ValueError("price_basis must be positive")
    product = quantity * unit_price
    magnitude = (2 * abs(product) + price_basis) // (2 * price_basis)
    return -magnitude if product < 0 else magnitude


# -- product facts other capabilities read ----------------------------------------------------------
@dataclass(frozen=True)
class Component:
    """One line of a gift box: so many of this product in each box."""

    product_id: int
    sku: str
    quantity: int


@dataclass(frozen=True)
class ProductInfo:
    """What inventory and sales need to know about a product, without the ORM."""

    id: int
    sku: str
    name: str
    unit: str  # "g" | "piece"
    price_basis: int
    list_price: int
    member_price: int | None
    vip_price: int | None
    special_price: int | None
    special_from: datetime | None
    special_until: datetime | None
    category: str  # category code
    ages: bool  # True: an aging tea, sold first-in-first-out, with no expiry
    shelf_life_days: int | None
    is_gift_box: bool
    active: bool
    components: tuple[Component, ...] = ()


def special_applies(special_from: datetime | None, special_until: datetime | None, at: datetime) -> bool:
    """Is `at` inside [special_from, special_until)? A missing end is open."""
    if special_from is not None and at < special_from:
        return False
    return not (special_until is not None and at >= special_until)


def price_for(product: ProductInfo, price_list: str, at: datetime) -> tuple[int, str]:
    """The unit price (per price_basis) a buyer on `price_list` pays at time `at`, and which list it is.

    vip falls back to member, then list; member falls back to list. A special price running at `at`
    wins when it is lower than that.
    """
    if price_list == "vip" and product.vip_price is not None:
        price, used = product.vip_price, "vip"
    elif price_list in ("vip", "member") and product.member_price is not None:
        price, used = product.member_price, "member"
    elif price_list in PRICE_LISTS:
        price, used = product.list_price, "list"
    else:
        raise ValidationFailed(f"price list must be one of {', '.join(PRICE_LISTS)}", field="price_list")
    special = product.special_price
    if special is not None and special < price and special_applies(product.special_from,
                                                                   product.special_until, at):
        return special, "special"
    return price, used


# -- what makes a product valid -------------------------------------------------------------------
def default_price_basis(unit: str) -> int:
    return DEFAULT_PRICE_BASIS.get(unit, 1)


def check_unit_and_basis(unit: str, price_basis: int) -> None:
    if unit not in UNITS:
        raise ValidationFailed("unit must be 'g' or 'piece'", field="unit")
    if unit == "g" and price_basis not in GRAM_PRICE_BASES:
        raise ValidationFailed("tea sold by weight is priced per 50 g, 500 g or 1000 g", field="price_basis")
    if unit == "piece" and price_basis != 1:
        raise ValidationFailed("a product sold by the piece is priced per 1 piece", field="price_basis")


def check_prices(list_price: int | None, member_price: int | None, vip_price: int | None,
                 special_price: int | None, special_from: datetime | None,
                 special_until: datetime | None) -> None:
    if list_price is None:
        raise ValidationFailed("every product needs a list price", field="prices.list")
    for field, value in (("list", list_price), ("member", member_price), ("vip", vip_price),
                         ("special", special_price)):
        if value is not None and not 0 <= value < MAX_PRICE:
            raise ValidationFailed(f"a price is between 0 and {MAX_PRICE - 1} fen", field=f"prices.{field}")
    if special_price is None and (special_from is not None or special_until is not None):
        raise ValidationFailed("a special price window needs a special price", field="prices.special")
    for field, at in (("special_from", special_from), ("special_until", special_until)):
        if at is not None and at.tzinfo is None:
            raise ValidationFailed("give times with a time zone", field=f"prices.{field}")
    if special_from is not None and special_until is not None and special_until <= special_from:
        raise ValidationFailed("a special price must end after it starts", field="prices.special_until")


def check_gift_box(unit: str, price_basis: int) -> None:
    if unit != "piece":
        raise ValidationFailed("a gift box is sold by the piece", field="unit")
    if price_basis != 1:
        raise ValidationFailed("a gift box is priced per 1 piece", field="price_basis")


class ComponentCandidate(Protocol):
    """What a gift box checks of a product it would hold (a ProductInfo, or the stored product)."""

    @property
    def is_gift_box(self) -> bool: ...

    @property
    def active(self) -> bool: ...


def check_components(components: Sequence[tuple[str, int]], found: Mapping[str, ComponentCandidate],
                     box_sku: str | None = None) -> None:
    """A gift box holds at least one component; each an existing, active, ordinary product, listed once,
    with a positive quantity. `found` holds the products found by SKU."""
    if not components:
        raise ValidationFailed("a gift box holds at least one product", field="components")
    seen: set[str] = set()
    for i, (sku, quantity) in enumerate(components):
        if sku in seen:
            raise ValidationFailed(f"{sku} is listed twice; give its total quantity once",
                                   field=f"components.{i}.sku")
        seen.add(sku)
        if quantity <= 0:
            raise ValidationFailed("a component quantity is at least 1", field=f"components.{i}.quantity")
        info = found.get(sku)
        if info is None or sku == box_sku:
            raise ValidationFailed(f"no product {sku} to put in the box", field=f"components.{i}.sku")
        if info.is_gift_box:
            raise ValidationFailed(f"{sku} is a gift box itself; boxes do not nest",
                                   field=f"components.{i}.sku")
        if not info.active:
            raise ValidationFailed(f"{sku} is not active", field=f"components.{i}.sku")
