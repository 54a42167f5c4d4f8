"""Past runs of scheduled jobs with what they answered, newest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from teahub.db.uow import UnitOfWork
from teahub.scheduling.history import recent_runs
from teahub.scheduling.models import JobRun

START = datetime(2026, 11, 11, 20, 0, tzinfo=UTC)


def _run(uow: UnitOfWork, job: str, day: int, *, finished: bool = True, result: dict | None = None) -> None:  # type: ignore[type-arg]
    slot = START + timedelta(days=day)
    with uow:
        uow.session.add(JobRun(job=job, slot=slot, status="succeeded" if finished else "running",
                               claimed_by="w1", attempt=1, started_at=slot, lease_until=slot + timedelta(hours=1),
                               finished_at=slot + timedelta(minutes=2) if finished else None, result=result))
        uow.commit()


def test_recent_runs_are_the_finished_ones_of_the_jobs_asked_newest_first(uow: UnitOfWork) -> None:
    _run(uow, "channels.reconcile", 0, result={"shops": {"YZ01": {"checked": 4, "missing": 1}}})
    _run(uow, "sync.reconcile", 1, result={"targets": []})
    _run(uow, "channels.pull", 2, result={"shops": {}})
    _run(uow, "channels.reconcile", 3, finished=False)

    runs = recent_runs(uow, ["channels.reconcile", "sync.reconcile"])
    assert [(r["job"], r["slot"]) for r in runs] == [("sync.reconcile", START + timedelta(days=1)),
                                                     ("channels.reconcile", START)]
    assert runs[1]["result"] == {"shops": {"YZ01": {"checked": 4, "missing": 1}}}
    assert runs[1]["status"] == "succeeded" and runs[1]["error"] is None
    assert [r["slot"] for r in recent_runs(uow, ["channels.reconcile"], finished_only=False)] == [
        START + timedelta(days=3), START]
    assert len(recent_runs(uow, ["channels.reconcile", "sync.reconcile"], limit=1)) == 1
    assert recent_runs(uow, []) == []
