"""The catalog's API shapes. The request shape of POST /products is a contract integrators rely on."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from teahub.catalog.rules import MAX_PRICE

_CONTROL = {chr(c) for c in range(32)} | {"\x7f"}
_LAYOUT = {"\n", "\r", "\t"}


def _one_line(value: str) -> str:
    if any(ch in _CONTROL for ch in value):
        raise ValueError("control characters are not allowed")
    return value


def _paragraph(value: str) -> str:
    if any(ch in _CONTROL and ch not in _LAYOUT for ch in value):
        raise ValueError("control characters other than line breaks and tabs are not allowed")
    return value


Sku = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_./-]+$",
                           examples=["LJ-MQ26-250"])]
# Money is a JSON integer of fen: "68800", 688.0 or true are refused rather than guessed at.
Price = Annotated[int, Field(strict=True, ge=0, lt=MAX_PRICE, description="fen per price_basis units")]
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_one_line)]
OptionalName = Annotated[str, Field(max_length=200), AfterValidator(_one_line)]
Text16 = Annotated[str, Field(max_length=16), AfterValidator(_one_line)]
Text32 = Annotated[str, Field(max_length=32), AfterValidator(_one_line)]
Text64 = Annotated[str, Field(max_length=64), AfterValidator(_one_line)]
Text100 = Annotated[str, Field(max_length=100), AfterValidator(_one_line)]
Paragraph = Annotated[str, Field(max_length=2000), AfterValidator(_paragraph)]
Code = Annotated[str, Field(min_length=1, max_length=32), AfterValidator(_one_line)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# -- parts ----------------------------------------------------------------------------------------
class Brewing(_In):
    water_c: int | None = Field(default=None, ge=40, le=100, description="water temperature, °C")
    grams_per_100ml: float | None = Field(default=None, gt=0, le=50)
    steeps: int | None = Field(default=None, ge=1, le=50)


class PricesIn(_In):
    list: Price
    member: Price | None = None
    vip: Price | None = None
    special: Price | None = None
    special_from: AwareDatetime | None = None
    special_until: AwareDatetime | None = None


class PricesPatch(_In):
    """Only the prices given change; null clears one (the list price cannot be cleared)."""

    list: Price | None = None
    member: Price | None = None
    vip: Price | None = None
    special: Price | None = None
    special_from: AwareDatetime | None = None
    special_until: AwareDatetime | None = None


class TeaIn(_In):
    origin: Text100 | None = None
    cultivar: Text64 | None = None
    grade: Text32 | None = None
    harvest_year: int | None = Field(default=None, ge=1900, le=2100)
    season: Text16 | None = None
    form: Text32 | None = None
    processing: Paragraph | None = None
    taste_notes: list[Annotated[Text32, Field(min_length=1)]] = Field(default_factory=list, max_length=30)
    brewing: Brewing | None = None
    storage: Paragraph | None = None
    shelf_life_days: int | None = Field(default=None, ge=1, le=36500)


class ComponentIn(_In):
    sku: Sku
    quantity: int = Field(strict=True, gt=0, lt=1_000_000, description="in the component's base unit (g or pieces)")


# -- products -------------------------------------------------------------------------------------
class ProductIn(_In):
    sku: Sku
    name: Name
    name_en: OptionalName | None = None
    category: Code
    unit: Literal["g", "piece"]
    price_basis: int | None = Field(default=None, description="default 1 for piece, 500 (斤) for g")
    prices: PricesIn
    tea: TeaIn | None = None
    components: list[ComponentIn] | None = Field(default=None, max_length=50,
                                                 description="makes the product a gift box")
    active: bool = True

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "sku": "LJ-MQ26-250", "name": "西湖龙井 明前特级 250g", "category": "green", "unit": "piece",
        "prices": {"list": 68800, "member": 62800},
        "tea": {"origin": "浙江杭州西湖", "grade": "特级", "harvest_year": 2026, "season": "明前"},
    }]})


class ProductPatch(_In):
    """Every field optional; only the fields given change (`prices` and `tea` field by field).
    The SKU cannot change."""

    name: Name | None = None
    name_en: OptionalName | None = None
    category: Code | None = None
    unit: Literal["g", "piece"] | None = None
    price_basis: int | None = None
    prices: PricesPatch | None = None
    tea: TeaIn | None = None
    components: list[ComponentIn] | None = Field(default=None, max_length=50)
    active: bool | None = None


class PricesOut(BaseModel):
    list: int
    member: int | None
    vip: int | None
    special: int | None
    special_from: str | None
    special_until: str | None


class BrewingOut(BaseModel):
    water_c: int | None = None
    grams_per_100ml: float | None = None
    steeps: int | None = None


class TeaOut(BaseModel):
    origin: str | None
    cultivar: str | None
    grade: str | None
    harvest_year: int | None
    season: str | None
    form: str | None
    processing: str | None
    taste_notes: list[str]
    brewing: BrewingOut | None
    storage: str | None
    shelf_life_days: int | None


class ComponentOut(BaseModel):
    sku: str
    name: str
    quantity: int


class ProductOut(BaseModel):
    id: int
    sku: str
    name: str
    name_en: str | None
    category: str
    unit: str
    price_basis: int
    prices: PricesOut
    tea: TeaOut | None
    is_gift_box: bool
    components: list[ComponentOut]
    active: bool
    version: int
    created_at: str
    updated_at: str


# -- categories -----------------------------------------------------------------------------------
class CategoryIn(_In):
    code: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")]
    name: Annotated[Text64, Field(min_length=1)]
    name_en: Text64 | None = None
    parent: Code | None = None
    ages: bool | None = Field(default=None, description="aging tea sold FIFO; null: as the parent")


class CategoryOut(BaseModel):
    id: int
    code: str
    name: str
    name_en: str | None
    parent: str | None
    ages: bool = Field(description="effective: the category's own setting, else its nearest ancestor's")
    ages_own: bool | None = Field(description="the category's own setting; null inherits")
