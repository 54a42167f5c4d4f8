"""Knowing the customer at scale: RFM, CLV, cohorts, recommendations and repurchase over the demo grown to a
million orders, on PostgreSQL and SQLite. Prints one JSON line per scenario and database.

    .venv/bin/python bench/crm.py [--orders 1000000] [--sqlite-orders 200000] [--postgres URL]
                                  [--only sqlite|postgresql] [--demo-orders 6000] [--calls 300] [--indexes]
                                  [--keep NAME] [--scenario NAME ...]

The database is the demo (catalog, stores, batches, customers and a year of orders written through the
services), then synthetic customers and two years of orders bulk-inserted straight into the tables (COPY on
PostgreSQL, executemany on SQLite): bench setup, not the product path. Customers buy at their own rhythm,
mostly their favourite teas, often with a companion item, so co-purchases and repurchase intervals are real.

Scenarios, through the service functions (what the routes call):
- whole-population reports, each timed cold (nothing remembered, see analytics.memo): rfm_report (segment
  sizes), rfm_segment_page, clv_report (top 100), cohorts, recommendations_baskets (the co-purchase counts
  behind every recommendation, computed once and remembered), product_recommendations;
- the repurchase-due list: repurchase_due_live (computed live: no snapshot, or one older than a day),
  repurchase_due_snapshot_job (the nightly job filling analytics_repurchase_due), repurchase_due (the first
  page, read from the snapshot), repurchase_due_all_pages (every page of 5000, as the care rules read it),
  repurchase_due_a_day_later (the customers of the last day's orders computed live and merged in; checked
  against the live answer);
- per-customer reads over `--calls` random customers with orders (p50/p99 once warm; first_ms is the first
  call, which fills what analytics.memo remembers): customer_rfm, customer_recommendations,
  customer_repurchase, customer_clv, customer_360 (the whole `GET /customers/{id}/360` composition).
`--scenario NAME` (repeatable) runs only those (repurchase_due: the whole repurchase-due group). `--keep NAME`
builds the databases once and keeps them (the PostgreSQL schema NAME, the SQLite file $TMPDIR/NAME.db): run
again with the same name to measure again.
`--indexes` first creates the indexes suggested to the lead (see INDEXES).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import Engine, delete, func, inspect, select, text, update

from teahub.analytics import clv, cohorts, customer360, memo, recommendations, repurchase, rfm
from teahub.analytics.models import RepurchaseDueRow, Snapshot
from teahub.db.base import utcnow
from teahub.db.engine import make_engine, make_session_factory
from teahub.db.models import metadata
from teahub.db.uow import UnitOfWork
from teahub.demo import load_demo
from teahub.sales.models import Order

# Suggested to the lead (sales owns the orders table): one covering index makes a customer's own RFM and CLV
# figures an index-only read. The whole-population reports scan the orders either way.
INDEXES = {
    "postgresql": "CREATE INDEX IF NOT EXISTS ix_orders_customer_placed ON orders (customer_id, placed_at) "
                  "INCLUDE (status, total, shipping_fee, refunded_amount)",
    "sqlite": "CREATE INDEX IF NOT EXISTS ix_orders_customer_placed ON orders "
              "(customer_id, placed_at, status, total, shipping_fee, refunded_amount)",
}

CHANNELS = {"pos": 0.42, "web": 0.10, "tmall": 0.17, "taobao": 0.08, "jd": 0.10, "pdd": 0.06, "douyin": 0.06,
            "b2b": 0.01}
ORDER_COLUMNS = ("id", "channel", "status", "location_id", "customer_id", "price_list", "subtotal", "discount",
                 "shipping_fee", "total", "paid_amount", "refunded_amount", "on_credit", "needs_review", "placed_at",
                 "paid_at", "shipped_at", "completed_at", "cancelled_at", "version", "created_at", "updated_at")
LINE_COLUMNS = ("id", "order_id", "line_no", "product_id", "sku", "name", "unit", "quantity", "unit_price",
                "price_basis", "price_list", "amount", "discount", "net_amount", "cost", "refunded_quantity",
                "refunded_amount", "returned_cost")
CUSTOMER_COLUMNS = ("id", "name", "kind", "tier", "home_store", "status", "version", "created_at", "updated_at")


# -- the database ------------------------------------------------------------------------------------------


def fresh(kind: str, postgres_url: str, keep: str | None = None) -> tuple[Engine, Callable[[], None], bool]:
    """A database for the bench: (engine, what to call when done, whether it already holds a kept bench).
    With `keep`, the PostgreSQL schema or SQLite file of that name is reused when it exists, and kept."""
    if kind == "sqlite":
        path = Path(tempfile.gettempdir()) / f"{keep}.db" if keep else Path(tempfile.mkdtemp()) / "crm.db"
        existed = path.exists()
        engine = make_engine(f"sqlite:///{path}")
        metadata.create_all(engine)

        def remove() -> None:
            engine.dispose()
            if keep:
                return
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

        if existed:
            _bring_up_to_the_models(engine)
        return engine, remove, existed and _holds_orders(engine)
    schema = keep or f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(postgres_url, pool_size=1, max_overflow=0)
    with admin.begin() as conn:
        existed = conn.execute(text("select 1 from information_schema.schemata where schema_name = :s"),
                               {"s": schema}).first() is not None
        if not existed:
            conn.execute(text(f'create schema "{schema}"'))
    sep = "&" if "?" in postgres_url else "?"
    engine = make_engine(f"{postgres_url}{sep}options=-csearch_path%3D{schema}")
    metadata.create_all(engine)

    def drop() -> None:
        engine.dispose()
        if not keep:
            with admin.begin() as conn:
                conn.execute(text(f'drop schema "{schema}" cascade'))
        admin.dispose()

    if existed:
        _bring_up_to_the_models(engine)
    return engine, drop, existed and _holds_orders(engine)


def _bring_up_to_the_models(engine: Engine) -> None:
    """A kept database was built by an older tree: add the tables and columns the models have gained since
    (a column with a plain default gets it; others are left null)."""
    metadata.create_all(engine)
    found = inspect(engine)
    with engine.begin() as conn:
        for table in metadata.sorted_tables:
            have = {c["name"] for c in found.get_columns(table.name)}
            for column in table.columns:
                if column.name in have:
                    continue
                kind = column.type.compile(dialect=engine.dialect)
                default: Any = column.default
                value = default.arg if default is not None and not default.is_callable else None
                if isinstance(value, bool | int | str) and not isinstance(value, list | dict):
                    literal = {True: "true", False: "false"}[value] if isinstance(value, bool) else repr(value)
                    kind += f" DEFAULT {literal}"
                conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))


def _holds_orders(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(text("select count(*) from orders")).scalar_one() > 0


class Catalog:
    """What the generator needs of the demo: products with price and batch cost, stores, the warehouse."""

    def __init__(self, engine: Engine) -> None:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "select p.id, p.sku, p.name, p.unit, p.price_basis, p.list_price, p.member_price, p.vip_price, "
                "c.code from products p join categories c on c.id = p.category_id where p.active")).all()
            cost: dict[int, float] = dict(conn.execute(text(
                "select product_id, avg(unit_cost) from batches group by product_id")).all())
            parts = conn.execute(text("select box_id, component_id, quantity from gift_box_components")).all()
            self.locations: dict[str, int] = dict(conn.execute(text("select code, id from locations")).all())
            self.stores = [code for code, in conn.execute(text("select code from locations where kind = 'store'"))]
            self.warehouse = self.locations[conn.execute(text(
                "select code from locations where kind = 'warehouse' order by id limit 1")).scalar_one()]
        for box, component, quantity in parts:
            cost[box] = cost.get(box, 0) + quantity * float(cost.get(component, 0))
        self.products = [r for r in rows if r.id in cost]
        self.cost = {pid: float(c) for pid, c in cost.items()}
        # cheaper goods sell more often, as in the demo
        self.weights = [(10000 / max(self.typical(r), 2000)) ** 0.6 for r in self.products]
        rng = random.Random(11)
        self.companion = {r.id: rng.choice(self.products) for r in self.products}

    @staticmethod
    def typical(r: Any) -> int:
        return r.list_price * 250 // r.price_basis if r.unit == "g" else r.list_price


class Generator:
    """Synthetic customers and orders after the demo's own: two years up to now."""

    def __init__(self, catalog: Catalog, seed: int, now: datetime, first_order_id: int, first_line_id: int,
                 first_customer_id: int) -> None:
        self.c = catalog
        self.rng = random.Random(seed)
        self.now = now
        self.start = now - timedelta(days=730)
        self.order_id = first_order_id
        self.line_id = first_line_id
        self.customer_id = first_customer_id
        self.channels = list(CHANNELS)
        self.channel_weights = list(CHANNELS.values())

    def customers(self, n: int) -> Iterator[tuple[Any, ...]]:
        for _ in range(n):
            self.customer_id += 1
            joined = self.start + timedelta(seconds=self.rng.uniform(0, 730 * 86400))
            tier = self.rng.choices([None, "member", "vip"], [0.4, 0.5, 0.1])[0]
            home = self.rng.choice(self.c.stores) if self.rng.random() < 0.7 else None
            yield (self.customer_id, f"顾客{self.customer_id}", "person", tier, home, "active", 1, joined, joined)

    def _line(self, order_id: int, no: int, product: Any, price_list: str, refunded: bool) -> tuple[Any, ...]:
        rng = self.rng
        quantity = rng.choice((50, 100, 250, 250, 500)) if product.unit == "g" else rng.choice((1, 1, 1, 2))
        price = {"member": product.member_price, "vip": product.vip_price}.get(price_list) or product.list_price
        amount = (2 * quantity * price + product.price_basis) // (2 * product.price_basis)
        cost = round(quantity * self.c.cost[product.id])
        self.line_id += 1
        back = quantity if refunded else 0
        return (self.line_id, order_id, no, product.id, product.sku, product.name, product.unit, quantity, price,
                product.price_basis, price_list, amount, 0, amount, cost, back, amount if refunded else 0,
                cost if refunded else 0)

    def order(self, customer: tuple[Any, ...] | None, favourites: list[Any], at: datetime
              ) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
        rng = self.rng
        self.order_id += 1
        channel = rng.choices(self.channels, self.channel_weights)[0]
        home = customer[4] if customer else None
        store = home or rng.choice(self.c.stores)
        location = self.c.locations[store] if channel == "pos" else self.c.warehouse
        tier = customer[3] if customer else None
        price_list = tier or "list"
        first = rng.choice(favourites) if favourites and rng.random() < 0.6 else \
            rng.choices(self.c.products, self.c.weights)[0]
        picked = [first]
        if rng.random() < 0.3:
            picked.append(self.c.companion[first.id])
        while rng.random() < 0.25 and len(picked) < 4:
            picked.append(rng.choices(self.c.products, self.c.weights)[0])
        picked = list({p.id: p for p in picked}.values())
        cancelled = rng.random() < 0.02
        lines = [self._line(self.order_id, i + 1, p, price_list, not cancelled and rng.random() < 0.015)
                 for i, p in enumerate(picked)]
        subtotal = sum(line[11] for line in lines)
        refunded = sum(line[16] for line in lines)
        status = "cancelled" if cancelled else ("completed" if channel == "pos" or at < self.now - timedelta(days=10)
                                                else rng.choice(("paid", "allocated", "shipped", "completed")))
        paid = 0 if cancelled else subtotal
        done = at if status == "completed" else None
        shipped = at if status in ("shipped", "completed") else None
        row = (self.order_id, channel, status, location, customer[0] if customer else None, price_list, subtotal, 0,
               0, subtotal, paid, refunded, False, False, at, None if cancelled else at, shipped, done,
               at if cancelled else None, 1, at, at)
        return row, lines

    def history(self, customer: tuple[Any, ...]) -> Iterator[datetime]:
        """A customer's order times: from joining, at their own rhythm, until they stop or it is now."""
        rng = self.rng
        at = customer[7]
        rhythm = math.exp(rng.gauss(math.log(45), 0.6))  # days between orders, median 45
        orders = 1 + int(rng.expovariate(1 / 3.5))
        for _ in range(orders):
            if at >= self.now:
                return
            yield at
            at += timedelta(days=max(rng.gammavariate(4, rhythm / 4), 0.5), seconds=rng.randint(0, 36000))


