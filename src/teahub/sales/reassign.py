"""Orders follow their customer when customers are merged (and back when a merge is reversed)."""

from __future__ import annotations

from sqlalchemy import select

from teahub.db.uow import UnitOfWork
from teahub.sales import events
from teahub.sales.models import Order
from teahub.sales.records import bump
from teahub.sales.views import event_payload, location_codes


def reassign_orders(uow: UnitOfWork, from_customer_id: int, to_customer_id: int) -> list[int]:
    """Move every order of one customer to another (customer merge); answers the moved order ids."""
    with uow:
        ids = list(uow.session.scalars(select(Order.id).where(Order.customer_id == from_customer_id)
                                       .order_by(Order.id)))
        move_orders(uow, ids, to_customer_id)
        uow.commit()
        return ids


def move_orders(uow: UnitOfWork, order_ids: list[int], to_customer_id: int) -> None:
    """Attach exactly these orders to a customer (a merge, or its reversal); each order records the change."""
    if not order_ids:
        return
    with uow:
        orders = list(uow.session.scalars(select(Order).where(Order.id.in_(order_ids)).order_by(Order.id)
                                          .with_for_update()))
        codes = location_codes(uow, *orders)
        for order in orders:
            previous, order.customer_id = order.customer_id, to_customer_id
            bump(uow, order, events.CUSTOMER_CHANGED,
                  {**event_payload(order, codes), "previous_customer_id": previous})
        uow.commit()
