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

The list needs every customer's year of tea (about a million order lines for a million orders: seconds), so
a nightly job (`refresh_snapshot`, see tasks.py) keeps every customer x tea's due day in a snapshot table,
`analytics_repurchase_due`, and the list reads it: the due days are those the live computation gives as of
the snapshot's `computed_at`; the window (today, `days_left`) is today's. Customers with an order newer
than the snapshot (an order id above the snapshot's last one) are computed live and merged in, so a customer
who bought again this morning is not reminded; other changes to older orders (a late payment, a refund, a
customer merge) show the next night. Without a snapshot, with one older than `SNAPSHOT_MAX_AGE` (or newer
than the unit of work's clock: a run as of another moment), or with more than `MAX_ORDERS_SINCE` orders
after it, the whole list is computed live. `computed_at` in the answer tells which moment the due days are
as of. A customer's own list (`customer_repurchase`) is always computed live: it reads only their lines.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from sqlalchemy import ColumnElement, Engine, bindparam, delete, func, insert, select, text, update

from teahub.analytics import memo, rules
from teahub.analytics.models import RepurchaseDueRow, Snapshot
from teahub.analytics.recommendations import ProductFacts, products
from teahub.analytics.recommendations import _load_products as load_products
from teahub.analytics.sold import IS_SOLD, customer_header, customer_names, epoch_days, for_reports
from teahub.catalog.models import Product
from teahub.customers.models import Customer
from teahub.db.base import UtcDateTime
from teahub.db.uow import UnitOfWork
from teahub.pagination import cursor_int
from teahub.sales.models import Order, OrderLine

HISTORY_DAYS = 365  # a year of buying: the rhythm of now, and a tea bought longer ago is not due
DEFAULT_OVERDUE_DAYS = 30
SNAPSHOT = "repurchase_due"
# A day, and an hour for the next night's run to finish before the list falls back to computing live.
SNAPSHOT_MAX_AGE = timedelta(hours=25)
# Orders since the snapshot whose customers are computed live and merged in; past this many (a bulk import),
# the whole list is computed live.
MAX_ORDERS_SINCE = 20_000
_INSERT_BATCH = 5000


@dataclass(frozen=True, slots=True)
class Due:
    customer_id: int
    product: ProductFacts
    last: rules.Purchase
    purchases: int
    grams_per_day: float
    basis: str
    due_day: float


def _lines(uow: UnitOfWork, now: datetime, teas: Iterable[int] | None, who: ColumnElement[bool]) -> Iterable[Any]:
    """(customer, product, day, units) of what the customers `who` selects (a condition on the order) bought in
    sold orders of the last HISTORY_DAYS days: of the teas `teas` when given (a customer's own few lines are
    not worth a list of every tea in the statement: `_dues` leaves out what is not tea)."""
    session = uow.session
    units = OrderLine.quantity - OrderLine.refunded_quantity
    stmt = (select(Order.customer_id, OrderLine.product_id, epoch_days(session, Order.placed_at), units)
            .join(Order, Order.id == OrderLine.order_id)
            .where(IS_SOLD, Order.placed_at < now, Order.placed_at >= now - timedelta(days=HISTORY_DAYS),
                   units > 0, who))
    return session.execute(stmt if teas is None else stmt.where(OrderLine.product_id.in_(sorted(teas))))


def _dues(rows: Iterable[Any], facts: dict[int, ProductFacts], companies: set[int],
          due_between: tuple[float, float] = (-math.inf, math.inf)) -> Iterator[Due]:
    """Each customer x tea's due day; only those in [due_between) when given (epoch days). Hot: a million
    lines pass through here, hence plain tuples and no call for a tea bought once."""
    first, last_day = due_between
    grams_of = {pid: p.grams_per_unit for pid, p in facts.items() if p.tea is not None}
    bought_by: dict[int, dict[int, list[rules.Bought]]] = defaultdict(lambda: defaultdict(list))
    for customer_id, product_id, day, units in rows:
        grams = grams_of.get(product_id)
        if grams is not None and customer_id not in companies:
            bought_by[customer_id][product_id].append((day, units * grams))
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
                yield Due(customer_id, product, rules.Purchase(*last), len(merged), rate, basis, due)


def _view(d: Due, now: datetime) -> dict[str, Any]:
    due_at = rules.from_epoch_day(d.due_day)
    due_on = rules.local_date(due_at)
    return {"customer_id": d.customer_id, "sku": d.product.sku, "name": d.product.name,
            "category": d.product.category, "last_bought_at": rules.from_epoch_day(d.last.day),
            "grams": d.last.grams, "purchases": d.purchases, "grams_per_day": round(d.grams_per_day, 2),
            "basis": d.basis, "due_at": due_at, "due_on": due_on, "days_left": (due_on - rules.local_date(now)).days}


def _teas(facts: dict[int, ProductFacts]) -> list[int]:
    return [pid for pid, p in facts.items() if p.tea is not None]


def _order(d: Due) -> tuple[float, int, str]:
    return d.due_day, d.customer_id, d.product.sku


def customer_repurchase(uow: UnitOfWork, customer_id: int) -> dict[str, Any]:
    """Every tea the customer bought lately, with when it is likely finished, soonest first."""
    with uow.reading():
        return repurchase_of(uow, customer_header(uow, customer_id))


def repurchase_of(uow: UnitOfWork, customer: dict[str, Any]) -> dict[str, Any]:
    """`customer_repurchase` of a customer already read: {"customer_id", "name", "kind"} (the customer 360)."""
    with uow.reading():
        now = uow.now()
        customer_id = customer["customer_id"]
        facts = products(uow)
        dues = [] if customer["kind"] == "company" else list(
            _dues(_lines(uow, now, None, Order.customer_id == customer_id), facts, set()))
        dues.sort(key=lambda d: (d.due_day, d.product.sku))
        return {"customer_id": customer_id, "name": customer["name"], "as_of": now,
                "items": [_view(d, now) for d in dues], "next": None}


def repurchase_due(uow: UnitOfWork, *, within_days: int = 7, overdue_days: int = DEFAULT_OVERDUE_DAYS,
                   cursor: str | None = None, limit: int = 50) -> dict[str, Any]:
    """Customer x tea likely finished within `within_days` days (or overdue by at most `overdue_days`),
    soonest first. Paged by position: `next` is the offset of the next page. From the nightly snapshot when
    there is a fresh one, else computed live; `computed_at` is the moment the due days are as of."""
    offset = cursor_int(cursor)
    with uow.reading():
        now = uow.now()
        today = rules.local_date(now)
        window = (rules.epoch_day(rules.local_midnight(today - timedelta(days=overdue_days))),
                  rules.epoch_day(rules.local_midnight(today + timedelta(days=within_days + 1))))
        snapshot = _fresh_snapshot(uow, now)
        if snapshot is None:
            total, chosen = _live_page(uow, now, window, offset, limit)
            computed_at = now
        else:
            total, chosen = _snapshot_page(uow, snapshot, now, window, offset, limit)
            computed_at = snapshot.computed_at
        names = customer_names(uow, sorted({d.customer_id for d in chosen}))
        items = [{**_view(d, now), "customer_name": names.get(d.customer_id, "")} for d in chosen]
        more = offset + limit < total
        return {"as_of": now, "computed_at": computed_at, "within_days": within_days,
                "overdue_days": overdue_days, "total": total, "items": items,
                "next": str(offset + limit) if more else None}


def _companies(uow: UnitOfWork) -> set[int]:
    return set(uow.session.scalars(select(Customer.id).where(Customer.kind == "company")))


def _live_page(uow: UnitOfWork, now: datetime, window: tuple[float, float], offset: int, limit: int
               ) -> tuple[int, list[Due]]:
    for_reports(uow.session)
    facts = products(uow)
    dues = sorted(_dues(_lines(uow, now, _teas(facts), Order.customer_id.is_not(None)), facts, _companies(uow),
                        window), key=_order)
    return len(dues), dues[offset:offset + limit]


# -- the snapshot ------------------------------------------------------------------------------------------


def _fresh_snapshot(uow: UnitOfWork, now: datetime) -> Any:
    """(computed_at, last_order_id) of the snapshot, when there is one fresh as of now and not too many orders
    came after it."""
    session = uow.session
    found = session.execute(select(Snapshot.computed_at, Snapshot.last_order_id)
                            .where(Snapshot.name == SNAPSHOT)).first()
    if found is None or not found.computed_at <= now < found.computed_at + SNAPSHOT_MAX_AGE:
        return None
    newer = select(Order.id).where(Order.id > found.last_order_id).limit(MAX_ORDERS_SINCE + 1).subquery()
    if (session.scalar(select(func.count()).select_from(newer)) or 0) > MAX_ORDERS_SINCE:
        return None
    return found


def _sku_order(uow: UnitOfWork) -> Any:
    """SKUs in the order Python sorts them (code points), whatever the database's collation."""
    if uow.session.get_bind().dialect.name == "postgresql":
        return Product.sku.collate("C")
    return Product.sku  # SQLite compares text as bytes: UTF-8 byte order is code point order


def _snapshot_page(uow: UnitOfWork, snapshot: Any, now: datetime, window: tuple[float, float],
                   offset: int, limit: int) -> tuple[int, list[Due]]:
    """The page from the snapshot, with the customers who ordered since computed live and merged in."""
    session = uow.session
    facts = products(uow)
    since = select(Order.customer_id).where(Order.id > snapshot.last_order_id, Order.customer_id.is_not(None))
    people = select(Customer.id).where(Customer.id.in_(since), Customer.kind != "company")
    fresh = sorted(_dues(_lines(uow, now, _teas(facts), Order.customer_id.in_(people)), facts, set(), window),
                   key=_order)
    r = RepurchaseDueRow
    # NOT IN a list of at most MAX_ORDERS_SINCE: hashed once on PostgreSQL, an index built once on SQLite.
    in_window = (r.due_day >= window[0], r.due_day < window[1], r.customer_id.not_in(since))
    total = session.scalar(select(func.count()).select_from(r).where(*in_window)) or 0
    kept = (select(r.customer_id, r.product_id, r.last_day, r.grams, r.purchases, r.grams_per_day, r.basis,
                   r.due_day)
            .join(Product, Product.id == r.product_id).where(*in_window))
    ordered = kept.order_by(r.due_day, r.customer_id, _sku_order(uow))
    # Merging: the page's rows of the snapshot are among its first offset + limit when customers are merged in
    ordered = ordered.limit(offset + limit) if fresh else ordered.offset(offset).limit(limit)
    rows = session.execute(ordered).all()
    if any(row.product_id not in facts for row in rows):  # a product added since the facts were remembered
        facts = memo.remembered(uow, ("products",), lambda: load_products(uow), fresh=True)
    kept_dues = [Due(row.customer_id, facts[row.product_id], rules.Purchase(row.last_day, row.grams), row.purchases,
                     row.grams_per_day, row.basis, row.due_day) for row in rows if row.product_id in facts]
    if not fresh:
        return total, kept_dues
    merged = heapq.merge(kept_dues, fresh, key=_order)
    return total + len(fresh), list(islice(merged, offset, offset + limit))


def refresh_snapshot(uow: UnitOfWork) -> dict[str, Any]:
    """Compute every customer x tea's due day as of now, then replace the snapshot with them in one short write
    transaction: safe to repeat, and of two runs at the same time the second waits for the first (the
    snapshot's row is locked first), then replaces its rows. The computing is done in a read transaction,
    so that on SQLite the writers (orders) wait only for the writing. On PostgreSQL the table is vacuumed
    after: the list reads a window of due days, which should not wade through last night's dead rows."""
    with uow.reading():
        session = uow.session
        now = uow.now()
        for_reports(session)
        last_order_id = session.scalar(select(func.coalesce(func.max(Order.id), 0))) or 0
        facts = products(uow)
        dues = [(d.customer_id, d.product.id, d.last.day, d.last.grams, d.purchases, d.grams_per_day, d.basis,
                 d.due_day)
                for d in _dues(_lines(uow, now, _teas(facts), Order.customer_id.is_not(None)), facts,
                               _companies(uow))]
        engine = session.get_bind()
    dues.sort(key=lambda due: (due[7], due[0]))  # stored in the order they are read: a window is a few pages
    with uow:
        session = uow.session
        session.execute(_CLAIM, {"name": SNAPSHOT, "at": now})
        session.execute(delete(RepurchaseDueRow))
        for start in range(0, len(dues), _INSERT_BATCH):
            session.execute(insert(RepurchaseDueRow), [dict(zip(_COLUMNS, due, strict=True))
                                                       for due in dues[start:start + _INSERT_BATCH]])
        session.execute(update(Snapshot).where(Snapshot.name == SNAPSHOT)
                        .values(computed_at=now, last_order_id=last_order_id, row_count=len(dues)))
        uow.commit()
    if isinstance(engine, Engine) and engine.dialect.name == "postgresql":  # last night's rows out of the way
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f"VACUUM (ANALYZE) {RepurchaseDueRow.__tablename__}"))
    return {"computed_at": now.isoformat(), "last_order_id": last_order_id, "rows": len(dues)}


_COLUMNS = ("customer_id", "product_id", "last_day", "grams", "purchases", "grams_per_day", "basis", "due_day")
# Insert the snapshot's row, or lock it when it exists (PostgreSQL: a concurrent run waits here).
_CLAIM = text("INSERT INTO analytics_snapshots (name, computed_at, last_order_id, row_count) "
              "VALUES (:name, :at, 0, 0) ON CONFLICT (name) DO UPDATE SET row_count = analytics_snapshots.row_count"
              ).bindparams(bindparam("at", type_=UtcDateTime()))