def bulk(engine: Engine, kind: str, orders: int, seed: int = 17) -> dict[str, int]:
    """Add synthetic customers and `orders` orders (with their lines) straight into the tables."""
    catalog = Catalog(engine)
    with engine.connect() as conn:
        max_order = conn.execute(text("select coalesce(max(id), 0) from orders")).scalar_one()
        max_line = conn.execute(text("select coalesce(max(id), 0) from order_lines")).scalar_one()
        max_customer = conn.execute(text("select coalesce(max(id), 0) from customers")).scalar_one()
    gen = Generator(catalog, seed, utcnow(), max_order, max_line, max_customer)
    customer_rows: list[tuple[Any, ...]] = []
    order_rows: list[tuple[Any, ...]] = []
    line_rows: list[tuple[Any, ...]] = []
    while len(order_rows) < orders:
        for customer in gen.customers(max((orders - len(order_rows)) // 3, 1)):
            customer_rows.append(customer)
            favourites = gen.rng.choices(catalog.products, catalog.weights, k=2)
            for at in gen.history(customer):
                anonymous = gen.rng.random() < 0.07  # a walk-in who gives no phone
                row, lines = gen.order(None if anonymous else customer, [] if anonymous else favourites, at)
                order_rows.append(row)
                line_rows.extend(lines)
                if len(order_rows) >= orders:
                    break
            if len(order_rows) >= orders:
                break
    order_rows, line_rows = _in_time_order(order_rows, line_rows, max_order, max_line)
    write = _copy if kind == "postgresql" else _executemany
    for table, columns, rows in (("customers", CUSTOMER_COLUMNS, customer_rows), ("orders", ORDER_COLUMNS, order_rows),
                                 ("order_lines", LINE_COLUMNS, line_rows)):
        write(engine, table, *_with_defaults(kind, table, columns, rows))
    with engine.begin() as conn:
        if kind == "postgresql":
            for table in ("customers", "orders", "order_lines"):
                conn.execute(text(f"select setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(select max(id) from {table}))"))
    analyze(engine, kind)
    return {"customers": len(customer_rows), "orders": len(order_rows), "lines": len(line_rows)}


def _in_time_order(orders: list[tuple[Any, ...]], lines: list[tuple[Any, ...]], max_order: int, max_line: int
                   ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Number orders and lines as a shop would have: ids rising with time, not grouped by customer."""
    placed = ORDER_COLUMNS.index("placed_at")
    orders.sort(key=lambda row: row[placed])
    renumbered = {row[0]: max_order + i for i, row in enumerate(orders, 1)}
    orders = [(renumbered[row[0]], *row[1:]) for row in orders]
    lines = sorted(((renumbered[line[1]], line[2], line) for line in lines), key=lambda item: item[:2])
    return orders, [(max_line + i, order_id, *line[2:]) for i, (order_id, _, line) in enumerate(lines, 1)]


def _with_defaults(kind: str, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
                   ) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    """Add the table's other required columns with their model defaults (the tables grow as teahub does)."""
    extra: list[tuple[str, Any]] = []
    for column in metadata.tables[table].columns:
        if column.name in columns or column.nullable or column.default is None:
            continue
        default: Any = column.default
        value = default.arg(None) if default.is_callable else default.arg
        if isinstance(value, list | dict):
            value = Jsonb(value) if kind == "postgresql" else json.dumps(value)
        extra.append((column.name, value))
    if not extra:
        return columns, rows
    added = tuple(value for _, value in extra)
    return columns + tuple(name for name, _ in extra), [row + added for row in rows]


def analyze(engine: Engine, kind: str) -> None:
    if kind == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def _copy(engine: Engine, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    raw = engine.raw_connection()
    try:
        cur: Any = raw.cursor()
        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        raw.commit()
    finally:
        raw.close()


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _executemany(engine: Engine, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("BEGIN IMMEDIATE")
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        for start in range(0, len(rows), 50_000):
            cur.executemany(sql, [tuple(_sqlite_value(v) for v in row) for row in rows[start:start + 50_000]])
        cur.execute("COMMIT")
    finally:
        raw.close()


# -- timing ------------------------------------------------------------------------------------------------


def emit(**figures: Any) -> None:
    print(json.dumps(figures, ensure_ascii=False), flush=True)


def timed(name: str, database: str, orders: int, work: Callable[[], Any], uow: UnitOfWork) -> None:
    memo.forget(uow)
    started = time.perf_counter()
    work()
    emit(scenario=name, database=database, orders=orders, seconds=round(time.perf_counter() - started, 3))


def per_call(name: str, database: str, orders: int, ids: list[int], work: Callable[[int], Any],
             uow: UnitOfWork) -> None:
    memo.forget(uow)
    started = time.perf_counter()
    work(ids[0])  # the first call fills what is remembered (see analytics.memo), as a running server would
    first_ms = (time.perf_counter() - started) * 1000
    latencies = []
    for customer_id in ids:
        started = time.perf_counter()
        work(customer_id)
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    emit(scenario=name, database=database, orders=orders, calls=len(ids), first_ms=round(first_ms, 1),
         p50_ms=round(statistics.median(latencies), 2),
         p99_ms=round(latencies[max(math.ceil(len(latencies) * 0.99) - 1, 0)], 2))


def run(engine: Engine, database: str, orders: int, calls: int, only: set[str] | None = None) -> None:
    uow = UnitOfWork(make_session_factory(engine), actor="bench")
    with engine.connect() as conn:
        total = conn.execute(text("select count(*) from orders")).scalar_one()
        customers = [r for r, in conn.execute(text(
            "select distinct customer_id from orders where customer_id is not null"))]
        sku = conn.execute(text(
            "select sku from order_lines group by sku order by count(*) desc limit 1")).scalar_one()
    ids = random.Random(5).sample(customers, min(calls, len(customers)))

    def wanted(name: str) -> bool:
        return only is None or name in only

    for name, work in (("rfm_report", lambda: rfm.rfm_report(uow)),
                       ("rfm_segment_page", lambda: rfm.rfm_report(uow, segment="at_risk", limit=50)),
                       ("clv_report", lambda: clv.clv_report(uow, limit=100)),
                       ("cohorts", lambda: cohorts.cohorts(uow)),
                       ("recommendations_baskets", lambda: _baskets(uow))):
        if wanted(name):
            timed(name, database, total, work, uow)
    if wanted("product_recommendations"):
        memo.forget(uow)
        _baskets(uow)
        started = time.perf_counter()
        recommendations.for_product(uow, sku)
        emit(scenario="product_recommendations", database=database, orders=total,
             seconds=round(time.perf_counter() - started, 3))
    if wanted("repurchase_due"):
        repurchase_scenarios(uow, database, total)
    for name, call in (("customer_rfm", lambda i: rfm.customer_rfm(uow, i)),
                       ("customer_recommendations", lambda i: recommendations.for_customer(uow, i)),
                       ("customer_repurchase", lambda i: repurchase.customer_repurchase(uow, i)),
                       ("customer_clv", lambda i: clv.customer_clv(uow, i)),
                       ("customer_360", lambda i: customer360.customer_360(uow, i))):
        if wanted(name):
            per_call(name, database, total, ids, call, uow)


def repurchase_scenarios(uow: UnitOfWork, database: str, orders: int) -> None:
    """The list computed live (no snapshot, or one too old), the nightly job that snapshots it, then the list
    read from that snapshot: the first page and, as the care rules read it, every page of 5000."""
    _drop_repurchase_snapshot(uow)
    timed("repurchase_due_live", database, orders, lambda: repurchase.repurchase_due(uow, within_days=7), uow)
    started = time.perf_counter()
    job = repurchase.refresh_snapshot(uow)
    emit(scenario="repurchase_due_snapshot_job", database=database, orders=orders,
         seconds=round(time.perf_counter() - started, 3), rows=job["rows"])
    timed("repurchase_due", database, orders, lambda: repurchase.repurchase_due(uow, within_days=7), uow)
    started = time.perf_counter()
    rows = _every_page(uow)
    emit(scenario="repurchase_due_all_pages", database=database, orders=orders,
         seconds=round(time.perf_counter() - started, 3), rows=rows)
    # A day later: the customers of a day's orders are computed live and merged in. The snapshot is made to end
    # before the newest orders, as many as the last day had (it has counted them: the answer must be the live one).
    with uow:
        day = uow.session.scalar(select(func.count()).where(Order.placed_at >= uow.now() - timedelta(days=1))) or 0
        last_id = uow.session.scalar(select(func.max(Order.id))) or 0
        uow.session.execute(update(Snapshot).values(last_order_id=last_id - day))
        uow.commit()
    memo.forget(uow)
    started = time.perf_counter()
    merged = repurchase.repurchase_due(uow, within_days=7)
    seconds = time.perf_counter() - started
    _drop_repurchase_snapshot(uow)
    live = repurchase.repurchase_due(uow, within_days=7)
    emit(scenario="repurchase_due_a_day_later", database=database, orders=orders, seconds=round(seconds, 3),
         orders_since_snapshot=day,
         same_as_live=merged["items"] == live["items"] and merged["total"] == live["total"])


def _drop_repurchase_snapshot(uow: UnitOfWork) -> None:
    with uow:
        uow.session.execute(delete(RepurchaseDueRow))
        uow.session.execute(delete(Snapshot))
        uow.commit()


def _every_page(uow: UnitOfWork) -> int:
    cursor: str | None = None
    rows = 0
    while True:
        page = repurchase.repurchase_due(uow, within_days=3, overdue_days=7, cursor=cursor, limit=5000)
        rows += len(page["items"])
        cursor = page["next"]
        if cursor is None:
            return rows


def _baskets(uow: UnitOfWork) -> None:
    with uow.reading():
        recommendations.baskets(uow, fresh=True)


def setup(engine: Engine, database: str, target: int, args: argparse.Namespace) -> None:
    started = time.perf_counter()
    demo_orders = min(args.demo_orders, target)
    load_demo(engine, customers=max(demo_orders // 3, 10), orders=demo_orders)
    demo_seconds = time.perf_counter() - started
    started = time.perf_counter()
    added = bulk(engine, database, target - demo_orders)
    if args.indexes:
        with engine.begin() as conn:
            conn.execute(text(INDEXES[database]))
        analyze(engine, database)
    emit(scenario="setup", database=database, demo_orders=demo_orders, demo_seconds=round(demo_seconds, 1),
         bulk_seconds=round(time.perf_counter() - started, 1), indexes=args.indexes, **added)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders in all on PostgreSQL")
    parser.add_argument("--sqlite-orders", type=int, default=200_000, help="orders in all on SQLite")
    parser.add_argument("--demo-orders", type=int, default=6000, help="of them, written through the services")
    parser.add_argument("--calls", type=int, default=300, help="customers timed per per-customer read")
    parser.add_argument("--indexes", action="store_true", help="create the suggested indexes first")
    parser.add_argument("--postgres", default=os.environ.get("TEAHUB_TEST_POSTGRES_URL",
                                                             "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--keep", metavar="NAME", help="build into (or reuse) the PostgreSQL schema NAME and the "
                        "SQLite file $TMPDIR/NAME.db, and keep them: for measuring again without building again")
    parser.add_argument("--scenario", action="append", help="run only this scenario (repeatable)")
    args = parser.parse_args()
    for database in ("sqlite", "postgresql"):
        if args.only and database != args.only:
            continue
        target = args.orders if database == "postgresql" else args.sqlite_orders
        engine, drop, kept = fresh(database, args.postgres, args.keep)
        try:
            if kept:
                emit(scenario="setup", database=database, kept=args.keep)
            else:
                setup(engine, database, target, args)
            run(engine, database, target, args.calls, set(args.scenario) if args.scenario else None)
        finally:
            drop()


if __name__ == "__main__":
    main()
