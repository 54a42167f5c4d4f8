"""Shops, their SKU mappings, the inbox of raw inbound messages, what teahub knows of each platform order and
refund, and pull checkpoints."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from teahub.db.base import Base, BigId, JsonDoc, UtcDateTime, utcnow
from teahub.db.sealing import Sealed

PLATFORMS = ("tmall", "taobao", "jd", "pdd", "douyin", "youzan")
INBOX_STATES = ("received", "processed", "failed")
INBOX_KINDS = ("order", "push")
INBOX_SOURCES = ("api", "webhook", "pull", "fetch")
RATIO_SCALE = 10_000  # allocation ratio in basis points: 0.5 is 5000


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} in ({', '.join(repr(v) for v in values)})"


class Shop(Base):
    """A shop on a platform: its credentials (sealed), the location it ships from and its stock allocation."""

    __tablename__ = "channel_shops"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    platform: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), index=True)
    app_key: Mapped[str] = mapped_column(Sealed("channels.shop.app_key"))
    app_secret: Mapped[str] = mapped_column(Sealed("channels.shop.app_secret"))
    access_token: Mapped[str | None] = mapped_column(Sealed("channels.shop.access_token"))
    api_url: Mapped[str | None] = mapped_column(String(300))  # the platform's gateway; a sandbox when set
    allocation_ratio: Mapped[int] = mapped_column(Integer, default=RATIO_SCALE)  # basis points of available
    safety_stock: Mapped[int] = mapped_column(Integer, default=0)
    stock_cap: Mapped[int | None] = mapped_column(Integer)
    pull_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    __table_args__ = (
        CheckConstraint(_one_of("platform", PLATFORMS), name="platform"),
        CheckConstraint(f"allocation_ratio between 0 and {RATIO_SCALE}", name="allocation_ratio"),
        CheckConstraint("safety_stock >= 0", name="safety_stock"),
        CheckConstraint("stock_cap is null or stock_cap >= 0", name="stock_cap"),
    )


class SkuMapping(Base):
    """A platform SKU (by the platform's SKU id, or by a merchant code that is not a teahub SKU) sold as a
    teahub SKU; `units_per_item` teahub base units per platform piece (a 250 g bag of loose tea: 250)."""

    __tablename__ = "channel_sku_mappings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("channel_shops.id", ondelete="CASCADE"), index=True)
    platform_sku_id: Mapped[str | None] = mapped_column(String(64))
    outer_code: Mapped[str | None] = mapped_column(String(64))
    sku: Mapped[str] = mapped_column(String(64))
    units_per_item: Mapped[int] = mapped_column(Integer, default=1)
    # The platform's item id (Taobao num_iid, PDD goods_id, Youzan item_id), which their stock APIs need beside
    # the SKU id; for an item without SKUs the platform SKU id is the item id already.
    item_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("shop_id", "platform_sku_id"),
        UniqueConstraint("shop_id", "outer_code"),
        CheckConstraint("(platform_sku_id is null) <> (outer_code is null)", name="one_key"),
        CheckConstraint("units_per_item > 0", name="units_per_item"),
    )


class InboxMessage(Base):
    """One inbound message exactly as it came (sealed: it holds buyers' personal data), stored in its own
    transaction before anything is done with it, and what became of it."""

    __tablename__ = "channel_inbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("channel_shops.id"))
    source: Mapped[str] = mapped_column(String(8))  # api | webhook | pull | fetch
    kind: Mapped[str] = mapped_column(String(8))  # order (an order-detail document) | push (a push message)
    dedupe_key: Mapped[str] = mapped_column(String(160))  # push:<message id> or order:<sha256 of the document>
    message_id: Mapped[str | None] = mapped_column(String(128))
    topic: Mapped[str | None] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Sealed("channels.inbox.payload"))
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    field: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (
        UniqueConstraint("shop_id", "dedupe_key"),
        Index("ix_channel_inbox_shop_id_state", "shop_id", "state"),
        Index("ix_channel_inbox_state", "state"),
        Index("ix_channel_inbox_shop_id_external_id", "shop_id", "external_id"),
        CheckConstraint(_one_of("state", INBOX_STATES), name="state"),
        CheckConstraint(_one_of("kind", INBOX_KINDS), name="kind"),
        CheckConstraint(_one_of("source", INBOX_SOURCES), name="source"),
    )


class ChannelOrder(Base):
    """A platform order as teahub last applied it: which teahub order it is, the platform's own status, modified
    time and version (to ignore older updates), and the receiver exactly as received (sealed)."""

    __tablename__ = "channel_orders"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("channel_shops.id"))
    external_id: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    platform_status: Mapped[str] = mapped_column(String(40))
    modified_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    version: Mapped[int | None] = mapped_column(BigInteger)
    buyer_name: Mapped[str | None] = mapped_column(Sealed("channels.order.buyer"))
    receiver_name: Mapped[str | None] = mapped_column(Sealed("channels.order.receiver"))
    receiver_phone: Mapped[str | None] = mapped_column(Sealed("channels.order.receiver"))
    receiver_address: Mapped[str | None] = mapped_column(Sealed("channels.order.receiver"))
    line_ids: Mapped[list[str]] = mapped_column(JsonDoc, default=list)  # platform line id of each teahub line_no
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("shop_id", "external_id"),)


class ChannelRefund(Base):
    """A refund the platform completed, applied once: the platform's refund id is unique per shop."""

    __tablename__ = "channel_refunds"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("channel_shops.id"))
    refund_id: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    sales_refund_id: Mapped[int | None] = mapped_column(BigInteger)  # the teahub refund; none when nothing was left
    amount: Mapped[int] = mapped_column(Integer)  # fen the platform refunded
    refunded: Mapped[int] = mapped_column(Integer)  # fen teahub recorded
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("shop_id", "refund_id"),)


class PullCheckpoint(Base):
    """How far a shop's orders have been pulled: every order modified before `modified_through` was fetched."""

    __tablename__ = "channel_pull_checkpoints"

    shop_id: Mapped[int] = mapped_column(ForeignKey("channel_shops.id", ondelete="CASCADE"), primary_key=True)
    modified_through: Mapped[datetime] = mapped_column(UtcDateTime())
    last_run_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_count: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class ShopStock(Base):
    """What one shop is shown of one teahub SKU, one row per shop × SKU: dirty since a stock change (coalesced:
    more changes keep one row, `marks` counts them so a push never clears a change it did not see), what was
    pushed last and when, and the last failure with its backoff. `quantity` is the shop's figure in teahub base
    units (available × ratio − safety stock, capped); each platform SKU mapped to it shows quantity ÷ its
    units per item."""

    __tablename__ = "channel_shop_stock"

    shop_id: Mapped[int] = mapped_column(ForeignKey("channel_shops.id", ondelete="CASCADE"), primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    dirty_since: Mapped[datetime | None] = mapped_column(UtcDateTime())
    marks: Mapped[int] = mapped_column(BigInteger, default=0)
    force: Mapped[bool] = mapped_column(Boolean, default=False)  # a resync: push even when unchanged
    pushed_quantity: Mapped[int | None] = mapped_column(Integer)
    pushed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    retry_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime())  # a worker is pushing it until then
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (Index("ix_channel_shop_stock_dirty_since", "dirty_since"),)
