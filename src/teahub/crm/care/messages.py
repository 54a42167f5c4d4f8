"""The outgoing customer message queue: queueing (consent, reachability, frequency cap and dedupe enforced here,
for care rules and campaigns alike), listing, and the delivery outcome the integration hub reports.

At most once per cause: the unique dedupe key decides, inside a savepoint, so a concurrent second insert
answers "duplicate" instead of failing. Within the cap: a customer's messages are counted and inserted holding
the lock of the customer's tally row (PostgreSQL; SQLite serializes writers already).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from teahub.crm.care import rules
from teahub.crm.care.events import AGGREGATE, MESSAGE_QUEUED, MessageQueued
from teahub.crm.care.models import CustomerMessage, CustomerMessageTally
from teahub.crm.care.settings import policy
from teahub.customers import privacy
from teahub.customers import service as customers
from teahub.db.uow import UnitOfWork
from teahub.errors import Conflict, NotFound, ValidationFailed


def message_view(m: CustomerMessage) -> dict[str, Any]:
    return {"id": m.id, "customer_id": m.customer_id, "channel": m.channel, "template": m.template,
            "params": m.params, "source": m.source, "dedupe_key": m.dedupe_key, "status": m.status,
            "created_at": m.created_at, "updated_at": m.updated_at}


def _answer(status: rules.Outcome, message: CustomerMessage | None = None) -> dict[str, Any]:
    return {"status": status, "message": message_view(message) if message is not None else None}


def _by_key(uow: UnitOfWork, dedupe_key: str) -> CustomerMessage | None:
    return uow.session.scalar(select(CustomerMessage).where(CustomerMessage.dedupe_key == dedupe_key))


def _tally(uow: UnitOfWork, customer_id: int) -> CustomerMessageTally:
    """The customer's tally row, created when missing, locked until the transaction ends: whoever holds it is
    the only one counting and queueing for this customer."""
    dialect = uow.session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(CustomerMessageTally)
    uow.session.execute(insert.values(customer_id=customer_id, queued=0).on_conflict_do_nothing())
    tally = uow.session.scalar(select(CustomerMessageTally).where(CustomerMessageTally.customer_id == customer_id)
                               .with_for_update().execution_options(populate_existing=True))
    assert tally is not None
    return tally


def _refusal(uow: UnitOfWork, customer_id: int, channel: str) -> rules.Outcome | None:
    """Why this customer may not get a message on this channel at all, or None."""
    customer = customers.get_customer(uow, customer_id)  # NotFound for an unknown id
    if customer["status"] != "active" or customer["merged_into"] is not None:
        return "unreachable"  # erased or merged: nobody to write to
    if not privacy.has_consent(uow, customer_id, rules.consent_purpose(channel)):
        return "no_consent"
    if not rules.reachable(channel, (i["kind"] for i in customer["identities"])):
        return "unreachable"
    return None


def _capped(uow: UnitOfWork, customer_id: int) -> bool:
    cap = policy(uow)
    recent = uow.session.scalar(
        select(func.count()).select_from(CustomerMessage)
        .where(CustomerMessage.customer_id == customer_id, CustomerMessage.status != "failed",
               CustomerMessage.created_at > rules.cap_window_start(cap, uow.now()))) or 0
    return not rules.within_cap(recent, cap)


def queue_message(uow: UnitOfWork, customer_id: int, *, channel: str, template: str, params: dict[str, Any],
                  source: str, dedupe_key: str) -> dict[str, Any]:
    """Queue a message for delivery, at most once per `dedupe_key`. Answers {"status", "message"}: "queued"
    (with the new message), "duplicate" (with the one queued before for this cause), or, with no message,
    "no_consent" (no marketing consent in force for the channel), "unreachable" (erased or merged customer,
    or no phone for sms / no WeChat identity for wechat), "capped" (the customer's frequency cap is reached).
    A queued message records `customer_message.queued` in the outbox, in the caller's transaction."""
    rules.check_message(channel, template, params, source, dedupe_key)
    with uow:
        existing = _by_key(uow, dedupe_key)
        if existing is not None:
            return _answer("duplicate", existing)
        refused = _refusal(uow, customer_id, channel)
        if refused is not None:
            return _answer(refused)
        tally = _tally(uow, customer_id)  # from here on, this customer's messages are ours to count
        existing = _by_key(uow, dedupe_key)  # queued while we waited for the lock?
        if existing is not None:
            return _answer("duplicate", existing)
        if _capped(uow, customer_id):
            return _answer("capped")
        now = uow.now()
        message = CustomerMessage(customer_id=customer_id, channel=channel, template=template, params=params,
                                  source=source, dedupe_key=dedupe_key, status="queued", created_at=now,
                                  updated_at=now)
        try:
            with uow.savepoint():
                uow.session.add(message)
                uow.session.flush()
        except IntegrityError:
            # Another transaction queued this cause since we looked: theirs stands.
            existing = _by_key(uow, dedupe_key)
            if existing is None:
                raise
            return _answer("duplicate", existing)
        tally.queued += 1
        tally.last_queued_at = now
        payload = MessageQueued(message_id=message.id, customer_id=customer_id, channel=channel,
                                template=template, params=params, source=source)
        uow.record_event(MESSAGE_QUEUED, AGGREGATE, message.id, payload.model_dump(), version=1)
        view = _answer("queued", message)
        uow.commit()
        return view


def list_messages(uow: UnitOfWork, customer_id: int | None = None, status: str | None = None,
                  source: str | None = None, after_id: int = 0, limit: int = 50, *, newest_first: bool = False
                  ) -> list[dict[str, Any]]:
    """Messages in the order they were queued (by id), after `after_id`; or the latest first."""
    if status is not None and status not in rules.MESSAGE_STATUSES:
        raise ValidationFailed(f"status is {', '.join(rules.MESSAGE_STATUSES)}", field="status")
    stmt = select(CustomerMessage).where(CustomerMessage.id > after_id)
    if customer_id is not None:
        stmt = stmt.where(CustomerMessage.customer_id == customer_id)
    if status is not None:
        stmt = stmt.where(CustomerMessage.status == status)
    if source is not None:
        stmt = stmt.where(CustomerMessage.source == source)
    with uow.reading():
        order = CustomerMessage.id.desc() if newest_first else CustomerMessage.id
        return [message_view(m) for m in uow.session.scalars(stmt.order_by(order).limit(limit))]


def get_message(uow: UnitOfWork, message_id: int) -> dict[str, Any]:
    with uow.reading():
        message = uow.session.get(CustomerMessage, message_id)
        if message is None:
            raise NotFound(f"no message {message_id}", field="id")
        return message_view(message)


def record_delivery(uow: UnitOfWork, message_id: int, status: str) -> dict[str, Any]:
    """The integration hub tells how delivery went: "sent" or "failed" (a failed one stops counting against
    the cap). Only a queued message moves; telling the same outcome again changes nothing."""
    if status not in ("sent", "failed"):
        raise ValidationFailed("status is sent or failed", field="status")
    with uow:
        message = uow.session.get(CustomerMessage, message_id, with_for_update=True, populate_existing=True)
        if message is None:
            raise NotFound(f"no message {message_id}", field="id")
        if message.status != status:
            if message.status != "queued":
                raise Conflict(f"message {message_id} is already {message.status}", field="status")
            message.status, message.updated_at = status, uow.now()
        view = message_view(message)
        uow.commit()
        return view


