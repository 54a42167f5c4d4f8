"""Segments and campaigns' tables: segments defined by rules, campaigns that give a segment a coupon or send it
a message, and each campaign's recipients (the segment's members when it was launched) with their outcome."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from teahub.crm.campaigns.rules import KINDS, OUTCOMES, STATUSES
from teahub.db.base import Base, BigId, JsonDoc, UtcDateTime, utcnow


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} in ({', '.join(repr(v) for v in values)})"


class Segment(Base):
    """Customers defined by rules (see `rules.SegmentRules`): evaluated whenever read, never stored."""

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    rules: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)


class Campaign(Base):
    """A coupon (granted through loyalty) or a message (queued through care) for a segment's members."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    coupon_code: Mapped[str | None] = mapped_column(String(32))  # kind coupon: a loyalty coupon's code
    channel: Mapped[str | None] = mapped_column(String(16))  # kind message
    template: Mapped[str | None] = mapped_column(String(64))  # kind message
    params: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)  # kind message: template values
    status: Mapped[str] = mapped_column(String(16), default="draft")
    attribution_days: Mapped[int] = mapped_column(Integer, default=14)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    launched_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    launched_by: Mapped[str | None] = mapped_column(String(64))
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # every recipient has its outcome
    version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (
        Index("ix_campaigns_status", "status"),
        CheckConstraint(_one_of("kind", KINDS), name="kind"),
        CheckConstraint(_one_of("status", STATUSES), name="status"),
        CheckConstraint("kind <> 'coupon' or coupon_code is not null", name="coupon_has_code"),
        CheckConstraint("kind <> 'message' or (channel is not null and template is not null)",
                        name="message_has_template"),
        CheckConstraint("attribution_days between 1 and 365", name="attribution_days"),
    )


class CampaignRecipient(Base):
    """One member of the segment when the campaign was launched. `outcome` is null until the coupon was
    granted or the message queued (or refused, and why); the unique (campaign, customer) pair and the outcome
    written in the grant's own transaction make a launch safe to repeat or resume."""

    __tablename__ = "campaign_recipients"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    outcome: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(200))
    reference: Mapped[str | None] = mapped_column(String(64))  # the coupon grant's code, the message's id
    at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # when the outcome was recorded

    __table_args__ = (
        UniqueConstraint("campaign_id", "customer_id"),
        Index("ix_campaign_recipients_campaign_outcome", "campaign_id", "outcome"),
        CheckConstraint(f"outcome is null or {_one_of('outcome', OUTCOMES)}", name="outcome"),
    )
