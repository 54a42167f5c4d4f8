"""The unit of work: one command, one transaction, its events and audit entries inside it.

Re-entrant: a service that calls another capability's service passes its own unit of work along; only the
outermost `with uow:` opens and commits the transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import uuid_utils.compat as uuid_compat
from pydantic_core import to_jsonable_python
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from teahub.db.base import utcnow
from teahub.db.engine import WRITE_OPTION
from teahub.db.ids import assign_ids
from teahub.db.outbox import OutboxEvent

# Same statement on SQLite (3.35+) and PostgreSQL: advance a per-aggregate counter atomically.
_NEXT_VERSION = text(
    "INSERT INTO aggregate_versions (aggregate_type, aggregate_id, version) VALUES (:t, :i, 1) "
    "ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE SET version = aggregate_versions.version + 1 "
    "RETURNING version"
)


# PostgreSQL assigns seq values when rows are inserted, not when they commit, so a reader could see seq 7
# before seq 6 commits and then skip it. Writers hold this advisory lock (shared) from their outbox insert
# to their commit; readers take it exclusively for the moment they read.
OUTBOX_LOCK_KEY = 0x7EA_0B0C
_OUTBOX_WRITERS = text(f"SELECT pg_advisory_xact_lock_shared({OUTBOX_LOCK_KEY})")
_OUTBOX_READER = text(f"SELECT pg_advisory_xact_lock({OUTBOX_LOCK_KEY})")


class UnitOfWork:
    def __init__(self, session_factory: sessionmaker[Session], actor: str = "system",
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._factory = session_factory
        self.actor = actor
        self.clock = clock
        self._session: Session | None = None
        self._depth = 0
        self._committed = False
        self._after_commit: list[Callable[[], None]] = []
        self._events: list[dict[str, Any]] = []
        self._audits: list[dict[str, Any]] = []

    @property
    def session_factory(self) -> sessionmaker[Session]:
        """Where this unit of work's sessions come from (for work that needs transactions of its own)."""
        return self._factory

    # -- transaction -------------------------------------------------------------------------------
    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("unit of work used outside `with uow:`")
        return self._session

    def __enter__(self) -> UnitOfWork:
        return self._enter(write=True)

    def _enter(self, *, write: bool) -> UnitOfWork:
        if self._depth == 0:
            self._session = self._factory()
            self._session.connection(execution_options={WRITE_OPTION: write})
            self._committed = False
            self._after_commit = []
            self._events = []
            self._audits = []
        self._depth += 1
        return self

    def __exit__(self, *exc: Any) -> None:
        self._depth -= 1
        if self._depth == 0:
            session, self._session = self._session, None
            assert session is not None
            try:
                if not self._committed:
                    session.rollback()
            finally:
                session.close()

    @contextmanager
    def reading(self) -> Iterator[UnitOfWork]:
        """A read-only transaction (SQLite: a deferred BEGIN, so readers never queue behind writers)."""
        self._enter(write=False)
        try:
            yield self
        finally:
            self.__exit__(None, None, None)

    @contextmanager
    def savepoint(self) -> Iterator[UnitOfWork]:
        """A nested transaction: when the block raises, its writes and the events it recorded are undone and
        the outer transaction goes on (used to import many rows and keep only the good ones)."""
        recorded, audited, callbacks = len(self._events), len(self._audits), len(self._after_commit)
        nested = self.session.begin_nested()
        try:
            yield self
        except BaseException:
            nested.rollback()
            del self._events[recorded:]
            del self._audits[audited:]
            del self._after_commit[callbacks:]
            raise
        else:
            nested.commit()

    def commit(self) -> None:
        if self._depth > 1:
            # The outermost caller commits; what this step changed is written now so the next step
            # (which may reload rows) sees it.
            self.flush()
            return
        if self._events:
            if self.session.get_bind().dialect.name == "postgresql":
                # Writers share this lock until they commit; a reader takes it exclusively, so it never reads
                # past an event whose transaction is still in flight (see events_after).
                self.session.execute(_OUTBOX_WRITERS)
            # All of the command's events in one round trip, in the order they were recorded.
            self.session.execute(insert(OutboxEvent.__table__), self._events)
            self._events = []
        if self._audits:
            from teahub.auth.models import AuditEntry  # the audit log is owned by auth

            self.session.execute(insert(AuditEntry.__table__), self._audits)
            self._audits = []
        assign_ids(self.session)
        self.session.commit()
        self._committed = True
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    def flush(self) -> None:
        """Write what the session holds now (many new rows of a table get their ids up front: `assign_ids`)."""
        assign_ids(self.session)
        self.session.flush()

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after_commit.append(callback)

    def now(self) -> datetime:
        return self.clock()

    # -- events and audit --------------------------------------------------------------------------
    def record_event(self, type_: str, aggregate_type: str, aggregate_id: object,
                     payload: dict[str, Any], *, version: int | None = None,
                     occurred_at: datetime | None = None) -> None:
        """Write an event to the outbox in this transaction. `version` comes from the aggregate's own row
        when it has one; otherwise a per-aggregate counter is advanced atomically."""
        agg_id = str(aggregate_id)
        if version is None:
            version = self._next_version(aggregate_type, agg_id)
        self._events.append({
            "id": str(uuid_compat.uuid7()), "type": type_, "occurred_at": occurred_at or self.now(),
            "aggregate_type": aggregate_type, "aggregate_id": agg_id, "version": version,
            "payload": to_jsonable_python(payload),
        })

    def _next_version(self, aggregate_type: str, aggregate_id: str) -> int:
        return int(self.session.execute(_NEXT_VERSION, {"t": aggregate_type, "i": aggregate_id}).scalar_one())

    def audit(self, action: str, entity_type: str, entity_id: object,
              before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> None:
        """An audit entry, written with the command's other entries in one round trip when it commits."""
        self._audits.append({"at": self.now(), "actor": self.actor, "action": action, "entity_type": entity_type,
                             "entity_id": str(entity_id), "before": to_jsonable_python(before),
                             "after": to_jsonable_python(after)})

    def scalar(self, stmt: Any) -> Any:
        return self.session.execute(stmt).scalar()


def events_after(session: Session, after: int, limit: int) -> list[OutboxEvent]:
    """Committed events after a cursor, in seq order, with no gap that a later commit could fill."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_OUTBOX_READER)  # waits for in-flight writers; held until this read's transaction ends
    return list(
        session.scalars(select(OutboxEvent).where(OutboxEvent.seq > after).order_by(OutboxEvent.seq)
                        .limit(limit))
    )
