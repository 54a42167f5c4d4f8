"""What an ERP connector remembers per record and target: the external document it made (id, number), the last
step done (Kingdee: saved → submitted → audited; Yonyou: queued → done; Odoo: done; for an order cancelled in
teahub, Kingdee: unaudited | withdrawn → deleted | voided, Odoo: cancelled, Yonyou: closed, any: not_sent) and the
mapping (name and version) the last delivery used. Needs a migration: table `sync_erp_links`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from teahub.db.base import Base, UtcDateTime, utcnow


class SyncErpLink(Base):
    __tablename__ = "sync_erp_links"

    target_id: Mapped[int] = mapped_column(ForeignKey("sync_targets.id", ondelete="CASCADE"), primary_key=True)
    record_key: Mapped[str] = mapped_column(String(100), primary_key=True)  # order:12, customer:7
    reference: Mapped[str] = mapped_column(String(100))  # what the ERP is searched by (SO00000012, teahub-7)
    external_id: Mapped[str | None] = mapped_column(String(100))
    external_number: Mapped[str | None] = mapped_column(String(100))
    step: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(Text)  # e.g. Yonyou's result URL while it is queued
    mapping: Mapped[str] = mapped_column(String(100))
    mapping_version: Mapped[int] = mapped_column(Integer)
    last_event_id: Mapped[str | None] = mapped_column(String(36))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
