"""What delivery writes, inside the caller's transaction: per-record state, the retry queue, dead letters."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from teahub.sync.models import SyncDeadLetter, SyncPending, SyncRecord
from teahub.sync.rules import record_key


def _insert(session: Session, model: type[Any]) -> Any:
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return module.insert(model)


def blocked_records(session: Session, target_id: int, keys: Iterable[str]) -> set[str]:
    """Records of these that have an event waiting in the retry queue (later events must wait behind it)."""
    keys = list(keys)
    if not keys:
        return set()
    return set(session.scalars(select(SyncPending.record_key).distinct()
                               .where(SyncPending.target_id == target_id, SyncPending.record_key.in_(keys))))


def last_seqs(session: Session, target_id: int, keys: Iterable[str]) -> dict[str, int]:
    """The last event seq dealt with per record (delivered or dead-lettered): anything at or below is a
    duplicate."""
    keys = list(keys)
    if not keys:
        return {}
    return dict(session.execute(select(SyncRecord.record_key, SyncRecord.last_seq)
                                .where(SyncRecord.target_id == target_id, SyncRecord.record_key.in_(keys))).all())


def records_done(session: Session, target_id: int, events: Sequence[dict[str, Any]], now: datetime, *,
                 success: bool, error: str | None = None) -> None:
    """Mark each event's record as dealt with up to the event (delivered, or given up on with `error`)."""
    if not events:
        return
    stmt = _insert(session, SyncRecord)
    newer = stmt.excluded.last_seq > SyncRecord.last_seq
    changes: dict[str, Any] = {
        "last_seq": case((newer, stmt.excluded.last_seq), else_=SyncRecord.last_seq),
        "last_event_id": case((newer, stmt.excluded.last_event_id), else_=SyncRecord.last_event_id),
    }
    if success:
        changes["last_success_at"] = stmt.excluded.last_success_at
    else:
        changes |= {"failures": SyncRecord.failures + 1, "last_error": stmt.excluded.last_error,
                    "last_error_at": stmt.excluded.last_error_at}
    rows = [{"target_id": target_id, "record_key": record_key(e), "last_seq": e["seq"], "last_event_id": e["id"],
             "last_success_at": now if success else None, "failures": 0 if success else 1,
             "last_error": None if success else error, "last_error_at": None if success else now}
            for e in events]
    session.execute(stmt.on_conflict_do_update(index_elements=["target_id", "record_key"], set_=changes), rows)


def record_failed_attempt(session: Session, target_id: int, event: dict[str, Any], error: str,
                          now: datetime) -> None:
    stmt = _insert(session, SyncRecord)
    session.execute(stmt.on_conflict_do_update(
        index_elements=["target_id", "record_key"],
        set_={"failures": SyncRecord.failures + 1, "last_error": stmt.excluded.last_error,
              "last_error_at": stmt.excluded.last_error_at}),
        [{"target_id": target_id, "record_key": record_key(event), "last_seq": 0, "failures": 1,
          "last_error": error, "last_error_at": now}])


def enqueue(session: Session, target_id: int, event: dict[str, Any], *, attempts: int, next_attempt_at: datetime,
            error: str | None = None, dead_letter_id: int | None = None) -> None:
    """Put an event in the target's retry queue (nothing if it is there already: a duplicate)."""
    stmt = _insert(session, SyncPending).values(
        target_id=target_id, event_seq=event["seq"], event_id=event["id"], event_type=event["type"],
        record_key=record_key(event), envelope=event, attempts=attempts, next_attempt_at=next_attempt_at,
        last_error=error, dead_letter_id=dead_letter_id, created_at=next_attempt_at)
    session.execute(stmt.on_conflict_do_nothing(index_elements=["target_id", "event_seq"]))


def dead_letter(session: Session, target_id: int, event: dict[str, Any], error: str, attempts: int,
                now: datetime) -> None:
    """Give up on the event: a dead letter with the error (a replayed one that failed again is reopened)."""
    stmt = _insert(session, SyncDeadLetter).values(
        target_id=target_id, event_seq=event["seq"], event_id=event["id"], event_type=event["type"],
        record_key=record_key(event), envelope=event, error=error, attempts=attempts, failed_at=now, replays=0)
    session.execute(stmt.on_conflict_do_update(
        index_elements=["target_id", "event_seq"],
        set_={"error": error, "attempts": attempts, "failed_at": now, "resolved_at": None}))
    records_done(session, target_id, [event], now, success=False, error=error)


def pending_done(session: Session, pending_id: int) -> None:
    session.execute(delete(SyncPending).where(SyncPending.id == pending_id))


def pending_retry_later(session: Session, pending_id: int, attempts: int, next_attempt_at: datetime,
                        error: str) -> None:
    session.execute(update(SyncPending).where(SyncPending.id == pending_id)
                    .values(attempts=attempts, next_attempt_at=next_attempt_at, last_error=error))


def resolve_dead_letter(session: Session, dead_letter_id: int, now: datetime) -> None:
    session.execute(update(SyncDeadLetter).where(SyncDeadLetter.id == dead_letter_id)
                    .values(resolved_at=now))


def due_heads(session: Session, target_id: int, now: datetime, limit: int) -> list[dict[str, Any]]:
    """The first waiting event of each record (per-record order), of those whose retry time has come."""
    head = aliased(SyncPending, name="head")
    earlier = select(SyncPending.id).where(
        SyncPending.target_id == head.target_id, SyncPending.record_key == head.record_key,
        SyncPending.event_seq < head.event_seq).exists()
    rows = session.scalars(select(head).where(head.target_id == target_id, head.next_attempt_at <= now, ~earlier)
                           .order_by(head.event_seq).limit(limit))
    return [{"id": row.id, "attempts": row.attempts, "dead_letter_id": row.dead_letter_id, "event": row.envelope}
            for row in rows]
