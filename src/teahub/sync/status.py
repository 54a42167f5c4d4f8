"""Sync status for operators and Prometheus: the relay's and each target's position, lag (events and
seconds), deliveries, failures, retry queue and dead letters; per-record state. Read from the database, so any
API process answers for every worker."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from teahub.db.outbox import OutboxEvent
from teahub.db.uow import UnitOfWork
from teahub.errors import NotFound
from teahub.sync import cursors
from teahub.sync.models import SyncCursor, SyncDeadLetter, SyncPending, SyncRecord, SyncTarget


def _seconds(now: datetime, since: datetime | None) -> float:
    return max((now - since).total_seconds(), 0.0) if since is not None else 0.0


def _occurred_after(uow: UnitOfWork, position: int) -> datetime | None:
    """When the first event after `position` happened (the oldest one not yet passed on)."""
    return uow.session.scalar(select(OutboxEvent.occurred_at).where(OutboxEvent.seq > position)
                              .order_by(OutboxEvent.seq).limit(1))


def status(uow: UnitOfWork, *, broker: bool) -> dict[str, Any]:
    now = uow.now()
    with uow.reading():
        session = uow.session
        newest = int(session.scalar(select(func.coalesce(func.max(OutboxEvent.seq), 0))) or 0)
        rows = {c.name: c for c in session.scalars(select(SyncCursor))}
        pending = dict(session.execute(select(SyncPending.target_id, func.count()).group_by(SyncPending.target_id))
                       .all())
        oldest_pending = dict(session.execute(
            select(SyncPending.target_id, func.min(SyncPending.event_seq)).group_by(SyncPending.target_id)).all())
        dead = dict(session.execute(select(SyncDeadLetter.target_id, func.count())
                                    .where(SyncDeadLetter.resolved_at.is_(None))
                                    .group_by(SyncDeadLetter.target_id)).all())
        relay = None
        relay_row = rows.get(cursors.RELAY)
        if relay_row is not None or broker:
            position = relay_row.position if relay_row else 0
            relay = {
                "position": position, "lag_events": max(newest - position, 0),
                "lag_seconds": _seconds(now, _occurred_after(uow, position)) if newest > position else 0.0,
                "published": relay_row.delivered if relay_row else 0, "failures": relay_row.failed if relay_row else 0,
                **_common(relay_row)}
        targets = []
        for target in session.scalars(select(SyncTarget).order_by(SyncTarget.name)):
            row = rows.get(cursors.target_cursor(target.id))
            position = row.position if row else None
            waiting = [at for at in (
                _occurred_after(uow, position) if position is not None and newest > position else None,
                _pending_occurred(uow, oldest_pending.get(target.id), target.id)) if at is not None]
            targets.append({
                "name": target.name, "kind": target.kind, "enabled": target.enabled, "position": position,
                "lag_events": max(newest - (position or 0), 0) + pending.get(target.id, 0),
                "lag_seconds": _seconds(now, min(waiting)) if waiting else 0.0,
                "pending": pending.get(target.id, 0), "dead_letters": dead.get(target.id, 0),
                "delivered": row.delivered if row else 0, "failures": row.failed if row else 0,
                **_common(row)})
    return {"now": now, "broker": broker, "newest_seq": newest, "relay": relay, "targets": targets}


def _pending_occurred(uow: UnitOfWork, seq: int | None, target_id: int) -> datetime | None:
    if seq is None:
        return None
    envelope = uow.session.scalar(select(SyncPending.envelope).where(SyncPending.target_id == target_id,
                                                                     SyncPending.event_seq == seq))
    return datetime.fromisoformat(envelope["occurred_at"]) if envelope else None


def _common(row: SyncCursor | None) -> dict[str, Any]:
    return {"consecutive_failures": row.consecutive_failures if row else 0,
            "paused_until": row.paused_until if row else None,
            "last_success_at": row.last_success_at if row else None,
            "last_error": row.last_error if row else None, "last_error_at": row.last_error_at if row else None}


def records(uow: UnitOfWork, target: str, record: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Per-record sync state at one target (one record: `aggregate_type:aggregate_id`), latest first."""
    with uow.reading():
        target_id = uow.session.scalar(select(SyncTarget.id).where(SyncTarget.name == target))
        if target_id is None:
            raise NotFound(f"no sync target {target!r}", field="target")
        waiting = (select(func.count()).where(SyncPending.target_id == SyncRecord.target_id,
                                              SyncPending.record_key == SyncRecord.record_key)
                   .correlate(SyncRecord).scalar_subquery())
        query = (select(SyncRecord, waiting).where(SyncRecord.target_id == target_id)
                 .order_by(SyncRecord.last_seq.desc()).limit(limit))
        if record is not None:
            query = query.where(SyncRecord.record_key == record)
        return [{"target": target, "record_key": r.record_key, "last_seq": r.last_seq,
                 "last_event_id": r.last_event_id, "last_success_at": r.last_success_at, "failures": r.failures,
                 "last_error": r.last_error, "last_error_at": r.last_error_at, "pending": count}
                for r, count in uow.session.execute(query)]
