"""Scheduled jobs of the pipeline."""

from __future__ import annotations

from datetime import time

from teahub.crm.pipeline import service
from teahub.db.uow import UnitOfWork
from teahub.scheduling.cadence import Daily
from teahub.scheduling.registry import register_job


def expire_stale_quotes(uow: UnitOfWork, *, batch: int = 500) -> int:
    """Mark every sent quote past its validity as expired, in batches; answers how many."""
    total = 0
    while True:
        marked = service.expire_quotes(uow, limit=batch)
        total += len(marked)
        if len(marked) < batch:
            return total


def _expire_job(uow: UnitOfWork) -> dict[str, int]:
    return {"expired": expire_stale_quotes(uow)}


# 00:05 Beijing time: yesterday's quotes have run out.
register_job(name="crm.expire_quotes", cadence=Daily(at=time(16, 5)), run=_expire_job)
