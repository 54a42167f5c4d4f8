"""Helpers for the care tests: customers with or without consent and identities, a clock the test moves, the
care events and messages written so far."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select

from teahub.crm.care.models import CustomerMessage
from teahub.customers import privacy
from teahub.customers import service as customers
from teahub.customers.schemas import CustomerIn
from teahub.db.engine import make_session_factory
from teahub.db.outbox import OutboxEvent
from teahub.db.uow import UnitOfWork

CARE = "/api/v1/care"
PHONES = iter(f"1381234{n:04d}" for n in range(10_000))


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 5, 4, 1, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def uow_at(engine: Engine, clock: Clock, actor: str = "test") -> UnitOfWork:
    return UnitOfWork(make_session_factory(engine), actor=actor, clock=clock)


def person(uow: UnitOfWork, *, name: str = "王芳", phone: bool = True, wechat: bool = False,
           email: str | None = None, birthday: date | None = None,
           consents: tuple[str, ...] = ("marketing_sms", "marketing_wechat")) -> int:
    """A customer with a phone (and a WeChat openid when asked), who agreed to the given purposes."""
    identities = [{"kind": "wechat_openid", "value": f"oWx{next(PHONES)}"}] if wechat else []
    data = CustomerIn.model_validate({"name": name, "phone": next(PHONES) if phone else None, "email": email,
                                      "identities": identities, "birthday": birthday})
    view, _created = customers.create_customer(uow, data)
    for purpose in consents:
        privacy.record_consent(uow, view["id"], purpose, True, "test")
    return int(view["id"])


def queue(uow: UnitOfWork, customer_id: int, key: str, *, channel: str = "sms", source: str = "care:test",
          template: str = "care_test", params: dict[str, Any] | None = None) -> dict[str, Any]:
    from teahub.crm.care import service

    return service.queue_message(uow, customer_id, channel=channel, template=template, params=params or {},
                                 source=source, dedupe_key=key)


def messages(engine: Engine, customer_id: int | None = None) -> list[CustomerMessage]:
    with make_session_factory(engine)() as session:
        stmt = select(CustomerMessage).order_by(CustomerMessage.id)
        if customer_id is not None:
            stmt = stmt.where(CustomerMessage.customer_id == customer_id)
        return list(session.scalars(stmt))


def keys(engine: Engine, customer_id: int | None = None) -> list[str]:
    return [m.dedupe_key for m in messages(engine, customer_id)]


def queued_events(engine: Engine) -> list[dict[str, Any]]:
    with make_session_factory(engine)() as session:
        rows = session.scalars(select(OutboxEvent).where(OutboxEvent.type == "customer_message.queued")
                               .order_by(OutboxEvent.seq))
        return [e.envelope() for e in rows]


def message_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(CustomerMessage)) or 0)


def problem(response: Any, status: int, field: str | None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body.get("field") == field, body
    return body  # type: ignore[no-any-return]
