"""A poison event: retried with exponential backoff, parked in subscription_failures after N attempts so the
events behind it go through, listed for an operator and retried later with exactly one effect."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session, sessionmaker

from teahub.db.uow import UnitOfWork
from teahub.scheduling import Registry
from teahub.scheduling.failures import list_failures, retry_failures
from teahub.worker import Runner, WorkerOptions, status
from tests.scheduling.conftest import FakeClock, cursor, effect_rows, record_events, write_effect

NAME = "test.poisoned"


class Handler:
    """Writes an effect, except for events marked poison while `broken`."""

    def __init__(self) -> None:
        self.broken = True
        self.poison_calls = 0

    def __call__(self, uow: UnitOfWork, event: dict[str, Any]) -> None:
        write_effect(uow, NAME, event)
        if event["payload"].get("poison"):
            self.poison_calls += 1
            if self.broken:
                raise ValueError(f"cannot apply {event['payload']['name']}")


def arrange(factory: sessionmaker[Session], registry: Registry, clock: FakeClock,
            max_attempts: int = 3) -> tuple[Handler, Runner, list[dict[str, Any]]]:
    handler = Handler()
    registry.subscribe(NAME, ["thing.*"], handler, start="beginning", max_attempts=max_attempts)
    events = record_events(factory, ("thing.happened", {"name": "ok-1"}),
                           ("thing.happened", {"name": "poison", "poison": True}),
                           ("thing.happened", {"name": "ok-2"}), ("other.happened", {"name": "ignored"}),
                           ("thing.happened", {"name": "ok-3"}))
    runner = Runner(factory, registry=registry, clock=clock, options=WorkerOptions(backoff_base=timedelta(seconds=5)))
    return handler, runner, events


def test_a_poison_event_is_parked_after_its_attempts_and_the_rest_go_through(
        factory: sessionmaker[Session], registry: Registry, clock: FakeClock, effects: Table) -> None:
    handler, runner, events = arrange(factory, registry, clock)
    ok1, poison, ok2, _ignored, ok3 = events

    runner.run_once()
    assert effect_rows(factory) == [(ok1["id"], ok1["seq"])]
    row = cursor(factory, NAME)
    assert (row.position, row.attempts, row.failing_seq) == (ok1["seq"], 1, poison["seq"])
    assert row.retry_at == clock() + timedelta(seconds=5)

    clock.advance(seconds=4)
    runner.run_once()
    assert handler.poison_calls == 1  # still backing off
    clock.advance(seconds=1)
    runner.run_once()
    assert handler.poison_calls == 2
    row = cursor(factory, NAME)
    assert row.attempts == 2 and row.retry_at == clock() + timedelta(seconds=10)  # doubled

    clock.advance(seconds=10)
    (summary,) = runner.run_once()["subscriptions"]
    assert summary == {"subscription": NAME, "handled": 2, "failed": 1, "parked": 1, "state": "idle"}
    assert handler.poison_calls == 3
    assert effect_rows(factory) == [(e["id"], e["seq"]) for e in (ok1, ok2, ok3)]
    row = cursor(factory, NAME)
    assert row.position == ok3["seq"] and row.attempts == 0 and row.retry_at is None
    assert row.last_error is not None and "cannot apply poison" in row.last_error

    (failure,) = list_failures(UnitOfWork(factory))
    assert failure["subscription"] == NAME and failure["event_id"] == poison["id"]
    assert failure["event_seq"] == poison["seq"] and failure["event_type"] == "thing.happened"
    assert failure["attempts"] == 3 and failure["error"].startswith("ValueError: cannot apply poison")
    assert failure["resolved_at"] is None

    (sub,) = status(UnitOfWork(factory, clock=clock), registry)["subscriptions"]
    assert sub["failures"] == 1 and sub["lag"] == 0 and sub["position"] == ok3["seq"]


def test_a_parked_event_retried_after_the_fix_has_exactly_one_effect(
        factory: sessionmaker[Session], registry: Registry, clock: FakeClock, effects: Table) -> None:
    handler, runner, events = arrange(factory, registry, clock, max_attempts=1)
    poison = events[1]
    runner.run_once()
    assert len(list_failures(UnitOfWork(factory))) == 1

    # Still broken: the retry fails, counts, and the failure stays listed.
    assert retry_failures(UnitOfWork(factory, clock=clock), registry=registry) == {
        "resolved": 0, "failed": 1, "skipped": 0}
    (failure,) = list_failures(UnitOfWork(factory))
    assert failure["attempts"] == 2 and failure["retried_at"] == clock().isoformat()
    assert poison["id"] not in [event_id for event_id, _ in effect_rows(factory)]

    handler.broken = False
    clock.advance(hours=1)
    assert retry_failures(UnitOfWork(factory, clock=clock), NAME, registry=registry) == {
        "resolved": 1, "failed": 0, "skipped": 0}
    assert [event_id for event_id, _ in effect_rows(factory)].count(poison["id"]) == 1
    assert list_failures(UnitOfWork(factory)) == []
    (resolved,) = list_failures(UnitOfWork(factory), include_resolved=True)
    assert resolved["resolved_at"] == clock().isoformat() and resolved["attempts"] == 3

    # Nothing left to retry; the event is not applied again.
    assert retry_failures(UnitOfWork(factory, clock=clock), registry=registry)["resolved"] == 0
    assert [event_id for event_id, _ in effect_rows(factory)].count(poison["id"]) == 1


def test_failures_of_a_subscription_not_registered_here_are_skipped(
        factory: sessionmaker[Session], registry: Registry, clock: FakeClock, effects: Table) -> None:
    _handler, runner, _events = arrange(factory, registry, clock, max_attempts=1)
    runner.run_once()
    assert retry_failures(UnitOfWork(factory), registry=Registry()) == {"resolved": 0, "failed": 0, "skipped": 1}
    assert retry_failures(UnitOfWork(factory), "another.subscription", registry=registry) == {
        "resolved": 0, "failed": 0, "skipped": 0}
    assert len(list_failures(UnitOfWork(factory), NAME)) == 1
    assert list_failures(UnitOfWork(factory), "another.subscription") == []


def test_the_default_number_of_attempts_is_ten(factory: sessionmaker[Session], registry: Registry,
                                               clock: FakeClock) -> None:
    def always_fails(_uow: UnitOfWork, _event: dict[str, Any]) -> None:
        raise RuntimeError("no")

    registry.subscribe("test.doomed", ["*"], always_fails, start="beginning")
    record_events(factory, ("thing.happened", {}))
    runner = Runner(factory, registry=registry, clock=clock)
    for attempt in range(1, 10):
        runner.run_once()
        assert cursor(factory, "test.doomed").attempts == attempt
        clock.advance(hours=1)
    assert list_failures(UnitOfWork(factory)) == []
    runner.run_once()
    assert [f["attempts"] for f in list_failures(UnitOfWork(factory))] == [10]
