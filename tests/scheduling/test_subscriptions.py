"""Subscriptions: each outbox event has exactly one effect per subscription, in seq order, even when the handler
crashes after writing, the worker dies midway, or several workers drain the same subscription at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, Table, select
from sqlalchemy.orm import Session, sessionmaker

from teahub.db.uow import UnitOfWork
from teahub.scheduling import Registry
from teahub.scheduling.models import SubscriptionCursor
from teahub.worker import Runner, WorkerOptions
from tests.scheduling.conftest import FakeClock, cursor, effect_rows, record_events, write_effect


class WorkerKilled(BaseException):
    """Stands for the process dying: not an error the runner catches."""


def runner(factory: sessionmaker[Session], registry: Registry, clock: FakeClock, **options: Any) -> Runner:
    return Runner(factory, registry=registry, clock=clock, options=WorkerOptions(**options))


def test_a_crash_after_the_handlers_write_rolls_it_back_and_the_retry_has_one_effect(
        factory: sessionmaker[Session], registry: Registry, clock: FakeClock, effects: Table) -> None:
    calls: list[int] = []

    def handler(uow: UnitOfWork, event: dict[str, Any]) -> None:
        calls.append(event["seq"])
        write_effect(uow, "test.effects", event)
        if len(calls) == 1:
            raise RuntimeError("crash after the write")

    registry.subscribe("test.effects", ["thing.happened"], handler, start="beginning")
    (event,) = record_events(factory, ("thing.happened", {"n": 1}))
    work = runner(factory, registry, clock)

    (result,) = work.run_once()["subscriptions"]
    assert result["failed"] == 1 and result["handled"] == 0 and result["state"] == "failing"
    assert effect_rows(factory) == []
    row = cursor(factory, "test.effects")
    assert row.position == 0 and row.attempts == 1 and row.failing_seq == event["seq"]
    assert row.retry_at == clock() + timedelta(seconds=1)
    assert row.last_error is not None and "crash after the write" in row.last_error

    assert work.run_once()["subscriptions"] == [{"subscription": "test.effects", "handled": 0, "failed": 0,
                                                 "parked": 0, "state": "backoff"}]
    assert len(calls) == 1  # not retried before its time

    clock.advance(seconds=1)
    assert work.run_once()["subscriptions"][0]["handled"] == 1
    assert work.run_once()["subscriptions"] == []  # caught up: nothing to report
    assert effect_rows(factory) == [(event["id"], event["seq"])]
    row = cursor(factory, "test.effects")
    assert row.position == event["seq"] and row.attempts == 0 and row.retry_at is None and row.failing_seq is None
    assert row.last_error is not None  # kept for the status page


def test_a_worker_dying_midway_leaves_no_effect_and_the_next_worker_applies_it_once(
        factory: sessionmaker[Session], registry: Registry, clock: FakeClock, effects: Table) -> None:
    deaths = [1]

    def handler(uow: UnitOfWork, event: dict[str, Any]) -> None:
        write_effect(uow, "test.effects", event)
        if event["payload"]["n"] == 2 and deaths:
            deaths.pop()
            raise WorkerKilled()

    registry.subscribe("test.effects", ["thing.happened"], handler, start="beginning")
    events = record_events(factory, *[("thing.happened", {"n": n}) for n in range(1, 4)])
    with pytest.raises(WorkerKilled):
        runner(factory, registry, clock).run_once()
    assert effect_rows(factory) == [(events[0]["id"], events[0]["seq"])]
    assert cursor(factory, "test.effects").position == events[0]["seq"]
    assert cursor(factory, "test.effects").attempts == 0  # a dying worker records nothing

    runner(factory, registry, clock).run_once()
    assert effect_rows(factory) == [(e["id"], e["seq"]) for e in events]
    assert cursor(factory, "test.effects").position == events[-1]["seq"]


def test_the_cursor_follows_seq_order_and_skips_events_the_subscription_ignores(
        factory: sessionmaker[Session], registry: Registry, clock: FakeClock) -> None:
    seen: list[tuple[int, str]] = []
    registry.subscribe("test.orders", ["order.*"], lambda _uow, e: seen.append((e["seq"], e["type"])),
                       start="beginning")
    events = record_events(factory, ("order.placed", {}), ("stock.changed", {}), ("order.paid", {}),
                           ("customer.created", {}), ("order.shipped", {}), ("stock.changed", {}),
                           ("stock.changed", {}))
    # Small batches and one event per pass: the cursor must carry the order across reads and passes.
    work = runner(factory, registry, clock, batch_size=2, max_events_per_pass=1)
    states: list[str] = []
    while not states or states[-1] != "idle":
        summary = work.run_once()["subscriptions"]
        states.append(summary[0]["state"] if summary else "idle")
    assert states == ["more", "more", "more", "idle"]
    assert seen == [(e["seq"], e["type"]) for e in events if e["type"].startswith("order.")]
    assert cursor(factory, "test.orders").position == events[-1]["seq"]


def test_a_new_subscription_starts_after_the_newest_event_unless_told_otherwise(
        factory: sessionmaker[Session], registry: Registry, clock: FakeClock) -> None:
    late: list[int] = []
    everything: list[int] = []
    registry.subscribe("test.late", ["*"], lambda _uow, e: late.append(e["seq"]))
    registry.subscribe("test.everything", ["*"], lambda _uow, e: everything.append(e["seq"]), start="beginning")
    old = record_events(factory, ("thing.happened", {}), ("thing.happened", {}))
    runner(factory, registry, clock).run_once()
    new = record_events(factory, ("thing.happened", {}))
    runner(factory, registry, clock).run_once()
    assert late == [new[0]["seq"]]
    assert everything == [e["seq"] for e in old + new]


def test_the_handler_writes_in_the_runners_transaction_with_its_own_events(
        factory: sessionmaker[Session], registry: Registry, clock: FakeClock) -> None:
    def react(uow: UnitOfWork, event: dict[str, Any]) -> None:
        with uow:  # a service called from the handler joins the transaction
            uow.record_event("thing.reacted", "reaction", event["id"], {"to": event["seq"]})
            uow.commit()

    registry.subscribe("test.react", ["thing.happened"], react, start="beginning")
    (event,) = record_events(factory, ("thing.happened", {}))
    runner(factory, registry, clock).run_once()
    from teahub.db.outbox import OutboxEvent

    with factory() as session:
        reactions = session.scalars(select(OutboxEvent).where(OutboxEvent.type == "thing.reacted")).all()
    assert [r.payload for r in reactions] == [{"to": event["seq"]}]


RUNNERS = 4
EVENTS = 240


def test_concurrent_runners_never_handle_the_same_event_twice(
        factory: sessionmaker[Session], registry: Registry, clock: FakeClock, effects: Table) -> None:
    def handler(uow: UnitOfWork, event: dict[str, Any]) -> None:
        # A read between the check and the write widens the window a broken lock would leave open.
        uow.session.execute(select(SubscriptionCursor.position)).all()
        write_effect(uow, "test.effects", event)

    registry.subscribe("test.effects", ["thing.happened"], handler, start="beginning")
    writing_done = threading.Event()
    barrier = threading.Barrier(RUNNERS + 1)

    def write() -> None:
        barrier.wait()
        for batch in range(EVENTS // 10):
            record_events(factory, *[("thing.happened", {"batch": batch, "i": i}) for i in range(10)])
            record_events(factory, ("noise.happened", {}))
        writing_done.set()

    def drain(i: int) -> None:
        work = Runner(factory, registry=registry, clock=clock, worker_id=f"runner-{i}",
                      options=WorkerOptions(batch_size=7))
        barrier.wait()
        while True:
            finished = writing_done.is_set()
            work.drain_subscriptions()
            if finished and caught_up():
                return

    def caught_up() -> bool:
        from teahub.db.outbox import OutboxEvent

        with factory() as session:
            newest = session.scalar(select(OutboxEvent.seq).order_by(OutboxEvent.seq.desc()).limit(1))
            return session.get(SubscriptionCursor, "test.effects").position == newest  # type: ignore[union-attr]

    with ThreadPoolExecutor(RUNNERS + 1) as pool:
        futures = [pool.submit(write)] + [pool.submit(drain, i) for i in range(RUNNERS)]
        for future in futures:
            future.result(timeout=300)

    rows = effect_rows(factory)
    assert len(rows) == EVENTS
    assert len({event_id for event_id, _ in rows}) == EVENTS
    assert [seq for _, seq in rows] == sorted(seq for _, seq in rows)  # handled in seq order


def test_a_subscription_held_by_another_worker_is_skipped_not_waited_for(
        engine: Engine, factory: sessionmaker[Session], registry: Registry, clock: FakeClock) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serializes writers; there is no row lock to skip")
    seen: list[int] = []
    registry.subscribe("test.held", ["*"], lambda _uow, e: seen.append(e["seq"]), start="beginning")
    work = runner(factory, registry, clock)
    work.run_once()  # creates the cursor
    record_events(factory, ("thing.happened", {}))
    other_worker = factory()
    other_worker.execute(select(SubscriptionCursor).where(SubscriptionCursor.name == "test.held").with_for_update())
    pool = ThreadPoolExecutor(1)
    try:
        # In a thread, so that a runner that waited for the lock fails the test instead of hanging it.
        (result,) = pool.submit(work.run_once).result(timeout=60)["subscriptions"]
    finally:
        other_worker.rollback()
        other_worker.close()
        pool.shutdown()
    assert result["state"] == "busy" and seen == []
    assert work.run_once()["subscriptions"][0]["handled"] == 1 and len(seen) == 1
