"""What the runner is doing, for the API and `teahub worker status`: each job's last run, each subscription's
position and lag behind the outbox, its last error and its parked failures."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from teahub.db.outbox import OutboxEvent
from teahub.db.uow import UnitOfWork
from teahub.scheduling.models import JobRun, SubscriptionCursor, SubscriptionFailure
from teahub.scheduling.registry import Registry, default_registry


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def status(uow: UnitOfWork, registry: Registry | None = None) -> dict[str, Any]:
    registry = registry or default_registry
    now = uow.now()
    with uow.reading():
        session = uow.session
        newest = int(session.scalar(select(func.coalesce(func.max(OutboxEvent.seq), 0))) or 0)
        latest = select(JobRun.job, func.max(JobRun.slot).label("slot")).group_by(JobRun.job).subquery()
        last_runs = {run.job: run for run in session.scalars(
            select(JobRun).join(latest, (JobRun.job == latest.c.job) & (JobRun.slot == latest.c.slot)))}
        last_success: dict[str, datetime | None] = {job: at for job, at in session.execute(
            select(JobRun.job, func.max(JobRun.finished_at)).where(JobRun.status == "succeeded")
            .group_by(JobRun.job))}
        cursors = {cursor.name: cursor for cursor in session.scalars(select(SubscriptionCursor))}
        open_failures: dict[str, int] = {name: count for name, count in session.execute(
            select(SubscriptionFailure.subscription, func.count()).where(SubscriptionFailure.resolved_at.is_(None))
            .group_by(SubscriptionFailure.subscription))}
        # ORM rows expire when the read transaction ends: shape them while it is open.
        jobs = []
        for name in sorted(set(registry.jobs) | set(last_runs)):
            job = registry.jobs.get(name)
            run = last_runs.get(name)
            jobs.append({
                "name": name,
                "registered": job is not None,
                "cadence": str(job.cadence) if job else None,
                "due_slot": _iso(job.cadence.latest_slot(now)) if job else None,
                "last_success_at": _iso(last_success.get(name)),
                "last_run": None if run is None else {
                    "slot": _iso(run.slot),
                    "status": "stale" if run.finished_at is None and run.lease_until < now else run.status,
                    "claimed_by": run.claimed_by, "attempt": run.attempt, "started_at": _iso(run.started_at),
                    "finished_at": _iso(run.finished_at), "lease_until": _iso(run.lease_until),
                    "result": run.result, "error": run.error,
                },
            })

        subscriptions = []
        for name in sorted(set(registry.subscriptions) | set(cursors)):
            subscription = registry.subscriptions.get(name)
            cursor = cursors.get(name)
            subscriptions.append({
                "name": name,
                "registered": subscription is not None,
                "event_types": list(subscription.event_types) if subscription else None,
                "position": cursor.position if cursor else None,
                "lag": max(newest - cursor.position, 0) if cursor else None,
                "failing_seq": cursor.failing_seq if cursor else None,
                "attempts": cursor.attempts if cursor else 0,
                "retry_at": _iso(cursor.retry_at) if cursor else None,
                "last_error": cursor.last_error if cursor else None,
                "last_error_at": _iso(cursor.last_error_at) if cursor else None,
                "failures": open_failures.get(name, 0),
            })
    return {"now": now.isoformat(), "newest_seq": newest, "jobs": jobs, "subscriptions": subscriptions}
