"""What to offer next: teas bought together with a product, teas like it, and both for a customer.

- Bought together: from real co-purchases in the sold orders of the last year (`BASKET_DAYS`). For a
  product X and another Y, confidence is the share of the orders holding X that also hold Y, lift is that
  confidence over the share of all orders holding Y. Y qualifies when at least `min_orders` orders hold
  both and lift > 1 (bought with X more than on average); qualified items rank by confidence, then lift.
- Similar: teas (not teaware or gift boxes) scored by `rules.similarity`: taste notes (Jaccard) 0.5,
  category 0.3 (0.15 for the same family, e.g. raw and ripe pu-erh), origin 0.2.
- For a customer: bought-together items for everything they have bought (best X per item), then similar
  teas, then best sellers; leaving out what they bought in the last `exclude_days` days, inactive products,
  and what is out of stock both at their home store and at the warehouse.

The co-purchase counts and the product facts are remembered for a few minutes (see `memo`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, literal, select, text, union_all
from sqlalchemy.orm import aliased

from teahub.analytics import memo, rules
from teahub.analytics.sold import IS_SOLD, customer_header, for_reports
from teahub.catalog import service as catalog
from teahub.catalog.models import Category, Product
from teahub.db.uow import UnitOfWork
from teahub.errors import DomainError, NotFound
from teahub.inventory import service as inventory
from teahub.sales.models import Order, OrderLine

DEFAULT_MIN_ORDERS = 2
DEFAULT_EXCLUDE_DAYS = 30
BASKET_DAYS = 365  # co-purchases of the last year: assortments (and vintages, each its own SKU) change


@dataclass(frozen=True)
class ProductFacts:
    id: int
    sku: str
    name: str
    category: str
    parent: str | None
    unit: str
    form: str | None
    active: bool
    is_gift_box: bool
    tea: rules.TeaFacts | None  # None for teaware, gift boxes and other goods
    grams_per_unit: int  # grams in one base unit (1 for loose tea sold by the gram)


def _load_products(uow: UnitOfWork) -> dict[int, ProductFacts]:
    parent = aliased(Category)
    rows = uow.session.execute(
        select(Product.id, Product.sku, Product.name, Product.unit, Product.form, Product.origin,
               Product.taste_notes, Product.active, Product.is_gift_box, Category.code, parent.code.label("parent"))
        .join(Category, Category.id == Product.category_id)
        .outerjoin(parent, parent.id == Category.parent_id))
    facts = {}
    for r in rows:
        is_tea = not r.is_gift_box and (r.code in rules.TEA_CATEGORIES or (r.parent or "") in rules.TEA_CATEGORIES)
        tea = rules.TeaFacts(r.code, r.parent, r.origin, frozenset(r.taste_notes or ())) if is_tea else None
        grams = rules.grams_per_unit(r.unit, r.form, r.name, r.code, r.parent)
        facts[r.id] = ProductFacts(r.id, r.sku, r.name, r.code, r.parent, r.unit, r.form, r.active, r.is_gift_box,
                                   tea, grams)
    return facts


def products(uow: UnitOfWork) -> dict[int, ProductFacts]:
    """Every product's facts by id, remembered for a few minutes. Call inside `uow.reading()`."""
    return memo.remembered(uow, ("products",), lambda: _load_products(uow))


@dataclass
class Baskets:
    """Co-purchase counts over sold orders: orders in all, orders per product, orders per pair."""

    orders: int = 0
    item_orders: dict[int, int] = field(default_factory=dict)
    pairs: dict[int, dict[int, int]] = field(default_factory=lambda: defaultdict(dict))

    def with_(self, x: int, y: int) -> rules.CoPurchase:
        return rules.CoPurchase(self.pairs.get(x, {}).get(y, 0), self.item_orders.get(x, 0),
                                self.item_orders.get(y, 0), self.orders)

    def bought_with(self, x: int, min_orders: int) -> list[tuple[int, rules.CoPurchase]]:
        """Items bought with x that qualify, best first."""
        found = []
        for y, together in self.pairs.get(x, {}).items():
            if together >= min_orders:
                stats = self.with_(x, y)
                if stats.lift > 1:
                    found.append((y, stats))
        found.sort(key=lambda item: (-item[1].confidence, -item[1].lift, item[0]))
        return found


