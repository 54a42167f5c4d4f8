"""Coupons: a definition (fixed, percent or threshold discount, scope, limits, validity), the coupons granted
to customers, and every redemption (which a cancelled order gives back)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from teahub.db.base import Base, BigId, JsonDoc, UtcDateTime


class Coupon(Base):
    __tablename__ = "coupons"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # redeemable by this code when public
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))  # fixed | percent | threshold
    value: Mapped[int] = mapped_column(Integer, default=0)  # fen off (fixed, threshold)
    percent_off: Mapped[int] = mapped_column(Integer, default=0)  # 1..100 (percent)
    threshold: Mapped[int] = mapped_column(Integer, default=0)  # fen the eligible lines must reach
    max_discount: Mapped[int | None] = mapped_column(Integer)  # cap for percent coupons
    valid_from: Mapped[datetime | None] = mapped_column(UtcDateTime())
    valid_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    channels: Mapped[list[str]] = mapped_column(JsonDoc, default=list)  # empty: every channel
    skus: Mapped[list[str]] = mapped_column(JsonDoc, default=list)  # empty: every product ...
    categories: Mapped[list[str]] = mapped_column(JsonDoc, default=list)  # ... unless categories are named
    per_customer_limit: Mapped[int | None] = mapped_column(Integer)
    total_limit: Mapped[int | None] = mapped_column(Integer)
    redeemed: Mapped[int] = mapped_column(Integer, default=0)
    stackable: Mapped[bool] = mapped_column(Boolean, default=False)
    public: Mapped[bool] = mapped_column(Boolean, default=False)  # anyone may redeem the code
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (
        CheckConstraint("kind in ('fixed', 'percent', 'threshold')", name="kind"),
        CheckConstraint("total_limit is null or redeemed <= total_limit", name="within_total_limit"),
        CheckConstraint("redeemed >= 0", name="redeemed"),
    )


class CouponGrant(Base):
    """A coupon given to one customer, with its own code; redeemed once."""

    __tablename__ = "coupon_grants"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupons.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(16))  # issued | redeemed | void
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime())
    order_id: Mapped[int | None] = mapped_column(BigId)
    # Who gave it, e.g. campaign:12 (indexed: a campaign's results look its grants up by it).
    source: Mapped[str | None] = mapped_column(String(64), index=True)


class CouponRedemption(Base):
    __tablename__ = "coupon_redemptions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupons.id"))
    grant_id: Mapped[int | None] = mapped_column(ForeignKey("coupon_grants.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    order_id: Mapped[int] = mapped_column(BigId)
    discount: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    returned_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (
        Index("ix_coupon_redemptions_order", "order_id"),
        Index("ix_coupon_redemptions_coupon_customer", "coupon_id", "customer_id"),
    )
