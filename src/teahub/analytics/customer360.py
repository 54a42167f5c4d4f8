"""Customer 360: one answer with everything teahub knows about a customer, for the counter and the CRM.
Composed from each capability's service, plus what analytics reads across sold orders.

About thirty reads make the answer, so the parts of analytics share what the 360 has read already: the
customer (the repurchase and recommendations parts do not read it again) and their sold lines (read once
for lifetime, taste and what they bought lately). The recommendations, half of the time before, check stock
a batch of candidates at a time until the five shown are found (`recommendations.for_customer` checks every
candidate, best sellers included, that is the whole catalogue, at two places), and remember where the
customer's goods come from for a few minutes (`memo`). The answer is the one
`recommendations.for_customer(uow, id, limit=5)` gives; tests hold them equal.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select

from teahub.analytics import clv, memo, recommendations, repurchase, rfm
from teahub.analytics.profit import SOLD
from teahub.catalog import service as catalog
from teahub.catalog.models import Category, Product
from teahub.db.uow import UnitOfWork
from teahub.inventory import service as inventory
from teahub.sales.models import Order, OrderLine

OPEN_TICKETS = ("open", "in_progress", "waiting_customer")
RECOMMENDED = 5
# Candidates whose stock is checked at a time: the first batch nearly always holds the five in stock.
_STOCK_BATCH = 20


def customer_360(uow: UnitOfWork, customer_id: int, *, recent: int = 10) -> dict[str, Any]:
    from teahub.crm.aftersales import service as aftersales
    from teahub.crm.pipeline import service as pipeline
    from teahub.customers import privacy
    from teahub.customers import service as customers
    from teahub.loyalty import coupons
    from teahub.loyalty import service as loyalty
    from teahub.sales import views as sales

    with uow.reading():
        person = customers.get_customer(uow, customer_id)
        if person["merged_into"] is not None:  # a merged customer answers as the survivor
            person = customers.get_customer(uow, customers.get_customer_info(uow, customer_id).id)
        cid = person["id"]
        tickets = aftersales.list_tickets(uow, customer_id=cid, limit=200)
        lifetime, taste, bought = _sold_lines(uow, cid)
        return {
            "customer": person,
            "tier": person["tier"],
            "points": loyalty.points_of(uow, cid, limit=recent),
            "coupons": [c for c in coupons.customer_coupons(uow, cid) if c["status"] == "issued"],
            "lifetime": lifetime,
            "taste": taste,
            "orders": sales.list_orders(uow, customer_id=cid, limit=recent),
            "open_tickets": [t for t in tickets if t["status"] in OPEN_TICKETS],
            "activities": pipeline.list_activities(uow, customer_id=cid, limit=recent),
            "rfm": rfm.customer_rfm(uow, cid),
            "clv": clv.customer_clv(uow, cid),
            "repurchase": repurchase.repurchase_of(uow, {"customer_id": cid, "name": person["name"],
                                                         "kind": person["kind"]}),
            "recommendations": _recommendations(uow, cid, person, bought),
            "consents": privacy.consents(uow, cid)["current"],
        }


# The customer's sold lines with what lifetime, taste and the recommendations need, in one read (built once:
# building a statement costs about as much as running it for one customer).
_SOLD_LINES = (
    select(Order.id, Order.channel, Order.placed_at, OrderLine.product_id,
           OrderLine.net_amount - OrderLine.refunded_amount, OrderLine.cost - OrderLine.returned_cost,
           Category.code, Product.taste_notes)
    .join(Order, Order.id == OrderLine.order_id)
    .join(Product, Product.id == OrderLine.product_id)
    .join(Category, Category.id == Product.category_id)
    .where(Order.customer_id == bindparam("customer_id"), Order.status.in_(SOLD))
    .order_by(OrderLine.id)
)


def _sold_lines(uow: UnitOfWork, customer_id: int) -> tuple[dict[str, Any], dict[str, Any], dict[int, datetime]]:
    """Lifetime: spend and gross profit over all channels, from what was paid and the batches it came from.
    Taste: favourite categories (by spend) and the taste notes of the teas bought most. And when each product
    was last bought (before now), as the recommendations leave out what was bought lately."""
    now = uow.now()
    orders: dict[int, str] = {}
    spend = cost = 0
    first = last = None
    by_category: Counter[str] = Counter()
    notes: Counter[str] = Counter()
    bought: dict[int, datetime] = {}
    for order_id, channel, placed_at, product_id, spent, costed, category, taste_notes in uow.session.execute(
            _SOLD_LINES, {"customer_id": customer_id}):
        orders[order_id] = channel
        spend += int(spent or 0)
        cost += int(costed or 0)
        first = placed_at if first is None or placed_at < first else first
        last = placed_at if last is None or placed_at > last else last
        by_category[category] += int(spent or 0)
        notes.update(taste_notes or [])
        if placed_at < now and (product_id not in bought or placed_at > bought[product_id]):
            bought[product_id] = placed_at
    lifetime = {"orders": len(orders), "spend": spend, "gross_profit": spend - cost, "first_order_at": first,
                "last_order_at": last, "channels": dict(Counter(orders.values()))}
    taste = {"categories": [{"category": c, "spend": s} for c, s in by_category.most_common(5)],
             "taste_notes": [n for n, _ in notes.most_common(8)]}
    return lifetime, taste, bought


def _recommendations(uow: UnitOfWork, customer_id: int, person: dict[str, Any], bought: dict[int, datetime]
                     ) -> dict[str, Any]:
    """`recommendations.for_customer(uow, customer_id, limit=RECOMMENDED)`, from what the 360 has read already,
    checking stock a batch of candidates at a time until enough are found."""
    r = recommendations
    exclude_days = r.DEFAULT_EXCLUDE_DAYS
    recent_since = uow.now() - timedelta(days=exclude_days)
    facts = r.products(uow)
    wanted = [c for c in r._candidates(facts, r.baskets(uow), bought, r.DEFAULT_MIN_ORDERS)
              if not (c.product_id in bought and bought[c.product_id] >= recent_since) and facts[c.product_id].active]
    home_store = person["home_store"]
    places = memo.remembered(uow, ("stock_places", home_store), lambda: r._stock_places(uow, home_store))
    items: list[dict[str, Any]] = []
    for start in range(0, len(wanted), _STOCK_BATCH):
        batch = wanted[start:start + _STOCK_BATCH]
        infos = catalog.get_products_by_id(uow, [c.product_id for c in batch])
        listed = [infos[c.product_id] for c in batch if c.product_id in infos]
        free: dict[int, int] = defaultdict(int)
        for place in places:
            for pid, units in inventory.available(uow, place, listed).items():
                free[pid] += max(units, 0)
        for c in batch:
            if free[c.product_id] > 0 and len(items) < RECOMMENDED:
                items.append({**r._brief(facts[c.product_id]), "reason": c.reason, "score": c.score,
                              "lift": c.lift, "because_sku": facts[c.because].sku if c.because in facts else None,
                              "available": free[c.product_id]})
        if len(items) == RECOMMENDED:
            break
    return {"customer_id": customer_id, "name": person["name"], "home_store": home_store,
            "stock_at": [p.code for p in places], "exclude_days": exclude_days, "items": items, "next": None}
