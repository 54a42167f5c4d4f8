"""Input and output of the channels API: shops, SKU mappings, the inbox and pull."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field, field_validator

Platform = Literal["tmall", "taobao", "jd", "pdd", "douyin", "youzan"]
InboxState = Literal["received", "processed", "failed"]
Code = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")


class AllocationIn(BaseModel):
    """What the shop is shown: available × ratio − safety stock, at most `cap`."""

    ratio: Decimal = Field(default=Decimal(1), ge=0, le=1, decimal_places=4)
    safety_stock: int = Field(default=0, ge=0, le=1_000_000_000)
    cap: int | None = Field(default=None, ge=0, le=1_000_000_000)


class AllocationOut(BaseModel):
    ratio: float
    safety_stock: int
    cap: int | None


class ShopIn(BaseModel):
    code: str = Code
    platform: Platform
    name: str = Field(min_length=1, max_length=100)
    location: str = Field(min_length=1, max_length=32, description="the location it ships from")
    app_key: str = Field(min_length=1, max_length=200)
    app_secret: str = Field(min_length=1, max_length=500)
    access_token: str | None = Field(default=None, min_length=1, max_length=2000)
    api_url: str | None = Field(default=None, max_length=300, pattern=r"^https?://\S+$",
                                description="the platform's API gateway; the platform's own when not set")
    allocation: AllocationIn = Field(default_factory=AllocationIn)
    pull_enabled: bool = True


class ShopPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    location: str | None = Field(default=None, min_length=1, max_length=32)
    app_key: str | None = Field(default=None, min_length=1, max_length=200)
    app_secret: str | None = Field(default=None, min_length=1, max_length=500)
    access_token: str | None = Field(default=None, min_length=1, max_length=2000)
    api_url: str | None = Field(default=None, max_length=300, pattern=r"^https?://\S+$")
    allocation: AllocationIn | None = None
    pull_enabled: bool | None = None
    active: bool | None = None


class ShopOut(BaseModel):
    """A shop; its secret and access token are never answered, only whether they are set."""

    id: int
    code: str
    platform: Platform
    name: str
    location: str
    app_key: str
    has_secret: bool
    has_access_token: bool
    api_url: str | None
    allocation: AllocationOut
    pull_enabled: bool
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class SkuMappingIn(BaseModel):
    """Give the platform's SKU id (or item id, for an item without SKUs) or the merchant code it sends."""

    platform_sku_id: str | None = Field(default=None, min_length=1, max_length=64)
    outer_code: str | None = Field(default=None, min_length=1, max_length=64)
    sku: str = Field(min_length=1, max_length=64)
    units_per_item: int = Field(default=1, ge=1, le=1_000_000, description="teahub base units per platform piece")
    item_id: str | None = Field(default=None, min_length=1, max_length=64, description=(
        "the platform's item id (Taobao num_iid, PDD goods_id, Youzan item_id), which their stock APIs need "
        "beside a SKU id or merchant code; not needed for an item without SKUs mapped by its item id"))

    @field_validator("platform_sku_id", "outer_code", "sku", "item_id")
    @classmethod
    def trimmed(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be blank")
        return value.strip() if value is not None else None


class SkuMappingOut(BaseModel):
    id: int
    shop: str
    platform_sku_id: str | None
    outer_code: str | None
    sku: str
    units_per_item: int
    item_id: str | None = None
    created_at: datetime


class InboxMessageOut(BaseModel):
    id: int
    shop: str
    source: str
    kind: str
    message_id: str | None
    topic: str | None
    external_id: str | None
    state: InboxState
    reason: str | None
    field: str | None
    note: str | None
    attempts: int
    order_id: int | None
    received_at: datetime
    processed_at: datetime | None


class InboxMessageDetail(InboxMessageOut):
    payload: str


class ReplayOut(BaseModel):
    replayed: int
    processed: int
    failed: int
    items: list[InboxMessageOut]


class PullOut(BaseModel):
    shop: str
    since: datetime
    until: datetime
    fetched: int
    processed: int
    failed: int
    error: str | None = None


# -- stock shown on the shops ---------------------------------------------------------------------
class StockTargetOut(BaseModel):
    """One platform SKU the teahub SKU is sold as, and the pieces it should show."""

    mapping_id: int
    platform_sku_id: str | None
    outer_code: str | None
    item_id: str | None
    units_per_item: int
    quantity: int


class ShopStockItemOut(BaseModel):
    """A mapped SKU: available at the shop's location, what the shop should show (teahub base units), what was
    pushed and when, whether a push is pending, and the last error (kept until a push succeeds)."""

    sku: str
    available: int
    quantity: int
    pushed_quantity: int | None
    pushed_at: datetime | None
    dirty: bool
    dirty_since: datetime | None
    attempts: int
    retry_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    targets: list[StockTargetOut]


class ShopStockOut(BaseModel):
    shop: str
    platform: Platform
    location: str
    allocation: AllocationOut
    items: list[ShopStockItemOut]


class ResyncOut(BaseModel):
    shop: str
    marked: int
    pushed: int
    unchanged: int
    failed: int
    calls: int


class ReconcileDifference(BaseModel):
    external_id: str
    field: str
    platform: str | int | None
    teahub: str | int | None


class ReconcileOut(BaseModel):
    """The platform's orders modified in the last `days` days compared with teahub's: `missing` were not in
    teahub, `repaired` differed and were brought in line (stored and processed through the inbox); the
    `differences` left are for a person."""

    shop: str
    days: int
    checked: int
    missing: int
    repaired: int
    differences: list[ReconcileDifference]
