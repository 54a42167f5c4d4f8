"""Repeat purchase and monthly cohort retention.

A customer's cohort is the calendar month (China time) of their first sold order. Retention in month +k is
the share of the cohort who placed a sold order in the k-th calendar month after it (k = 1..12); a month
that has not begun yet (after `as_of`) is null, not zero. The repeat-purchase rate is the share of
customers with a sold order who have two or more.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, func, literal, select, union_all

from teahub.analytics import rules
from teahub.analytics.sold import IS_SOLD, for_reports, month_index
from teahub.db.uow import UnitOfWork
from teahub.sales.models import Order

RETENTION_MONTHS = 12


def _month_of(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _index_of(day: date) -> int:
    return day.year * 12 + day.month - 1


def cohorts(uow: UnitOfWork, *, as_of: datetime | None = None, since: date | None = None,
            until: date | None = None) -> dict[str, Any]:
    """Per cohort month: customers, repeat customers, and retention in months +1..+12."""
    with uow.reading():
        when = as_of or uow.now()
        session = uow.session
        for_reports(session)
        month = month_index(session, Order.placed_at).label("month")
        monthly = (select(Order.customer_id, month, func.count().label("orders"))
                   .where(IS_SOLD, Order.customer_id.is_not(None), Order.placed_at < when)
                   .group_by(Order.customer_id, month).cte("monthly"))  # one pass over the orders
        first = (select(monthly.c.customer_id, func.min(monthly.c.month).label("cohort"),
                        func.sum(monthly.c.orders).label("orders"))
                 .group_by(monthly.c.customer_id).cte("first"))
        offset = (monthly.c.month - first.c.cohort).label("offset")
        sizes = (select(first.c.cohort, literal(0).label("offset"), func.count().label("customers"),
                        func.sum(case((first.c.orders >= 2, 1), else_=0)).label("repeat"))
                 .group_by(first.c.cohort))
        returning = (select(first.c.cohort, offset, func.count().label("customers"), literal(0).label("repeat"))
                     .join(first, first.c.customer_id == monthly.c.customer_id)
                     .where(offset >= 1, offset <= RETENTION_MONTHS)
                     .group_by(first.c.cohort, offset))
        rows = session.execute(union_all(sizes, returning)).all()  # the orders are read once
    now_index = _index_of(rules.local_date(when))
    back: dict[int, dict[int, int]] = defaultdict(dict)
    sizes_of = []
    for r in rows:
        if int(r.offset) == 0:
            sizes_of.append(r)
        else:
            back[int(r.cohort)][int(r.offset)] = int(r.customers)
    items = []
    customers = repeaters = 0
    for r in sorted(sizes_of, key=lambda r: int(r.cohort)):
        cohort, size, repeat = int(r.cohort), int(r.customers), int(r.repeat or 0)
        customers += size
        repeaters += repeat
        if since is not None and cohort < _index_of(since) or until is not None and cohort > _index_of(until):
            continue
        retention: list[dict[str, Any]] = []
        for k in range(1, RETENTION_MONTHS + 1):
            if cohort + k > now_index:
                retention.append({"month": k, "customers": None, "share": None})
            else:
                n = back[cohort].get(k, 0)
                retention.append({"month": k, "customers": n, "share": round(n / size, 4)})
        items.append({"cohort": _month_of(cohort), "customers": size, "repeat_customers": repeat,
                      "repeat_rate": round(repeat / size, 4), "retention": retention})
    return {"as_of": when, "customers": customers, "repeat_customers": repeaters,
            "repeat_purchase_rate": round(repeaters / customers, 4) if customers else None,
            "items": items, "next": None}
