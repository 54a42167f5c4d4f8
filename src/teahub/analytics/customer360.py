"""Customer 360: one answer with everything teahub knows about a customer, for the counter and the CRM.
Composed from each capability's service, plus what analytics reads across sold orders."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import bindparam, select

from teahub.analytics import clv, recommendations, repurchase, rfm
from teahub.analytics.profit import SOLD
from teahub.catalog.models import Category, Product
from teahub.db.uow import UnitOfWork
from teahub.sales.models import Order, OrderLine

OPEN_TICKETS = ("open", "in_progress", "waiting_customer")


def customer_360(uow: UnitOfWork, customer_id: int, *, recent: int = 10) -> dict[str, Any]:
    from teahub.crm.aftersales import service as aftersales
    from teahub.crm.pipeline import service as pipeline
    from teahub.customers import privacy
    from teahub.customers import service as customers
    from teahub.loyalty import coupons
    from teahub.loyalty import service as loyalty
    from teahub.sales import views as sales

    with uow.reading():
        info = customers.get_customer_info(uow, customer_id)  # a merged customer answers as the survivor
        cid = info.id
        tickets = aftersales.list_tickets(uow, customer_id=cid, limit=200)
        lifetime, taste = _lifetime_and_taste(uow, cid)
        return {
            "customer": customers.get_customer(uow, cid),
            "tier": info.tier,
            "points": loyalty.points_of(uow, cid, limit=recent),
            "coupons": [c for c in coupons.customer_coupons(uow, cid) if c["status"] == "issued"],
            "lifetime": lifetime,
            "taste": taste,
            "orders": sales.list_orders(uow, customer_id=cid, limit=recent),
            "open_tickets": [t for t in tickets if t["status"] in OPEN_TICKETS],
            "activities": pipeline.list_activities(uow, customer_id=cid, limit=recent),
            "rfm": rfm.customer_rfm(uow, cid),
            "clv": clv.customer_clv(uow, cid),
            "repurchase": repurchase.customer_repurchase(uow, cid),
            "recommendations": recommendations.for_customer(uow, cid, limit=5),
            "consents": privacy.consents(uow, cid)["current"],
        }


# The customer's sold lines with what lifetime and taste need, in one read (built once: building a statement
# costs about as much as running it for one customer).
_SOLD_LINES = (
    select(Order.id, Order.channel, Order.placed_at, OrderLine.net_amount - OrderLine.refunded_amount,
           OrderLine.cost - OrderLine.returned_cost, Category.code, Product.taste_notes)
    .join(Order, Order.id == OrderLine.order_id)
    .join(Product, Product.id == OrderLine.product_id)
    .join(Category, Category.id == Product.category_id)
    .where(Order.customer_id == bindparam("customer_id"), Order.status.in_(SOLD))
    .order_by(OrderLine.id)
)


def _lifetime_and_taste(uow: UnitOfWork, customer_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Spend and gross profit over all channels, from what was paid and the batches it came from; favourite
    categories (by spend) and the taste notes of the teas bought most."""
    orders: dict[int, str] = {}
    spend = cost = 0
    first = last = None
    by_category: Counter[str] = Counter()
    notes: Counter[str] = Counter()
    for order_id, channel, placed_at, spent, costed, category, taste_notes in uow.session.execute(
            _SOLD_LINES, {"customer_id": customer_id}):
        orders[order_id] = channel
        spend += int(spent or 0)
        cost += int(costed or 0)
        first = placed_at if first is None or placed_at < first else first
        last = placed_at if last is None or placed_at > last else last
        by_category[category] += int(spent or 0)
        notes.update(taste_notes or [])
    lifetime = {"orders": len(orders), "spend": spend, "gross_profit": spend - cost, "first_order_at": first,
                "last_order_at": last, "channels": dict(Counter(orders.values()))}
    taste = {"categories": [{"category": c, "spend": s} for c, s in by_category.most_common(5)],
             "taste_notes": [n for n, _ in notes.most_common(8)]}
    return lifetime, taste
