"""Input and output of the after-sales API, and of the quality report it serves."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from teahub.api_params import MAX_ID

Kind = Literal["complaint", "quality", "delivery", "refund_request", "enquiry"]
Priority = Literal["low", "normal", "high", "urgent"]
Status = Literal["open", "in_progress", "waiting_customer", "resolved", "closed"]
Channel = Literal["store", "phone", "wechat", "email", "web", "tmall", "taobao", "jd", "pdd", "douyin", "b2b"]


class TicketIn(BaseModel):
    kind: Kind
    subject: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    customer_id: int = Field(ge=1, le=MAX_ID)
    order_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="an order of this customer")
    sku: str | None = Field(default=None, min_length=1, max_length=64)
    batch_code: str | None = Field(default=None, min_length=1, max_length=64,
                                   description="a batch of `sku`; on an order, one the customer received")
    channel: Channel = Field(default="store", description="where the customer reached us")
    priority: Priority = "normal"
    assignee: str | None = Field(default=None, min_length=1, max_length=64, description="a user name")


class TicketPatch(BaseModel):
    """Only the fields given change; `assignee: null` unassigns."""

    assignee: str | None = Field(default=None, min_length=1, max_length=64)
    priority: Priority | None = None
    status: Status | None = None


class NoteIn(BaseModel):
    body: str = Field(min_length=1, max_length=5000)


class ResolveIn(BaseModel):
    resolution: str = Field(min_length=1, max_length=5000)


class CsatIn(BaseModel):
    score: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=2000)


class NoteOut(BaseModel):
    id: int
    author: str
    body: str
    created_at: datetime


class TicketSummaryOut(BaseModel):
    id: int
    number: str
    kind: str
    subject: str
    customer_id: int
    order_id: int | None
    sku: str | None
    batch_code: str | None
    channel: str
    priority: str
    status: str
    assignee: str | None
    due_at: datetime
    breached: bool
    resolved_at: datetime | None
    closed_at: datetime | None
    csat_score: int | None
    created_at: datetime
    updated_at: datetime
    version: int


class TicketOut(TicketSummaryOut):
    description: str | None
    resolution: str | None
    csat_comment: str | None
    csat_at: datetime | None
    opened_by: str
    notes: list[NoteOut]


# -- quality report -------------------------------------------------------------------------------
class QualityRow(BaseModel):
    sku: str
    batch_code: str | None
    name: str | None
    supplier: str | None
    units_sold: int
    complaints: int
    open_complaints: int
    refunds: int
    refunded_units: int
    refunded_amount: int
    complaint_rate: float | None = Field(description="complaints per 1000 units sold")
    refund_rate: float | None = Field(description="refunded units per 1000 units sold")


class QualityReport(BaseModel):
    by: str
    since: datetime | None
    until: datetime | None
    items: list[QualityRow]
    next: str | None = None


class BatchBuyerOut(BaseModel):
    customer_id: int
    name: str | None
    orders: list[int]
    units: int
    open_tickets: int
    open_tickets_on_batch: int


class BatchBuyers(BaseModel):
    sku: str
    batch_code: str
    supplier: str | None
    produced_on: date | None
    expires_on: date | None
    units: int
    anonymous_units: int = Field(description="units sold to no known customer (e.g. walk-in POS sales)")
    items: list[BatchBuyerOut]
    next: str | None = None
