"""Analytics' own tables: snapshots of figures too costly to compute on every read, rebuilt by its jobs.

Analytics reads the other capabilities' tables and never writes them; it writes only these, which hold
nothing that cannot be computed again from the orders (drop them and the next run of the job refills them).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Double, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from teahub.db.base import Base, UtcDateTime


class Snapshot(Base):
    """When a snapshot was last computed, and from which orders: one row per snapshot (`repurchase_due`)."""

    __tablename__ = "analytics_snapshots"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime())  # the moment the figures are as of
    last_order_id: Mapped[int] = mapped_column(BigInteger)  # orders up to this id were counted
    row_count: Mapped[int] = mapped_column(Integer)  # rows the snapshot holds


class RepurchaseDueRow(Base):
    """Each customer x tea's due day as of the snapshot (see analytics.repurchase). Days are days since
    1970-01-01 UTC, as doubles, exactly as the live computation has them. No foreign keys: the rows are
    replaced every night, and must not stand in the way of a customer's erasure or merge."""

    __tablename__ = "analytics_repurchase_due"

    customer_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    product_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    last_day: Mapped[float] = mapped_column(Double)  # the last purchase (same-day purchases merged)
    grams: Mapped[int] = mapped_column(Integer)  # grams of that purchase
    purchases: Mapped[int] = mapped_column(Integer)
    grams_per_day: Mapped[float] = mapped_column(Double)
    basis: Mapped[str] = mapped_column(String(16))  # tea, category or default
    due_day: Mapped[float] = mapped_column(Double)

    __table_args__ = (Index("ix_analytics_repurchase_due_due_day", "due_day", "customer_id"),)
