"""Customer lifetime value: the gross profit a customer has brought, plus what they are expected to bring.

    historic  = gross profit of their sold orders so far: revenue (net of refunds) - batch cost
                (line cost - cost of the units returned to stock)
    predicted = profit per order x orders per year x expected years
                profit per order = historic / orders (= average order value x gross margin)
                orders per year  = their sold orders in the last 365 days (a lapsed customer predicts 0)
                expected years   = 1 / annual churn, at most 10 (a geometric lifetime)
    clv       = historic + predicted

Annual churn is observed: of the customers who had bought before the last 365 days, the share who did not
buy in them. With fewer than `rules.MIN_CHURN_BASE` such customers (a shop with less than a year of
history) it is taken as `rules.DEFAULT_ANNUAL_CHURN` (1/2, so 2 expected years); the answer says which.
No discounting: money is fen of today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import Float, case, cast, func, select

from teahub.analytics import memo, rules
from teahub.analytics.sold import IS_SOLD, ORDER_REVENUE, customer_header, customer_names, for_reports
from teahub.db.uow import UnitOfWork
from teahub.sales.models import Order, OrderLine

YEAR = timedelta(days=365)


@dataclass(frozen=True)
class Lifetime:
    customer_id: int
    orders: int
    revenue: int
    cost: int
    first_at: datetime
    last_at: datetime
    orders_last_year: int

    @property
    def gross_profit(self) -> int:
        return self.revenue - self.cost


def _per_customer(as_of: datetime, customer_id: int | None = None) -> Any:
    """Per customer, from the orders alone: orders, revenue, first and last order, orders in the last year."""
    year_ago = as_of - YEAR
    stmt = (select(Order.customer_id, func.count().label("orders"), func.sum(ORDER_REVENUE).label("revenue"),
                   func.min(Order.placed_at).label("first_at"), func.max(Order.placed_at).label("last_at"),
                   func.sum(case((Order.placed_at >= year_ago, 1), else_=0)).label("last_year"))
            .where(IS_SOLD, Order.customer_id.is_not(None), Order.placed_at < as_of)
            .group_by(Order.customer_id))
    return stmt.where(Order.customer_id == customer_id) if customer_id is not None else stmt


def _costs(uow: UnitOfWork, as_of: datetime, customer_ids: list[int]) -> dict[int, int]:
    """Batch cost of the customers' sold orders: line cost less the cost of units returned to stock."""
    rows = uow.session.execute(
        select(Order.customer_id, func.sum(OrderLine.cost - OrderLine.returned_cost))
        .join(Order, Order.id == OrderLine.order_id)
        .where(IS_SOLD, Order.customer_id.in_(customer_ids), Order.placed_at < as_of)
        .group_by(Order.customer_id))
    return {customer_id: int(cost or 0) for customer_id, cost in rows if customer_id is not None}


def _lifetime(r: Any, cost: int) -> Lifetime:
    return Lifetime(r.customer_id, int(r.orders), int(r.revenue or 0), cost, r.first_at, r.last_at,
                    int(r.last_year or 0))


def _churn_statement(as_of: datetime) -> Any:
    """Customers with a sold order; of them, those who had bought a year ago, and those not since."""
    year_ago = as_of - YEAR
    per_customer = (select(func.min(Order.placed_at).label("first_at"), func.max(Order.placed_at).label("last_at"))
                    .where(IS_SOLD, Order.customer_id.is_not(None), Order.placed_at < as_of)
                    .group_by(Order.customer_id).subquery())
    before = per_customer.c.first_at < year_ago
    return select(func.count().label("customers"), func.sum(case((before, 1), else_=0)).label("base"),
                  func.sum(case((before & (per_customer.c.last_at < year_ago), 1), else_=0)).label("lapsed"))


def churn(uow: UnitOfWork, as_of: datetime | None = None, *, fresh: bool = False) -> tuple[rules.Churn, int]:
    """Annual churn and the number of customers with a sold order, remembered for a few minutes (see
    `memo`). Call inside `uow.reading()`."""
    def compute() -> tuple[rules.Churn, int]:
        for_reports(uow.session)
        row = uow.session.execute(_churn_statement(as_of or uow.now())).one()
        return rules.Churn.of(int(row.base or 0), int(row.lapsed or 0)), int(row.customers or 0)

    return memo.remembered(uow, ("churn", as_of), compute, fresh=fresh)


def _churn_view(c: rules.Churn) -> dict[str, Any]:
    return {"annual_churn": round(float(c.rate), 4), "expected_years": round(float(c.expected_years), 4),
            "churn_observed": c.observed, "churn_base": c.base, "churn_lapsed": c.lapsed}


def _value(c: Lifetime, years: Fraction) -> dict[str, Any]:
    predicted = rules.predicted_value(c.gross_profit, c.orders, c.orders_last_year, years)
    return {"customer_id": c.customer_id, "orders": c.orders, "revenue": c.revenue, "cost": c.cost,
            "gross_profit": c.gross_profit,
            "margin": round(c.gross_profit / c.revenue, 4) if c.revenue else None,
            "average_order_value": rules.div_half_up(c.revenue, c.orders),
            "orders_per_year": c.orders_last_year, "first_order_at": c.first_at, "last_order_at": c.last_at,
            "historic_value": c.gross_profit, "predicted_value": predicted, "clv": c.gross_profit + predicted}


