"""Scheduled jobs, once per slot however many workers run.

The claim is a row in job_runs, unique on (job, slot): the worker whose INSERT lands runs the job. The claim
is committed before the job runs, so other workers see it at once. A claim whose lease ran out without a
finish (its worker died) is taken over by a conditional UPDATE that only one worker can win; the attempt
number it bumps fences the finish, so a slow first worker cannot overwrite the outcome of the takeover.
"""

from __future__ import annotations

import json
import logging
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import delete, select, update

from teahub.db.uow import UnitOfWork
from teahub.scheduling.dialect import insert_unless_exists
from teahub.scheduling.models import JobRun
from teahub.scheduling.registry import Job

log = logging.getLogger("teahub.worker")

ERROR_MAX = 8000
SlotState = Literal["free", "done", "leased", "expired"]


@dataclass(frozen=True)
class Claim:
    run_id: int
    job: str
    slot: datetime
    attempt: int  # 1 for the first claim, +1 for each takeover

    @property
    def takeover(self) -> bool:
        return self.attempt > 1


def slot_state(uow: UnitOfWork, job: str, slot: datetime) -> SlotState:
    """A read-only look before claiming, so idle polls do not queue for the write lock."""
    with uow.reading():
        row = uow.session.execute(
            select(JobRun.finished_at, JobRun.lease_until).where(JobRun.job == job, JobRun.slot == slot)
        ).first()
    if row is None:
        return "free"
    if row.finished_at is not None:
        return "done"
    return "leased" if row.lease_until >= uow.now() else "expired"


def claim_slot(uow: UnitOfWork, job: str, slot: datetime, worker_id: str, lease: timedelta) -> Claim | None:
    """Claim (job, slot) for this worker, or take over a claim whose lease ran out. None: someone else has it
    (or it is done)."""
    now = uow.now()
    with uow:
        run_id = insert_unless_exists(
            uow.session, JobRun,
            {"job": job, "slot": slot, "status": "running", "claimed_by": worker_id, "attempt": 1,
             "started_at": now, "lease_until": now + lease},
            ("job", "slot"), returning=JobRun.id)
        if run_id is not None:
            uow.commit()
            return Claim(run_id=run_id, job=job, slot=slot, attempt=1)
        # The row exists: take it over only if unfinished and its lease has run out. PostgreSQL re-checks the
        # WHERE after waiting for a concurrent taker's row lock, so exactly one UPDATE matches.
        taken = uow.session.execute(
            update(JobRun)
            .where(JobRun.job == job, JobRun.slot == slot, JobRun.finished_at.is_(None), JobRun.lease_until < now)
            .values(claimed_by=worker_id, attempt=JobRun.attempt + 1, status="running", started_at=now,
                    lease_until=now + lease, error=None, result=None)
            .returning(JobRun.id, JobRun.attempt)
        ).first()
        if taken is None:
            return None
        uow.commit()
        log.warning("job %s: took over slot %s (attempt %d): the previous claim's lease ran out",
                    job, slot.isoformat(), taken.attempt)
        return Claim(run_id=taken.id, job=job, slot=slot, attempt=taken.attempt)


def finish_run(uow: UnitOfWork, claim: Claim, worker_id: str, *, result: dict[str, Any] | None,
               error: str | None) -> bool:
    """Record the outcome; False when this worker no longer holds the claim (it was taken over)."""
    with uow:
        done = uow.session.execute(
            update(JobRun)
            .where(JobRun.id == claim.run_id, JobRun.claimed_by == worker_id, JobRun.attempt == claim.attempt,
                   JobRun.finished_at.is_(None))
            .values(finished_at=uow.now(), status="failed" if error else "succeeded", result=result, error=error)
            .returning(JobRun.id)
        ).first()
        if done is None:
            return False
        uow.commit()
        return True


def run_claimed(uow: UnitOfWork, job: Job, claim: Claim, worker_id: str) -> dict[str, Any]:
    """Run the job for its claimed slot and record started/finished/result/error."""
    log.info("job %s: running slot %s", job.name, claim.slot.isoformat())
    result: dict[str, Any] | None = None
    error: str | None = None
    try:
        result = jsonable(job.run(uow))
    except Exception as exc:  # noqa: BLE001 - any failure of the job is recorded, the worker goes on
        error = error_text(exc)
        log.exception("job %s: slot %s failed", job.name, claim.slot.isoformat())
    recorded = finish_run(uow, claim, worker_id, result=result, error=error)
    if not recorded:
        log.warning("job %s: slot %s finished after its claim was taken over; outcome not recorded",
                    job.name, claim.slot.isoformat())
    return {"job": job.name, "slot": claim.slot.isoformat(), "attempt": claim.attempt,
            "outcome": "failed" if error else "succeeded", "recorded": recorded,
            **({"error": error.splitlines()[0]} if error else {})}


def jsonable(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        value = {"value": value}
    result: dict[str, Any] = json.loads(json.dumps(value, default=str))
    return result


def error_text(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}\n" + "".join(traceback.format_exception(exc)[-12:])
    return text[:ERROR_MAX]


def prune_job_runs(uow: UnitOfWork, keep: timedelta) -> int:
    """Delete finished runs whose slot is older than `keep`; returns how many."""
    with uow:
        deleted = uow.session.execute(
            delete(JobRun).where(JobRun.finished_at.is_not(None), JobRun.slot < uow.now() - keep)
            .returning(JobRun.id)
        ).all()
        uow.commit()
    return len(deleted)
