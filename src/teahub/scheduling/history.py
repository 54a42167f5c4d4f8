"""Past runs of scheduled jobs, newest first, with what each answered (e.g. the nightly reconciliation
reports). A read only."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from teahub.db.uow import UnitOfWork
from teahub.scheduling.models import JobRun


def recent_runs(uow: UnitOfWork, jobs: Iterable[str], *, limit: int = 10,
                finished_only: bool = True) -> list[dict[str, Any]]:
    """The last `limit` runs of these jobs (finished ones unless told otherwise), newest first."""
    names = sorted(set(jobs))
    if not names:
        return []
    with uow.reading():
        stmt = (select(JobRun).where(JobRun.job.in_(names))
                .order_by(JobRun.slot.desc(), JobRun.id.desc()).limit(limit))
        if finished_only:
            stmt = stmt.where(JobRun.finished_at.is_not(None))
        return [{"id": r.id, "job": r.job, "slot": r.slot, "status": r.status, "started_at": r.started_at,
                 "finished_at": r.finished_at, "result": r.result, "error": r.error}
                for r in uow.session.scalars(stmt)]
