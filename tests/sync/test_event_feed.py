"""The event feed under concurrent writers: a reader following the cursor sees every event exactly once,
in order, even while many transactions commit out of the order they inserted their events."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine, func, select

from teahub.db.engine import make_session_factory
from teahub.db.outbox import OutboxEvent
from teahub.db.uow import UnitOfWork
from teahub.sync import service as feed

WRITERS = 8
EVENTS_PER_WRITER = 40


def test_a_reader_following_the_cursor_misses_nothing(engine: Engine) -> None:
    factory = make_session_factory(engine)
    done = threading.Event()
    seen: list[dict[str, object]] = []

    def write(worker: int) -> None:
        for i in range(EVENTS_PER_WRITER):
            uow = UnitOfWork(factory, actor=f"writer-{worker}")
            with uow:
                uow.record_event("test.happened", "thing", f"{worker}-{i}", {"worker": worker, "i": i})
                # Some work between the insert and the commit widens the window for out-of-order commits.
                uow.session.execute(select(func.count()).select_from(OutboxEvent))
                uow.commit()

    def read() -> None:
        cursor = 0
        while True:
            finished = done.is_set()
            batch = feed.read_events(UnitOfWork(factory), cursor, 50)
            if batch:
                seen.extend(batch)
                cursor = int(batch[-1]["seq"])  # type: ignore[call-overload]
            elif finished:
                return

    reader = threading.Thread(target=read)
    reader.start()
    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(write, range(WRITERS)))
    done.set()
    reader.join(timeout=120)
    ids = [e["id"] for e in seen]
    assert len(ids) == len(set(ids)) == WRITERS * EVENTS_PER_WRITER
    seqs = [e["seq"] for e in seen]
    assert seqs == sorted(seqs)  # type: ignore[type-var]
