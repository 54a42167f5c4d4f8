"""The background runner: scheduled jobs (once per slot) and event subscriptions (once per event).

Run it as its own process (`teahub worker run`), as many as you like, or embedded in `teahub serve`
(`start_embedded`). Correctness never depends on how many run: job slots are claimed by a unique row and
subscriptions advance their cursor in the handler's transaction under a row lock.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from teahub.db.base import utcnow
from teahub.db.engine import make_session_factory
from teahub.db.uow import UnitOfWork
from teahub.scheduling import jobs as job_runs
from teahub.scheduling import subscriptions
from teahub.scheduling.options import WorkerOptions
from teahub.scheduling.registry import Registry, default_registry, load_tasks
from teahub.scheduling.status import status

__all__ = ["Runner", "WorkerOptions", "run_forever", "run_once", "start_embedded", "status"]

log = logging.getLogger("teahub.worker")

MAX_ERROR_WAIT = 60.0  # seconds between passes at most while passes keep failing


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Runner:
    """One worker. Keeps a little memory (which job slots it saw done) so idle polls stay read-only."""

    def __init__(self, engine: Engine | sessionmaker[Session], *, registry: Registry | None = None,
                 options: WorkerOptions | None = None, clock: Callable[[], datetime] = utcnow,
                 worker_id: str | None = None) -> None:
        self.factory = engine if isinstance(engine, sessionmaker) else make_session_factory(engine)
        if registry is None:
            load_tasks()
            registry = default_registry
        self.registry = registry
        self.options = options or WorkerOptions()
        self.clock = clock
        self.worker_id = worker_id or default_worker_id()
        self._done: dict[str, datetime] = {}  # job -> the latest slot seen finished

    def uow(self, actor: str) -> UnitOfWork:
        return UnitOfWork(self.factory, actor=actor, clock=self.clock)

    # -- jobs ----------------------------------------------------------------------------------------
    def run_jobs(self) -> list[dict[str, Any]]:
        """Run each job whose latest slot nobody has run yet (or whose claim's lease ran out)."""
        ran = []
        for job in list(self.registry.jobs.values()):
            uow = self.uow(f"job:{job.name}")
            slot = job.cadence.latest_slot(uow.now())
            if self._done.get(job.name) == slot:
                continue
            state = job_runs.slot_state(uow, job.name, slot)
            if state == "done":
                self._done[job.name] = slot
                continue
            if state == "leased":
                continue
            claim = job_runs.claim_slot(uow, job.name, slot, self.worker_id, job.lease or self.options.job_lease)
            if claim is None:
                continue
            ran.append(job_runs.run_claimed(uow, job, claim, self.worker_id))
            self._done[job.name] = slot
        return ran

    # -- subscriptions -------------------------------------------------------------------------------
    def drain_subscriptions(self) -> list[dict[str, Any]]:
        results = []
        for subscription in list(self.registry.subscriptions.values()):
            result = subscriptions.drain(self.uow(f"subscription:{subscription.name}"), subscription, self.options)
            if result.handled or result.failed or result.state != "idle":
                results.append(result.as_dict())
        return results

    # -- the loop ------------------------------------------------------------------------------------
    def run_once(self) -> dict[str, Any]:
        """Run due jobs, then drain every subscription once. Returns what was done."""
        return {"worker": self.worker_id, "at": self.clock().isoformat(), "jobs": self.run_jobs(),
                "subscriptions": self.drain_subscriptions()}

    def run_forever(self, stop: threading.Event, poll_seconds: float = 1.0) -> None:
        log.info("worker %s: started (%d jobs, %d subscriptions)", self.worker_id, len(self.registry.jobs),
                 len(self.registry.subscriptions))
        failures, last_error = 0, ""
        while not stop.is_set():
            try:
                summary = self.run_once()
            except Exception as exc:  # noqa: BLE001 - e.g. the database is away for a moment: wait and go on
                failures += 1
                # Wait longer while it keeps failing; the full traceback once per distinct error.
                wait = min(poll_seconds * 2 ** min(failures - 1, 16), max(poll_seconds, MAX_ERROR_WAIT))
                error = f"{type(exc).__name__}: {exc}"
                if error != last_error:
                    log.exception("worker %s: pass failed; retrying in %.1fs", self.worker_id, wait)
                else:
                    log.error("worker %s: pass failed again (%d in a row); retrying in %.1fs: %s",
                              self.worker_id, failures, wait, error.splitlines()[0])
                last_error = error
                stop.wait(wait)
                continue
            if failures:
                log.info("worker %s: passes succeed again after %d failures", self.worker_id, failures)
                failures, last_error = 0, ""
            more = any(s["state"] == "more" for s in summary["subscriptions"])
            if not more:
                stop.wait(poll_seconds)
        log.info("worker %s: stopped", self.worker_id)


def run_once(engine: Engine, *, registry: Registry | None = None, options: WorkerOptions | None = None,
             clock: Callable[[], datetime] = utcnow) -> dict[str, Any]:
    """One pass: run due jobs and drain subscriptions. Uses the registered tasks unless given a registry."""
    return Runner(engine, registry=registry, options=options, clock=clock).run_once()


def run_forever(engine: Engine, stop: threading.Event, poll_seconds: float = 1.0, *,
                registry: Registry | None = None, options: WorkerOptions | None = None,
                clock: Callable[[], datetime] = utcnow) -> None:
    """Pass after pass until `stop` is set; waits `poll_seconds` between passes that found nothing more to do."""
    Runner(engine, registry=registry, options=options, clock=clock).run_forever(stop, poll_seconds)


def start_embedded(engine: Engine, *, poll_seconds: float = 1.0, registry: Registry | None = None,
                   options: WorkerOptions | None = None) -> tuple[threading.Thread, threading.Event]:
    """Run the worker in a daemon thread of this process (e.g. inside `teahub serve`). Set the returned event
    to stop it, then join the thread."""
    stop = threading.Event()
    runner = Runner(engine, registry=registry, options=options)
    thread = threading.Thread(target=runner.run_forever, args=(stop, poll_seconds), name="teahub-worker",
                              daemon=True)
    thread.start()
    return thread, stop
