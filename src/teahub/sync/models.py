"""Outbound sync: targets (connector subscriptions), their cursors, the retry queue, per-record state and dead
letters. The relay to RabbitMQ keeps its cursor here too (row `relay` of sync_cursors)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from teahub.db.base import Base, BigId, JsonDoc, UtcDateTime, utcnow
from teahub.db.sealing import Sealed

SECRET_PURPOSE = "sync.target.secret"


class SyncTarget(Base):
    """An outbound connector subscription: where events go (kind + url + secret) and which event types."""

    __tablename__ = "sync_targets"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    kind: Mapped[str] = mapped_column(String(32))  # webhook (odoo, kingdee, yonyou later)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str | None] = mapped_column(Sealed(SECRET_PURPOSE))
    event_types: Mapped[list[str]] = mapped_column(JsonDoc)  # exact types, "prefix.*" or "*"
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    max_attempts: Mapped[int] = mapped_column(Integer, default=8)
    timeout_seconds: Mapped[int] = mapped_column(Integer, default=10)
    # Connector-specific settings (an ERP's company/database, a mapping name); empty for webhooks.
    options: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    # The binding keys its RabbitMQ queue is bound with (None: never bound, or no broker).
    bound_keys: Mapped[list[str] | None] = mapped_column(JsonDoc)
    # The newest outbox seq when they were bound: events up to it came from the outbox, not the queue.
    bound_seq: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class SyncCursor(Base):
    """One reader of the outbox: the relay (`relay`) or a target (`target:<id>`). The lease makes one worker at
    a time run it; moves of `position` are fenced by `leased_by`."""

    __tablename__ = "sync_cursors"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, default=0)  # last outbox seq dealt with
    leased_by: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The whole target failing (receiver or broker away): no attempt before this.
    paused_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    delivered: Mapped[int] = mapped_column(BigInteger, default=0)  # events delivered (published) in all
    failed: Mapped[int] = mapped_column(BigInteger, default=0)  # failed attempts in all
    last_success_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_event_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # occurred_at of the last one sent
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class SyncPending(Base):
    """An event a target still owes: failed and waiting for its retry, or held behind an earlier event of the
    same record (per-record order), or queued again by a dead-letter replay."""

    __tablename__ = "sync_pending"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("sync_targets.id", ondelete="CASCADE"))
    event_seq: Mapped[int] = mapped_column(BigInteger)
    event_id: Mapped[str] = mapped_column(String(36))
    event_type: Mapped[str] = mapped_column(String(64))
    record_key: Mapped[str] = mapped_column(String(100))  # aggregate_type:aggregate_id
    envelope: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    dead_letter_id: Mapped[int | None] = mapped_column(BigInteger)  # set when a replay queued it
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("target_id", "event_seq"),
        Index("ix_sync_pending_record", "target_id", "record_key", "event_seq"),
        Index("ix_sync_pending_due", "target_id", "next_attempt_at"),
    )


class SyncRecord(Base):
    """Sync state of one record (aggregate) at one target: the last event dealt with (delivered or given up
    on), the last success, failures. Also what dedupes redelivered broker messages."""

    __tablename__ = "sync_records"

    target_id: Mapped[int] = mapped_column(ForeignKey("sync_targets.id", ondelete="CASCADE"), primary_key=True)
    record_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_event_id: Mapped[str | None] = mapped_column(String(36))
    last_success_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class SyncDeadLetter(Base):
    """An event a target gave up on (attempts ran out, or the receiver refused it for good), with the error.
    A replay queues it again; a successful delivery resolves it."""

    __tablename__ = "sync_dead_letters"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("sync_targets.id", ondelete="CASCADE"))
    event_seq: Mapped[int] = mapped_column(BigInteger)
    event_id: Mapped[str] = mapped_column(String(36))
    event_type: Mapped[str] = mapped_column(String(64))
    record_key: Mapped[str] = mapped_column(String(100))
    envelope: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    error: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    failed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    replays: Mapped[int] = mapped_column(Integer, default=0)
    replayed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (
        UniqueConstraint("target_id", "event_seq"),
        Index("ix_sync_dead_letters_open", "target_id", "resolved_at"),
    )
