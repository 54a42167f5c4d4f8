"""Cursors of the relay and of each target: created once, leased to one worker at a time, moved only by the
lease holder (a worker whose lease ran out and was taken over cannot move it any more)."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, text, update

from teahub.db.outbox import OutboxEvent
from teahub.db.uow import OUTBOX_LOCK_KEY, UnitOfWork
from teahub.scheduling.dialect import insert_unless_exists
from teahub.sync.models import SyncCursor

RELAY = "relay"
_OUTBOX_READER = text(f"SELECT pg_advisory_xact_lock({OUTBOX_LOCK_KEY})")


class LeaseLost(RuntimeError):
    """Another worker took the cursor over (this one's lease ran out): stop without moving it."""


def holder_id(role: str) -> str:
    return f"{role}@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"[:100]


def target_cursor(target_id: int) -> str:
    return f"target:{target_id}"


@dataclass(frozen=True)
class Lease:
    name: str
    holder: str
    position: int
    paused_until: datetime | None
    consecutive_failures: int


def newest_committed_seq(uow: UnitOfWork) -> int:
    """The newest outbox seq below which every event has committed. Call inside a (short) transaction."""
    if uow.session.get_bind().dialect.name == "postgresql":
        uow.session.execute(_OUTBOX_READER)
    return int(uow.session.scalar(select(func.coalesce(func.max(OutboxEvent.seq), 0))) or 0)


def ensure(uow: UnitOfWork, name: str, position: int | None = None) -> None:
    """Create the cursor unless it exists: at `position`, or (None) after the newest committed event."""
    with uow.reading():
        if uow.session.get(SyncCursor, name) is not None:
            return
    with uow:
        start = newest_committed_seq(uow) if position is None else position
        now = uow.now()
        insert_unless_exists(uow.session, SyncCursor,
                             {"name": name, "position": start, "consecutive_failures": 0, "delivered": 0,
                              "failed": 0, "updated_at": now}, ("name",))
        uow.commit()


def claim(uow: UnitOfWork, name: str, holder: str, lease: timedelta) -> Lease | None:
    """Take the cursor's lease (free, expired, or already ours); None when another worker holds it."""
    with uow:
        now = uow.now()
        row = uow.session.execute(
            update(SyncCursor)
            .where(SyncCursor.name == name,
                   or_(SyncCursor.leased_by.is_(None), SyncCursor.lease_until < now, SyncCursor.leased_by == holder))
            .values(leased_by=holder, lease_until=now + lease)
            .returning(SyncCursor.position, SyncCursor.paused_until, SyncCursor.consecutive_failures)
        ).first()
        if row is None:
            return None
        uow.commit()
    return Lease(name, holder, row.position, row.paused_until, row.consecutive_failures)


def release(uow: UnitOfWork, name: str, holder: str) -> None:
    with uow:
        uow.session.execute(update(SyncCursor).where(SyncCursor.name == name, SyncCursor.leased_by == holder)
                            .values(leased_by=None, lease_until=None))
        uow.commit()


def fenced_update(uow: UnitOfWork, name: str, holder: str, lease: timedelta, **values: Any) -> None:
    """Update the cursor inside the caller's transaction, renewing the lease; LeaseLost if it is not ours."""
    now = uow.now()
    done = uow.session.execute(
        update(SyncCursor).where(SyncCursor.name == name, SyncCursor.leased_by == holder)
        .values(lease_until=now + lease, updated_at=now, **values).returning(SyncCursor.name)
    ).first()
    if done is None:
        raise LeaseLost(f"cursor {name}: the lease of {holder} was taken over")


def record_failure(uow: UnitOfWork, name: str, holder: str, lease: timedelta, error: str,
                   pause_for: timedelta) -> None:
    """Count a failed attempt of the whole reader (broker away, receiver away) and pause it for a while."""
    with uow:
        now = uow.now()
        fenced_update(uow, name, holder, lease, failed=SyncCursor.failed + 1,
                      consecutive_failures=SyncCursor.consecutive_failures + 1, paused_until=now + pause_for,
                      last_error=error[:8000], last_error_at=now)
        uow.commit()
