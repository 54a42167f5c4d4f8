"""Events a subscription gave up on: listed for an operator, and retried once the cause is fixed.

A retry runs the handler and resolves the failure in one transaction, so a retried event still has exactly one
effect. It runs out of order by nature: later events were handled while this one was parked.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from sqlalchemy import select, update

from teahub.db.outbox import OutboxEvent
from teahub.db.uow import UnitOfWork
from teahub.scheduling.jobs import error_text
from teahub.scheduling.models import SubscriptionFailure
from teahub.scheduling.registry import Registry, Subscription, default_registry

log = logging.getLogger("teahub.worker")

RetryOutcome = Literal["resolved", "failed", "skipped"]


def list_failures(uow: UnitOfWork, subscription: str | None = None, *, include_resolved: bool = False,
                  limit: int = 200) -> list[dict[str, Any]]:
    """Parked events, oldest first (unresolved ones only unless `include_resolved`)."""
    query = select(SubscriptionFailure).order_by(SubscriptionFailure.subscription, SubscriptionFailure.event_seq)
    if subscription is not None:
        query = query.where(SubscriptionFailure.subscription == subscription)
    if not include_resolved:
        query = query.where(SubscriptionFailure.resolved_at.is_(None))
    with uow.reading():
        return [_as_dict(failure) for failure in uow.session.scalars(query.limit(limit))]


def _as_dict(failure: SubscriptionFailure) -> dict[str, Any]:
    def iso(moment: Any) -> str | None:
        return moment.isoformat() if moment is not None else None

    return {"id": failure.id, "subscription": failure.subscription, "event_seq": failure.event_seq,
            "event_id": failure.event_id, "event_type": failure.event_type, "error": failure.error,
            "attempts": failure.attempts, "failed_at": iso(failure.failed_at), "retried_at": iso(failure.retried_at),
            "resolved_at": iso(failure.resolved_at)}


def retry_failures(uow: UnitOfWork, subscription: str | None = None, *,
                   registry: Registry | None = None) -> dict[str, int]:
    """Run the handler again for each unresolved failure (of one subscription, or all). Call it outside a
    transaction: each failure gets its own. Failures of subscriptions not registered here are skipped."""
    registry = registry or default_registry
    query = (select(SubscriptionFailure.id, SubscriptionFailure.subscription)
             .where(SubscriptionFailure.resolved_at.is_(None))
             .order_by(SubscriptionFailure.subscription, SubscriptionFailure.event_seq))
    if subscription is not None:
        query = query.where(SubscriptionFailure.subscription == subscription)
    with uow.reading():
        pending = list(uow.session.execute(query))
    summary = {"resolved": 0, "failed": 0, "skipped": 0}
    for row in pending:
        registered = registry.subscriptions.get(row.subscription)
        if registered is None:
            summary["skipped"] += 1
            continue
        summary[retry_failure(uow, registered, row.id)] += 1
    return summary


def retry_failure(uow: UnitOfWork, subscription: Subscription, failure_id: int) -> RetryOutcome:
    with uow:
        failure = uow.session.execute(
            select(SubscriptionFailure.event_seq)
            .where(SubscriptionFailure.id == failure_id, SubscriptionFailure.resolved_at.is_(None))
            .with_for_update(skip_locked=True)
        ).first()
        if failure is None:
            return "skipped"  # resolved meanwhile, or being retried by someone else
        event = uow.session.scalar(select(OutboxEvent).where(OutboxEvent.seq == failure.event_seq))
        try:
            if event is None:
                raise LookupError(f"event {failure.event_seq} is no longer in the outbox")
            subscription.handler(uow, event.envelope())
            now = uow.now()
            uow.session.execute(update(SubscriptionFailure).where(SubscriptionFailure.id == failure_id)
                                .values(resolved_at=now, retried_at=now, attempts=SubscriptionFailure.attempts + 1))
            uow.commit()
        except Exception as exc:  # noqa: BLE001 - recorded on the failure below
            problem = exc
        else:
            log.info("subscription %s: parked event %s handled on retry", subscription.name, failure.event_seq)
            return "resolved"
    with uow:
        uow.session.execute(
            update(SubscriptionFailure)
            .where(SubscriptionFailure.id == failure_id, SubscriptionFailure.resolved_at.is_(None))
            .values(error=error_text(problem), retried_at=uow.now(), attempts=SubscriptionFailure.attempts + 1))
        uow.commit()
    log.warning("subscription %s: parked event %s failed again on retry", subscription.name, failure.event_seq)
    return "failed"
