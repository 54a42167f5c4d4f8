"""Customer 360: one answer with everything teahub knows about a customer, for the counter and the CRM.
Composed from each capability's service, plus what analytics reads across sold orders."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import func, select

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
        return {
            "customer": customers.get_customer(uow, cid),
            "tier": info.tier,
            "points": loyalty.points_of(uow, cid, limit=recent),
            "coupons": [c for c in coupons.customer_coupons(uow, cid) if c["status"] == "issued"],
            "lifetime": _lifetime(uow, cid),
            "taste": _taste(uow, cid),
            "orders": sales.list_orders(uow, customer_id=cid, limit=recent),
            "open_tickets": [t for t in tickets if t["status"] in OPEN_TICKETS],
            "activities": pipeline.list_activities(uow, customer_id=cid, limit=recent),
            "rfm": rfm.customer_rfm(uow, cid),
            "clv": clv.customer_clv(uow, cid),
            "repurchase": repurchase.customer_repurchase(uow, cid),
            "recommendations": recommendations.for_customer(uow, cid, limit=5),
            "consents": privacy.consents(uow, cid)["current"],
        }


def _lifetime(uow: UnitOfWork, customer_id: int) -> dict[str, Any]:
    """Spend and gross profit over all channels, from what was paid and the batches it came from."""
    row = uow.session.execute(
        select(func.count(func.distinct(Order.id)),
               func.coalesce(func.sum(OrderLine.net_amount - OrderLine.refunded_amount), 0),
               func.coalesce(func.sum(OrderLine.cost - OrderLine.returned_cost), 0),
               func.min(Order.placed_at), func.max(Order.placed_at))
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.customer_id == customer_id, Order.status.in_(SOLD))).one()
    channels = dict(uow.session.execute(
        select(Order.channel, func.count()).where(Order.customer_id == customer_id, Order.status.in_(SOLD))
        .group_by(Order.channel)).all())
    orders, spend, cost, first, last = row
    return {"orders": int(orders), "spend": int(spend), "gross_profit": int(spend) - int(cost),
            "first_order_at": first, "last_order_at": last, "channels": {k: int(v) for k, v in channels.items()}}


def _taste(uow: UnitOfWork, customer_id: int) -> dict[str, Any]:
    """Favourite categories (by spend) and the taste notes of the teas bought most."""
    rows = uow.session.execute(
        select(Category.code, Product.taste_notes, OrderLine.net_amount - OrderLine.refunded_amount)
        .join(Order, Order.id == OrderLine.order_id)
        .join(Product, Product.id == OrderLine.product_id)
        .join(Category, Category.id == Product.category_id)
        .where(Order.customer_id == customer_id, Order.status.in_(SOLD))).all()
    by_category: Counter[str] = Counter()
    notes: Counter[str] = Counter()
    for category, taste_notes, spent in rows:
        by_category[category] += int(spent)
        notes.update(taste_notes or [])
    return {"categories": [{"category": c, "spend": s} for c, s in by_category.most_common(5)],
            "taste_notes": [n for n, _ in notes.most_common(8)]}
