"""The worker's entry points: one pass, the loop, the embedded thread, status, and finding tasks.py modules."""

from __future__ import annotations

import threading
from datetime import time, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from teahub import worker
from teahub.db.uow import UnitOfWork
from teahub.scheduling import Daily, Every, Registry, default_registry, load_tasks
from teahub.scheduling.jobs import claim_slot
from teahub.worker import Runner, run_once, start_embedded, status
from tests.scheduling.conftest import FakeClock, record_events


def test_run_once_runs_due_jobs_and_drains_subscriptions(engine: Engine, factory: sessionmaker[Session],
                                                         registry: Registry, clock: FakeClock) -> None:
    seen: list[str] = []
    registry.register_job(name="test.count", cadence=Every(timedelta(hours=1)), run=lambda _uow: {"counted": 2})
    registry.subscribe("test.seen", ["thing.*"], lambda _uow, e: seen.append(e["id"]), start="beginning")
    events = record_events(factory, ("thing.happened", {}), ("thing.happened", {}))

    summary = run_once(engine, registry=registry, clock=clock)
    assert summary["at"] == clock().isoformat()
    assert summary["jobs"] == [{"job": "test.count", "slot": clock().isoformat(), "attempt": 1,
                                "outcome": "succeeded", "recorded": True}]
    assert summary["subscriptions"] == [{"subscription": "test.seen", "handled": 2, "failed": 0, "parked": 0,
                                         "state": "idle"}]
    assert seen == [e["id"] for e in events]
    assert run_once(engine, registry=registry, clock=clock)["jobs"] == []


def test_status_reports_jobs_and_subscriptions(factory: sessionmaker[Session], registry: Registry,
                                               clock: FakeClock) -> None:
    def broken(_uow: UnitOfWork) -> None:
        raise RuntimeError("no connection to the SMS gateway")

    registry.register_job(name="test.fine", cadence=Every(timedelta(minutes=30)), run=lambda _uow: {"sent": 4})
    registry.register_job(name="test.broken", cadence=Daily(at=time(3, 0)), run=broken)
    registry.register_job(name="test.never", cadence=Every(timedelta(minutes=30)), run=lambda _uow: None)
    registry.subscribe("test.behind", ["order.*"], lambda _uow, _e: None, start="beginning")
    Runner(factory, registry=Registry(jobs={k: v for k, v in registry.jobs.items() if k != "test.never"}),
           clock=clock).run_jobs()
    claim_slot(UnitOfWork(factory, clock=clock), "test.stuck", clock(), "dead", timedelta(minutes=10))
    Runner(factory, registry=registry, clock=clock).drain_subscriptions()  # cursor at 0
    record_events(factory, ("order.placed", {}), ("stock.changed", {}), ("order.paid", {}))
    clock.advance(minutes=11)

    report = status(UnitOfWork(factory, clock=clock), registry)
    assert report["newest_seq"] == 3
    jobs = {job["name"]: job for job in report["jobs"]}
    assert set(jobs) == {"test.fine", "test.broken", "test.never", "test.stuck"}
    fine = jobs["test.fine"]
    assert fine["cadence"] == "every 0:30:00" and fine["registered"]
    assert fine["last_run"]["status"] == "succeeded" and fine["last_run"]["result"] == {"sent": 4}
    assert fine["last_success_at"] == fine["last_run"]["finished_at"]
    broken_run = jobs["test.broken"]["last_run"]
    assert broken_run["status"] == "failed" and "SMS gateway" in broken_run["error"]
    assert jobs["test.broken"]["last_success_at"] is None
    assert jobs["test.never"]["last_run"] is None
    assert not jobs["test.stuck"]["registered"] and jobs["test.stuck"]["last_run"]["status"] == "stale"
    (sub,) = report["subscriptions"]
    assert sub == {"name": "test.behind", "registered": True, "event_types": ["order.*"], "position": 0, "lag": 3,
                   "failing_seq": None, "attempts": 0, "retry_at": None, "last_error": None,
                   "last_error_at": None, "failures": 0}

    Runner(factory, registry=registry, clock=clock).drain_subscriptions()
    (sub,) = status(UnitOfWork(factory, clock=clock), registry)["subscriptions"]
    assert sub["position"] == 3 and sub["lag"] == 0


def test_run_forever_keeps_going_after_a_failed_pass_and_stops_when_told(
        engine: Engine, registry: Registry, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    stop = threading.Event()
    passes: list[str] = []
    real_run_once = Runner.run_once

    def flaky_pass(self: Runner) -> dict[str, Any]:
        passes.append("pass")
        if len(passes) == 1:
            raise OSError("database went away")
        summary = real_run_once(self)
        stop.set()
        return summary

    monkeypatch.setattr(Runner, "run_once", flaky_pass)
    registry.register_job(name="test.once", cadence=Every(timedelta(hours=1)), run=lambda _uow: None)
    worker.run_forever(engine, stop, poll_seconds=0.01, registry=registry, clock=clock)
    assert passes == ["pass", "pass"]


def test_the_embedded_worker_handles_events_in_a_daemon_thread(engine: Engine, factory: sessionmaker[Session],
                                                               registry: Registry) -> None:
    handled = threading.Event()
    registry.subscribe("test.embedded", ["thing.happened"], lambda _uow, _e: handled.set(), start="beginning")
    record_events(factory, ("thing.happened", {}))
    thread, stop = start_embedded(engine, poll_seconds=0.01, registry=registry)
    try:
        assert thread.daemon and thread.name == "teahub-worker"
        assert handled.wait(timeout=60), "the embedded worker did not handle the event"
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not thread.is_alive()


def test_load_tasks_imports_the_tasks_modules_that_exist() -> None:
    assert load_tasks(["db", "no_such_capability"]) == []
    assert load_tasks(["scheduling"]) == ["teahub.scheduling.tasks"]
    assert "scheduling.prune_job_runs" in default_registry.jobs
    assert load_tasks(["scheduling"]) == ["teahub.scheduling.tasks"]  # again: nothing registered twice


def test_registering_twice_or_nonsense_is_refused(registry: Registry) -> None:
    registry.register_job(name="test.job", cadence=Every(timedelta(hours=1)), run=lambda _uow: None)
    with pytest.raises(ValueError, match="already registered"):
        registry.register_job(name="test.job", cadence=Every(timedelta(hours=2)), run=lambda _uow: None)
    registry.subscribe("test.sub", "order.paid", lambda _uow, _e: None)
    assert registry.subscriptions["test.sub"].event_types == ("order.paid",)
    with pytest.raises(ValueError, match="already registered"):
        registry.subscribe("test.sub", ["order.paid"], lambda _uow, _e: None)
    with pytest.raises(ValueError):
        registry.subscribe("test.none", [], lambda _uow, _e: None)
    with pytest.raises(ValueError):
        registry.subscribe("x" * 101, ["*"], lambda _uow, _e: None)
    with pytest.raises(ValueError):
        registry.subscribe("test.zero", ["*"], lambda _uow, _e: None, max_attempts=0)
