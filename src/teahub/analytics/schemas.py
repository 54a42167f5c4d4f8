from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel


class ProfitRow(BaseModel):
    key: str | None
    label: str | None
    orders: int
    quantity: int
    revenue: int
    cost: int
    gross_profit: int
    margin: float | None


class ProfitReport(BaseModel):
    by: str
    items: list[ProfitRow]
    next: str | None = None


class TracedOrder(BaseModel):
    id: int
    number: str
    channel: str
    status: str
    customer_id: int | None
    customer_name: str | None
    placed_at: datetime
    units: int


class BatchTrace(BaseModel):
    sku: str
    batch_code: str
    supplier: str | None
    produced_on: date | None
    expires_on: date | None
    unit_cost: int
    orders: list[TracedOrder]
    customers: list[int]
