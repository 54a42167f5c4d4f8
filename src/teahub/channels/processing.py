"""Taking messages in: each is stored raw first (its own transaction), then processed in another; a message that
cannot be processed stays in the inbox as failed with its reason, to be replayed once fixed. Processing a
message twice has one effect."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from teahub.channels import inbox
from teahub.channels.applying import (
    Applied,
    apply_new_orders,
    apply_order,
    apply_refund,
    held_order,
    known_external_ids,
)
from teahub.channels.client import PlatformClient
from teahub.channels.connectors import connector_for
from teahub.channels.connectors.base import Connector, PlatformOrder, loads, push_keys
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
    """A push taken in and processed before answering (the CLI, replays of captured pushes)."""
    ack = accept_push(uow, shop_code, body, headers, query)
    drain(uow.session_factory, wait=True)
    return ack


def accept_push(uow: UnitOfWork, shop_code: str, body: bytes, headers: Mapping[str, str],
                query: Mapping[str, str]) -> dict[str, Any]:
    """A push in the platform's own format: its signature checked over the raw bytes (401 when wrong, nothing
    stored), its messages stored in one transaction; answers the platform's own acknowledgement. The messages
    are processed afterwards (`drain`), so a burst is acknowledged as fast as it can be stored."""
    try:
        shop: ShopInfo | None = get_shop_info(uow, shop_code)
    except NotFound:
        shop = None
    push = check_push(shop, body, headers, query)
    store_pushes(uow, [push])
    return push.ack


@dataclass(frozen=True)
class CheckedPush:
    """A push whose signature holds, read into the inbox messages it makes, with the platform's answer."""

    messages: list[inbox.Incoming]
    ack: dict[str, Any]


def check_push(shop: ShopInfo | None, body: bytes, headers: Mapping[str, str],
               query: Mapping[str, str]) -> CheckedPush:
    """Signature first (no shop, an inactive one or a wrong signature: 401); then each message under its
    message id (or its content). A signed push teahub cannot read is kept whole, failed, for a person (or a
    fixed connector) to replay. Touches no database."""
    if shop is None:
        raise Unauthorized("no such shop, or a wrong signature", field="sign")
    connector = connector_for(shop.platform)
    if not shop.active or not connector.verify_push(shop.secrets, body, headers, query):
        raise Unauthorized("the push signature does not match this shop's secret", field="sign")
    try:
        messages = connector.split_push(body)
    except (DomainError, AttributeError, TypeError) as exc:
        unreadable = exc if isinstance(exc, DomainError) else _unreadable(exc)
        key = inbox.document_key(body).replace("order:", "push:body:")
        return CheckedPush([inbox.Incoming(shop.id, _text(body), key, failure=unreadable)], connector.push_ack())
    whole_body = len(messages) == 1 and messages[0] == loads(body)  # kept byte for byte when it is the message
    incoming = []
    for message in messages:
        payload = _text(body) if whole_body else json.dumps(message, ensure_ascii=False, default=str)
        try:
            keys = push_keys(connector, message)
            incoming.append(inbox.Incoming(shop.id, payload, f"push:{keys.message_id}", keys.message_id,
                                           keys.topic, keys.external_id))
        except (DomainError, AttributeError, TypeError, KeyError, ValueError):
            key = inbox.document_key(payload.encode()).replace("order:", "push:body:")
            incoming.append(inbox.Incoming(shop.id, payload, key))
    return CheckedPush(incoming, connector.push_ack())


def store_pushes(uow: UnitOfWork, pushes: list[CheckedPush]) -> None:
    """Checked pushes (of any shops) stored together, in one transaction."""
    inbox.store_many(uow, [message for push in pushes for message in push.messages])


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
        result = _apply_message(uow, row, shop, connector)
        if isinstance(result, _Fetch):
            return result
        outcome = _done(uow, row, result)
        uow.commit()
        return outcome


def _apply_message(uow: UnitOfWork, row: InboxMessage, shop: ShopInfo, connector: Connector) -> Applied | _Fetch:
    """What one stored message does, in the caller's transaction; a push that only names its order answers
    the order to fetch (outside any transaction)."""
    document = loads(row.payload.encode())
    if row.kind == "order":
        order = connector.parse_order(document)
        row.external_id = row.external_id or order.external_id
        return apply_order(uow, shop, connector, order)
    message = connector.read_push(document)
    if message.order_document is not None:
        order = connector.parse_order(message.order_document, version=message.version)
        return apply_order(uow, shop, connector, order)
    if message.external_id is None:
        return Applied(None, False, [f"topic {message.topic or '(none)'}: nothing to do"])
    held = held_order(uow, shop.id, message.external_id)
    if message.refund is not None and held is not None and held.order_id is not None:
        note = apply_refund(uow, shop, held, message.refund)
        return Applied(sales.get_order(uow, held.order_id), False, [note] if note else [])
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
        outcome = _done(uow, row, Applied(order, False, notes))
        uow.commit()
        return outcome