def _load_baskets(uow: UnitOfWork) -> Baskets:
    """One statement over the sold lines of the last BASKET_DAYS days (read once, as a CTE): pairs of
    products in the same order (x < y), the orders of each product (as the pair x = y), and the orders in all
    (as the pair 0, 0). Lines are not made distinct first (that costs a third of the time): an order holding
    the same product on two lines, which placing an order does not make, would count it twice."""
    session = uow.session
    for_reports(session)
    items = (select(OrderLine.order_id, OrderLine.product_id)
             .join(Order, Order.id == OrderLine.order_id)
             .where(IS_SOLD, Order.placed_at >= uow.now() - timedelta(days=BASKET_DAYS),
                    OrderLine.refunded_quantity < OrderLine.quantity)
             .cte("items"))
    a, b = items.alias("a"), items.alias("b")
    pairs = (select(a.c.product_id.label("x"), b.c.product_id.label("y"), func.count().label("n"))
             .join(b, (a.c.order_id == b.c.order_id) & (a.c.product_id < b.c.product_id))
             .group_by(a.c.product_id, b.c.product_id))
    singles = select(items.c.product_id, items.c.product_id, func.count()).group_by(items.c.product_id)
    total = select(literal(0), literal(0), func.count(func.distinct(items.c.order_id)))
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:  # the planner underestimates the CTE and sorts it twice to merge; hashing takes half the time
        session.execute(text("SET LOCAL enable_mergejoin = off"))
    rows = session.execute(union_all(pairs, singles, total)).all()
    if postgres:
        session.execute(text("SET LOCAL enable_mergejoin = on"))
    baskets = Baskets()
    for x, y, n in rows:
        if x == 0:
            baskets.orders = int(n)
        elif x == y:
            baskets.item_orders[x] = int(n)
        else:
            baskets.pairs[x][y] = baskets.pairs[y][x] = int(n)
    return baskets


def baskets(uow: UnitOfWork, *, fresh: bool = False) -> Baskets:
    """The co-purchase counts, remembered for a few minutes. Call inside `uow.reading()`."""
    return memo.remembered(uow, ("baskets",), lambda: _load_baskets(uow), fresh=fresh)


def _similar_to(facts: dict[int, ProductFacts], x: ProductFacts) -> list[tuple[int, float]]:
    if x.tea is None:
        return []
    found = [(y.id, rules.similarity(x.tea, y.tea)) for y in facts.values()
             if y.id != x.id and y.tea is not None and y.active]
    return sorted(((y, s) for y, s in found if s > 0), key=lambda item: (-item[1], facts[item[0]].sku))


def _brief(p: ProductFacts) -> dict[str, Any]:
    return {"sku": p.sku, "name": p.name, "category": p.category}


def for_product(uow: UnitOfWork, sku: str, *, limit: int = 10, min_orders: int = DEFAULT_MIN_ORDERS
                ) -> dict[str, Any]:
    """Items bought together with a product, and teas like it."""
    with uow.reading():
        facts = products(uow)
        x = next((p for p in facts.values() if p.sku == sku), None)
        if x is None:
            facts = memo.remembered(uow, ("products",), lambda: _load_products(uow), fresh=True)
            x = next((p for p in facts.values() if p.sku == sku), None)
        if x is None:
            raise NotFound(f"no product {sku}", field="sku")
        counts = baskets(uow)
        together = [{**_brief(facts[y]), "orders": s.together, "confidence": round(s.confidence, 4),
                     "lift": round(s.lift, 4)}
                    for y, s in counts.bought_with(x.id, min_orders) if y in facts and facts[y].active][:limit]
        similar = [{**_brief(facts[y]), "similarity": s} for y, s in _similar_to(facts, x)[:limit]]
        return {"sku": x.sku, "name": x.name, "orders": counts.item_orders.get(x.id, 0), "bought_together": together,
                "similar": similar}


