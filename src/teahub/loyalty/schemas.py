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
