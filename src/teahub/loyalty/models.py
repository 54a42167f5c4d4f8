"""Member tiers, the points programme, and the points ledger (every change a row keyed to its document)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from teahub.db.base import Base, BigId, UtcDateTime


class Tier(Base):
    """A member tier: reached by rolling 12-month spend; sets the price list and the points multiplier."""

    __tablename__ = "loyalty_tiers"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(32))
    name_en: Mapped[str | None] = mapped_column(String(32))
    rank: Mapped[int] = mapped_column(Integer, unique=True)
    threshold: Mapped[int] = mapped_column(Integer)  # fen spent over the last 12 months
    price_list: Mapped[str] = mapped_column(String(16))  # list | member | vip
    multiplier_permille: Mapped[int] = mapped_column(Integer)  # 1000 = one point per yuan
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (
        CheckConstraint("threshold >= 0", name="threshold"),
        CheckConstraint("price_list in ('list', 'member', 'vip')", name="price_list"),
        CheckConstraint("multiplier_permille >= 0", name="multiplier"),
    )


class Programme(Base):
    """How points are earned and what they are worth (one row)."""

    __tablename__ = "loyalty_programme"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    points_per_yuan: Mapped[int] = mapped_column(Integer)  # at multiplier 1000
    point_value_fen: Mapped[int] = mapped_column(Integer)  # 1: 100 points are worth 1 yuan
    expiry_days: Mapped[int] = mapped_column(Integer)


class PointsAccount(Base):
    """A member's balance, kept equal to the sum of their ledger in the same transaction; its row is what
    concurrent spends lock."""

    __tablename__ = "points_accounts"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    balance: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=0)


class PointsEntry(Base):
    """Append-only. `document` names what caused the entry; (kind, document) is unique, so the same order
    paid twice or synced twice earns once."""

    __tablename__ = "points_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(16))  # earn | spend | return | reverse | expire | adjust
    points: Mapped[int] = mapped_column(Integer)  # signed
    document: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[int | None] = mapped_column(BigId)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # earn entries
    note: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        UniqueConstraint("kind", "document"),
        Index("ix_points_entries_customer", "customer_id", "id"),
        Index("ix_points_entries_order", "order_id"),
        CheckConstraint("kind in ('earn', 'spend', 'return', 'reverse', 'expire', 'adjust')", name="kind"),
        CheckConstraint("points <> 0", name="points_not_zero"),
    )
