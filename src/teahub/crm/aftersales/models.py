"""After-sales tickets (complaints, quality, delivery, refund requests, enquiries), their internal notes and the
customer's satisfaction score."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from teahub.db.base import Base, BigId, UtcDateTime, utcnow

KINDS = ("complaint", "quality", "delivery", "refund_request", "enquiry")
PRIORITIES = ("low", "normal", "high", "urgent")
STATUSES = ("open", "in_progress", "waiting_customer", "resolved", "closed")
CHANNELS = ("store", "phone", "wechat", "email", "web", "tmall", "taobao", "jd", "pdd", "douyin", "b2b")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} in ({', '.join(repr(v) for v in values)})"


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    sku: Mapped[str | None] = mapped_column(String(64))
    batch_code: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(20))
    assignee: Mapped[str | None] = mapped_column(String(64), index=True)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())  # the SLA: resolved by then
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    csat_score: Mapped[int | None] = mapped_column(Integer)
    csat_comment: Mapped[str | None] = mapped_column(Text)
    csat_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    opened_by: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    notes: Mapped[list[TicketNote]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="TicketNote.id"
    )

    __table_args__ = (
        Index("ix_tickets_sku_batch_code", "sku", "batch_code"),
        Index("ix_tickets_status_due_at", "status", "due_at"),
        CheckConstraint(_one_of("kind", KINDS), name="kind"),
        CheckConstraint(_one_of("priority", PRIORITIES), name="priority"),
        CheckConstraint(_one_of("status", STATUSES), name="status"),
        CheckConstraint("csat_score is null or (csat_score between 1 and 5)", name="csat_score"),
        CheckConstraint("batch_code is null or sku is not null", name="batch_has_sku"),
    )


class TicketNote(Base):
    """An internal note on a ticket: append-only (never changed or deleted)."""

    __tablename__ = "ticket_notes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
