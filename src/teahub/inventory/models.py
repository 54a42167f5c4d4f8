"""Locations, batches, the append-only stock ledger and the stock levels derived from it."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from teahub.db.base import Base, BigId, UtcDateTime, utcnow

LOCATION_KINDS = ("warehouse", "store", "transit")
LEDGER_KINDS = ("receipt", "sale", "return", "transfer_out", "transfer_in", "count_adjustment", "scrap")


class Location(Base):
    __tablename__ = "locations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    address: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    __table_args__ = (CheckConstraint("kind in ('warehouse', 'store', 'transit')", name="kind"),)


class Batch(Base):
    """One received quantity of one SKU: traceable to its supplier and to every unit sold from it."""

    __tablename__ = "batches"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    supplier: Mapped[str | None] = mapped_column(String(100))
    produced_on: Mapped[date | None] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    unit_cost: Mapped[int] = mapped_column(Integer)  # fen per base unit (gram or piece)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("product_id", "code"),
        CheckConstraint("unit_cost >= 0", name="unit_cost"),
    )


class StockLevel(Base):
    """On hand and reserved per SKU x location x batch. Maintained only by the inventory service, in the
    same transaction as the ledger rows it derives from; the CHECK constraints make overselling
    impossible at the database level whatever the application does."""

    __tablename__ = "stock_levels"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)

    batch: Mapped[Batch] = relationship(lazy="joined")

    __table_args__ = (
        UniqueConstraint("product_id", "location_id", "batch_id"),
        Index("ix_stock_levels_location_product", "location_id", "product_id"),
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
    )


class StockLedgerEntry(Base):
    """Append-only: every movement of stock, signed (+ in, - out)."""

    __tablename__ = "stock_ledger"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    kind: Mapped[str] = mapped_column(String(20))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_cost: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str | None] = mapped_column(String(64), index=True)  # e.g. "order:42"
    actor: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        Index("ix_stock_ledger_product_location", "product_id", "location_id"),
        CheckConstraint(
            "kind in ('receipt', 'sale', 'return', 'transfer_out', 'transfer_in', 'count_adjustment', "
            "'scrap')",
            name="kind",
        ),
        CheckConstraint("quantity <> 0", name="quantity_not_zero"),
    )


class StockThreshold(Base):
    __tablename__ = "stock_thresholds"

    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), primary_key=True)
    minimum: Mapped[int] = mapped_column(Integer)

    __table_args__ = (CheckConstraint("minimum >= 0", name="minimum"),)


class Transfer(Base):
    __tablename__ = "stock_transfers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    from_location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    to_location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(200))

    lines: Mapped[list[TransferLine]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class TransferLine(Base):
    __tablename__ = "stock_transfer_lines"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    transfer_id: Mapped[int] = mapped_column(ForeignKey("stock_transfers.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    quantity: Mapped[int] = mapped_column(Integer)


class StockCount(Base):
    __tablename__ = "stock_counts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    counted_at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(200))

    lines: Mapped[list[StockCountLine]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class StockCountLine(Base):
    __tablename__ = "stock_count_lines"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    count_id: Mapped[int] = mapped_column(ForeignKey("stock_counts.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    expected: Mapped[int] = mapped_column(Integer)
    counted: Mapped[int] = mapped_column(Integer)
    difference: Mapped[int] = mapped_column(Integer)

