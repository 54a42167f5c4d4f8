"""Customers, their many identities, B2B terms and contacts, and merges (audited, reversible)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from teahub.customers.pinyin import initials_of
from teahub.db.base import Base, BigId, JsonDoc, UtcDateTime, utcnow
from teahub.db.sealing import INDEX_CHARS, Sealed, SealedDate, blind_index

IDENTITY_KINDS = (
    "phone", "email", "wechat_unionid", "wechat_openid", "taobao", "jd", "pdd", "douyin", "youzan",
)


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    # The pinyin initials of the name (张三丰 → "zsf"), kept with it, for the search box.
    name_initials: Mapped[str | None] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="person")  # person | company
    # Price tier: None (pays list price), "member", "vip".
    tier: Mapped[str | None] = mapped_column(String(16))
    birthday: Mapped[date | None] = mapped_column(SealedDate("customer.birthday"))
    # Kept beside the birthday so that "birthday this month" (segments, the birthday-month greeting) is a plain
    # query: the month alone does not identify anyone, the full date does.
    birth_month: Mapped[int | None] = mapped_column(SmallInteger, index=True)
    address: Mapped[str | None] = mapped_column(Sealed("customer.address"))
    home_store: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    # B2B
    company_name: Mapped[str | None] = mapped_column(String(200))
    credit_limit: Mapped[int | None] = mapped_column(Integer)  # fen; None = no credit
    payment_terms: Mapped[str | None] = mapped_column(String(32))  # e.g. "monthly", "net30"
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | merged
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    identities: Mapped[list[CustomerIdentity]] = relationship(lazy="selectin", order_by="CustomerIdentity.id")
    contacts: Mapped[list[CustomerContact]] = relationship(lazy="selectin", order_by="CustomerContact.id")

    @validates("name")
    def _keep_name_initials(self, _key: str, value: str) -> str:
        self.name_initials = initials_of(value)
        return value

    @validates("birthday")
    def _keep_birth_month(self, _key: str, value: date | None) -> date | None:
        self.birth_month = value.month if value is not None else None
        return value

    __table_args__ = (
        CheckConstraint("kind in ('person', 'company')", name="kind"),
        CheckConstraint("birth_month is null or birth_month between 1 and 12", name="birth_month"),
        CheckConstraint("credit_limit is null or credit_limit >= 0", name="credit_limit"),
    )


class CustomerIdentity(Base):
    """One way to recognise a customer. Unique across all customers: an identity belongs to one person.

    The value is sealed at rest; `value_hash` (a keyed hash of kind and value) is what makes it unique and
    findable, and `last4_hash` does the same for the last four digits of a phone (the counter's lookup)."""

    __tablename__ = "customer_identities"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(Sealed("customer.identity"))
    value_hash: Mapped[str] = mapped_column(String(INDEX_CHARS))
    last4_hash: Mapped[str | None] = mapped_column(String(INDEX_CHARS), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("kind", "value_hash"),)

    @validates("kind", "value")
    def _keep_hashes(self, key: str, given: str) -> str:
        kind, value = (given, self.value) if key == "kind" else (self.kind, given)
        if kind is not None and value is not None:
            self.value_hash = identity_hash(kind, value)
            self.last4_hash = last4_hash(value[-4:]) if kind == "phone" else None
        return given


def identity_hash(kind: str, value: str) -> str:
    return blind_index("identity", f"{kind}:{value}")


def last4_hash(digits: str) -> str:
    return blind_index("phone.last4", digits)


class CustomerContact(Base):
    __tablename__ = "customer_contacts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(Sealed("contact.phone"))
    email: Mapped[str | None] = mapped_column(Sealed("contact.email"))


class CustomerMerge(Base):
    """What a merge moved, so an admin can reverse it exactly."""

    __tablename__ = "customer_merges"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    merged_at: Mapped[datetime] = mapped_column(UtcDateTime())
    merged_by: Mapped[str] = mapped_column(String(64))
    moved: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    reversed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    reversed_by: Mapped[str | None] = mapped_column(String(64))


class Consent(Base):
    """Append-only record of what a customer agreed to (or withdrew), for which purpose, when and where:
    the latest row per purpose is in force (PIPL)."""

    __tablename__ = "customer_consents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))  # marketing_sms, marketing_wechat, profiling, ...
    granted: Mapped[bool] = mapped_column()
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    source: Mapped[str] = mapped_column(String(64))  # pos:BJ01, web, wechat-miniprogram, paper form ...
    recorded_by: Mapped[str] = mapped_column(String(64))
