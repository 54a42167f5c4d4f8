"""Dead letters: events a target gave up on, with the error. A replay puts them back at the head of their
record's retry queue (with a fresh set of attempts); delivering them resolves them. Replayed events arrive
out of order by nature: later events of the record went on while they were dead."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from teahub.db.uow import UnitOfWork
from teahub.errors import NotFound
from teahub.sync import cursors, store
from teahub.sync.models import SyncCursor, SyncDeadLetter, SyncTarget


def _as_dict(letter: SyncDeadLetter, target: str) -> dict[str, Any]:
    return {"id": letter.id, "target": target, "event_seq": letter.event_seq, "event_id": letter.event_id,
            "event_type": letter.event_type, "record_key": letter.record_key, "error": letter.error,
            "attempts": letter.attempts, "failed_at": letter.failed_at, "replays": letter.replays,
            "replayed_at": letter.replayed_at, "resolved_at": letter.resolved_at, "event": letter.envelope}


def _target_id(uow: UnitOfWork, name: str) -> int:
    target_id = uow.session.scalar(select(SyncTarget.id).where(SyncTarget.name == name))
    if target_id is None:
        raise NotFound(f"no sync target {name!r}", field="target")
    return int(target_id)


def list_dead_letters(uow: UnitOfWork, target: str | None = None, *, include_resolved: bool = False,
                      limit: int = 200) -> list[dict[str, Any]]:
    """Dead letters, oldest first (unresolved ones unless `include_resolved`)."""
    query = (select(SyncDeadLetter, SyncTarget.name).join(SyncTarget, SyncTarget.id == SyncDeadLetter.target_id)
             .order_by(SyncDeadLetter.id).limit(limit))
    with uow.reading():
        if target is not None:
            query = query.where(SyncDeadLetter.target_id == _target_id(uow, target))
        if not include_resolved:
            query = query.where(SyncDeadLetter.resolved_at.is_(None))
        return [_as_dict(letter, name) for letter, name in uow.session.execute(query)]


def replay(uow: UnitOfWork, dead_letter_id: int | None = None, *, target: str | None = None) -> dict[str, Any]:
    """Queue one dead letter (by id) or every unresolved one (of a target, or all) for delivery again."""
    with uow:
        query = select(SyncDeadLetter).where(SyncDeadLetter.resolved_at.is_(None)).order_by(SyncDeadLetter.id)
        if dead_letter_id is not None:
            letter = uow.session.get(SyncDeadLetter, dead_letter_id)
            if letter is None:
                raise NotFound(f"no dead letter {dead_letter_id}", field="id")
            letters = [letter] if letter.resolved_at is None else []
        else:
            if target is not None:
                query = query.where(SyncDeadLetter.target_id == _target_id(uow, target))
            letters = list(uow.session.scalars(query))
        now = uow.now()
        ids = []
        for letter in letters:
            store.enqueue(uow.session, letter.target_id, letter.envelope, attempts=0, next_attempt_at=now,
                          dead_letter_id=letter.id)
            ids.append(letter.id)
        if ids:
            uow.session.execute(update(SyncDeadLetter).where(SyncDeadLetter.id.in_(ids))
                                .values(replays=SyncDeadLetter.replays + 1, replayed_at=now))
            # The operator says the cause is fixed: a target pausing after failures tries again at once.
            names = [cursors.target_cursor(t) for t in {letter.target_id for letter in letters}]
            uow.session.execute(update(SyncCursor).where(SyncCursor.name.in_(names)).values(paused_until=None))
            uow.audit("sync.dead_letters_replayed", "sync_dead_letter",
                      str(dead_letter_id) if dead_letter_id is not None else target or "*",
                      after={"ids": ids})
        uow.commit()
    return {"replayed": len(ids), "ids": ids}
