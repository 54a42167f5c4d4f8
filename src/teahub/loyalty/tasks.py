"""Loyalty's background work: points follow orders' money, tiers follow spend, points expire nightly."""

from __future__ import annotations

from datetime import time
from typing import Any

from teahub.db.uow import UnitOfWork
from teahub.loyalty import service
from teahub.scheduling.cadence import Daily
from teahub.scheduling.registry import register_job, subscribe

# Events that change what an order has paid or paid back.
ORDER_MONEY = ("order.paid", "order.payment_received", "order.completed", "order.refunded", "order.cancelled")


def follow_order(uow: UnitOfWork, event: dict[str, Any]) -> None:
    """Points first, at the tier the member had, then the tier this order may have moved them to."""
    if event["type"] in ORDER_MONEY:
        service.settle_order_points(uow, event)
    payload = event["payload"]
    for key in ("customer_id", "previous_customer_id"):
        if payload.get(key) is not None:
            service.recompute_tier(uow, int(payload[key]))


# From the beginning of the feed: orders placed before the first worker run earn their points too.
subscribe("loyalty.orders", (*ORDER_MONEY, "order.customer_changed"), follow_order, start="beginning")
# 03:00 and 02:00 Beijing time.
register_job(name="loyalty.expire_points", cadence=Daily(at=time(19, 0)), run=service.expire_points)
register_job(name="loyalty.recompute_tiers", cadence=Daily(at=time(18, 0)), run=service.recompute_all_tiers)
