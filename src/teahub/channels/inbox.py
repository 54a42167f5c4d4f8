"""The inbox: every inbound message stored raw, in its own committed transaction, before anything is done with
it; listed with its state (received, processed, failed and why)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from teahub.channels.models import InboxMessage, Shop
from teahub.channels.shops import ShopInfo, find_shop
from teahub.db.bulk import insert_ignoring_conflicts
from teahub.db.uow import UnitOfWork
from teahub.errors import DomainError, NotFound


def document_key(body: bytes) -> str:
    """The same document twice (however it is spaced or ordered) is one message."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = body
    return "order:" + hashlib.sha256(canonical).hexdigest()


def store(uow: UnitOfWork, shop: ShopInfo, *, source: str, kind: str, payload: str, dedupe_key: str,
          message_id: str | None = None, topic: str | None = None, external_id: str | None = None
          ) -> tuple[int, bool]:
    """Store a message and commit at once; (inbox id, True when new). A message already stored answers the one
    stored first (a platform sending twice, the same webhook 30 ms apart)."""
    try:
        with uow:
            found = uow.session.scalar(select(InboxMessage.id).where(InboxMessage.shop_id == shop.id,
                                                                     InboxMessage.dedupe_key == dedupe_key))
            if found is not None:
                return int(found), False
            row = InboxMessage(shop_id=shop.id, source=source, kind=kind, dedupe_key=dedupe_key[:160],
                               message_id=(message_id or "")[:128] or None, topic=(topic or "")[:64] or None,
                               external_id=(external_id or "")[:64] or None, payload=payload, state="received",
                               attempts=0, received_at=uow.now())
            uow.session.add(row)
            uow.session.flush()
            new_id = row.id
            uow.commit()
            return new_id, True
    except IntegrityError:
        pass  # a twin was stored at the same moment: answer it
    with uow.reading():
        found = uow.session.scalar(select(InboxMessage.id).where(InboxMessage.shop_id == shop.id,
                                                                 InboxMessage.dedupe_key == dedupe_key))
        assert found is not None, "a message that collided on its key is stored"
        return int(found), False


@dataclass(frozen=True)
class Incoming:
    """One message of a push, as it will be stored (`failure`: stored as failed, with why)."""

    shop_id: int
    payload: str
    dedupe_key: str
    message_id: str | None = None
    topic: str | None = None
    external_id: str | None = None
    failure: DomainError | None = None


def store_many(uow: UnitOfWork, messages: list[Incoming], *, source: str = "webhook", kind: str = "push") -> None:
    """Store messages (of one push or of many, of any shops) in one statement and commit; a message stored before
    (same shop and key), or twice among them, is stored once, as it came first. Processing comes after, in
    batches (`processing.drain`)."""
    firsts: dict[tuple[int, str], Incoming] = {}
    for message in messages:
        firsts.setdefault((message.shop_id, message.dedupe_key[:160]), message)
    if not firsts:
        return
    with uow:
        now = uow.now()
        rows = [{"shop_id": m.shop_id, "source": source, "kind": kind, "dedupe_key": key,
                 "message_id": (m.message_id or "")[:128] or None, "topic": (m.topic or "")[:64] or None,
                 "external_id": (m.external_id or "")[:64] or None, "payload": m.payload,
                 **(_RECEIVED if m.failure is None else failure_columns(m.failure)),
                 "attempts": 0 if m.failure is None else 1, "received_at": now}
                for (_shop, key), m in firsts.items()]
        insert_ignoring_conflicts(uow.session, InboxMessage.__table__, _STORED, rows, ("shop_id", "dedupe_key"))
        uow.commit()


def failure_columns(error: DomainError) -> dict[str, Any]:
    """How a message that could not be processed is kept: failed, with why and the field at fault."""
    return {"state": "failed", "reason": error.detail[:4000], "field": (error.field or "")[:200] or None}


_RECEIVED = {"state": "received", "reason": None, "field": None}
_STORED = ("shop_id", "source", "kind", "dedupe_key", "message_id", "topic", "external_id", "payload", "state",
           "reason", "field", "attempts", "received_at")


def message_view(row: InboxMessage, shop_code: str, *, payload: bool = False) -> dict[str, Any]:
    view = {
        "id": row.id, "shop": shop_code, "source": row.source, "kind": row.kind, "message_id": row.message_id,
        "topic": row.topic, "external_id": row.external_id, "state": row.state, "reason": row.reason,
        "field": row.field, "note": row.note, "attempts": row.attempts, "order_id": row.order_id,
        "received_at": row.received_at, "processed_at": row.processed_at,
    }
    if payload:
        view["payload"] = row.payload
    return view


def list_inbox(uow: UnitOfWork, *, shop: str | None = None, state: str | None = None,
               external_id: str | None = None, before_id: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Newest first."""
    with uow.reading():
        stmt = (select(InboxMessage, Shop.code).join(Shop, Shop.id == InboxMessage.shop_id)
                .order_by(InboxMessage.id.desc()).limit(limit))
        if shop is not None:
            stmt = stmt.where(InboxMessage.shop_id == find_shop(uow, shop).id)
        if state is not None:
            stmt = stmt.where(InboxMessage.state == state)
        if external_id is not None:
            stmt = stmt.where(InboxMessage.external_id == external_id)
        if before_id:
            stmt = stmt.where(InboxMessage.id < before_id)
        return [message_view(row, code) for row, code in uow.session.execute(stmt)]


def get_message(uow: UnitOfWork, inbox_id: int) -> dict[str, Any]:
    """One message with its raw payload (it may hold buyers' personal data)."""
    with uow.reading():
        found = uow.session.execute(select(InboxMessage, Shop.code).join(Shop, Shop.id == InboxMessage.shop_id)
                                    .where(InboxMessage.id == inbox_id)).first()
        if found is None:
            raise NotFound(f"no inbox message {inbox_id}", field="inbox_id")
        return message_view(found[0], found[1], payload=True)


def failed_ids(uow: UnitOfWork, *, shop: str | None = None, limit: int = 500) -> list[int]:
    with uow.reading():
        stmt = select(InboxMessage.id).where(InboxMessage.state == "failed").order_by(InboxMessage.id).limit(limit)
        if shop is not None:
            stmt = stmt.where(InboxMessage.shop_id == find_shop(uow, shop).id)
        return [int(i) for i in uow.session.scalars(stmt)]
