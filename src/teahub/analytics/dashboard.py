"""The figures of the dashboard (read-only, across tables): sales today by store and by channel and the last
days day by day (China calendar days), the teas that sold best, the gross margin, stock below its threshold
and batches close to their expiry; and the spend behind each customer of a list.

Sales are what sold orders earn: orders paid (or shipped on credit), less what was refunded, by when they were
placed, as every customer report counts them (`analytics.sold`). A `scope` (the location codes a clerk or
manager acts for; None for all) limits every figure to orders placed at, and stock held at, those locations.
Each part is one or two set-based statements.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Date, and_, case, cast, func, select
from sqlalchemy.orm import Session

from teahub.analytics import profit, rules
from teahub.analytics.sold import IS_SOLD, ORDER_REVENUE
from teahub.catalog.models import Category, Product
from teahub.db.uow import UnitOfWork
from teahub.inventory.models import Batch, Location, StockLevel, StockThreshold
from teahub.sales.models import Order, OrderLine

Scope = frozenset[str] | None
DAYS = 30
EXPIRY_DAYS = 60
TOP_TEAS = 5
ALERTS = 10


def _local_day(session: Session, column: Any) -> ColumnElement[Any]:
    """The China calendar day of a UTC timestamp column (a date on PostgreSQL, 'YYYY-MM-DD' on SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("Asia/Shanghai", column), Date)
    return func.date(column, "+8 hours")


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _days(now: datetime, days: int) -> tuple[list[date], datetime, datetime]:
    """The last `days` China calendar days up to today, and the UTC moments they begin and end."""
    today = rules.local_date(now)
    first = today - timedelta(days=days - 1)
    return ([first + timedelta(days=n) for n in range(days)], rules.local_midnight(first),
            rules.local_midnight(today + timedelta(days=1)))


def sales(uow: UnitOfWork, scope: Scope = None, *, days: int = DAYS) -> dict[str, Any]:
    """Today's sales by store and by channel, and each of the last `days` days (zeros included), from one
    grouped read of the sold orders."""
    with uow.reading():
        session = uow.session
        calendar, since, until = _days(uow.now(), days)
        day = _local_day(session, Order.placed_at)
        stmt = (select(day.label("day"), Location.code, Location.name, Order.channel,
                       func.count(Order.id).label("orders"), func.sum(ORDER_REVENUE).label("sales"))
                .join(Location, Location.id == Order.location_id)
                .where(IS_SOLD, Order.placed_at >= since, Order.placed_at < until)
                .group_by(day, Location.code, Location.name, Order.channel))
        if scope is not None:
            stmt = stmt.where(Location.code.in_(scope))
        rows = session.execute(stmt).all()
    today = calendar[-1]
    per_day: dict[date, list[int]] = {d: [0, 0] for d in calendar}
    stores: dict[str, dict[str, Any]] = {}
    channels: dict[str, dict[str, Any]] = {}
    for r in rows:
        on, orders, amount = _as_date(r.day), int(r.orders), int(r.sales or 0)
        if on in per_day:
            per_day[on][0] += orders
            per_day[on][1] += amount
        if on != today:
            continue
        store = stores.setdefault(r.code, {"location": r.code, "name": r.name, "orders": 0, "sales": 0})
        channel = channels.setdefault(r.channel, {"channel": r.channel, "orders": 0, "sales": 0})
        for part in (store, channel):
            part["orders"] += orders
            part["sales"] += amount

    def biggest_first(parts: dict[str, dict[str, Any]], key: str) -> list[dict[str, Any]]:
        return sorted(parts.values(), key=lambda p: (-p["sales"], p[key]))

    return {
        "today": {"day": today, "orders": per_day[today][0], "sales": per_day[today][1],
                  "by_store": biggest_first(stores, "location"), "by_channel": biggest_first(channels, "channel")},
        "daily": [{"day": d, "orders": per_day[d][0], "sales": per_day[d][1]} for d in calendar],
    }


def top_teas(uow: UnitOfWork, scope: Scope = None, *, days: int = DAYS, limit: int = TOP_TEAS
             ) -> list[dict[str, Any]]:
    """The teas (not teaware, gift boxes or other goods) that earned most in the last `days` days."""
    revenue = func.sum(OrderLine.net_amount - OrderLine.refunded_amount)
    quantity = func.sum(OrderLine.quantity - OrderLine.refunded_quantity)
    with uow.reading():
        _calendar, since, until = _days(uow.now(), days)
        stmt = (select(OrderLine.sku, func.max(OrderLine.name).label("name"), func.max(OrderLine.unit).label("unit"),
                       quantity.label("quantity"), revenue.label("revenue"),
                       func.count(func.distinct(Order.id)).label("orders"))
                .join(Order, Order.id == OrderLine.order_id)
                .join(Product, Product.id == OrderLine.product_id)
                .join(Category, Category.id == Product.category_id)
                .where(IS_SOLD, Order.placed_at >= since, Order.placed_at < until,
                       Category.code.in_(sorted(rules.TEA_CATEGORIES)))
                .group_by(OrderLine.sku).order_by(revenue.desc(), OrderLine.sku).limit(limit))
        if scope is not None:
            stmt = stmt.join(Location, Location.id == Order.location_id).where(Location.code.in_(scope))
        return [{"sku": r.sku, "name": r.name, "unit": r.unit, "quantity": int(r.quantity or 0),
                 "revenue": int(r.revenue or 0), "orders": int(r.orders)}
                for r in uow.session.execute(stmt) if r.revenue]


