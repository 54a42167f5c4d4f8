from __future__ import annotations

from datetime import date, datetime
from typing import Any

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


# -- RFM ---------------------------------------------------------------------------------------------------


class RfmSegmentSize(BaseModel):
    segment: str
    label: str
    customers: int
    share: float
    monetary: int


class RfmCustomer(BaseModel):
    customer_id: int
    name: str
    last_order_at: datetime
    recency_days: int
    frequency: int
    monetary: int
    r: int
    f: int
    m: int
    score: str
    segment: str


class RfmReport(BaseModel):
    as_of: datetime
    window_days: int
    customers: int
    segments: list[RfmSegmentSize]
    items: list[RfmCustomer]
    next: str | None = None


class CustomerRfm(BaseModel):
    customer_id: int
    name: str
    as_of: datetime
    window_days: int
    customers: int
    last_order_at: datetime | None
    recency_days: int | None
    frequency: int
    monetary: int
    r: int | None
    f: int | None
    m: int | None
    score: str | None
    segment: str | None


# -- CLV ---------------------------------------------------------------------------------------------------


class ChurnFigures(BaseModel):
    annual_churn: float
    expected_years: float
    churn_observed: bool
    churn_base: int
    churn_lapsed: int


class ClvFigures(BaseModel):
    customer_id: int
    name: str
    orders: int
    revenue: int
    cost: int
    gross_profit: int
    margin: float | None
    average_order_value: int
    orders_per_year: int
    first_order_at: datetime | None
    last_order_at: datetime | None
    historic_value: int
    predicted_value: int
    clv: int


class ClvReport(ChurnFigures):
    as_of: datetime
    customers: int
    items: list[ClvFigures]
    next: str | None = None


class CustomerClv(ClvFigures, ChurnFigures):
    as_of: datetime


# -- cohorts -----------------------------------------------------------------------------------------------


class RetentionMonth(BaseModel):
    month: int
    customers: int | None
    share: float | None


class Cohort(BaseModel):
    cohort: str
    customers: int
    repeat_customers: int
    repeat_rate: float
    retention: list[RetentionMonth]


class CohortReport(BaseModel):
    as_of: datetime
    customers: int
    repeat_customers: int
    repeat_purchase_rate: float | None
    items: list[Cohort]
    next: str | None = None


# -- recommendations ---------------------------------------------------------------------------------------


class ProductBrief(BaseModel):
    sku: str
    name: str
    category: str


class BoughtTogether(ProductBrief):
    orders: int
    confidence: float
    lift: float


class SimilarTea(ProductBrief):
    similarity: float


class ProductRecommendations(BaseModel):
    sku: str
    name: str
    orders: int
    bought_together: list[BoughtTogether]
    similar: list[SimilarTea]


class Recommendation(ProductBrief):
    reason: str
    score: float
    lift: float | None
    because_sku: str | None
    available: int


class CustomerRecommendations(BaseModel):
    customer_id: int
    name: str
    home_store: str | None
    stock_at: list[str]
    exclude_days: int
    items: list[Recommendation]
    next: str | None = None


# -- repurchase --------------------------------------------------------------------------------------------


class DueTea(BaseModel):
    customer_id: int
    sku: str
    name: str
    category: str
    last_bought_at: datetime
    grams: int
    purchases: int
    grams_per_day: float
    basis: str
    due_at: datetime
    due_on: date
    days_left: int


class CustomerRepurchase(BaseModel):
    customer_id: int
    name: str
    as_of: datetime
    items: list[DueTea]
    next: str | None = None


class DueTeaOfCustomer(DueTea):
    customer_name: str


class RepurchaseDue(BaseModel):
    as_of: datetime
    # The moment the due days were computed as of (the nightly snapshot's, or now when computed live).
    computed_at: datetime | None = None
    within_days: int
    overdue_days: int
    total: int
    items: list[DueTeaOfCustomer]
    next: str | None = None


class Customer360(BaseModel):
    """One customer, from every side. Nested parts have the shapes of their own endpoints."""

    customer: dict[str, Any]
    tier: str | None
    points: dict[str, Any]
    coupons: list[dict[str, Any]]
    lifetime: dict[str, Any]
    taste: dict[str, Any]
    orders: list[dict[str, Any]]
    open_tickets: list[dict[str, Any]]
    activities: list[dict[str, Any]]
    rfm: dict[str, Any]
    clv: dict[str, Any]
    repurchase: dict[str, Any]
    recommendations: dict[str, Any]
    consents: dict[str, bool]
