"""Tickets changed by many people at once: one satisfaction score, one close, versions without gaps."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Engine, select

from teahub.crm.aftersales import service
from teahub.crm.aftersales.schemas import TicketIn
from teahub.customers import service as customers
from teahub.customers.schemas import CustomerIn
from teahub.db.engine import make_session_factory
from teahub.db.outbox import OutboxEvent
from teahub.db.uow import UnitOfWork
from teahub.errors import DomainError
from tests.crm.aftersales.helpers import counts

THREADS = 8


def _all_at_once(engine: Engine, work: Any) -> list[Any]:
    factory = make_session_factory(engine)
    start = threading.Barrier(THREADS)

    def one(n: int) -> Any:
        uow = UnitOfWork(factory, actor=f"test:thread-{n}")
        start.wait()
        try:
            return work(uow, n)
        except DomainError as exc:
            return exc

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(one, range(THREADS)))


def _resolved_ticket(uow: UnitOfWork) -> int:
    customer, _ = customers.create_customer(uow, CustomerIn(name="王芳", phone="13812345678"))
    ticket = service.open_ticket(uow, TicketIn(kind="complaint", subject="s", customer_id=customer["id"]))
    service.resolve_ticket(uow, ticket["id"], "replaced")
    return int(ticket["id"])


def test_concurrent_scores_record_one(engine: Engine, uow: UnitOfWork) -> None:
    ticket_id = _resolved_ticket(uow)
    results = _all_at_once(engine, lambda u, n: service.record_csat(u, ticket_id, n % 5 + 1))
    recorded = [r for r in results if isinstance(r, dict)]
    assert len(recorded) == 1
    assert all(r.kind == "conflict" for r in results if isinstance(r, DomainError))
    assert service.get_ticket(uow, ticket_id)["csat_score"] == recorded[0]["csat_score"]
    assert counts(engine)[2] == 3  # opened, resolved, csat_recorded


def test_concurrent_notes_and_a_close_keep_versions_in_step(engine: Engine, uow: UnitOfWork) -> None:
    ticket_id = _resolved_ticket(uow)

    def work(u: UnitOfWork, n: int) -> Any:
        if n % 2:
            return service.close_ticket(u, ticket_id)
        return service.add_note(u, ticket_id, f"note {n}")

    results = _all_at_once(engine, work)
    closed = [r for r in results if isinstance(r, dict) and r["closed_at"] is not None and r["notes"] is not None
              and r["status"] == "closed"]
    errors = [r for r in results if isinstance(r, DomainError)]
    assert all(e.kind == "conflict" for e in errors)
    assert len(errors) == THREADS // 2 - 1  # one close wins; the others find the ticket closed
    ticket = service.get_ticket(uow, ticket_id)
    assert ticket["status"] == "closed" and len(ticket["notes"]) == THREADS // 2 and closed
    assert ticket["version"] == 2 + 1 + THREADS // 2  # opened, resolved, closed, and every note
    assert _event_versions(uow) == list(range(1, ticket["version"] + 1))


def _event_versions(uow: UnitOfWork) -> list[int]:
    with uow.reading():
        return sorted(uow.session.scalars(select(OutboxEvent.version).where(OutboxEvent.aggregate_type == "ticket")))
