"""Reading the outbox (relay and subscriptions come with the integration hub)."""

from __future__ import annotations

from typing import Any

from teahub.db.uow import UnitOfWork, events_after


def read_events(uow: UnitOfWork, after: int, limit: int) -> list[dict[str, Any]]:
    with uow.reading():
        return [event.envelope() for event in events_after(uow.session, after, limit)]