@dataclass
class _Candidate:
    product_id: int
    reason: str
    score: float
    because: int | None
    lift: float | None = None


def _candidates(facts: dict[int, ProductFacts], counts: Baskets, bought: dict[int, datetime],
                min_orders: int) -> list[_Candidate]:
    """Bought together first, then similar teas, then best sellers; one entry per product."""
    chosen: dict[int, _Candidate] = {}
    for x in sorted(bought):
        for y, s in counts.bought_with(x, min_orders):
            if y not in facts:
                continue
            best = chosen.get(y)
            if best is None or (s.confidence, s.lift) > (best.score, best.lift or 0.0):
                chosen[y] = _Candidate(y, "bought_together", round(s.confidence, 4), x, round(s.lift, 4))
    ranked = sorted(chosen.values(), key=lambda c: (-c.score, -(c.lift or 0.0), facts[c.product_id].sku))
    similar: dict[int, _Candidate] = {}
    for x in sorted(bought):
        if x not in facts:
            continue
        for y, score in _similar_to(facts, facts[x]):
            if y not in chosen and (y not in similar or score > similar[y].score):
                similar[y] = _Candidate(y, "similar", score, x)
    ranked += sorted(similar.values(), key=lambda c: (-c.score, facts[c.product_id].sku))
    listed = set(chosen) | set(similar)
    popular = sorted((y for y in counts.item_orders if y not in listed and y in facts),
                     key=lambda y: (-counts.item_orders[y], facts[y].sku))
    ranked += [_Candidate(y, "popular", round(counts.item_orders[y] / counts.orders, 4), None) for y in popular]
    return ranked


def _stock_places(uow: UnitOfWork, home_store: str | None) -> list[inventory.LocationInfo]:
    """Where a customer's goods come from: their home store (when they have one) and the warehouse."""
    places = []
    finders = ([lambda: inventory.get_location(uow, home_store)] if home_store else []) + \
        [lambda: inventory.default_warehouse(uow)]
    for find in finders:
        try:
            place = find()
        except DomainError:  # a home store that is no location (any more), or no warehouse
            continue
        if place not in places:
            places.append(place)
    return places


def for_customer(uow: UnitOfWork, customer_id: int, *, limit: int = 10, exclude_days: int = DEFAULT_EXCLUDE_DAYS,
                 min_orders: int = DEFAULT_MIN_ORDERS) -> dict[str, Any]:
    """What to offer a customer now, in stock near them and not just bought."""
    with uow.reading():
        header = customer_header(uow, customer_id)
        now = uow.now()
        bought = dict(uow.session.execute(
            select(OrderLine.product_id, func.max(Order.placed_at))
            .join(Order, Order.id == OrderLine.order_id)
            .where(IS_SOLD, Order.customer_id == customer_id, Order.placed_at < now)
            .group_by(OrderLine.product_id)).all())
        recent_since = now - timedelta(days=exclude_days)
        recent = {pid for pid, at in bought.items() if at >= recent_since}
        facts = products(uow)
        counts = baskets(uow)
        wanted = [c for c in _candidates(facts, counts, bought, min_orders)
                  if c.product_id not in recent and facts[c.product_id].active]  # candidates are all in facts
        places = _stock_places(uow, header["home_store"])
        infos = catalog.get_products_by_id(uow, [c.product_id for c in wanted])
        free: dict[int, int] = defaultdict(int)
        listed = [infos[c.product_id] for c in wanted if c.product_id in infos]
        for place in places:
            for pid, units in inventory.available(uow, place, listed).items():
                free[pid] += max(units, 0)
        items = []
        for c in wanted:
            if free[c.product_id] <= 0:
                continue
            items.append({**_brief(facts[c.product_id]), "reason": c.reason, "score": c.score,
                          "lift": c.lift, "because_sku": facts[c.because].sku if c.because in facts else None,
                          "available": free[c.product_id]})
            if len(items) == limit:
                break
        return {"customer_id": customer_id, "name": header["name"], "home_store": header["home_store"],
                "stock_at": [p.code for p in places], "exclude_days": exclude_days, "items": items, "next": None}
