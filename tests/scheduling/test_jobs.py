"""Scheduled jobs run once per slot however many workers race for it; a dead worker's claim is taken over
once its lease ran out (by exactly one worker); a worker that was down runs the latest slot once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from teahub.db.uow import UnitOfWork
from teahub.scheduling import Daily, Every, Registry
from teahub.scheduling.jobs import claim_slot, finish_run, prune_job_runs
from teahub.scheduling.models import JobRun
from teahub.worker import Runner, WorkerOptions
from tests.scheduling.conftest import FakeClock

WORKERS = 8
QUARTER = Every(timedelta(minutes=15))


def runs(factory: sessionmaker[Session], job: str) -> list[JobRun]:
    with factory() as session:
        return list(session.scalars(select(JobRun).where(JobRun.job == job).order_by(JobRun.slot)))


class Calls:
    """Counts a job's runs, thread-safely, with the moment (fake clock) each ran at."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.at: list[datetime] = []

    def __call__(self, uow: UnitOfWork) -> dict[str, Any]:
        with self.lock:
            self.at.append(uow.now())
            return {"run": len(self.at)}


def race(factory: sessionmaker[Session], registry: Registry, clock: FakeClock,
         options: WorkerOptions | None = None) -> list[dict[str, Any]]:
    """WORKERS runners, each its own worker, all polling the jobs at the same moment."""
    barrier = threading.Barrier(WORKERS)

    def worker(i: int) -> list[dict[str, Any]]:
        runner = Runner(factory, registry=registry, clock=clock, worker_id=f"worker-{i}", options=options)
        barrier.wait()
        return runner.run_jobs()

    with ThreadPoolExecutor(WORKERS) as pool:
        return [ran for ran_by_one in pool.map(worker, range(WORKERS)) for ran in ran_by_one]


def test_each_slot_runs_once_however_many_workers_race(factory: sessionmaker[Session], registry: Registry,
                                                       clock: FakeClock) -> None:
    calls = Calls()
    registry.register_job(name="test.tick", cadence=QUARTER, run=calls)
    for _slot in range(3):
        ran = race(factory, registry, clock)
        assert len(ran) == 1 and ran[0]["outcome"] == "succeeded"
        assert race(factory, registry, clock) == []  # a second wave finds the slot done
        clock.advance(minutes=15)
    assert len(calls.at) == 3
    rows = runs(factory, "test.tick")
    assert [row.slot for row in rows] == [calls.at[0] + timedelta(minutes=15) * i for i in range(3)]
    assert all(row.status == "succeeded" and row.attempt == 1 and row.finished_at for row in rows)
    assert [row.result for row in rows] == [{"run": 1}, {"run": 2}, {"run": 3}]


def test_the_claim_is_visible_to_other_workers_while_the_job_runs(factory: sessionmaker[Session],
                                                                  registry: Registry, clock: FakeClock) -> None:
    seen: list[tuple[str, str]] = []

    def look(uow: UnitOfWork) -> None:
        # Another session (another worker) sees the claim already committed.
        with factory() as session:
            row = session.scalars(select(JobRun).where(JobRun.job == "test.look")).one()
            seen.append((row.status, row.claimed_by))

    registry.register_job(name="test.look", cadence=QUARTER, run=look)
    Runner(factory, registry=registry, clock=clock, worker_id="me").run_jobs()
    assert seen == [("running", "me")]
    assert runs(factory, "test.look")[0].status == "succeeded"


def test_a_dead_workers_claim_is_taken_over_by_exactly_one_worker_after_its_lease(
        factory: sessionmaker[Session], registry: Registry, clock: FakeClock) -> None:
    calls = Calls()
    registry.register_job(name="test.hourly", cadence=Every(timedelta(hours=1)), run=calls)
    options = WorkerOptions(job_lease=timedelta(minutes=10))
    slot = clock()
    # A worker claims the slot, then dies before running it.
    dead = claim_slot(UnitOfWork(factory, clock=clock), "test.hourly", slot, "dead-worker", options.job_lease)
    assert dead is not None and dead.attempt == 1

    clock.advance(minutes=9, seconds=59)
    assert race(factory, registry, clock, options) == []  # the lease still holds
    clock.advance(seconds=2)
    ran = race(factory, registry, clock, options)
    assert len(ran) == 1 and ran[0]["attempt"] == 2
    assert len(calls.at) == 1
    (row,) = runs(factory, "test.hourly")
    assert row.slot == slot and row.attempt == 2 and row.status == "succeeded"
    assert row.claimed_by.startswith("worker-") and row.result == {"run": 1}

    # The first worker comes back to life and tries to record its outcome: refused, nothing overwritten.
    assert not finish_run(UnitOfWork(factory, clock=clock), dead, "dead-worker", result={"late": True}, error=None)
    (row,) = runs(factory, "test.hourly")
    assert row.claimed_by.startswith("worker-") and row.result == {"run": 1}