def _done(uow: UnitOfWork, row: InboxMessage, applied: Applied) -> Outcome:
    """Mark the message processed (committed by the caller)."""
    row.state = "processed"
    row.reason = row.field = None
    row.note = "; ".join(applied.notes)[:4000] or None
    row.attempts += 1
    row.order_id = applied.order["id"] if applied.order else None
    row.processed_at = uow.now()
    return Outcome(row.id, "processed", applied.order, applied.created, notes=applied.notes)


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
        _failed(row, error)
        uow.commit()
    return Outcome(inbox_id, "failed", error=error)


def _failed(row: InboxMessage, error: DomainError) -> None:
    for name, value in inbox.failure_columns(error).items():
        setattr(row, name, value)
    row.attempts += 1


# -- processing in batches -------------------------------------------------------------------------
BATCH = 100
# While batches come back full (a backlog), larger ones: fewer transactions for the same orders (+12% orders/s in
# bench/sync.py); a quiet inbox keeps the batches, and so how long they hold stock rows, short.
BACKLOG_BATCH = 250
# Only one batch is processed at a time per database (schema): batches lock stock rows of many SKUs.
_DRAIN_LOCK_KEY = 0x7EA_1B0C
_draining: weakref.WeakKeyDictionary[Any, threading.Lock] = weakref.WeakKeyDictionary()
_draining_guard = threading.Lock()


def _drain_lock(factory: sessionmaker[Session]) -> threading.Lock:
    bind = factory.kw["bind"]
    with _draining_guard:
        return _draining.setdefault(bind, threading.Lock())


def draining(factory: sessionmaker[Session]) -> bool:
    """Whether this process has a drainer at work (or waiting for the database's) already."""
    return _drain_lock(factory).locked()


@dataclass
class Drained:
    processed: int = 0
    failed: int = 0
    busy: bool = False  # another drainer had the messages

    def as_dict(self) -> dict[str, Any]:
        return {"processed": self.processed, "failed": self.failed, "busy": self.busy}


def drain(factory: sessionmaker[Session], *, wait: bool = False, standby: bool = False,
          budget: int | None = None) -> Drained:
    """Process received messages, oldest first, a batch per transaction (one failing message is undone alone
    and kept as failed), until none is left or another drainer holds them (`wait`: until it lets go). A
    drainer looks again after letting go, so a message stored while it was busy is never left waiting.

    `standby` (what each push starts): at once when this process has a drainer already; otherwise wait for
    the database's drainer, in another process, to let go between two batches. The pushes of a busy server
    then cost nothing more than a look at the process's own lock."""
    total = Drained()
    lock = _drain_lock(factory)
    while budget is None or total.processed + total.failed < budget:
        if not lock.acquire(blocking=wait):
            total.busy = True
            return total
        try:
            size = BATCH
            while budget is None or total.processed + total.failed < budget:
                batch = _drain_batch(UnitOfWork(factory, actor="channels:inbox"), wait=wait or standby, size=size)
                if batch is None:
                    total.busy = True
                    return total
                total.processed += batch.processed
                total.failed += batch.failed
                if batch.processed + batch.failed < size:
                    break
                size = BACKLOG_BATCH
        finally:
            lock.release()
        if not _any_received(UnitOfWork(factory, actor="channels:inbox")):
            break
    return total


def _any_received(uow: UnitOfWork) -> bool:
    with uow.reading():
        return uow.session.scalar(select(InboxMessage.id).where(InboxMessage.state == "received").limit(1)) \
            is not None


