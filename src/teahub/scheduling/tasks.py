"""The runner's own housekeeping."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from teahub.db.uow import UnitOfWork
from teahub.scheduling.cadence import Daily
from teahub.scheduling.jobs import prune_job_runs
from teahub.scheduling.registry import register_job

KEEP_JOB_RUNS = timedelta(days=30)


def prune(uow: UnitOfWork) -> dict[str, Any]:
    return {"deleted": prune_job_runs(uow, KEEP_JOB_RUNS)}


# 04:30 Beijing time.
register_job(name="scheduling.prune_job_runs", cadence=Daily(at=time(20, 30)), run=prune)
