"""Care rules' and outgoing customer messages' tables.

`customer_messages` is the queue the integration hub delivers from (SMS, WeChat template messages); it holds no
personal data beyond the customer id: the delivery side looks the phone or openid up when it sends.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from teahub.db.base import Base, BigId, JsonDoc, UtcDateTime


class CustomerMessage(Base):
    """One message to one customer, queued at most once per cause (its dedupe key)."""

    __tablename__ = "customer_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    channel: Mapped[str] = mapped_column(String(16))  # sms | wechat
    template: Mapped[str] = mapped_column(String(64))  # template code, mapped to the platform's by delivery
    params: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    source: Mapped[str] = mapped_column(String(64))  # care:thank_you, campaign:12 ...
    # The cause: thank_you:order:123, birthday:2026:42, campaign:12:42 ... unique, so never queued twice.
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued | sent | failed
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (
        CheckConstraint("channel in ('sms', 'wechat')", name="channel"),
        CheckConstraint("status in ('queued', 'sent', 'failed')", name="status"),
        # The frequency cap counts a customer's messages of the last days; also the per-customer list.
        Index("ix_customer_messages_customer_created", "customer_id", "created_at"),
        # Delivery reads the queued ones in order; campaigns count theirs by source.
        Index("ix_customer_messages_status_id", "status", "id"),
        Index("ix_customer_messages_source_id", "source", "id"),
    )


class CustomerMessageTally(Base):
    """One row per customer who was ever queued a message: the row queueing locks, so that two transactions
    never both count the same customer under the cap (a row lock: no advisory lock per customer piling up in a
    campaign's long transaction, and no lock on the customer's own row)."""

    __tablename__ = "customer_message_tallies"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    queued: Mapped[int] = mapped_column(Integer, default=0)  # messages ever queued
    last_queued_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class CareRule(Base):
    """The retailer's settings of one care rule; a rule without a row runs with its defaults (rules.py)."""

    __tablename__ = "care_rules"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    channel: Mapped[str] = mapped_column(String(16))
    template: Mapped[str] = mapped_column(String(64))
    # win_back: days without a purchase; repurchase_due: days of look-ahead; null for the others.
    days: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        CheckConstraint("name in ('thank_you', 'birthday', 'repurchase_due', 'win_back', 'csat_survey')",
                        name="name"),
        CheckConstraint("channel in ('sms', 'wechat')", name="channel"),
        CheckConstraint("days is null or days >= 0", name="days"),
    )


class CarePolicy(Base):
    """The per-customer frequency cap (one row, id 1; without it the default of rules.py holds)."""

    __tablename__ = "care_policy"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    max_messages: Mapped[int] = mapped_column(Integer)
    window_days: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        CheckConstraint("id = 1", name="one_row"),
        CheckConstraint("max_messages >= 0", name="max_messages"),
        CheckConstraint("window_days >= 1", name="window_days"),
    )