def _drain_batch(uow: UnitOfWork, *, wait: bool, size: int) -> Drained | None:
    later: list[int] = []  # to be processed one by one: a push naming an order to fetch, an unexpected error
    result = Drained()
    with uow:
        session = uow.session
        if session.get_bind().dialect.name == "postgresql":
            # Keyed by schema too: teahubs sharing a database in their own schemas do not wait for each other.
            key = (_DRAIN_LOCK_KEY, func.hashtext(func.current_schema()))
            if wait:
                session.execute(select(func.pg_advisory_xact_lock(*key)))
            elif not session.scalar(select(func.pg_try_advisory_xact_lock(*key))):
                return None
        rows = list(session.scalars(select(InboxMessage).where(InboxMessage.state == "received")
                                    .order_by(InboxMessage.id).limit(size).with_for_update(skip_locked=True)))
        shops = _shops_of(uow, rows)
        rest = _apply_new_orders(uow, rows, shops, result)
        for row in rest:
            shop, connector = shops[row.shop_id]
            try:
                with uow.savepoint():
                    applied = _apply_message(uow, row, shop, connector)
            except DomainError as exc:
                _failed(row, exc)
                result.failed += 1
                continue
            except Exception:  # noqa: BLE001 - retried alone below, where it is kept as failed if it fails again
                later.append(row.id)
                continue
            if isinstance(applied, _Fetch):
                later.append(row.id)
            else:
                _done(uow, row, applied)
                result.processed += 1
        uow.commit()
    for inbox_id in later:
        outcome = process(uow, inbox_id)
        if outcome.state == "processed":
            result.processed += 1
        else:
            result.failed += 1
    return result


def _shops_of(uow: UnitOfWork, rows: list[InboxMessage]) -> dict[int, tuple[ShopInfo, Connector]]:
    shops: dict[int, tuple[ShopInfo, Connector]] = {}
    for shop_id in {row.shop_id for row in rows}:
        shop = uow.session.get(Shop, shop_id)
        assert shop is not None
        info = shop_info(shop, inventory.get_location_by_id(uow, shop.location_id).code)
        shops[shop_id] = (info, connector_for(info.platform))
    return shops


def _apply_new_orders(uow: UnitOfWork, rows: list[InboxMessage], shops: dict[int, tuple[ShopInfo, Connector]],
                      result: Drained) -> list[InboxMessage]:
    """The batch's first message of each order teahub has not seen yet, placed together per shop (the bulk of
    any burst); answers the other messages, to be applied one by one after them, in the order they came."""
    firsts: dict[tuple[int, str], tuple[InboxMessage, PlatformOrder]] = {}
    for row in rows:
        shop, connector = shops[row.shop_id]
        try:
            order = _order_of(row, connector)
        except Exception:  # noqa: BLE001 - the one-by-one path reports it
            continue
        if order is not None:
            firsts.setdefault((row.shop_id, order.external_id), (row, order))
    rest_ids = {row.id for row in rows}
    for shop_id in {shop_id for shop_id, _ in firsts}:
        shop, connector = shops[shop_id]
        candidates = [(row, order) for (sid, _), (row, order) in firsts.items() if sid == shop_id]
        held = known_external_ids(uow, shop_id, [order.external_id for _, order in candidates])
        new = [(row, order) for row, order in candidates if order.external_id not in held]
        if not new:
            continue
        try:
            with uow.savepoint():
                answers = apply_new_orders(uow, shop, connector, [order for _, order in new])
        except Exception:  # noqa: BLE001 - e.g. a twin placed by another path meanwhile: one by one instead
            log.warning("a batch of %d new orders of shop %s went one by one", len(new), shop.code, exc_info=True)
            continue
        for (row, order), answer in zip(new, answers, strict=True):
            rest_ids.discard(row.id)
            row.external_id = row.external_id or order.external_id
            if isinstance(answer, DomainError):
                _failed(row, answer)
                result.failed += 1
            else:
                _done(uow, row, answer)
                result.processed += 1
    return [row for row in rows if row.id in rest_ids]


def _order_of(row: InboxMessage, connector: Connector) -> PlatformOrder | None:
    """The whole order a message carries (an order document, or a push with the order in it), if any."""
    document = loads(row.payload.encode())
    if row.kind == "order":
        return connector.parse_order(document)
    message = connector.read_push(document)
    if message.order_document is None:
        return None
    return connector.parse_order(message.order_document, version=message.version)


# -- replay ----------------------------------------------------------------------------------------
def replay(uow: UnitOfWork, inbox_id: int) -> Outcome:
    """Process a failed (or stuck received) message again, e.g. after adding a SKU mapping."""
    return process(uow, inbox_id)


def replay_failed(uow: UnitOfWork, *, shop: str | None = None, limit: int = 500) -> list[Outcome]:
    return [process(uow, inbox_id) for inbox_id in inbox.failed_ids(uow, shop=shop, limit=limit)]
