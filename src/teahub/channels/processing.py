"""Taking messages in: each is stored raw first (its own transaction), then processed in another; a message that
cannot be processed stays in the inbox as failed with its reason, to be replayed once fixed. Processing a
message twice has one effect."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from teahub.channels import inbox
from teahub.channels.applying import Applied, apply_order, apply_refund, held_order
from teahub.channels.client import PlatformClient
from teahub.channels.connectors import connector_for
from teahub.channels.connectors.base import Connector, loads
from teahub.channels.models import InboxMessage, Shop
from teahub.channels.shops import ShopInfo, get_shop_info, shop_info
from teahub.db.uow import UnitOfWork
from teahub.errors import DomainError, NotFound, Unauthorized, ValidationFailed
from teahub.inventory import service as inventory
from teahub.sales import service as sales

log = logging.getLogger(__name__)
ATTEMPTS = 3


@dataclass
class Outcome:
    inbox_id: int
    state: str
    order: dict[str, Any] | None = None
    created: bool = False
    error: DomainError | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class _Fetch:
    """A push that named an order teahub must fetch from the platform (outside any transaction)."""

    shop: ShopInfo
    connector: Connector
    external_id: str


# -- receiving -------------------------------------------------------------------------------------
def receive_order(uow: UnitOfWork, shop_code: str, body: bytes, *, source: str = "api") -> Outcome:
    """One order document as the platform's order-detail API answers it: stored, then processed."""
    shop = get_shop_info(uow, shop_code)
    connector = connector_for(shop.platform)
    external_id = None
    with contextlib.suppress(DomainError, AttributeError, TypeError):  # stored anyway; processing says why
        external_id = connector.external_id_of(loads(body))
    inbox_id, _new = inbox.store(uow, shop, source=source, kind="order", payload=_text(body),
                                 dedupe_key=inbox.document_key(body), external_id=external_id)
    return process(uow, inbox_id)


def receive_push(uow: UnitOfWork, shop_code: str, body: bytes, headers: Mapping[str, str],
                 query: Mapping[str, str]) -> dict[str, Any]:
    """A push in the platform's own format: its signature checked over the raw bytes (401 when wrong, nothing
    stored), each message stored and processed; answered with the platform's own acknowledgement once stored."""
    try:
        shop = get_shop_info(uow, shop_code)
    except NotFound:
        raise Unauthorized("no such shop, or a wrong signature", field="sign") from None
    connector = connector_for(shop.platform)
    if not shop.active or not connector.verify_push(shop.secrets, body, headers, query):
        raise Unauthorized("the push signature does not match this shop's secret", field="sign")
    try:
        messages = connector.split_push(body)
    except (DomainError, AttributeError, TypeError) as exc:
        # Signed by the platform but unreadable: kept, failed, for a person (or a fixed connector) to replay.
        inbox_id, _new = inbox.store(uow, shop, source="webhook", kind="push", payload=_text(body),
                                     dedupe_key=inbox.document_key(body).replace("order:", "push:body:"))
        _mark_failed(uow, inbox_id, exc if isinstance(exc, DomainError) else _unreadable(exc))
        return connector.push_ack()
    whole_body = len(messages) == 1 and messages[0] == loads(body)  # kept byte for byte when it is the message
    for message in messages:
        payload = _text(body) if whole_body else json.dumps(message, ensure_ascii=False, default=str)
        try:
            read = connector.read_push(message)
            key, message_id, topic, external_id = (f"push:{read.message_id}", read.message_id, read.topic,
                                                   read.external_id)
        except (DomainError, AttributeError, TypeError, KeyError, ValueError):
            key, message_id, topic, external_id = (
                inbox.document_key(payload.encode()).replace("order:", "push:body:"), None, None, None)
        inbox_id, _new = inbox.store(uow, shop, source="webhook", kind="push", payload=payload, dedupe_key=key,
                                     message_id=message_id, topic=topic, external_id=external_id)
        process(uow, inbox_id)
    return connector.push_ack()


def _text(body: bytes) -> str:
    return body.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


def _unreadable(exc: Exception) -> ValidationFailed:
    return ValidationFailed(f"the message could not be read: {type(exc).__name__}: {exc}", field="body")


# -- processing ------------------------------------------------------------------------------------
def process(uow: UnitOfWork, inbox_id: int) -> Outcome:
    """Process one stored message (again): processed once, whatever happens around it."""
    for attempt in range(ATTEMPTS):
        try:
            result = _process_once(uow, inbox_id)
            if isinstance(result, Outcome):
                return result
            return _fetch_then_process(uow, inbox_id, result)
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                error = ValidationFailed("the message kept colliding with another one: replay it", field="body")
                return _mark_failed(uow, inbox_id, error)
        except DomainError as exc:
            if isinstance(exc, NotFound) and exc.field == "inbox_id":
                raise
            return _mark_failed(uow, inbox_id, exc)
        except Exception as exc:  # noqa: BLE001 - a message teahub cannot read must not be lost, nor crash
            log.warning("inbox message %s failed", inbox_id, exc_info=True)
            return _mark_failed(uow, inbox_id, _unreadable(exc))
    raise AssertionError("unreachable")


