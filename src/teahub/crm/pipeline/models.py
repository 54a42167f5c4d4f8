"""The B2B pipeline's tables: leads, opportunities (with their stage history), activities, tasks and quotes
(each negotiation round a version of its own, with its lines).

Money is int fen (32-bit columns, as orders); quantities are base units (grams or pieces).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from teahub.db.base import Base, BigId, UtcDateTime, utcnow
from teahub.db.sealing import INDEX_CHARS, Sealed, blind_index

LEAD_SOURCES = ("referral", "exhibition", "wechat", "website", "phone", "other")
LEAD_STATUSES = ("new", "contacted", "qualified", "disqualified", "converted")
STAGES = ("prospecting", "qualification", "proposal", "negotiation", "won", "lost")
ACTIVITY_KINDS = ("call", "visit", "wechat", "tasting", "note")
QUOTE_STATUSES = ("draft", "sent", "accepted", "rejected", "expired")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} in ({', '.join(repr(v) for v in values)})"


class Opportunity(Base):
    """A deal being worked on with a customer, moving through the stages of the pipeline board."""

    __tablename__ = "crm_opportunities"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    stage: Mapped[str] = mapped_column(String(16))
    expected_value: Mapped[int] = mapped_column(Integer, default=0)  # fen
    probability: Mapped[int] = mapped_column(Integer)  # percent, 0..100
    expected_close_on: Mapped[date | None] = mapped_column(Date)
    owner: Mapped[str] = mapped_column(String(64), index=True)
    lost_reason: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    stage_changes: Mapped[list[OpportunityStageChange]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="OpportunityStageChange.id")

    __table_args__ = (
        Index("ix_crm_opportunities_stage", "stage"),
        CheckConstraint(_in("stage", STAGES), name="stage"),
        CheckConstraint("probability >= 0 and probability <= 100", name="probability"),
        CheckConstraint("expected_value >= 0", name="expected_value"),
    )


class OpportunityStageChange(Base):
    """Append-only: every stage an opportunity entered (its first one too), when and by whom."""

    __tablename__ = "crm_opportunity_stage_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("crm_opportunities.id", ondelete="CASCADE"), index=True)
    from_stage: Mapped[str | None] = mapped_column(String(16))
    to_stage: Mapped[str] = mapped_column(String(16))
    probability: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    changed_by: Mapped[str] = mapped_column(String(64))


def lead_contact_hash(kind: str, value: str | None) -> str | None:
    return None if value is None else blind_index("lead", f"{kind}:{value}")


class Lead(Base):
    """Someone who may buy (a company's gift buyer met at a fair, a referral): new → contacted → qualified |
    disqualified; a qualified lead is converted into a customer and an opportunity."""

    __tablename__ = "crm_leads"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    company: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(64))  # the contact's job title
    # Sealed at rest like a customer's (personal data); found through their keyed hashes.
    phone: Mapped[str | None] = mapped_column(Sealed("lead.phone"))  # E.164
    email: Mapped[str | None] = mapped_column(Sealed("lead.email"))
    phone_hash: Mapped[str | None] = mapped_column(String(INDEX_CHARS), index=True)
    email_hash: Mapped[str | None] = mapped_column(String(INDEX_CHARS), index=True)
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str] = mapped_column(String(64), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    disqualified_reason: Mapped[str | None] = mapped_column(String(200))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("crm_opportunities.id"), unique=True)
    converted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    @validates("phone", "email")
    def _keep_hash(self, key: str, value: str | None) -> str | None:
        setattr(self, f"{key}_hash", lead_contact_hash(key, value))
        return value

    __table_args__ = (
        Index("ix_crm_leads_status", "status"),
        CheckConstraint(_in("status", LEAD_STATUSES), name="status"),
        CheckConstraint(_in("source", LEAD_SOURCES), name="source"),
    )


class Activity(Base):
    """A call, visit, WeChat exchange, tasting or note about exactly one customer, lead or opportunity."""

    __tablename__ = "crm_activities"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("crm_leads.id"))
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("crm_opportunities.id"))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())
    by: Mapped[str] = mapped_column(String(64))  # username of who did it
    summary: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))  # actor who logged it

    __table_args__ = (
        Index("ix_crm_activities_customer", "customer_id", "occurred_at"),
        Index("ix_crm_activities_lead", "lead_id", "occurred_at"),
        Index("ix_crm_activities_opportunity", "opportunity_id", "occurred_at"),
        CheckConstraint(_in("kind", ACTIVITY_KINDS), name="kind"),
        CheckConstraint("(case when customer_id is null then 0 else 1 end) + (case when lead_id is null then 0 else 1"
                        " end) + (case when opportunity_id is null then 0 else 1 end) = 1", name="one_subject"),
    )


class CrmTask(Base):
    """Something to do by a due time, assigned to a user, optionally about a customer, lead or opportunity."""

    __tablename__ = "crm_tasks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    assignee: Mapped[str] = mapped_column(String(64))
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("crm_leads.id"))
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("crm_opportunities.id"))
    created_by: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    __table_args__ = (Index("ix_crm_tasks_assignee_open", "assignee", "done", "due_at"),)


class Quote(Base):
    """A price offer to a customer, negotiated in rounds (versions). Accepting the current version places the
    sales order, whose id is kept here (unique: one quote, one order)."""

    __tablename__ = "crm_quotes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    opportunity_id: Mapped[int | None] = mapped_column(ForeignKey("crm_opportunities.id"), index=True)
    location: Mapped[str | None] = mapped_column(String(32))  # ships from here; None: the default warehouse
    owner: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    current_version: Mapped[int] = mapped_column(Integer)  # the negotiation round now on the table
    valid_until: Mapped[date] = mapped_column(Date)  # of the current version
    total: Mapped[int] = mapped_column(Integer)  # of the current version, fen
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), unique=True)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    accepted_by: Mapped[str | None] = mapped_column(String(64))
    credit_approved_by: Mapped[str | None] = mapped_column(String(64))
    rejected_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    reject_reason: Mapped[str | None] = mapped_column(String(200))
    expired_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)  # of the aggregate (events), not the round
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    __table_args__ = (
        Index("ix_crm_quotes_status_valid_until", "status", "valid_until"),
        CheckConstraint(_in("status", QUOTE_STATUSES), name="status"),
    )


class QuoteVersion(Base):
    """One negotiation round of a quote. Never changed once written: a new round is a new version."""

    __tablename__ = "crm_quote_versions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("crm_quotes.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    valid_until: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    subtotal: Mapped[int] = mapped_column(Integer)
    discount: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))

    lines: Mapped[list[QuoteLine]] = relationship(cascade="all, delete-orphan", lazy="selectin",
                                                  order_by="QuoteLine.line_no")

    __table_args__ = (UniqueConstraint("quote_id", "number"),)


class QuoteLine(Base):
    __tablename__ = "crm_quote_lines"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    quote_version_id: Mapped[int] = mapped_column(ForeignKey("crm_quote_versions.id", ondelete="CASCADE"),
                                                  index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[int] = mapped_column(Integer)  # base units
    unit_price: Mapped[int] = mapped_column(Integer)  # agreed fen per price_basis units
    price_basis: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(Integer)
    discount: Mapped[int] = mapped_column(Integer, default=0)
    net_amount: Mapped[int] = mapped_column(Integer)

    __table_args__ = (CheckConstraint("quantity > 0", name="quantity"),)
