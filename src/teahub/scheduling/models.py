"""The background runner's bookkeeping: job runs per slot, subscription cursors, poison events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from teahub.db.base import Base, BigId, JsonDoc, UtcDateTime, utcnow

RUN_STATUSES = ("running", "succeeded", "failed")


class JobRun(Base):
    """One run of a scheduled job for one slot. The unique (job, slot) row is the claim: the worker whose
    insert lands runs the job. `attempt` grows when a worker takes over a claim whose lease ran out, and
    fences the finish: only the holder of the current attempt may record the outcome."""

    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    job: Mapped[str] = mapped_column(String(100))
    slot: Mapped[datetime] = mapped_column(UtcDateTime())
    status: Mapped[str] = mapped_column(String(16))
    claimed_by: Mapped[str] = mapped_column(String(100))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    lease_until: Mapped[datetime] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    result: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("job", "slot"),
        CheckConstraint("status in ('running', 'succeeded', 'failed')", name="status"),
    )


class SubscriptionCursor(Base):
    """How far one subscription has read the outbox. Moved in the same transaction as the handler's writes;
    its row lock is what lets one worker at a time process the subscription."""

    __tablename__ = "subscription_cursors"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, default=0)  # the last outbox seq dealt with
    # The event the handler keeps failing on, how often it failed, and when to try again.
    failing_seq: Mapped[int | None] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    retry_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class SubscriptionFailure(Base):
    """An event a subscription's handler gave up on after its attempts ran out; the cursor moved past it.
    Retrying it later resolves it in the same transaction as the handler's writes."""

    __tablename__ = "subscription_failures"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subscription: Mapped[str] = mapped_column(String(100))
    event_seq: Mapped[int] = mapped_column(BigInteger)
    event_id: Mapped[str] = mapped_column(String(36))
    event_type: Mapped[str] = mapped_column(String(64))
    error: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    failed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    retried_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (
        UniqueConstraint("subscription", "event_seq"),
        Index("ix_subscription_failures_open", "subscription", "resolved_at"),
    )
