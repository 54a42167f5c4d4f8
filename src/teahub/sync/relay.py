"""The relay: outbox → RabbitMQ, at least once, in seq order.

It reads committed events after its cursor (`events_after`, gap-free), publishes them with publisher confirms,
and moves its cursor only once the broker confirmed the whole batch, in a transaction fenced by its lease (one
relay at a time, however many workers run). Killed mid-batch, it publishes the batch again on its next run:
duplicates (same message_id = event id), never loss. Broker away: the pass fails, the cursor stays, the relay
pauses with backoff and tries again.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from teahub.db.uow import UnitOfWork, events_after
from teahub.sync import cursors
from teahub.sync.broker import BrokerConfig, BrokerError, Publisher
from teahub.sync.cursors import RELAY, LeaseLost
from teahub.sync.models import SyncCursor
from teahub.sync.rules import Backoff

log = logging.getLogger("teahub.sync")


@dataclass(frozen=True)
class RelayOptions:
    batch_size: int = 1000
    lease: timedelta = timedelta(seconds=60)
    pause: Backoff = field(default_factory=lambda: Backoff(timedelta(seconds=1), timedelta(seconds=60)))
    idle_wait: float = 0.05  # seconds between polls of an empty outbox (while running for a budget)


@dataclass
class RelayResult:
    published: int = 0
    batches: int = 0
    position: int = 0
    state: str = "idle"  # idle | busy | paused | failed | stopped
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"published": self.published, "batches": self.batches, "position": self.position,
                "state": self.state, **({"error": self.error} if self.error else {})}


PublisherFactory = Callable[[BrokerConfig], Publisher]


def relay(uow: UnitOfWork, config: BrokerConfig, *, budget: float = 0.0, stop: threading.Event | None = None,
          options: RelayOptions | None = None, holder: str | None = None,
          publisher_factory: PublisherFactory = Publisher) -> RelayResult:
    """Publish pending events until caught up (budget 0) or for `budget` seconds (polling while idle), or until
    `stop` is set. Raises BrokerError after recording it when the broker fails (the cursor did not move)."""
    options = options or RelayOptions()
    holder = holder or cursors.holder_id("relay")
    cursors.ensure(uow, RELAY, position=0)  # from the first event: nothing recorded is ever skipped
    lease = cursors.claim(uow, RELAY, holder, options.lease)
    result = RelayResult()
    if lease is None:
        result.state = "busy"
        return result
    result.position = lease.position
    try:
        if lease.paused_until is not None and lease.paused_until > uow.now():
            result.state = "paused"
            return result
        try:
            publisher = publisher_factory(config)
        except BrokerError as exc:
            _failed(uow, holder, options, lease.consecutive_failures, exc, result)
            raise
        try:
            deadline = time.monotonic() + budget
            while True:
                published = _relay_batch(uow, publisher, holder, result.position, options, result)
                if stop is not None and stop.is_set():
                    result.state = "stopped"
                    break
                if published:
                    continue
                if time.monotonic() >= deadline:
                    break
                (stop.wait if stop is not None else time.sleep)(options.idle_wait)
        except BrokerError as exc:
            _failed(uow, holder, options, lease.consecutive_failures, exc, result)
            raise
        finally:
            publisher.close()
    except LeaseLost:
        result.state = "busy"
        log.warning("relay %s: lease taken over; stopping", holder)
        return result
    finally:
        cursors.release(uow, RELAY, holder)
    return result


def _relay_batch(uow: UnitOfWork, publisher: Publisher, holder: str, position: int, options: RelayOptions,
                 result: RelayResult) -> int:
    # A short read transaction: on PostgreSQL events_after holds the outbox reader lock until it ends.
    with uow.reading():
        events = [event.envelope() for event in events_after(uow.session, position, options.batch_size)]
    if not events:
        return 0
    publisher.publish(events)
    last = events[-1]
    with uow:
        now = uow.now()
        cursors.fenced_update(uow, RELAY, holder, options.lease, position=last["seq"],
                              delivered=SyncCursor.delivered + len(events), last_success_at=now,
                              last_event_at=datetime.fromisoformat(last["occurred_at"]), consecutive_failures=0,
                              paused_until=None)
        uow.commit()
    result.published += len(events)
    result.batches += 1
    result.position = last["seq"]
    return len(events)


def _failed(uow: UnitOfWork, holder: str, options: RelayOptions, failures: int, exc: BaseException,
            result: RelayResult) -> None:
    error = f"{type(exc).__name__}: {exc}"
    result.state, result.error = "failed", error
    pause = options.pause.delay(failures + 1)
    log.warning("relay %s: %s; cursor stays at %s, retrying in %.1fs", holder, error, result.position,
                pause.total_seconds())
    with contextlib.suppress(LeaseLost):
        cursors.record_failure(uow, RELAY, holder, options.lease, error, pause)