def _load(uow: UnitOfWork, inbox_id: int) -> tuple[InboxMessage, ShopInfo, Connector]:
    row = uow.session.scalar(select(InboxMessage).where(InboxMessage.id == inbox_id).with_for_update())
    if row is None:
        raise NotFound(f"no inbox message {inbox_id}", field="inbox_id")
    shop = uow.session.get(Shop, row.shop_id)
    assert shop is not None
    info = shop_info(shop, inventory.get_location_by_id(uow, shop.location_id).code)
    return row, info, connector_for(info.platform)


def _process_once(uow: UnitOfWork, inbox_id: int) -> Outcome | _Fetch:
    with uow:
        row, shop, connector = _load(uow, inbox_id)
        if row.state == "processed":
            return _outcome(uow, row)
        document = loads(row.payload.encode())
        if row.kind == "order":
            order = connector.parse_order(document)
            row.external_id = row.external_id or order.external_id
            return _done(uow, row, apply_order(uow, shop, connector, order))
        message = connector.read_push(document)
        if message.order_document is not None:
            order = connector.parse_order(message.order_document, version=message.version)
            applied = apply_order(uow, shop, connector, order)
            return _done(uow, row, applied)
        if message.external_id is None:
            return _done(uow, row, Applied(None, False, [f"topic {message.topic or '(none)'}: nothing to do"]))
        held = held_order(uow, shop.id, message.external_id)
        if message.refund is not None and held is not None and held.order_id is not None:
            note = apply_refund(uow, shop, held, message.refund)
            return _done(uow, row, Applied(sales.get_order(uow, held.order_id), False, [note] if note else []))
        return _Fetch(shop, connector, message.external_id)


def _fetch_then_process(uow: UnitOfWork, push_id: int, fetch: _Fetch) -> Outcome:
    """The push only named the order: fetch it from the platform, store it as its own message, process that,
    then finish the push (a refund it carries is applied once the order is in teahub)."""
    api = PlatformClient(fetch.connector, fetch.shop)
    document = fetch.connector.fetch_order(api, fetch.external_id)
    body = json.dumps(document, ensure_ascii=False, default=str).encode()
    fetched_id, _new = inbox.store(uow, fetch.shop, source="fetch", kind="order", payload=_text(body),
                                   dedupe_key=inbox.document_key(body), external_id=fetch.external_id)
    fetched = process(uow, fetched_id)
    if fetched.state != "processed":
        raise ValidationFailed(f"the order fetched from the platform (inbox {fetched_id}) failed: "
                               f"{fetched.error.detail if fetched.error else 'see it'}",
                               field=fetched.error.field if fetched.error else None)
    with uow:
        row, shop, connector = _load(uow, push_id)
        if row.state == "processed":
            return _outcome(uow, row)
        message = connector.read_push(loads(row.payload.encode()))
        notes = [f"order fetched from the platform: inbox {fetched_id}"]
        held = held_order(uow, shop.id, fetch.external_id)
        if message.refund is not None and held is not None:
            note = apply_refund(uow, shop, held, message.refund)
            if note:
                notes.append(note)
        order = sales.get_order(uow, held.order_id) if held is not None and held.order_id else None
        return _done(uow, row, Applied(order, False, notes))


def _done(uow: UnitOfWork, row: InboxMessage, applied: Applied) -> Outcome:
    row.state = "processed"
    row.reason = row.field = None
    row.note = "; ".join(applied.notes)[:4000] or None
    row.attempts += 1
    row.order_id = applied.order["id"] if applied.order else None
    row.processed_at = uow.now()
    outcome = Outcome(row.id, "processed", applied.order, applied.created, notes=applied.notes)
    uow.commit()
    return outcome


def _outcome(uow: UnitOfWork, row: InboxMessage) -> Outcome:
    order = sales.get_order(uow, row.order_id) if row.order_id else None
    return Outcome(row.id, row.state, order, False, notes=[row.note] if row.note else [])


def _mark_failed(uow: UnitOfWork, inbox_id: int, error: DomainError) -> Outcome:
    with uow:
        row = uow.session.scalar(select(InboxMessage).where(InboxMessage.id == inbox_id).with_for_update())
        if row is None:
            raise NotFound(f"no inbox message {inbox_id}", field="inbox_id")
        if row.state == "processed":  # a twin got it through meanwhile
            return _outcome(uow, row)
        row.state = "failed"
        row.reason = error.detail[:4000]
        row.field = (error.field or "")[:200] or None
        row.attempts += 1
        uow.commit()
    return Outcome(inbox_id, "failed", error=error)


# -- replay ----------------------------------------------------------------------------------------
def replay(uow: UnitOfWork, inbox_id: int) -> Outcome:
    """Process a failed (or stuck received) message again, e.g. after adding a SKU mapping."""
    return process(uow, inbox_id)


def replay_failed(uow: UnitOfWork, *, shop: str | None = None, limit: int = 500) -> list[Outcome]:
    return [process(uow, inbox_id) for inbox_id in inbox.failed_ids(uow, shop=shop, limit=limit)]
