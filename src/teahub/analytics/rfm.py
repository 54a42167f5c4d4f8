"""RFM: how recently, how often and for how much each customer buys, scored 1-5 and named by segment.

- Recency: whole days since the customer's last sold order (before `as_of`).
- Frequency: sold orders in the window (default the last 365 days).
- Monetary: revenue of those orders (fen, net of refunds).

Each is scored 1-5 by quintiles over the customers with at least one sold order (see `rules.Quintiles`:
a score counts the fifths of customers the value beats; fewer days beat more days). The segment comes from
the standard R x FM map in `rules.SEGMENT_GRID`:

    champions        R 5,   FM 4-5      bought lately, often, much
    loyal            R 3-4, FM 4-5      buy often and much, not just now
    potential_loyalists R 4-5, FM 2-3   recent, buying more than once
    new              R 5,   FM 1        first order just now
    promising        R 4,   FM 1        a recent small first order
    need_attention   R 3,   FM 3        average on every count
    about_to_sleep   R 3,   FM 1-2      fading, few and small orders
    at_risk          R 1-2, FM 3-4      used to buy a fair amount, gone quiet
    cant_lose        R 1-2, FM 5        were among the best, gone quiet
    hibernating      R 2,   FM 1-2      quiet for a while, little business
    lost             R 1,   FM 1-2      longest gone, little business

FM is the mean of the F and M scores rounded half up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, null, select, union_all
from sqlalchemy.orm import Session

from teahub.analytics import memo, rules
from teahub.analytics.sold import IS_SOLD, ORDER_REVENUE, customer_header, customer_names, for_reports, whole_days
from teahub.db.uow import UnitOfWork
from teahub.pagination import page
from teahub.sales.models import Order

DEFAULT_WINDOW_DAYS = 365


@dataclass(frozen=True)
class Population:
    """The yardstick a single customer is scored against: the quintile breakpoints of recency, frequency and
    monetary over the customers (`rules.Quintiles`), the same scores the report computes in SQL."""

    customers: int
    r: rules.Quintiles
    f: rules.Quintiles
    m: rules.Quintiles

    def score(self, recency_days: int, frequency: int, monetary: int) -> tuple[int, int, int, str]:
        r, f, m = self.r.score(-recency_days), self.f.score(frequency), self.m.score(monetary)
        return r, f, m, rules.segment(r, f, m)


def _facts(session: Session, as_of: datetime, window_days: int) -> Any:
    """Per customer with a sold order before as_of: last order, whole days since, orders and revenue in the
    window. A subquery."""
    in_window = Order.placed_at >= as_of - timedelta(days=window_days)
    last_at = func.max(Order.placed_at)
    return (select(Order.customer_id.label("customer_id"), last_at.label("last_at"),
                   whole_days(session, as_of, last_at).label("days"),
                   func.sum(case((in_window, 1), else_=0)).label("frequency"),
                   func.sum(case((in_window, ORDER_REVENUE), else_=0)).label("monetary"))
            .where(IS_SOLD, Order.customer_id.is_not(None), Order.placed_at < as_of)
            .group_by(Order.customer_id))


def _quintile(beaten: ColumnElement[int], customers: ColumnElement[int]) -> ColumnElement[int]:
    """1 + min(4, floor(5 x customers beaten / customers)): `rules.Quintiles` in SQL."""
    fifths = (beaten * 5) // customers
    return 1 + case((fifths > 4, 4), else_=fifths)


def _segment_of(r: ColumnElement[int], fm: ColumnElement[int]) -> ColumnElement[str]:
    """`rules.SEGMENT_GRID` as a CASE."""
    return case(*[(and_(r == row, fm == column + 1), literal(name))
                  for row, names in rules.SEGMENT_GRID.items() for column, name in enumerate(names)],
                else_=literal("lost"))


def _scored(session: Session, as_of: datetime, window_days: int) -> Any:
    """Every customer's facts, scores and segment (window functions over the facts). A CTE."""
    facts = _facts(session, as_of, window_days).subquery("facts")
    customers = func.count().over()
    r = _quintile(func.rank().over(order_by=facts.c.days.desc()) - 1, customers)  # beaten: more days since
    f = _quintile(func.rank().over(order_by=facts.c.frequency) - 1, customers)
    m = _quintile(func.rank().over(order_by=facts.c.monetary) - 1, customers)
    scores = select(facts, r.label("r"), f.label("f"), m.label("m")).subquery("scores")
    fm = (scores.c.f + scores.c.m + 1) // 2
    return select(scores, _segment_of(scores.c.r, fm).label("segment")).cte("scored")