def test_a_job_with_a_longer_lease_is_not_taken_over_while_it_may_still_run(
        factory: sessionmaker[Session], registry: Registry, clock: FakeClock) -> None:
    calls = Calls()
    registry.register_job(name="test.long", cadence=Daily(at=time(3, 0)), run=calls, lease=timedelta(hours=2))
    assert claim_slot(UnitOfWork(factory, clock=clock), "test.long", Daily(at=time(3, 0)).latest_slot(clock()),
                      "slow-worker", timedelta(hours=2))
    clock.advance(minutes=90)
    assert race(factory, registry, clock) == []  # the default 10-minute lease does not apply
    clock.advance(minutes=31)
    assert len(race(factory, registry, clock)) == 1
    assert len(calls.at) == 1


def test_missed_slots_run_once_for_the_latest_slot_only(factory: sessionmaker[Session], registry: Registry,
                                                        clock: FakeClock) -> None:
    quarterly, daily = Calls(), Calls()
    registry.register_job(name="test.quarterly", cadence=QUARTER, run=quarterly)
    registry.register_job(name="test.daily", cadence=Daily(at=time(3, 0)), run=daily)
    first = clock()
    assert len(Runner(factory, registry=registry, clock=clock).run_jobs()) == 2

    # The worker is down for three days and a bit; a new one starts.
    clock.advance(days=3, hours=2, minutes=20)
    ran = Runner(factory, registry=registry, clock=clock).run_jobs()
    assert sorted(r["job"] for r in ran) == ["test.daily", "test.quarterly"]
    assert Runner(factory, registry=registry, clock=clock).run_jobs() == []
    assert len(quarterly.at) == 2 and len(daily.at) == 2

    assert [row.slot for row in runs(factory, "test.quarterly")] == [first, first + timedelta(days=3, hours=2,
                                                                                               minutes=15)]
    day1_3am = first.replace(hour=3)
    assert [row.slot for row in runs(factory, "test.daily")] == [day1_3am, day1_3am + timedelta(days=3)]


def test_a_failing_job_records_its_error_and_runs_again_next_slot(factory: sessionmaker[Session],
                                                                  registry: Registry, clock: FakeClock) -> None:
    attempts: list[datetime] = []

    def flaky(uow: UnitOfWork) -> dict[str, Any]:
        attempts.append(uow.now())
        if len(attempts) == 1:
            raise RuntimeError("the SMS gateway is down")
        return {"sent": 3}

    registry.register_job(name="test.flaky", cadence=QUARTER, run=flaky)
    ran = Runner(factory, registry=registry, clock=clock).run_jobs()
    assert ran[0]["outcome"] == "failed" and "SMS gateway" in ran[0]["error"]
    # Not retried within the slot, by this worker or another.
    assert race(factory, registry, clock) == []
    clock.advance(minutes=15)
    assert Runner(factory, registry=registry, clock=clock).run_jobs()[0]["outcome"] == "succeeded"

    failed, succeeded = runs(factory, "test.flaky")
    assert failed.status == "failed" and failed.finished_at == attempts[0] and failed.result is None
    assert failed.error is not None and failed.error.startswith("RuntimeError: the SMS gateway is down")
    assert succeeded.status == "succeeded" and succeeded.result == {"sent": 3} and succeeded.error is None


def test_a_job_writes_in_its_own_transactions(factory: sessionmaker[Session], registry: Registry,
                                              clock: FakeClock) -> None:
    def emit(uow: UnitOfWork) -> None:
        with uow:
            uow.record_event("test.ticked", "ticker", "t1", {"at": uow.now().isoformat()})
            uow.commit()

    registry.register_job(name="test.emit", cadence=QUARTER, run=emit)
    Runner(factory, registry=registry, clock=clock).run_jobs()
    from teahub.db.outbox import OutboxEvent

    with factory() as session:
        assert session.scalars(select(OutboxEvent.type)).all() == ["test.ticked"]
    assert runs(factory, "test.emit")[0].result is None


def test_old_finished_runs_are_pruned_but_unfinished_ones_kept(factory: sessionmaker[Session],
                                                               registry: Registry, clock: FakeClock) -> None:
    registry.register_job(name="test.tick", cadence=QUARTER, run=Calls())
    Runner(factory, registry=registry, clock=clock).run_jobs()
    claim_slot(UnitOfWork(factory, clock=clock), "test.stuck", clock(), "dead", timedelta(minutes=10))
    clock.advance(days=31)
    Runner(factory, registry=registry, clock=clock).run_jobs()
    assert prune_job_runs(UnitOfWork(factory, clock=clock), timedelta(days=30)) == 1
    assert len(runs(factory, "test.tick")) == 1 and len(runs(factory, "test.stuck")) == 1
