"""When a customer's tea is likely finished, so that a repurchase reminder can go out.

Per customer x tea, from their sold orders of the last `HISTORY_DAYS` days (teas only: not teaware, gift
boxes or other goods; refunded units do not count; people only: a company buys tea to give away):

- grams bought: quantity for loose tea sold by the gram; pieces x the weight the product's form or name
  states ("can 250 g", "cake 357 g"), else a default per category (`rules.DEFAULT_PIECE_GRAMS`);
- how fast they drink it (grams per day), their own rhythm first (`rules.drinking_rate`: the median over
  consecutive purchases of grams / days to the next purchase; purchases less than a day apart are one):
  of that tea when they bought it at least twice (basis "tea"), else of its category when they bought that
  category at least twice (basis "category"), else 8 g a day, a regular drinker (basis "default");
- due: the last purchase of the tea + its grams / grams per day; `due_on` is that day in China time.

`repurchase_due` lists the teas due within the next `within_days` days, and those overdue by at most
`overdue_days` (longer overdue, the customer has moved on: a reminder is no longer a reminder).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from teahub.analytics import rules
from teahub.analytics.recommendations import ProductFacts, products
from teahub.analytics.sold import IS_SOLD, customer_header, customer_names, epoch_days, for_reports
from teahub.customers.models import Customer
from teahub.db.uow import UnitOfWork
from teahub.pagination import cursor_int
from teahub.sales.models import Order, OrderLine

HISTORY_DAYS = 365  # a year of buying: the rhythm of now, and a tea bought longer ago is not due
DEFAULT_OVERDUE_DAYS = 30


@dataclass(frozen=True)
class Due:
    customer_id: int
    product: ProductFacts
    last: rules.Purchase
    purchases: int
    grams_per_day: float
    basis: str
    due_day: float


def _lines(uow: UnitOfWork, now: datetime, teas: Iterable[int], customer_id: int | None) -> Iterable[Any]:
    """(customer, product, day, units) of the tea bought in sold orders of the last HISTORY_DAYS days."""
    session = uow.session
    units = OrderLine.quantity - OrderLine.refunded_quantity
    stmt = (select(Order.customer_id, OrderLine.product_id, epoch_days(session, Order.placed_at), units)
            .join(Order, Order.id == OrderLine.order_id)
            .where(IS_SOLD, Order.placed_at < now, Order.placed_at >= now - timedelta(days=HISTORY_DAYS),
                   OrderLine.product_id.in_(sorted(teas)), units > 0))
    if customer_id is not None:
        return session.execute(stmt.where(Order.customer_id == customer_id))
    return session.execute(stmt.where(Order.customer_id.is_not(None)))


def _dues(rows: Iterable[Any], facts: dict[int, ProductFacts], companies: set[int],
          due_between: tuple[float, float] = (-math.inf, math.inf)) -> list[Due]:
    """Each customer x tea's due day; only those in [due_between) when given (epoch days). Hot: a million
    lines pass through here, hence plain tuples and no call for a tea bought once."""
    first, last_day = due_between
    grams_of = {pid: p.grams_per_unit for pid, p in facts.items() if p.tea is not None}
    bought_by: dict[int, dict[int, list[rules.Bought]]] = defaultdict(lambda: defaultdict(list))
    for customer_id, product_id, day, units in rows:
        if customer_id not in companies:
            bought_by[customer_id][product_id].append((day, units * grams_of[product_id]))
    dues = []
    for customer_id, teas in bought_by.items():
        category_rates: dict[str, float | None] = {}
        for product_id, bought in teas.items():
            product = facts[product_id]
            merged = rules.merge_same_day(bought) if len(bought) > 1 else bought
            rate, basis = rules.rate_of_merged(merged), "tea"
            if rate is None:
                category = product.category
                if category not in category_rates:
                    category_rates[category] = rules.drinking_rate(
                        [p for other, purchases in teas.items() if facts[other].category == category
                         for p in purchases])
                rate, basis = category_rates[category], "category"
            if rate is None:
                rate, basis = rules.DEFAULT_GRAMS_PER_DAY, "default"
            last = merged[-1]
            due = last[0] + last[1] / rate
            if first <= due < last_day:
                dues.append(Due(customer_id, product, rules.Purchase(*last), len(merged), rate, basis, due))
    return dues


def _view(d: Due, now: datetime) -> dict[str, Any]:
    due_at = rules.from_epoch_day(d.due_day)
    due_on = rules.local_date(due_at)
    return {"customer_id": d.customer_id, "sku": d.product.sku, "name": d.product.name,
            "category": d.product.category, "last_bought_at": rules.from_epoch_day(d.last.day),
            "grams": d.last.grams, "purchases": d.purchases, "grams_per_day": round(d.grams_per_day, 2),
            "basis": d.basis, "due_at": due_at, "due_on": due_on, "days_left": (due_on - rules.local_date(now)).days}


def _teas(facts: dict[int, ProductFacts]) -> list[int]:
    return [pid for pid, p in facts.items() if p.tea is not None]


def customer_repurchase(uow: UnitOfWork, customer_id: int) -> dict[str, Any]:
    """Every tea the customer bought lately, with when it is likely finished, soonest first."""
    with uow.reading():
        header = customer_header(uow, customer_id)
        now = uow.now()
        facts = products(uow)
        dues = [] if header["kind"] == "company" else _dues(_lines(uow, now, _teas(facts), customer_id), facts, set())
        dues.sort(key=lambda d: (d.due_day, d.product.sku))
        return {"customer_id": customer_id, "name": header["name"], "as_of": now,
                "items": [_view(d, now) for d in dues], "next": None}


def repurchase_due(uow: UnitOfWork, *, within_days: int = 7, overdue_days: int = DEFAULT_OVERDUE_DAYS,
                   cursor: str | None = None, limit: int = 50) -> dict[str, Any]:
    """Customer x tea likely finished within `within_days` days (or overdue by at most `overdue_days`),
    soonest first. Paged by position: `next` is the offset of the next page."""
    offset = cursor_int(cursor)
    with uow.reading():
        now = uow.now()
        today = rules.local_date(now)
        first = rules.epoch_day(rules.local_midnight(today - timedelta(days=overdue_days)))
        last = rules.epoch_day(rules.local_midnight(today + timedelta(days=within_days + 1)))
        for_reports(uow.session)
        facts = products(uow)
        companies = set(uow.session.scalars(select(Customer.id).where(Customer.kind == "company")))
        dues = _dues(_lines(uow, now, _teas(facts), None), facts, companies, (first, last))
        dues.sort(key=lambda d: (d.due_day, d.customer_id, d.product.sku))
        chosen = dues[offset:offset + limit]
        names = customer_names(uow, sorted({d.customer_id for d in chosen}))
        items = [{**_view(d, now), "customer_name": names.get(d.customer_id, "")} for d in chosen]
        more = offset + limit < len(dues)
        return {"as_of": now, "within_days": within_days, "overdue_days": overdue_days, "total": len(dues),
                "items": items, "next": str(offset + limit) if more else None}