def _view(row: Any, scores: tuple[int, int, int, str]) -> dict[str, Any]:
    r, f, m, seg = scores
    return {"customer_id": row.customer_id, "last_order_at": row.last_at, "recency_days": int(row.days),
            "frequency": int(row.frequency or 0), "monetary": int(row.monetary or 0), "r": r, "f": f, "m": m,
            "score": f"{r}{f}{m}", "segment": seg}


def rfm_report(uow: UnitOfWork, *, as_of: datetime | None = None, window_days: int = DEFAULT_WINDOW_DAYS,
               segment: str | None = None, after: int = 0, limit: int = 50) -> dict[str, Any]:
    """Segment sizes (customers, share, revenue in the window); with `segment`, its customers by id."""
    with uow.reading():
        session = uow.session
        for_reports(session)
        when = as_of or uow.now()
        scored = _scored(session, when, window_days)
        sizes_of = select(null().label("customer_id"), null().label("last_at"), null().label("days"),
                          null().label("frequency"), func.sum(scored.c.monetary).label("monetary"), null().label("r"),
                          null().label("f"), null().label("m"), scored.c.segment, func.count().label("customers")
                          ).group_by(scored.c.segment)
        statement: Any = sizes_of
        if segment is not None:  # the page of the segment, in the same statement: the scores are computed once
            members = (select(scored.c.customer_id, scored.c.last_at, scored.c.days, scored.c.frequency,
                              scored.c.monetary, scored.c.r, scored.c.f, scored.c.m, scored.c.segment,
                              literal(0).label("customers"))
                       .where(scored.c.segment == segment, scored.c.customer_id > after)
                       .order_by(scored.c.customer_id).limit(limit + 1).subquery("members"))
            statement = union_all(select(members), sizes_of)
        rows = session.execute(statement).all()
        sizes = {r.segment: (int(r.customers), int(r.monetary or 0)) for r in rows if r.customer_id is None}
        total = sum(n for n, _ in sizes.values())
        segments = [{"segment": code, "label": label, "customers": sizes.get(code, (0, 0))[0],
                     "share": round(sizes.get(code, (0, 0))[0] / total, 4) if total else 0.0,
                     "monetary": sizes.get(code, (0, 0))[1]}
                    for code, label in rules.SEGMENTS.items()]
        listed: dict[str, Any] = {"items": [], "next": None}
        if segment is not None:
            members_rows = sorted((r for r in rows if r.customer_id is not None), key=lambda r: r.customer_id)
            items = [_view(row, (int(row.r), int(row.f), int(row.m), row.segment)) for row in members_rows]
            names = customer_names(uow, [i["customer_id"] for i in items])
            for item in items:
                item["name"] = names.get(item["customer_id"], "")
            listed = page(items, limit, key="customer_id")
        return {"as_of": when, "window_days": window_days, "customers": total, "segments": segments, **listed}


def _population(uow: UnitOfWork, as_of: datetime, window_days: int) -> Population:
    for_reports(uow.session)
    facts = _facts(uow.session, as_of, window_days).subquery()
    rows = uow.session.execute(select(facts.c.days, facts.c.frequency, facts.c.monetary)).all()
    return Population(len(rows), rules.Quintiles.of([-int(r[0]) for r in rows]),
                      rules.Quintiles.of([int(r[1] or 0) for r in rows]),
                      rules.Quintiles.of([int(r[2] or 0) for r in rows]))


def population(uow: UnitOfWork, as_of: datetime | None = None, window_days: int = DEFAULT_WINDOW_DAYS
               ) -> Population:
    """The remembered yardstick (see `memo`); computed when missing or stale. Call inside `uow.reading()`."""
    when = as_of or uow.now()
    return memo.remembered(uow, ("rfm", window_days, as_of), lambda: _population(uow, when, window_days))


def customer_rfm(uow: UnitOfWork, customer_id: int, *, as_of: datetime | None = None,
                 window_days: int = DEFAULT_WINDOW_DAYS) -> dict[str, Any]:
    """One customer's recency, frequency, monetary, scores and segment (all null without a sold order)."""
    with uow.reading():
        header = customer_header(uow, customer_id)
        when = as_of or uow.now()
        own = uow.session.execute(_facts(uow.session, when, window_days)
                                  .where(Order.customer_id == customer_id)).first()
        pop = population(uow, as_of, window_days)
        base = {"customer_id": customer_id, "name": header["name"], "as_of": when, "window_days": window_days,
                "customers": pop.customers}
        if own is None:
            return {**base, "last_order_at": None, "recency_days": None, "frequency": 0, "monetary": 0, "r": None,
                    "f": None, "m": None, "score": None, "segment": None}
        scores = pop.score(int(own.days), int(own.frequency or 0), int(own.monetary or 0))
        return {**_view(own, scores), **base}
