"""Which customers meet a segment's rules (`teahub.crm.campaigns.rules.SegmentRules`), read across customers,
orders, lines, products, categories, locations and consents in one set-based statement.

Each condition is a predicate on the customer's id (IN, NOT IN or NOT EXISTS over a subquery that each database
evaluates once), so one statement serves any combination; they are ANDed, and only active customers (not
merged, not erased) are members. A purchase is a sold order (paid, allocated, shipped, completed: see `sold`),
its revenue total - shipping fee - refunded amount; a line refunded in full was not bought.

RFM segments score each buyer's recency, frequency and monetary (last 365 days) against the remembered
population of `rfm.population` (its quintile breakpoints, at most `memo.TTL_SECONDS` old), in SQL: the same
score `rfm.customer_rfm` gives one customer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Select, case, exists, false, func, literal, or_, select
from sqlalchemy.orm import Session

from teahub.analytics import rfm, rules
from teahub.analytics.profit import SOLD
from teahub.analytics.sold import IS_SOLD, ORDER_REVENUE, for_reports, whole_days
from teahub.catalog.models import Category, Product
from teahub.crm.campaigns.rules import SegmentRules, birth_month_at
from teahub.customers.models import Consent, Customer
from teahub.db.uow import UnitOfWork
from teahub.inventory.models import Location
from teahub.sales.models import Order, OrderLine

PREVIEW_MEMBERS = 20


def _sold_to_customers() -> Select[Any]:
    return select(Order.customer_id).where(IS_SOLD, Order.customer_id.is_not(None))


def _on_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _placed_since(session: Session, since: datetime) -> Select[Any]:
    """The customers of sold orders placed since a moment, found through the placed_at index. On SQLite the
    status is compared as an expression (status || '') that no index serves: without statistics it would
    otherwise read through the status index, which nearly every order matches. (PostgreSQL has statistics;
    the expression would only blur its estimates.)"""
    sold = Order.status.concat("").in_(SOLD) if _on_sqlite(session) else IS_SOLD
    return select(Order.customer_id).where(sold, Order.customer_id.is_not(None), Order.placed_at >= since)


def _bought_since(session: Session, since: datetime) -> ColumnElement[bool]:
    return Customer.id.in_(_placed_since(session, since))


def _nothing_bought_since(session: Session, since: datetime) -> ColumnElement[bool]:
    if not _on_sqlite(session):  # PostgreSQL: an anti-join
        return ~exists().where(Order.customer_id == Customer.id, IS_SOLD, Order.placed_at >= since)
    return Customer.id.not_in(_placed_since(session, since))  # one pass, not one per customer


def _lifetime_spend_at_least(fen: int) -> ColumnElement[bool]:
    # A lifetime can pass 2^31 fen (¥21M): compare as a big integer, not as the int column's type.
    spenders = _sold_to_customers().group_by(Order.customer_id).having(
        func.sum(ORDER_REVENUE) >= literal(fen, BigInteger()))
    return Customer.id.in_(spenders)


def _consenting(purpose: str) -> ColumnElement[bool]:
    """The latest consent row of the purpose (per customer) grants it."""
    latest = select(func.max(Consent.id)).where(Consent.purpose == purpose).group_by(Consent.customer_id)
    return Customer.id.in_(select(Consent.customer_id).where(Consent.id.in_(latest), Consent.granted.is_(True)))


def category_ids(session: Session, codes: Iterable[str]) -> set[int]:
    """The ids of these categories and of every category below them."""
    rows = session.execute(select(Category.id, Category.parent_id, Category.code)).all()
    children: dict[int, list[int]] = {}
    for row in rows:
        if row.parent_id is not None:
            children.setdefault(row.parent_id, []).append(row.id)
    wanted = set(codes)
    found: set[int] = set()
    todo = [row.id for row in rows if row.code in wanted]
    while todo:
        node = todo.pop()
        if node not in found:
            found.add(node)
            todo.extend(children.get(node, ()))
    return found


def _bought_categories(session: Session, codes: Sequence[str], since: datetime | None) -> ColumnElement[bool]:
    ids = category_ids(session, codes)
    if not ids:
        return false()
    buyers = _placed_since(session, since) if since is not None else _sold_to_customers()
    # SQLite: category_id + 0 has it read the lines through and look each product up, instead of reading the
    # lines of each product of the categories through their index (several times slower).
    category = Product.category_id + 0 if _on_sqlite(session) else Product.category_id
    buyers = (buyers.join(OrderLine, OrderLine.order_id == Order.id).join(Product, Product.id == OrderLine.product_id)
              .where(category.in_(sorted(ids)), OrderLine.quantity > OrderLine.refunded_quantity))
    return Customer.id.in_(buyers)


def _of_stores(codes: Sequence[str]) -> ColumnElement[bool]:
    """Bought at one of the locations, or has one of them as home store."""
    locations = select(Location.id).where(Location.code.in_(codes))
    return or_(Customer.home_store.in_(codes),
               Customer.id.in_(_sold_to_customers().where(Order.location_id.in_(locations))))


def _score(value: ColumnElement[Any], cuts: Sequence[float]) -> ColumnElement[int]:
    """`rules.Quintiles.score` in SQL: 1 + the number of breakpoints the value is strictly above."""
    total: ColumnElement[int] = case((value > int(cuts[0]), 2), else_=1)
    for cut in cuts[1:]:
        total = total + case((value > int(cut), 1), else_=0)
    return total


def _in_rfm_segments(uow: UnitOfWork, segments: Sequence[str], now: datetime) -> ColumnElement[bool]:
    """Buyers whose (R, FM) cell of `rules.SEGMENT_GRID` is one of the segments', scored in the HAVING of one
    aggregate over their sold orders (the cell is one expression: R x 10 + FM, each score computed once)."""
    session = uow.session
    window = rfm.DEFAULT_WINDOW_DAYS
    population = rfm.population(uow, None, window)
    cells = [row * 10 + column + 1 for row, names in rules.SEGMENT_GRID.items()
             for column, name in enumerate(names) if name in segments]
    if population.customers == 0 or not cells:
        return false()
    in_window = Order.placed_at >= now - timedelta(days=window)
    r = _score(-whole_days(session, now, func.max(Order.placed_at)), population.r.cuts)
    f = _score(func.sum(case((in_window, 1), else_=0)), population.f.cuts)
    m = _score(func.sum(case((in_window, ORDER_REVENUE), else_=0)), population.m.cuts)
    cell = r * 10 + (f + m + 1) // 2
    scored = (_sold_to_customers().where(Order.placed_at < now).group_by(Order.customer_id)
              .having(cell.in_(sorted(cells))))
    return Customer.id.in_(scored)


def conditions(uow: UnitOfWork, rule_set: SegmentRules, now: datetime) -> list[ColumnElement[bool]]:
    """The rules as predicates on `Customer` (ANDed by the caller), evaluated at `now`."""
    found: list[ColumnElement[bool]] = [Customer.status == "active"]
    if rule_set.tiers:
        found.append(Customer.tier.in_(rule_set.tiers))
    if rule_set.birth_month is not None:
        found.append(Customer.birth_month == birth_month_at(rule_set.birth_month, rules.local_date(now).month))
    if rule_set.consent is not None:
        found.append(_consenting(rule_set.consent))
    if rule_set.last_purchase_within_days is not None:
        found.append(_bought_since(uow.session, now - timedelta(days=rule_set.last_purchase_within_days)))
    if rule_set.no_purchase_for_days is not None:
        found.append(_nothing_bought_since(uow.session, now - timedelta(days=rule_set.no_purchase_for_days)))
    if rule_set.bought_categories:
        since = now - timedelta(days=rule_set.bought_within_days) if rule_set.bought_within_days else None
        found.append(_bought_categories(uow.session, rule_set.bought_categories, since))
    if rule_set.stores:
        found.append(_of_stores(rule_set.stores))
    if rule_set.min_lifetime_spend is not None:
        found.append(_lifetime_spend_at_least(rule_set.min_lifetime_spend))
    if rule_set.rfm_segments:
        found.append(_in_rfm_segments(uow, rule_set.rfm_segments, now))
    return found


def _member_view(row: Any) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "tier": row.tier}


def _members(uow: UnitOfWork, where: list[ColumnElement[bool]], after_id: int, limit: int) -> list[dict[str, Any]]:
    rows = uow.session.execute(select(Customer.id, Customer.name, Customer.tier)
                               .where(*where, Customer.id > after_id).order_by(Customer.id).limit(limit))
    return [_member_view(row) for row in rows]


def _count(uow: UnitOfWork, where: list[ColumnElement[bool]]) -> int:
    return int(uow.session.scalar(select(func.count()).select_from(Customer).where(*where)) or 0)


def segment_size(uow: UnitOfWork, rule_set: SegmentRules) -> int:
    """How many customers meet the rules now."""
    with uow.reading():
        for_reports(uow.session)
        return _count(uow, conditions(uow, rule_set, uow.now()))


def segment_members(uow: UnitOfWork, rule_set: SegmentRules, *, after_id: int = 0,
                    limit: int = 50) -> list[dict[str, Any]]:
    """Members by id (id, name, tier), after `after_id`."""
    with uow.reading():
        for_reports(uow.session)
        return _members(uow, conditions(uow, rule_set, uow.now()), after_id, limit)


def preview(uow: UnitOfWork, rule_set: SegmentRules, *, sample: int = PREVIEW_MEMBERS) -> dict[str, Any]:
    """The size of a rule set and its first members by id, with the moment they were evaluated at. The rules
    are evaluated once: every member's id is read, then the first ones' names."""
    with uow.reading():
        for_reports(uow.session)
        now = uow.now()
        found = list(uow.session.scalars(select(Customer.id).where(*conditions(uow, rule_set, now))
                                          .order_by(Customer.id)))
        first = uow.session.execute(select(Customer.id, Customer.name, Customer.tier)
                                    .where(Customer.id.in_(found[:sample])).order_by(Customer.id))
        return {"size": len(found), "members": [_member_view(row) for row in first], "evaluated_at": now}


def member_ids(uow: UnitOfWork, rule_set: SegmentRules) -> list[int]:
    """Every member's id, in order (a campaign's snapshot at launch)."""
    with uow.reading():
        for_reports(uow.session)
        where = conditions(uow, rule_set, uow.now())
        return list(uow.session.scalars(select(Customer.id).where(*where).order_by(Customer.id)))


def active_customer_ids(uow: UnitOfWork, ids: Iterable[int]) -> set[int]:
    """Those of the customers that are still active (neither merged into another nor erased)."""
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    with uow.reading():
        return set(uow.session.scalars(select(Customer.id).where(Customer.id.in_(wanted),
                                                                 Customer.status == "active")))
