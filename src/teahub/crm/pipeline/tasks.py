"""Scheduled jobs of the pipeline."""

from __future__ import annotations

from teahub.crm.pipeline import service
from teahub.db.uow import UnitOfWork


def expire_stale_quotes(uow: UnitOfWork, *, batch: int = 500) -> int:
    """Mark every sent quote past its validity as expired, in batches; answers how many."""
    total = 0
    while True:
        marked = service.expire_quotes(uow, limit=batch)
        total += len(marked)
        if len(marked) < batch:
            return total
