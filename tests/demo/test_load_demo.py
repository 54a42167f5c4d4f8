"""load_demo on a real database (SQLite, and PostgreSQL when TEAHUB_TEST_POSTGRES_URL is set), at a
small size: the right kinds of data, consistent stock, deterministic, and a no-op on a used database."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, String, cast, func, select
from sqlalchemy.orm import Session

from teahub.auth.models import AuditEntry
from teahub.bootstrap import initialize
from teahub.catalog.models import Category, GiftBoxComponent, Product
from teahub.customers.models import Customer, CustomerContact, CustomerIdentity
from teahub.db.engine import make_session_factory
from teahub.db.outbox import OutboxEvent
from teahub.db.uow import UnitOfWork
from teahub.demo import load_demo
from teahub.inventory import service as inventory
from teahub.inventory.models import Batch, Location, StockLedgerEntry, StockLevel, StockThreshold
from teahub.sales.models import Order, OrderLine, Refund
from tests.conftest import DATABASES, fresh_database

TODAY = date(2026, 11, 24)
NOW = datetime.combine(TODAY, time(0), tzinfo=UTC)
SMALL = {"customers": 200, "orders": 300}
CHANNELS = {"pos", "web", "tmall", "taobao", "jd", "pdd", "douyin", "b2b"}


@pytest.fixture(scope="module")
def demos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], tuple[Engine, dict[str, int]]]]:
    """Each database's demo, built the first time a test asks for it and kept for the module: the tests run in
    random order, and a parametrized module fixture would be built again each time the database changes."""
    built: dict[str, tuple[Engine, dict[str, int]]] = {}
    with ExitStack() as stack:
        def get(kind: str) -> tuple[Engine, dict[str, int]]:
            if kind not in built:
                _url, engine = stack.enter_context(contextmanager(fresh_database)(kind, tmp_path_factory.mktemp(
                    "demo")))
                initialize(engine)
                built[kind] = engine, load_demo(engine, seed=7, today=TODAY, customers=SMALL["customers"],
                                                orders=SMALL["orders"])
            return built[kind]

        yield get


@pytest.fixture(params=DATABASES)
def demo(request: pytest.FixtureRequest, demos: Callable[[str], tuple[Engine, dict[str, int]]]
         ) -> tuple[Engine, dict[str, int]]:
    return demos(request.param)


def session(engine: Engine) -> Session:
    return make_session_factory(engine)()


def test_locations_are_a_warehouse_and_three_stores(demo: tuple[Engine, dict[str, int]]) -> None:
    engine, counts = demo
    with session(engine) as s:
        locations = {code: (name, kind) for code, name, kind in s.execute(
            select(Location.code, Location.name, Location.kind))}
    assert locations == {"WH01": ("杭州中心仓", "warehouse"), "BJ01": ("北京前门店", "store"),
                         "HZ01": ("杭州西湖店", "store"), "XM01": ("厦门鼓浪屿店", "store")}
    assert counts["locations"] == 4


def test_catalog_covers_every_category_with_prices_and_three_gift_boxes(demo: tuple[Engine, dict[str, int]]
                                                                       ) -> None:
    engine, counts = demo
    with session(engine) as s:
        rows = s.execute(select(Product.sku, Category.code, Product.list_price, Product.member_price,
                                Product.vip_price, Product.special_price, Product.is_gift_box)
                         .join(Category, Category.id == Product.category_id)).all()
        boxes = s.execute(select(Product.sku, func.count())
                          .join(GiftBoxComponent, GiftBoxComponent.box_id == Product.id)
                          .group_by(Product.sku)).all()
    assert len(rows) >= 55 and counts["products"] == len(rows)
    assert {r.code for r in rows} >= {"green", "yellow", "white", "oolong", "black", "dark", "puerh_raw",
                                      "puerh_ripe", "scented", "herbal", "teaware", "giftbox"}
    assert len(boxes) == 3 and all(n >= 2 for _, n in boxes)
    assert sum(r.is_gift_box for r in rows) == 3
    for r in rows:
        if r.list_price >= 1000:
            assert 0.85 <= r.member_price / r.list_price <= 0.95
            assert 0.80 <= r.vip_price / r.list_price <= 0.90
    assert sum(r.special_price is not None for r in rows) >= 3


def test_batches_have_suppliers_costs_and_expiry_some_near_or_past(demo: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = demo
    with session(engine) as s:
        rows = s.execute(
            select(Product.sku, Category.code.label("category"), Product.list_price, Product.price_basis,
                   Product.shelf_life_days, Batch.code, Batch.supplier, Batch.produced_on, Batch.expires_on,
                   Batch.unit_cost, func.coalesce(func.sum(StockLevel.on_hand), 0).label("on_hand"))
            .join(Product, Product.id == Batch.product_id)
            .join(Category, Category.id == Product.category_id)
            .outerjoin(StockLevel, StockLevel.batch_id == Batch.id)
            .group_by(Product.sku, Category.code, Product.list_price, Product.price_basis, Product.shelf_life_days,
                      Batch.id, Batch.code, Batch.supplier, Batch.produced_on, Batch.expires_on, Batch.unit_cost)
        ).all()
    assert len(rows) >= 100
    for r in rows:
        assert r.supplier and re.fullmatch(r"[A-Z]+\d{6}-\d{2}", r.code), r
        assert 0.42 <= r.unit_cost * r.price_basis / r.list_price <= 0.63, r
        if r.category in ("white", "dark", "puerh_raw", "puerh_ripe", "teaware"):
            assert r.expires_on is None, r
        else:
            assert r.expires_on == r.produced_on + timedelta(days=r.shelf_life_days), r
    green = [r for r in rows if r.category == "green" and r.on_hand > 0]
    near = [r for r in green if TODAY <= r.expires_on <= TODAY + timedelta(days=30)]
    expired = [r for r in green if r.expires_on < TODAY]
    assert len(near) >= 2 and len(expired) >= 1


def test_stores_are_stocked_by_transfers_with_thresholds(demo: tuple[Engine, dict[str, int]]) -> None:
    engine, counts = demo
    with session(engine) as s:
        stocked: dict[str, int] = dict(s.execute(
            select(Location.code, func.sum(StockLevel.on_hand)).select_from(StockLevel)
            .join(Location, Location.id == StockLevel.location_id).group_by(Location.code)).all())
        transfers_in: dict[str, int] = dict(s.execute(
            select(Location.code, func.count()).select_from(StockLedgerEntry)
            .join(Location, Location.id == StockLedgerEntry.location_id)
            .where(StockLedgerEntry.kind == "transfer_in").group_by(Location.code)).all())
        thresholds: dict[str, int] = dict(s.execute(select(Location.code, func.count()).select_from(StockThreshold)
                                    .join(Location, Location.id == StockThreshold.location_id)
                                    .group_by(Location.code)).all())
    assert all(stocked.get(code, 0) > 0 for code in ("WH01", "BJ01", "HZ01", "XM01"))
    assert set(transfers_in) == {"BJ01", "HZ01", "XM01"}
    assert set(thresholds) == {"BJ01", "HZ01", "XM01"} and all(n >= 3 for n in thresholds.values())
    assert counts["transfers"] >= 3


def test_stock_is_never_negative_and_on_hand_equals_the_ledger(demo: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = demo
    with session(engine) as s:
        lowest, over = s.execute(select(func.min(StockLevel.on_hand),
                                        func.max(StockLevel.reserved - StockLevel.on_hand))).one()
        # every sale left a batch after it was received
        early = s.scalar(select(func.count()).select_from(StockLedgerEntry)
                         .join(Batch, Batch.id == StockLedgerEntry.batch_id)
                         .where(StockLedgerEntry.kind == "sale", StockLedgerEntry.at < Batch.received_at))
    assert lowest >= 0 and over <= 0
    assert early == 0
    assert inventory.verify_ledger(UnitOfWork(make_session_factory(engine))) == []


def test_orders_span_every_channel_and_lifecycle(demo: tuple[Engine, dict[str, int]]) -> None:
    engine, counts = demo
    with session(engine) as s:
        orders = s.execute(select(Order.channel, Order.status, Order.placed_at, Order.total, Order.paid_amount,
                                  Order.refunded_amount, Order.on_credit, Order.shipped_at,
                                  Order.completed_at, Order.customer_id)).all()
        refunds = s.execute(select(func.count()).select_from(Refund)).scalar_one()
        # refunds by line: part of an order's money goes back, the rest stays sold
        partial = s.execute(select(func.count()).select_from(Order)
                            .where(Order.refunded_amount > 0, Order.refunded_amount < Order.paid_amount,
                                   Order.status == "completed")).scalar_one()
        box_lines = s.execute(select(func.count()).select_from(OrderLine).join(Order, Order.id == OrderLine.order_id)
                              .where(Order.channel == "b2b", OrderLine.sku.like("GB-%"))).scalar_one()
    assert {o.channel for o in orders} == CHANNELS
    assert counts["orders"] == len(orders)
    assert counts["orders_skipped"] <= max(3, len(orders) // 50)
    statuses = {o.status for o in orders}
    assert {"completed", "shipped", "cancelled"} <= statuses
    assert sum(o.status == "completed" for o in orders) > 0.8 * len(orders)
    assert all(o.status == "completed" for o in orders if o.channel == "pos")
    start = NOW - timedelta(days=365)
    assert all(start <= o.placed_at < NOW for o in orders)
    assert all(o.shipped_at is None or o.placed_at <= o.shipped_at <= (o.completed_at or o.shipped_at)
               for o in orders)
    assert all(o.on_credit for o in orders if o.channel == "b2b" and o.paid_amount < o.total
               and o.status != "cancelled")
    assert box_lines >= 1
    assert refunds == counts["refunds"] and refunds >= 1 and partial >= 1
    assert all(o.customer_id is not None for o in orders if o.channel != "pos")
    assert any(o.customer_id is None for o in orders if o.channel == "pos")  # walk-ins


def test_events_and_audit_carry_the_moment_of_the_business(demo: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = demo
    with session(engine) as s:
        first, last = s.execute(select(func.min(OutboxEvent.occurred_at), func.max(OutboxEvent.occurred_at))).one()
        created = s.execute(select(OutboxEvent.occurred_at, Order.placed_at)
                            .join(Order, OutboxEvent.aggregate_id == cast(Order.id, String))
                            .where(OutboxEvent.type == "order.created", OutboxEvent.aggregate_type == "order")
                            ).all()
        kinds = set(s.scalars(select(OutboxEvent.type).distinct()))
        actors = set(s.scalars(select(AuditEntry.actor).distinct()))
        latest_audit = s.execute(select(func.max(AuditEntry.at))).scalar_one()
    assert first < NOW - timedelta(days=365) and last < NOW and latest_audit < NOW
    assert created and all(at == placed for at, placed in created)
    assert {"order.created", "order.paid", "order.shipped", "order.completed", "stock.changed",
            "customer.created"} <= kinds
    assert actors == {"demo"}


def test_customers_have_identities_tiers_and_companies_have_terms(demo: tuple[Engine, dict[str, int]]) -> None:
    engine, counts = demo
    with session(engine) as s:
        people = s.execute(select(Customer.kind, Customer.tier, Customer.credit_limit, Customer.payment_terms,
                                  Customer.company_name)).all()
        identities = s.execute(select(CustomerIdentity.kind, CustomerIdentity.value)).all()
        contacts = s.execute(select(func.count()).select_from(CustomerContact)).scalar_one()
    persons = [p for p in people if p.kind == "person"]
    companies = [p for p in people if p.kind == "company"]
    assert len(persons) == SMALL["customers"] and len(companies) == 15
    assert counts["customers"] == len(people)
    assert all(c.credit_limit and c.payment_terms == "monthly" and c.company_name for c in companies)
    assert contacts >= 15
    assert sum(p.tier == "member" for p in persons) > len(persons) / 2
    assert 1 <= sum(p.tier == "vip" for p in persons) <= len(persons) // 10
    kinds = {k for k, _ in identities}
    assert {"phone", "email", "wechat_unionid", "taobao", "jd", "pdd", "douyin"} <= kinds
    phones = [v for k, v in identities if k == "phone"]
    assert all(re.fullmatch(r"\+861[3-9]\d{9}", v) for v in phones)


def test_a_database_with_products_is_left_alone(demo: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = demo
    with session(engine) as s:
        before = s.scalar(select(func.count()).select_from(Order))
    assert load_demo(engine, seed=8, customers=10, orders=10) == {"skipped": 1}
    with session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Order)) == before


@pytest.mark.parametrize("kind", DATABASES)
def test_same_seed_same_data(kind: str, tmp_path: Path) -> None:
    results = []
    today = datetime.now(UTC).date()  # the default reference day, fixed once for both loads
    for n in (1, 2):
        (tmp_path / f"db{n}").mkdir()
        for _url, engine in fresh_database(kind, tmp_path / f"db{n}"):
            initialize(engine)
            counts = load_demo(engine, seed=11, customers=30, orders=60, today=today)
            counts.pop("elapsed_ms")
            with session(engine) as s:
                totals = s.execute(select(Order.channel, Order.status, Order.total, Order.placed_at)
                                   .order_by(Order.id)).all()
                stock = s.execute(select(func.sum(StockLevel.on_hand), func.sum(StockLevel.reserved))).one()
            results.append((counts, [tuple(t) for t in totals], tuple(stock)))
    assert results[0] == results[1]
