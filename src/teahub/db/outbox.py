"""The outbox: every state change's event, written in the same transaction as the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from teahub.db.base import Base, BigId, JsonDoc, UtcDateTime


class OutboxEvent(Base):
    __tablename__ = "outbox_events"

    # The reading cursor: increasing in insertion order.
    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)  # UUIDv7
    type: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())
    aggregate_type: Mapped[str] = mapped_column(String(32))
    aggregate_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDoc)

    __table_args__ = (Index("ix_outbox_events_aggregate", "aggregate_type", "aggregate_id", "version",
                            unique=True),)

    def envelope(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "seq": self.seq,
            "type": self.type,
            "occurred_at": self.occurred_at.isoformat(),
            "aggregate_type": self.aggregate_type,
            "aggregate_id": self.aggregate_id,
            "version": self.version,
            "payload": self.payload,
        }


class AggregateVersion(Base):
    """Version counters for aggregates that have no row of their own (e.g. a SKU at a location)."""

    __tablename__ = "aggregate_versions"

    aggregate_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    aggregate_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
