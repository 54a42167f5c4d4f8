"""Event subscriptions: in-process reactions to the outbox, each event with exactly one effect.

For every matching event, one transaction: lock the subscription's cursor row (FOR UPDATE SKIP LOCKED on
PostgreSQL; SQLite's single writer serializes anyway), check the event is still ahead of the cursor, call the
handler in that transaction, move the cursor to the event, commit. A crash anywhere before the commit leaves
neither the handler's writes nor the cursor move. Events are read in a separate short transaction
(`events_after` holds the outbox reader lock until its transaction ends, which must not last a handler long).

A handler that raises: its transaction rolls back, a small transaction records the attempt and a backoff; after
`max_attempts` the event is parked in subscription_failures and the cursor moves past it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import func, select, text, update

from teahub.db.outbox import OutboxEvent
from teahub.db.uow import OUTBOX_LOCK_KEY, UnitOfWork, events_after
from teahub.scheduling.dialect import insert_unless_exists
from teahub.scheduling.jobs import error_text
from teahub.scheduling.models import SubscriptionCursor, SubscriptionFailure
from teahub.scheduling.options import WorkerOptions
from teahub.scheduling.registry import Subscription

log = logging.getLogger("teahub.worker")

_OUTBOX_READER = text(f"SELECT pg_advisory_xact_lock({OUTBOX_LOCK_KEY})")

Outcome = Literal["handled", "behind", "busy", "backoff", "failed"]
State = Literal["idle", "more", "busy", "backoff", "failing"]


@dataclass
class DrainResult:
    subscription: str
    handled: int = 0
    failed: int = 0
    parked: int = 0
    state: State = "idle"

    def as_dict(self) -> dict[str, Any]:
        return {"subscription": self.subscription, "handled": self.handled, "failed": self.failed,
                "parked": self.parked, "state": self.state}


def ensure_cursor(uow: UnitOfWork, subscription: Subscription) -> None:
    """Create the subscription's cursor if it has none: at 0, or after the newest committed event."""
    with uow.reading():
        if uow.session.get(SubscriptionCursor, subscription.name) is not None:
            return
    with uow:
        position = 0
        if subscription.start == "end":
            if uow.session.get_bind().dialect.name == "postgresql":
                uow.session.execute(_OUTBOX_READER)  # every event up to max(seq) has committed
            position = int(uow.session.scalar(select(func.coalesce(func.max(OutboxEvent.seq), 0))) or 0)
        now = uow.now()
        insert_unless_exists(uow.session, SubscriptionCursor,
                             {"name": subscription.name, "position": position, "attempts": 0,
                              "created_at": now, "updated_at": now}, ("name",))
        uow.commit()


def drain(uow: UnitOfWork, subscription: Subscription, options: WorkerOptions) -> DrainResult:
    """Handle the subscription's pending events in order, until caught up, blocked or `max_events_per_pass`."""
    ensure_cursor(uow, subscription)
    result = DrainResult(subscription.name)
    while result.handled < options.max_events_per_pass:
        with uow.reading():
            cursor = uow.session.get(SubscriptionCursor, subscription.name)
            assert cursor is not None
            if cursor.retry_at is not None and cursor.retry_at > uow.now():
                result.state = "backoff"
                return result
            events = [event.envelope() for event in events_after(uow.session, cursor.position, options.batch_size)]
        if not events:
            result.state = "idle"
            return result
        for event in events:
            if not subscription.matches(event["type"]):
                continue
            outcome = handle_event(uow, subscription, event, options)
            if outcome == "handled":
                result.handled += 1
            elif outcome == "failed":
                result.failed += 1
                parked = _parked(uow, subscription.name, event["seq"])
                result.parked += parked
                result.state = "failing"
                if not parked:
                    return result
                # Parked: the cursor moved past it; read on from there.
                break
            elif outcome != "behind":
                result.state = outcome
                return result
        else:
            # Every matching event of the batch is dealt with: move past the trailing ones that do not match.
            if not _advance(uow, subscription.name, events[-1]["seq"]):
                result.state = "busy"
                return result
    result.state = "more"
    return result


