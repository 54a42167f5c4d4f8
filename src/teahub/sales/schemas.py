from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from teahub.api_params import MAX_ID

Channel = Literal["pos", "web", "tmall", "taobao", "jd", "pdd", "douyin", "youzan", "b2b"]
Status = Literal["draft", "confirmed", "paid", "allocated", "shipped", "completed", "cancelled"]
Method = Literal["cash", "wechat", "alipay", "card", "bank_transfer", "platform", "points"]


class IdentityRef(BaseModel):
    kind: str = Field(min_length=1, max_length=20)
    value: str = Field(min_length=1, max_length=128)


class CustomerRef(BaseModel):
    """Who buys: an existing customer by id, or found (or created) by phone or another identity."""

    id: int | None = Field(default=None, ge=1, le=MAX_ID)
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=128)
    name: str | None = Field(default=None, max_length=100)
    identities: list[IdentityRef] = Field(default_factory=list, max_length=10)

    @model_validator(mode="after")
    def names_someone(self) -> CustomerRef:
        if self.id is None and not self.phone and not self.email and not self.identities:
            raise ValueError("give the customer's id, phone, email or an identity")
        return self


class LineIn(BaseModel):
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(gt=0, le=10_000_000, description="base units: grams for loose tea, else pieces")
    unit_price: int | None = Field(default=None, ge=0, le=1_000_000_000,
                                   description="an agreed price (B2B, marketplaces); else the price list's")
    discount: int = Field(default=0, ge=0, le=1_000_000_000)
    external_line_id: str | None = Field(default=None, max_length=64)


class PaymentIn(BaseModel):
    """Money by a method (`amount` in fen), or points: `{"method": "points", "points": 250}`."""

    method: Method
    amount: int | None = Field(default=None, gt=0, le=1_000_000_000)
    points: int | None = Field(default=None, gt=0, le=1_000_000_000)
    reference: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def amount_or_points(self) -> PaymentIn:
        if self.method == "points":
            if self.points is None:
                raise ValueError("a points payment says how many points")
            if self.amount is not None:
                raise ValueError("a points payment gives points, not an amount")
        elif self.amount is None:
            raise ValueError("a payment needs its amount in fen")
        elif self.points is not None:
            raise ValueError("only a points payment gives points")
        return self


class OrderIn(BaseModel):
    channel: Channel
    location: str | None = Field(default=None, min_length=1, max_length=32)
    customer: CustomerRef | None = None
    lines: list[LineIn] = Field(min_length=1, max_length=200)
    payments: list[PaymentIn] = Field(default_factory=list, max_length=10)
    discount: int = Field(default=0, ge=0, le=1_000_000_000, description="order discount, fen")
    coupons: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        default_factory=list, max_length=5, description="coupon codes: a customer's own or a public one")
    shipping_fee: int = Field(default=0, ge=0, le=1_000_000_000)
    external_id: str | None = Field(default=None, min_length=1, max_length=64)
    client_id: str | None = Field(default=None, min_length=1, max_length=64)
    sold_at: datetime | None = Field(default=None, description="when the sale happened (offline POS, imports)")
    platform_modified_at: datetime | None = None
    status: Status | None = Field(default=None, description="for channel orders: the status the platform reports")
    draft: bool = False
    note: str | None = Field(default=None, max_length=1000)

    @field_validator("sold_at", "platform_modified_at")
    @classmethod
    def aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a time zone (UTC: ...Z)")
        return value


class PayIn(BaseModel):
    payments: list[PaymentIn] = Field(min_length=1, max_length=10)


class ShipIn(BaseModel):
    carrier: str | None = Field(default=None, min_length=1, max_length=40, description="e.g. 顺丰, SF")
    tracking_no: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$",
                                    description="the waybill number")


class CancelIn(BaseModel):
    reason: str | None = Field(default=None, max_length=200)


class RefundLineIn(BaseModel):
    """Units given back (their share of what the line earned), or money back for part of a line without its
    goods (`"quantity": 0, "amount": 500`: refund only, 仅退款), or both with the amount agreed."""

    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(default=0, ge=0, le=10_000_000, description="units (grams for loose tea) given back")
    amount: int | None = Field(default=None, gt=0, le=1_000_000_000,
                               description="fen paid back for this line, instead of the units' share")
    line_no: int | None = Field(default=None, ge=1, description="which line, when the SKU is on several")

    @model_validator(mode="after")
    def units_or_money(self) -> RefundLineIn:
        if self.quantity == 0 and self.amount is None:
            raise ValueError("give the quantity given back, or the amount paid back")
        return self


class RefundIn(BaseModel):
    lines: list[RefundLineIn] = Field(min_length=1, max_length=200)
    reason: str | None = Field(default=None, max_length=200)
    restock: bool = Field(default=True, description="returned goods are resalable and go back into stock")


class AllocationOut(BaseModel):
    sku: str
    batch_code: str
    location: str
    quantity: int
    unit_cost: int
    state: str
    returned_quantity: int


class LineOut(BaseModel):
    line_no: int
    sku: str
    name: str
    unit: str
    quantity: int
    unit_price: int
    price_basis: int
    price_list: str
    amount: int
    discount: int
    net_amount: int
    cost: int
    gross_profit: int
    refunded_quantity: int
    refunded_amount: int
    batches: list[AllocationOut]


class PaymentOut(BaseModel):
    method: str
    amount: int
    points: int | None = None
    tendered: int | None
    reference: str | None
    paid_at: datetime


class RefundLineOut(BaseModel):
    line_no: int
    sku: str
    quantity: int
    amount: int


class RefundOut(BaseModel):
    id: int
    amount: int
    reason: str | None
    restock: bool
    created_at: datetime
    lines: list[RefundLineOut]


class OrderOut(BaseModel):
    id: int
    number: str
    channel: str
    external_id: str | None
    client_id: str | None
    status: str
    location: str
    customer_id: int | None
    price_list: str
    subtotal: int
    discount: int
    coupons: list[str] = []
    coupon_discount: int = 0
    shipping_fee: int
    total: int
    paid_amount: int
    refunded_amount: int
    balance_due: int
    change: int = 0
    on_credit: bool
    needs_review: bool
    review_note: str | None = None
    carrier: str | None = None
    tracking_no: str | None = None
    cost: int
    gross_profit: int
    placed_at: datetime
    paid_at: datetime | None
    shipped_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    platform_modified_at: datetime | None
    note: str | None
    version: int
    lines: list[LineOut]
    payments: list[PaymentOut]
    refunds: list[RefundOut]


class OrderSummaryOut(BaseModel):
    id: int
    number: str
    channel: str
    external_id: str | None
    status: str
    location: str
    customer_id: int | None
    total: int
    paid_amount: int
    refunded_amount: int
    needs_review: bool
    placed_at: datetime


class QuoteOut(OrderOut):
    """What placing the order would answer, with nothing written. `id` and `number` are not kept: no order exists."""

    payments_missing: int = Field(
        description="fen the payments given leave unpaid (0 when they cover the total); a counter sale is "
                    "quoted before it is paid, as if the rest came in cash")
