from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class PointsEntryOut(BaseModel):
    id: int
    customer_id: int
    kind: str
    points: int
    document: str
    order_id: int | None
    at: datetime
    expires_at: datetime | None
    note: str | None


class PointsOut(BaseModel):
    customer_id: int
    balance: int
    entries: list[PointsEntryOut]
    next: str | None = None


class AdjustmentIn(BaseModel):
    points: int = Field(ge=-10_000_000, le=10_000_000, description="signed; not zero")
    reason: str = Field(min_length=1, max_length=200)
    document: str | None = Field(default=None, min_length=1, max_length=64,
                                 description="a unique reference so a retried adjustment counts once")


class TierIn(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=32)
    name_en: str | None = Field(default=None, max_length=32)
    rank: int | None = Field(default=None, ge=1, le=100)
    threshold: int | None = Field(default=None, ge=0, le=2_000_000_000)
    price_list: Literal["list", "member", "vip"] | None = None
    multiplier_permille: int | None = Field(default=None, ge=0, le=100_000)
    active: bool | None = None


class TierOut(BaseModel):
    code: str
    name: str
    name_en: str | None
    rank: int
    threshold: int
    price_list: str
    multiplier_permille: int
    active: bool


class TierPage(BaseModel):
    items: list[TierOut]
    next: str | None = None


class ProgrammeOut(BaseModel):
    points_per_yuan: int
    point_value_fen: int
    expiry_days: int


class RecomputeOut(BaseModel):
    changed: int


class CouponIn(BaseModel):
    code: str = Field(min_length=2, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
    name: str = Field(min_length=1, max_length=100)
    kind: Literal["fixed", "percent", "threshold"]
    value: int = Field(default=0, ge=0, le=100_000_000, description="fen off (fixed, threshold)")
    percent_off: int = Field(default=0, ge=0, le=100)
    threshold: int = Field(default=0, ge=0, le=1_000_000_000, description="满 X: fen of eligible goods needed")
    max_discount: int | None = Field(default=None, ge=1, le=100_000_000)
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    channels: list[Literal["pos", "web", "tmall", "taobao", "jd", "pdd", "douyin", "b2b"]] = Field(
        default_factory=list, max_length=8)
    skus: list[str] = Field(default_factory=list, max_length=500)
    categories: list[str] = Field(default_factory=list, max_length=50)
    per_customer_limit: int | None = Field(default=None, ge=1, le=1000)
    total_limit: int | None = Field(default=None, ge=1, le=100_000_000)
    stackable: bool = False
    public: bool = False
    active: bool = True


class CouponOut(CouponIn):
    id: int
    redeemed: int
    created_at: datetime


class CouponPage(BaseModel):
    items: list[CouponOut]
    next: str | None = None


class GrantIn(BaseModel):
    customer_id: int = Field(ge=1, le=2**63 - 1)
    source: str | None = Field(default=None, max_length=64)


class GrantOut(BaseModel):
    id: int
    code: str
    coupon: str
    name: str
    customer_id: int
    status: str
    granted_at: datetime
    order_id: int | None
    source: str | None
    valid_until: datetime | None


class GrantPage(BaseModel):
    items: list[GrantOut]
    next: str | None = None