def _lock_cursor(uow: UnitOfWork, name: str, *, skip_locked: bool) -> Any:
    return uow.session.execute(
        select(SubscriptionCursor.position, SubscriptionCursor.failing_seq, SubscriptionCursor.retry_at,
               SubscriptionCursor.attempts)
        .where(SubscriptionCursor.name == name)
        .with_for_update(skip_locked=skip_locked)
    ).first()


def handle_event(uow: UnitOfWork, subscription: Subscription, event: dict[str, Any],
                 options: WorkerOptions) -> Outcome:
    """One event, one transaction: the handler's writes and the cursor move commit together or not at all."""
    seq = int(event["seq"])
    with uow:
        cursor = _lock_cursor(uow, subscription.name, skip_locked=True)
        if cursor is None:
            return "busy"  # another worker holds the subscription right now
        if cursor.position >= seq:
            return "behind"  # another worker handled it since we read
        if cursor.retry_at is not None and cursor.retry_at > uow.now():
            return "backoff"
        try:
            subscription.handler(uow, event)
            uow.session.execute(
                update(SubscriptionCursor).where(SubscriptionCursor.name == subscription.name)
                .values(position=seq, failing_seq=None, attempts=0, retry_at=None, updated_at=uow.now()))
            uow.commit()
        except Exception as exc:  # noqa: BLE001 - the handler's failure is recorded below, then retried
            failure = exc
        else:
            return "handled"
    # The handler's transaction has rolled back; record the attempt on its own.
    return "failed" if record_attempt(uow, subscription, event, failure, options) else "behind"


def record_attempt(uow: UnitOfWork, subscription: Subscription, event: dict[str, Any], exc: BaseException,
                   options: WorkerOptions) -> bool:
    """Count a failed attempt at the event (and park it when they ran out); False if it is no longer pending."""
    seq = int(event["seq"])
    error = error_text(exc)
    max_attempts = subscription.max_attempts or options.max_attempts
    with uow:
        cursor = _lock_cursor(uow, subscription.name, skip_locked=False)
        if cursor is None or cursor.position >= seq:
            return False  # meanwhile another worker got it through (or the failure came after the commit)
        attempts = (cursor.attempts if cursor.failing_seq == seq else 0) + 1
        now = uow.now()
        values: dict[str, Any] = {"last_error": error, "last_error_at": now, "updated_at": now}
        if attempts >= max_attempts:
            uow.session.add(SubscriptionFailure(
                subscription=subscription.name, event_seq=seq, event_id=event["id"], event_type=event["type"],
                error=error, attempts=attempts, failed_at=now))
            values |= {"position": seq, "failing_seq": None, "attempts": 0, "retry_at": None}
            log.error("subscription %s: event %s (%s) failed %d times; parked in subscription_failures: %s",
                      subscription.name, seq, event["type"], attempts, error.splitlines()[0])
        else:
            values |= {"failing_seq": seq, "attempts": attempts, "retry_at": now + options.backoff(attempts)}
            log.warning("subscription %s: event %s (%s) failed (attempt %d of %d), retry at %s: %s",
                        subscription.name, seq, event["type"], attempts, max_attempts,
                        values["retry_at"].isoformat(), error.splitlines()[0])
        uow.session.execute(
            update(SubscriptionCursor).where(SubscriptionCursor.name == subscription.name).values(**values))
        uow.commit()
    return True


def _parked(uow: UnitOfWork, name: str, seq: int) -> bool:
    with uow.reading():
        return uow.session.scalar(
            select(func.count()).select_from(SubscriptionFailure)
            .where(SubscriptionFailure.subscription == name, SubscriptionFailure.event_seq == seq)) == 1


def _advance(uow: UnitOfWork, name: str, seq: int) -> bool:
    """Move the cursor up to `seq` (events the subscription ignores); False when another worker holds it."""
    with uow:
        cursor = _lock_cursor(uow, name, skip_locked=True)
        if cursor is None:
            return False
        if cursor.position < seq:
            uow.session.execute(update(SubscriptionCursor).where(SubscriptionCursor.name == name)
                                .values(position=seq, updated_at=uow.now()))
            uow.commit()
        return True
