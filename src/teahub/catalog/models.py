"""Products with their tea attributes, the category tree, prices in fen, and gift box compositions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from teahub.db.base import Base, BigId, JsonDoc, UtcDateTime, utcnow


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str | None] = mapped_column(String(64))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    # Aging teas (white, pu-erh, dark) are sold first-in-first-out and carry no expiry;
    # None means "as the parent category".
    ages: Mapped[bool | None] = mapped_column(Boolean)


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    unit: Mapped[str] = mapped_column(String(8))  # "g" or "piece"
    price_basis: Mapped[int] = mapped_column(Integer, default=1)  # 1, or 500 (斤) / 50 (两) for loose tea
    list_price: Mapped[int] = mapped_column(Integer)
    member_price: Mapped[int | None] = mapped_column(Integer)
    vip_price: Mapped[int | None] = mapped_column(Integer)
    special_price: Mapped[int | None] = mapped_column(Integer)
    special_from: Mapped[datetime | None] = mapped_column(UtcDateTime())
    special_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Tea attributes (empty for teaware and other goods).
    origin: Mapped[str | None] = mapped_column(String(100))
    cultivar: Mapped[str | None] = mapped_column(String(64))
    grade: Mapped[str | None] = mapped_column(String(32))
    harvest_year: Mapped[int | None] = mapped_column(Integer)
    season: Mapped[str | None] = mapped_column(String(16))
    form: Mapped[str | None] = mapped_column(String(32))
    processing: Mapped[str | None] = mapped_column(Text)
    taste_notes: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    brewing: Mapped[dict[str, Any] | None] = mapped_column(JsonDoc)
    storage: Mapped[str | None] = mapped_column(Text)
    shelf_life_days: Mapped[int | None] = mapped_column(Integer)
    is_gift_box: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    category: Mapped[Category] = relationship(lazy="joined")
    components: Mapped[list[GiftBoxComponent]] = relationship(
        foreign_keys="GiftBoxComponent.box_id", cascade="all, delete-orphan", lazy="selectin"
    )

    __table_args__ = (
        CheckConstraint("unit in ('g', 'piece')", name="unit"),
        CheckConstraint("price_basis > 0", name="price_basis"),
        CheckConstraint("list_price >= 0", name="list_price"),
    )


class GiftBoxComponent(Base):
    __tablename__ = "gift_box_components"

    box_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), primary_key=True)
    component_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)

    component: Mapped[Product] = relationship(foreign_keys=[component_id], lazy="joined")

    __table_args__ = (CheckConstraint("quantity > 0", name="quantity"),)