def gross_margin(uow: UnitOfWork, scope: Scope = None, *, days: int = DAYS) -> dict[str, Any]:
    """Revenue, batch cost and gross margin of the last `days` days, in all and by location, from the profit
    report (`analytics.profit`)."""
    with uow.reading():
        _calendar, since, until = _days(uow.now(), days)
        rows = [r for r in profit.profit(uow, "location", since=since, until=until, limit=10_000)
                if scope is None or r["key"] in scope]
    revenue = sum(r["revenue"] for r in rows)
    cost = sum(r["cost"] for r in rows)
    return {"revenue": revenue, "cost": cost, "gross_profit": revenue - cost,
            "margin": round((revenue - cost) / revenue, 4) if revenue else None,
            "by_location": sorted(rows, key=lambda r: (-r["revenue"], r["key"]))}


def low_stock(uow: UnitOfWork, scope: Scope = None, *, limit: int = ALERTS) -> dict[str, Any]:
    """SKU x location whose available stock (on hand - reserved, expired batches left out, as inventory counts
    it) is below the minimum set for it; the emptiest (by share of the minimum) first."""
    with uow.reading():
        today = uow.now().date()
        expired = and_(Batch.expires_on.is_not(None), Batch.expires_on < today)
        available = func.coalesce(func.sum(case((expired, 0), else_=StockLevel.on_hand - StockLevel.reserved)), 0)
        stmt = (select(Product.sku, Product.name, Product.unit, Location.code.label("location"),
                       StockThreshold.minimum, available.label("available"))
                .select_from(StockThreshold)
                .join(Product, Product.id == StockThreshold.product_id)
                .join(Location, Location.id == StockThreshold.location_id)
                .outerjoin(StockLevel, and_(StockLevel.product_id == StockThreshold.product_id,
                                            StockLevel.location_id == StockThreshold.location_id))
                .outerjoin(Batch, Batch.id == StockLevel.batch_id)
                .where(Product.is_gift_box.is_(False))  # a gift box's stock is derived from its components
                .group_by(Product.sku, Product.name, Product.unit, Location.code, StockThreshold.minimum)
                .having(available < StockThreshold.minimum))
        if scope is not None:
            stmt = stmt.where(Location.code.in_(scope))
        rows = [{"sku": r.sku, "name": r.name, "unit": r.unit, "location": r.location, "minimum": int(r.minimum),
                 "available": int(r.available)} for r in uow.session.execute(stmt)]
    rows.sort(key=lambda r: (r["available"] / r["minimum"] if r["minimum"] else 0, r["location"], r["sku"]))
    return {"count": len(rows), "items": rows[:limit]}


def near_expiry(uow: UnitOfWork, scope: Scope = None, *, within_days: int = EXPIRY_DAYS, limit: int = ALERTS
                ) -> dict[str, Any]:
    """Batches in stock (per location) that expire within `within_days` days, soonest first; and how many in
    stock have expired already (they are no longer available: to scrap)."""
    with uow.reading():
        today = uow.now().date()
        stmt = (select(Product.sku, Product.name, Product.unit, Location.code.label("location"),
                       Batch.code.label("batch_code"), Batch.expires_on, func.sum(StockLevel.on_hand).label("on_hand"),
                       func.sum(StockLevel.reserved).label("reserved"))
                .select_from(StockLevel)
                .join(Batch, Batch.id == StockLevel.batch_id)
                .join(Product, Product.id == StockLevel.product_id)
                .join(Location, Location.id == StockLevel.location_id)
                .where(Batch.expires_on.is_not(None), Batch.expires_on <= today + timedelta(days=within_days),
                       StockLevel.on_hand > 0)
                .group_by(Product.sku, Product.name, Product.unit, Location.code, Batch.code, Batch.expires_on)
                .order_by(Batch.expires_on, Product.sku, Location.code))
        if scope is not None:
            stmt = stmt.where(Location.code.in_(scope))
        rows = [{"sku": r.sku, "name": r.name, "unit": r.unit, "location": r.location, "batch_code": r.batch_code,
                 "expires_on": r.expires_on, "days_left": (r.expires_on - today).days, "on_hand": int(r.on_hand),
                 "reserved": int(r.reserved)} for r in uow.session.execute(stmt)]
    expiring = [r for r in rows if r["days_left"] >= 0]
    return {"count": len(expiring), "expired": len(rows) - len(expiring), "within_days": within_days,
            "items": expiring[:limit]}


def dashboard(uow: UnitOfWork, scope: Scope = None, *, stock_scope: Scope = None, margin: bool = True,
              days: int = DAYS) -> dict[str, Any]:
    """Every figure of the dashboard in one read transaction. `stock_scope` limits the stock alerts (a manager
    also watches the warehouses they draw on); `margin=False` leaves the gross margin out (roles that do not
    see costs)."""
    with uow.reading():
        return {
            "sales": sales(uow, scope, days=days),
            "top_teas": top_teas(uow, scope, days=days),
            "margin": gross_margin(uow, scope, days=days) if margin else None,
            "low_stock": low_stock(uow, stock_scope),
            "near_expiry": near_expiry(uow, stock_scope),
            "days": days,
        }


def customer_figures(uow: UnitOfWork, customer_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Lifetime spend, sold orders and the last purchase of each customer given (for a list of customers):
    one grouped read. Customers without a sold order are absent."""
    if not customer_ids:
        return {}
    with uow.reading():
        rows = uow.session.execute(
            select(Order.customer_id, func.count(Order.id).label("orders"), func.sum(ORDER_REVENUE).label("spend"),
                   func.max(Order.placed_at).label("last_order_at"))
            .where(IS_SOLD, Order.customer_id.in_(customer_ids)).group_by(Order.customer_id))
        return {r.customer_id: {"orders": int(r.orders), "spend": int(r.spend or 0),
                                "last_order_at": r.last_order_at} for r in rows}