def _years_sql(base: Any, lapsed: Any) -> Any:
    """`rules.Churn.expected_years` in SQL, as a float."""
    ratio = cast(base, Float) / case((lapsed == 0, 1), else_=lapsed)
    capped = case((lapsed == 0, rules.MAX_EXPECTED_YEARS), (ratio > rules.MAX_EXPECTED_YEARS,
                                                            rules.MAX_EXPECTED_YEARS), else_=ratio)
    return case((base >= max(rules.MIN_CHURN_BASE, 1), capped), else_=float(1 / rules.DEFAULT_ANNUAL_CHURN))


def _ranked(as_of: datetime) -> Any:
    """Every customer's order figures with the churn counts over all of them, by an upper bound of their value
    first: revenue in place of gross profit (batch cost is never negative, so gross profit <= revenue)."""
    year_ago = as_of - YEAR
    per = _per_customer(as_of).subquery("per_customer")
    before = per.c.first_at < year_ago
    counted = select(per, func.count().over().label("customers"),
                     func.sum(case((before, 1), else_=0)).over().label("base"),
                     func.sum(case((before & (per.c.last_at < year_ago), 1), else_=0)).over().label("lapsed")
                     ).subquery("counted")
    revenue = cast(counted.c.revenue, Float)
    bound = revenue + revenue * counted.c.last_year * _years_sql(counted.c.base, counted.c.lapsed) / counted.c.orders
    return select(counted).order_by(bound.desc(), counted.c.customer_id)


CHUNK = 500


def clv_report(uow: UnitOfWork, *, as_of: datetime | None = None, limit: int = 100) -> dict[str, Any]:
    """The customers of highest lifetime value, with the churn and expected lifetime behind the figures.

    Batch cost needs the order lines, so it is not summed for every customer: customers come from the orders
    alone, highest upper bound first (their value if all their revenue were profit), and their cost is read a
    chunk at a time, until the next bound falls below the `limit`-th value found. The answer is exact."""
    with uow.reading():
        for_reports(uow.session)
        when = as_of or uow.now()
        observed, customers = rules.Churn.of(0, 0), 0
        best: list[tuple[int, int, Lifetime]] = []  # (-clv, customer id, figures), best first
        result = uow.session.execute(_ranked(when), execution_options={"yield_per": CHUNK})
        try:
            for number, chunk in enumerate(result.partitions()):
                if number == 0:
                    observed = rules.Churn.of(int(chunk[0].base or 0), int(chunk[0].lapsed or 0))
                    customers = int(chunk[0].customers)
                years = observed.expected_years
                wanted = []
                for r in chunk:
                    revenue = int(r.revenue or 0)
                    bound = revenue + rules.predicted_value(revenue, int(r.orders), int(r.last_year or 0), years)
                    if len(best) == limit and bound + 1 < -best[-1][0]:
                        break
                    wanted.append(r)
                costs = _costs(uow, when, [r.customer_id for r in wanted]) if wanted else {}
                for r in wanted:
                    c = _lifetime(r, costs.get(r.customer_id, 0))
                    best.append((-(c.gross_profit + rules.predicted_value(c.gross_profit, c.orders,
                                                                          c.orders_last_year, years)),
                                 c.customer_id, c))
                best = sorted(best, key=lambda b: b[:2])[:limit]
                if len(wanted) < len(chunk):
                    break
        finally:
            result.close()
        memo.remembered(uow, ("churn", as_of), lambda: (observed, customers), fresh=True)
        items = [_value(c, observed.expected_years) for _, _, c in best]
        names = customer_names(uow, [i["customer_id"] for i in items])
        for item in items:
            item["name"] = names.get(item["customer_id"], "")
        return {"as_of": when, "customers": customers, **_churn_view(observed), "items": items, "next": None}


def customer_clv(uow: UnitOfWork, customer_id: int, *, as_of: datetime | None = None) -> dict[str, Any]:
    with uow.reading():
        header = customer_header(uow, customer_id)
        when = as_of or uow.now()
        observed, _ = churn(uow, as_of)
        own = uow.session.execute(_per_customer(when, customer_id)).first()
        base = {"customer_id": customer_id, "name": header["name"], "as_of": when, **_churn_view(observed)}
        if own is None:
            return {**base, "orders": 0, "revenue": 0, "cost": 0, "gross_profit": 0, "margin": None,
                    "average_order_value": 0, "orders_per_year": 0, "first_order_at": None, "last_order_at": None,
                    "historic_value": 0, "predicted_value": 0, "clv": 0}
        figures = _lifetime(own, _costs(uow, when, [customer_id]).get(customer_id, 0))
        return {**_value(figures, observed.expected_years), **base}
