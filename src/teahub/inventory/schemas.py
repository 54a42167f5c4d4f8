from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

Code = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")
Quantity = Field(gt=0, le=1_000_000_000)


class LocationIn(BaseModel):
    code: str = Code
    name: str = Field(min_length=1, max_length=100)
    kind: Literal["warehouse", "store", "transit"]
    address: str | None = Field(default=None, max_length=200)


class LocationOut(BaseModel):
    id: int
    code: str
    name: str
    kind: str
    address: str | None
    active: bool


class ReceiptIn(BaseModel):
    location: str = Field(min_length=1, max_length=32)
    sku: str = Field(min_length=1, max_length=64)
    batch_code: str = Field(min_length=1, max_length=64)
    quantity: int = Quantity
    unit_cost: int = Field(ge=0, le=2_000_000_000, description="fen per base unit (gram or piece)")
    produced_on: date | None = None
    expires_on: date | None = None
    supplier: str | None = Field(default=None, max_length=100)


class BatchOut(BaseModel):
    batch_code: str
    on_hand: int
    reserved: int
    available: int
    unit_cost: int
    produced_on: date | None
    expires_on: date | None
    expired: bool
    supplier: str | None


class StockItemOut(BaseModel):
    sku: str
    name: str
    location: str
    on_hand: int
    reserved: int
    available: int
    expired: int = 0
    derived: bool = False  # gift boxes: made from their components' stock
    batches: list[BatchOut]


class StockPage(BaseModel):
    items: list[StockItemOut]
    next: str | None = None


class ReceiptOut(BaseModel):
    sku: str
    location: str
    batch_code: str
    quantity: int
    stock: StockItemOut


class TransferLineIn(BaseModel):
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Quantity
    batch_code: str | None = Field(default=None, max_length=64)


class TransferIn(BaseModel):
    from_location: str = Field(min_length=1, max_length=32)
    to_location: str = Field(min_length=1, max_length=32)
    lines: list[TransferLineIn] = Field(min_length=1, max_length=500)
    note: str | None = Field(default=None, max_length=200)


class TransferLineOut(BaseModel):
    sku: str
    batch_code: str
    quantity: int


class TransferOut(BaseModel):
    id: int
    from_location: str
    to_location: str
    created_at: str
    lines: list[TransferLineOut]


class CountLineIn(BaseModel):
    sku: str = Field(min_length=1, max_length=64)
    batch_code: str | None = Field(default=None, max_length=64)
    counted: int = Field(ge=0, le=1_000_000_000)


class StockCountIn(BaseModel):
    location: str = Field(min_length=1, max_length=32)
    lines: list[CountLineIn] = Field(min_length=1, max_length=2000)
    note: str | None = Field(default=None, max_length=200)


class CountLineOut(BaseModel):
    sku: str
    batch_code: str
    expected: int
    counted: int
    difference: int


class StockCountOut(BaseModel):
    id: int
    location: str
    counted_at: str
    lines: list[CountLineOut]


class ScrapIn(BaseModel):
    location: str = Field(min_length=1, max_length=32)
    sku: str = Field(min_length=1, max_length=64)
    batch_code: str = Field(min_length=1, max_length=64)
    quantity: int = Quantity
    reason: str | None = Field(default=None, max_length=200)


class ThresholdIn(BaseModel):
    location: str = Field(min_length=1, max_length=32)
    sku: str = Field(min_length=1, max_length=64)
    minimum: int = Field(ge=0, le=1_000_000_000)


class ThresholdOut(BaseModel):
    location: str
    sku: str
    minimum: int


class LedgerEntryOut(BaseModel):
    id: int
    at: str
    kind: str
    sku: str
    location: str
    batch_code: str
    quantity: int
    unit_cost: int
    reference: str | None
    actor: str
    note: str | None
