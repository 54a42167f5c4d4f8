"""Delivering a target's events through its connector: at least once, per-record order, retries with
exponential backoff and jitter, then dead letters.

Fresh events come from the outbox through the target's own cursor (no broker) or from its RabbitMQ queue
(broker). Either way they are cut into chunks without two events of one record, and for each chunk:
- events at or below their record's last dealt-with seq are duplicates (a relay re-publish): skipped;
- events of a record that has an event waiting in the retry queue are held behind it (queued, in order);
- the rest go to the connector; delivered ones move their record's state, retryable failures enter the retry
  queue with a backoff, permanent ones become dead letters;
all in one transaction that also moves the cursor (fenced by the target's lease); broker messages are acked
after it commits. The retry queue is served head-first per record, so an event failing for order 12 holds back
the later events of order 12 and nothing else. When every event sent in a chunk fails with a passing error, the
whole target pauses with backoff (the receiver is away; no need to try each event against it).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from teahub.db.uow import UnitOfWork, events_after
from teahub.sync import cursors, store
from teahub.sync.broker import BrokerConfig, BrokerError, QueueConsumer
from teahub.sync.connectors import Connector, Result, TargetConfig, make_connector
from teahub.sync.cursors import LeaseLost, target_cursor
from teahub.sync.models import SyncCursor, SyncTarget
from teahub.sync.rules import Backoff, binding_key, matches, record_key, split_distinct_records

log = logging.getLogger("teahub.sync")


@dataclass(frozen=True)
class DeliveryOptions:
    batch_size: int = 200
    backoff: Backoff = field(default_factory=Backoff)  # between attempts at one event
    pause: Backoff = field(default_factory=lambda: Backoff(timedelta(seconds=1), timedelta(seconds=60)))
    lease: timedelta = timedelta(seconds=60)
    fetch_wait: float = 0.2  # seconds to wait for broker messages per round
    idle_wait: float = 0.1  # seconds between rounds that found nothing (while running for a budget)


@dataclass(frozen=True)
class Target:
    config: TargetConfig
    patterns: tuple[str, ...]
    max_attempts: int
    enabled: bool
    bound_keys: tuple[str, ...] | None
    bound_seq: int = 0

    @property
    def id(self) -> int:
        return self.config.id

    @property
    def binding_keys(self) -> tuple[str, ...]:
        return tuple(sorted({binding_key(p) for p in self.patterns}))


def load_target(uow: UnitOfWork, target_id: int) -> Target | None:
    with uow.reading():
        row = uow.session.get(SyncTarget, target_id)
        if row is None:
            return None
        return Target(
            config=TargetConfig(id=row.id, name=row.name, kind=row.kind, url=row.url, secret=row.secret,
                                timeout_seconds=float(row.timeout_seconds), options=dict(row.options or {})),
            patterns=tuple(row.event_types), max_attempts=row.max_attempts, enabled=row.enabled,
            bound_keys=tuple(row.bound_keys) if row.bound_keys is not None else None, bound_seq=row.bound_seq or 0)


def enabled_target_ids(uow: UnitOfWork) -> list[int]:
    with uow.reading():
        return list(uow.session.scalars(select(SyncTarget.id).where(SyncTarget.enabled.is_(True))
                                        .order_by(SyncTarget.id)))


@dataclass
class PassResult:
    target: str
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    held: int = 0
    duplicates: int = 0
    state: str = "idle"  # idle | busy | paused | disabled | failed | stopped
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


class _Pass:
    """One pass over one target, holding its lease."""

    def __init__(self, uow: UnitOfWork, target: Target, holder: str, options: DeliveryOptions,
                 connector: Connector, result: PassResult) -> None:
        self.uow, self.target, self.holder, self.options = uow, target, holder, options
        self.connector, self.result = connector, result
        self.cursor = target_cursor(target.id)
        self.paused = False

    # -- results ------------------------------------------------------------------------------------------
    def _pause_or_resume(self, sent: int, results: list[Result], values: dict[str, Any]) -> None:
        if not sent:
            return
        delivered = sum(r.status == "delivered" for r in results)
        if delivered or not all(r.status == "retry" for r in results):
            values |= {"consecutive_failures": 0, "paused_until": None}
            return
        failures = self._failures + 1
        self._failures = failures
        pause = self.options.pause.delay(failures)
        values |= {"consecutive_failures": failures, "paused_until": self.uow.now() + pause,
                   "last_error": results[0].error, "last_error_at": self.uow.now()}
        self.paused = True
        log.warning("sync %s: every event sent failed (%s); pausing %.1fs", self.target.config.name,
                    (results[0].error or "").splitlines()[0][:200], pause.total_seconds())

    _failures = 0

    def _counters(self, results: list[Result], values: dict[str, Any], last_event: dict[str, Any] | None) -> None:
        delivered = sum(r.status == "delivered" for r in results)
        failed = len(results) - delivered
        now = self.uow.now()
        if delivered:
            values |= {"delivered": SyncCursor.delivered + delivered, "last_success_at": now}
            if last_event is not None:
                values["last_event_at"] = datetime.fromisoformat(last_event["occurred_at"])
        if failed:
            errors = [r.error for r in results if r.error]
            values |= {"failed": SyncCursor.failed + failed}
            if errors:
                values |= {"last_error": errors[-1], "last_error_at": now}

    def _retry_delay(self, result: Result, attempts: int) -> timedelta:
        delay = self.options.backoff.delay(attempts)
        if result.retry_after is not None:
            delay = max(delay, timedelta(seconds=min(result.retry_after, 3600)))
        return delay

    # -- fresh events -------------------------------------------------------------------------------------
    def fresh(self, events: list[dict[str, Any]], *, advance_to: int | None) -> int:
        """Deal with fresh events (seq order, matching the target). Returns how many were dealt with (a prefix
        of `events`; fewer when the target paused). `advance_to`: the cursor position once all are done."""
        handled = 0
        chunks = split_distinct_records(events)
        for index, chunk in enumerate(chunks):
            if self.paused:
                break
            self._fresh_chunk(chunk, advance_to if index == len(chunks) - 1 else None)
            handled += len(chunk)
        if not chunks and advance_to is not None:
            with self.uow:
                cursors.fenced_update(self.uow, self.cursor, self.holder, self.options.lease, position=advance_to)
                self.uow.commit()
        return handled

    def _fresh_chunk(self, chunk: list[dict[str, Any]], advance_to: int | None) -> None:
        tid = self.target.id
        keys = {record_key(e) for e in chunk}
        with self.uow.reading():
            blocked = store.blocked_records(self.uow.session, tid, keys)
            done = store.last_seqs(self.uow.session, tid, keys)
        send, hold = [], []
        for event in chunk:
            key = record_key(event)
            if event["seq"] <= done.get(key, 0):
                self.result.duplicates += 1
            elif key in blocked:
                hold.append(event)
            else:
                send.append(event)
        results = self._call(send)
        by_id = {e["id"]: e for e in send}
        with self.uow:
            session, now = self.uow.session, self.uow.now()
            delivered = [by_id[r.event_id] for r in results if r.status == "delivered"]
            store.records_done(session, tid, delivered, now, success=True)
            for r in results:
                event = by_id[r.event_id]
                if r.status == "retry" and self.target.max_attempts > 1:
                    store.enqueue(session, tid, event, attempts=1, next_attempt_at=now + self._retry_delay(r, 1),
                                  error=r.error)
                    store.record_failed_attempt(session, tid, event, r.error or "", now)
                elif r.status != "delivered":
                    store.dead_letter(session, tid, event, r.error or "", 1, now)
            for event in hold:
                store.enqueue(session, tid, event, attempts=0, next_attempt_at=now)
            values: dict[str, Any] = {}
            last_seq = max(e["seq"] for e in chunk)
            values["position"] = max(advance_to or 0, last_seq, self._position)
            self._position = values["position"]
            self._counters(results, values, delivered[-1] if delivered else None)
            self._pause_or_resume(len(send), results, values)
            cursors.fenced_update(self.uow, self.cursor, self.holder, self.options.lease, **values)
            self.uow.commit()
        self._tally(results)
        self.result.held += len(hold)

    _position = 0
    _bound_seq = 0

    def _call(self, events: list[dict[str, Any]]) -> list[Result]:
        if not events:
            return []
        try:
            results = self.connector.deliver(events)
        except Exception as exc:  # noqa: BLE001 - a connector bug must not lose events: retry them all
            results = [Result.retry(e["id"], f"connector failed: {type(exc).__name__}: {exc}") for e in events]
        answered = {r.event_id for r in results}
        results += [Result.retry(e["id"], "the connector gave no answer for this event")
                    for e in events if e["id"] not in answered]
        return results

    def _tally(self, results: list[Result]) -> None:
        for r in results:
            if r.status == "delivered":
                self.result.delivered += 1
            elif r.status == "retry":
                self.result.retried += 1
            else:
                self.result.dead += 1

    # -- the retry queue ----------------------------------------------------------------------------------
    def retries(self) -> int:
        """Attempt the due head of each waiting record once. Returns how many were attempted."""
        tid = self.target.id
        with self.uow.reading():
            heads = store.due_heads(self.uow.session, tid, self.uow.now(), self.options.batch_size)
        if not heads:
            return 0
        events = [h["event"] for h in heads]
        results = self._call(events)
        by_id = {h["event"]["id"]: h for h in heads}
        with self.uow:
            session, now = self.uow.session, self.uow.now()
            delivered = []
            for r in results:
                head = by_id[r.event_id]
                event, attempts = head["event"], head["attempts"] + 1
                if r.status == "delivered":
                    delivered.append(event)
                    store.pending_done(session, head["id"])
                    if head["dead_letter_id"] is not None:
                        store.resolve_dead_letter(session, head["dead_letter_id"], now)
                elif r.status == "retry" and attempts < self.target.max_attempts:
                    store.pending_retry_later(session, head["id"], attempts, now + self._retry_delay(r, attempts),
                                              r.error or "")
                    store.record_failed_attempt(session, tid, event, r.error or "", now)
                else:
                    store.pending_done(session, head["id"])
                    store.dead_letter(session, tid, event, r.error or "", attempts, now)
                    log.error("sync %s: event %s (%s) dead-lettered after %d attempts: %s",
                              self.target.config.name, event["seq"], event["type"], attempts,
                              (r.error or "").splitlines()[0][:200])
            store.records_done(session, tid, delivered, now, success=True)
            values: dict[str, Any] = {}
            self._counters(results, values, None)
            self._pause_or_resume(len(events), results, values)
            cursors.fenced_update(self.uow, self.cursor, self.holder, self.options.lease, **values)
            self.uow.commit()
        self._tally(results)
        return len(heads)

    # -- sources ------------------------------------------------------------------------------------------
    def from_outbox(self, up_to: int | None = None) -> int:
        """One batch of fresh events from the outbox after the cursor (at most up to seq `up_to`)."""
        with self.uow.reading():
            events = [e.envelope() for e in events_after(self.uow.session, self._position, self.options.batch_size)]
        if up_to is not None:
            events = [e for e in events if e["seq"] <= up_to]
        if not events:
            return 0
        wanted = [e for e in events if matches(self.target.patterns, e["type"])]
        self.fresh(wanted, advance_to=events[-1]["seq"])
        return len(events)

    def from_queue(self, consumer: QueueConsumer) -> int:
        messages = consumer.fetch(self.options.batch_size, self.options.fetch_wait)
        if not messages:
            return 0
        # Events up to bound_seq were delivered from the outbox when the queue was bound (or predate the target).
        wanted_tags = [(tag, e) for tag, e in messages
                       if e["seq"] > self._bound_seq and matches(self.target.patterns, e["type"])]
        handled = self.fresh([e for _, e in wanted_tags], advance_to=None)
        if handled == len(wanted_tags):
            last_tag = messages[-1][0]
        elif handled:
            last_tag = wanted_tags[handled - 1][0]
        else:
            return 0
        consumer.ack_upto(last_tag)
        # Unwanted messages up to last_tag (stale bindings) are acked too: nothing is owed for them.
        return handled or 1


def deliver(uow: UnitOfWork, target_id: int, *, broker: BrokerConfig | None = None, budget: float = 0.0,
            stop: threading.Event | None = None, options: DeliveryOptions | None = None,
            holder: str | None = None) -> PassResult:
    """Deliver what target `target_id` owes: its due retries and its fresh events, until caught up (budget 0)
    or for `budget` seconds, or until `stop` is set or the target pauses."""
    options = options or DeliveryOptions()
    target = load_target(uow, target_id)
    result = PassResult(target=target.config.name if target else str(target_id))
    if target is None or not target.enabled:
        result.state = "disabled"
        return result
    holder = holder or cursors.holder_id(f"sync:{target.config.name}")
    cursor = target_cursor(target.id)
    cursors.ensure(uow, cursor)
    lease = cursors.claim(uow, cursor, holder, options.lease)
    if lease is None:
        result.state = "busy"
        return result
    consumer: QueueConsumer | None = None
    connector: Connector | None = None
    try:
        if lease.paused_until is not None and lease.paused_until > uow.now():
            result.state = "paused"
            return result
        connector = make_connector(target.config, uow.session_factory)
        run = _Pass(uow, target, holder, options, connector, result)
        run._position, run._failures = lease.position, lease.consecutive_failures
        run._bound_seq = target.bound_seq
        if broker is not None:
            consumer = _open_queue(uow, run, broker)
        deadline = time.monotonic() + budget
        while not run.paused:
            work = run.retries()
            if not run.paused:
                work += run.from_queue(consumer) if consumer is not None else run.from_outbox()
            if consumer is not None and not work:
                _queue_drained(uow, run, consumer)
            if stop is not None and stop.is_set():
                result.state = "stopped"
                break
            if work:
                continue
            if time.monotonic() >= deadline:
                break
            if consumer is None:
                (stop.wait if stop is not None else time.sleep)(options.idle_wait)
        if run.paused:
            result.state = "paused"
    except LeaseLost:
        result.state = "busy"
    except BrokerError as exc:
        result.state, result.error = "failed", str(exc)
        log.warning("sync %s: %s", target.config.name, exc)
        with contextlib.suppress(LeaseLost):
            cursors.record_failure(uow, cursor, holder, options.lease, str(exc),
                                   options.pause.delay(lease.consecutive_failures + 1))
    finally:
        if consumer is not None:
            consumer.close()
        if connector is not None:
            connector.close()
        cursors.release(uow, cursor, holder)
    return result


def _open_queue(uow: UnitOfWork, run: _Pass, broker: BrokerConfig) -> QueueConsumer:
    """Declare and bind the target's queue; when the bindings change (first use, new event types), deliver
    from the outbox what was published before the queue could receive it (duplicates are skipped)."""
    target = run.target
    consumer = QueueConsumer(broker, target.config.name, prefetch=max(run.options.batch_size * 2, 100))
    try:
        if target.bound_keys != target.binding_keys:
            consumer.bind(target.binding_keys, target.bound_keys or ())
            with uow.reading():
                newest = cursors.newest_committed_seq(uow)
            while run._position < newest and not run.paused:
                if not run.from_outbox(up_to=newest):
                    break
            with uow:
                row = uow.session.get(SyncTarget, target.id)
                if row is not None:
                    row.bound_keys, row.bound_seq = list(target.binding_keys), newest
                cursors.fenced_update(uow, run.cursor, run.holder, run.options.lease,
                                      position=max(run._position, newest))
                uow.commit()
            run._position, run._bound_seq = max(run._position, newest), newest
    except BaseException:
        consumer.close()
        raise
    return consumer


def _queue_drained(uow: UnitOfWork, run: _Pass, consumer: QueueConsumer) -> None:
    """Nothing in hand and nothing ready: every event the relay has published so far has been dealt with."""
    with uow.reading():
        relay = uow.session.get(SyncCursor, cursors.RELAY)
        relayed = relay.position if relay is not None else 0
    if relayed > run._position and consumer.ready_count() == 0 and not consumer.buffer:
        with uow:
            cursors.fenced_update(uow, run.cursor, run.holder, run.options.lease, position=relayed)
            uow.commit()
        run._position = relayed


def deliver_all(uow: UnitOfWork, *, broker: BrokerConfig | None = None, budget: float = 0.0,
                options: DeliveryOptions | None = None) -> list[dict[str, Any]]:
    """One pass over every enabled target."""
    return [deliver(uow, tid, broker=broker, budget=budget, options=options).as_dict()
            for tid in enabled_target_ids(uow)]
