"""Orders of every channel, their lines (with the batches and cost behind each), payments and refunds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from teahub.db.base import Base, BigId, JsonDoc, UtcDateTime, utcnow

CHANNELS = ("pos", "web", "tmall", "taobao", "jd", "pdd", "douyin", "youzan", "b2b")
STATUSES = ("draft", "confirmed", "paid", "allocated", "shipped", "completed", "cancelled")
PAYMENT_METHODS = ("cash", "wechat", "alipay", "card", "bank_transfer", "platform", "points")


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str | None] = mapped_column(String(64))
    client_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    price_list: Mapped[str] = mapped_column(String(16), default="list")
    subtotal: Mapped[int] = mapped_column(Integer)  # sum of line amounts before discounts
    discount: Mapped[int] = mapped_column(Integer, default=0)  # all discounts, lines and order
    coupon_codes: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    coupon_discount: Mapped[int] = mapped_column(Integer, default=0)  # the part of `discount` from coupons
    shipping_fee: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer)  # fen the buyer pays
    paid_amount: Mapped[int] = mapped_column(Integer, default=0)
    refunded_amount: Mapped[int] = mapped_column(Integer, default=0)
    on_credit: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    review_note: Mapped[str | None] = mapped_column(Text)  # why it needs a person's review
    note: Mapped[str | None] = mapped_column(Text)
    placed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    platform_modified_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    shipped_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Who carries a shipped order and its waybill number (顺丰 SF1234…), for the buyer and the platform.
    carrier: Mapped[str | None] = mapped_column(String(40))
    tracking_no: Mapped[str | None] = mapped_column(String(64))
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    lines: Mapped[list[OrderLine]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="OrderLine.line_no"
    )
    payments: Mapped[list[Payment]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="Payment.id"
    )
    refunds: Mapped[list[Refund]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="Refund.id"
    )

    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        Index("ix_orders_placed_at", "placed_at"),
        Index("ix_orders_status", "status"),
        CheckConstraint("total >= 0", name="total"),
        CheckConstraint("refunded_amount <= paid_amount", name="refund_within_paid"),
    )


class OrderLine(Base):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[int] = mapped_column(Integer)  # base units: grams or pieces
    unit_price: Mapped[int] = mapped_column(Integer)  # fen per price_basis units
    price_basis: Mapped[int] = mapped_column(Integer)
    price_list: Mapped[str] = mapped_column(String(16))  # list | member | vip | special | agreed
    amount: Mapped[int] = mapped_column(Integer)  # quantity x price / basis, half-up
    discount: Mapped[int] = mapped_column(Integer, default=0)  # line discount + share of order discount
    net_amount: Mapped[int] = mapped_column(Integer)  # amount - discount: what this line earns
    cost: Mapped[int] = mapped_column(Integer, default=0)  # cost of the batches allocated
    refunded_quantity: Mapped[int] = mapped_column(Integer, default=0)
    refunded_amount: Mapped[int] = mapped_column(Integer, default=0)
    returned_cost: Mapped[int] = mapped_column(Integer, default=0)  # cost of units put back in stock
    external_line_id: Mapped[str | None] = mapped_column(String(64))

    allocations: Mapped[list[LineAllocation]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="LineAllocation.id"
    )

    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("refunded_quantity >= 0 and refunded_quantity <= quantity", name="refunded_quantity"),
    )


class LineAllocation(Base):
    """Which batch (at which location) a line's units come from, at that batch's unit cost. A gift box
    line has one allocation per component batch."""

    __tablename__ = "line_allocations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    sku: Mapped[str] = mapped_column(String(64))  # the component's SKU for a gift box line
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    batch_code: Mapped[str] = mapped_column(String(64))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_cost: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))  # reserved | shipped | released
    returned_quantity: Mapped[int] = mapped_column(Integer, default=0)


class Payment(Base):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    method: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(Integer)  # positive: taken; negative: paid back on refund
    points: Mapped[int | None] = mapped_column(Integer)  # points given (or given back) when method is points
    tendered: Mapped[int | None] = mapped_column(Integer)  # cash handed over, when change was given
    reference: Mapped[str | None] = mapped_column(String(64))
    paid_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Refund(Base):
    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str | None] = mapped_column(String(200))
    amount: Mapped[int] = mapped_column(Integer)
    restock: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(64))

    lines: Mapped[list[RefundLine]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class RefundLine(Base):
    __tablename__ = "refund_lines"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    refund_id: Mapped[int] = mapped_column(ForeignKey("refunds.id", ondelete="CASCADE"), index=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(Integer)
    returned_cost: Mapped[int] = mapped_column(Integer, default=0)


class IdempotencyRecord(Base):
    """The first answer to a request made with an Idempotency-Key; the key is unique per caller."""

    __tablename__ = "idempotency_records"

    caller: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
