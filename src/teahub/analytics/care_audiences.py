"""The audiences of the daily care rules, read across customers and orders (hence here, in analytics): who has a
birthday this month and who has not bought for a while. Read-only; each message still goes through
`teahub.crm.care.service.queue_message`, which checks the customer through the customers service.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select

from teahub.analytics.sold import IS_SOLD
from teahub.customers.models import Customer
from teahub.db.uow import UnitOfWork
from teahub.sales.models import Order

_PERSON_IN_FORCE = (Customer.status == "active", Customer.merged_into_id.is_(None), Customer.kind == "person")


def birthday_customers(uow: UnitOfWork, month: int, *, batch: int = 1000) -> Iterator[list[int]]:
    """Ids of active people born in `month` (1-12), in batches, by id."""
    after = 0
    while True:
        with uow.reading():
            ids = list(uow.session.scalars(
                select(Customer.id).where(Customer.birth_month == month, Customer.id > after, *_PERSON_IN_FORCE)
                .order_by(Customer.id).limit(batch)))
        if not ids:
            return
        yield ids
        after = ids[-1]


@dataclass(frozen=True)
class Lapsed:
    customer_id: int
    last_order_id: int
    last_placed_at: datetime


def lapsed_customers(uow: UnitOfWork, cutoff: datetime) -> list[Lapsed]:
    """Active people whose latest paid purchase (paid, allocated, shipped or completed) was placed before
    `cutoff`, with that order (the one placed last; the highest id among orders placed at the same moment)."""
    last = (select(Order.customer_id.label("customer_id"), func.max(Order.placed_at).label("last_at"))
            .where(IS_SOLD, Order.customer_id.is_not(None))
            .group_by(Order.customer_id)
            .having(func.max(Order.placed_at) < cutoff)
            .subquery())
    stmt = (select(last.c.customer_id, func.max(Order.id), last.c.last_at)
            .join(Order, and_(Order.customer_id == last.c.customer_id, Order.placed_at == last.c.last_at))
            .join(Customer, Customer.id == last.c.customer_id)
            .where(IS_SOLD, *_PERSON_IN_FORCE)
            .group_by(last.c.customer_id, last.c.last_at)
            .order_by(last.c.customer_id))
    with uow.reading():
        return [Lapsed(int(customer_id), int(order_id), last_at)
                for customer_id, order_id, last_at in uow.session.execute(stmt)]
