"""Writes the planned year through the capabilities' services, in time order, with the unit of work's
clock set to each moment: receipts and transfers, new customers, and one transaction per order."""

from __future__ import annotations

import heapq
import math
import random
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from teahub.bootstrap import initialize
from teahub.catalog import service as catalog
from teahub.catalog.rules import ProductInfo, line_amount, price_for
from teahub.catalog.schemas import ProductIn
from teahub.customers import service as customers
from teahub.customers.schemas import CustomerIn
from teahub.db.base import utcnow
from teahub.db.engine import make_session_factory
from teahub.db.uow import UnitOfWork
from teahub.demo.catalog_data import DemoProduct, build_catalog
from teahub.demo.orders import OrderPlanner, PlannedOrder, demand, order_amount
from teahub.demo.people import Names, Person, make_companies, make_people
from teahub.demo.stock import LOCATIONS, StockPlanner, Wave
from teahub.demo.timeline import Timeline
from teahub.errors import InsufficientStock
from teahub.inventory import service as inventory
from teahub.inventory.schemas import LocationIn, ReceiptIn, ThresholdIn, TransferIn
from teahub.sales import refunds as sales_refunds
from teahub.sales import service as sales
from teahub.sales.schemas import OrderIn, PaymentIn, RefundIn

CUSTOMERS_PER_SCALE = 2000
ORDERS_PER_SCALE = 6000
COMPANIES = 15
CUSTOMER_CHUNK = 250


class Clock:
    """The unit of work's clock, moved by the loader to the moment being written."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@dataclass
class Plan:
    tl: Timeline
    products: list[DemoProduct]
    people: list[Person]
    companies: list[Person]
    orders: list[PlannedOrder]
    waves: list[Wave]


def make_plan(*, scale: int, seed: int, today: date, customers: int | None, orders: int | None) -> Plan:
    rng = random.Random(seed)
    tl = Timeline.ending(today)
    products = build_catalog(tl)
    by_sku = {p.sku: p for p in products}
    names = Names(rng)
    people = make_people(rng, names, CUSTOMERS_PER_SCALE * scale if customers is None else customers, tl.today)
    companies = make_companies(rng, names, COMPANIES, len(people))
    planned = OrderPlanner(rng, tl, products, people, companies).plan(
        ORDERS_PER_SCALE * scale if orders is None else orders)
    waves = StockPlanner(rng, tl, products).plan(demand(planned, by_sku))
    _credit_limits(companies, planned, by_sku)
    _join_dates(rng, tl, people + companies, planned)
    return Plan(tl, products, people, companies, planned, waves)


def _credit_limits(companies: list[Person], orders: list[PlannedOrder], by_sku: dict[str, DemoProduct]) -> None:
    """Enough credit for what is still unpaid today plus a large order, in steps of ¥50,000."""
    unpaid: Counter[int] = Counter()
    largest: Counter[int] = Counter()
    for o in orders:
        if o.channel != "b2b" or o.buyer is None:
            continue
        amount = order_amount(o, by_sku)
        largest[o.buyer.index] = max(largest[o.buyer.index], amount)
        if o.method is None and not any(step == "settle" for _, step in o.steps):
            unpaid[o.buyer.index] += amount
    for c in companies:
        wanted = 1.5 * unpaid[c.index] + largest[c.index]
        c.credit_limit = min(max(20_000_000, math.ceil(wanted / 5_000_000) * 5_000_000), 2_000_000_000)


def _join_dates(rng: random.Random, tl: Timeline, people: list[Person], orders: list[PlannedOrder]) -> None:
    first: dict[int, datetime] = {}
    for o in orders:
        if o.buyer is not None and o.buyer.index not in first:
            first[o.buyer.index] = o.at
    for p in people:
        if p.index in first and (p.kind == "person" and rng.random() < 0.45):
            p.joined = first[p.index] - timedelta(minutes=rng.uniform(1, 90))  # signed up with the first order
        elif p.index in first:
            p.joined = min(tl.start, first[p.index]) - timedelta(days=rng.uniform(1, 3 * 365))
        else:
            p.joined = tl.start + timedelta(seconds=rng.uniform(-3 * 365 * 86400, 364 * 86400))
        p.joined = p.joined.replace(microsecond=0)


# -- writing -------------------------------------------------------------------------------------------


class Loader:
    def __init__(self, engine: Engine, plan: Plan) -> None:
        self.plan = plan
        self.clock = Clock(plan.tl.start)
        self.uow = UnitOfWork(make_session_factory(engine), actor="demo", clock=self.clock)
        self.counts: Counter[str] = Counter()
        self.infos: dict[str, ProductInfo] = {}

    def run(self) -> dict[str, int]:
        plan = self.plan
        self.setup(plan.waves[0].at - timedelta(days=30))
        joining = sorted((p for p in plan.people + plan.companies), key=lambda p: (p.joined, p.index))
        events: list[tuple[datetime, int, str, Any]] = []
        for i, wave in enumerate(plan.waves):
            events.append((wave.at, i, "wave", wave))
        for i, order in enumerate(plan.orders):
            events.append((order.at, i, "order", order))
        heapq.heapify(events)
        next_person = 0
        while events:
            at, _, kind, item = heapq.heappop(events)
            if kind == "wave":
                # customers who join before the next wave are written now, each at its own moment
                upto = min((w.at for w in plan.waves if w.at > at), default=plan.tl.now)
                batch = []
                while next_person < len(joining) and (joining[next_person].joined or at) < upto:
                    batch.append(joining[next_person])
                    next_person += 1
                self.add_customers(batch)
                self.wave(item)
            else:
                self.order(item)
        self.add_customers(joining[next_person:])
        return dict(self.counts)

    def setup(self, at: datetime) -> None:
        self.clock.at = at
        uow = self.uow
        with uow:
            for loc in LOCATIONS:
                inventory.create_location(uow, LocationIn(**loc))
            for p in self.plan.products:
                catalog.create_product(uow, ProductIn.model_validate(p.product_in()))
            uow.commit()
        self.counts["locations"] = len(LOCATIONS)
        self.counts["products"] = len(self.plan.products)
        self.infos = catalog.get_products(uow, [p.sku for p in self.plan.products])

    def add_customers(self, people: list[Person]) -> None:
        uow = self.uow
        for start in range(0, len(people), CUSTOMER_CHUNK):
            with uow:
                for p in people[start:start + CUSTOMER_CHUNK]:
                    assert p.joined is not None
                    self.clock.at = p.joined
                    view, created = customers.create_customer(uow, CustomerIn.model_validate(p.customer_in()))
                    assert created, f"demo customer {p.name} collided with another"
                    p.id = view["id"]
                    self.counts["customers"] += 1
                    self.counts["companies"] += p.kind == "company"
                uow.commit()

    def wave(self, wave: Wave) -> None:
        uow = self.uow
        self.clock.at = wave.at
        with uow:
            for r in wave.receipts:
                inventory.receive_stock(uow, ReceiptIn.model_validate(r.receipt_in()))
                self.counts["batches"] += 1
            for loc, sku, minimum in wave.thresholds:
                inventory.set_threshold(uow, ThresholdIn(location=loc, sku=sku, minimum=minimum))
                self.counts["thresholds"] += 1
            self.clock.at = wave.at + timedelta(hours=4)
            warehouse = inventory.get_location(uow, "WH01")
            for store, lines in wave.transfers.items():
                # never more than the warehouse can give (the plan's estimate of expiry may be off)
                free = inventory.available(uow, warehouse, [self.infos[sku] for sku, _ in lines])
                sendable = [(sku, min(qty, free[self.infos[sku].id])) for sku, qty in lines]
                sendable = [(sku, qty) for sku, qty in sendable if qty > 0]
                if not sendable:
                    continue
                inventory.transfer_stock(uow, TransferIn.model_validate({
                    "from_location": "WH01", "to_location": store, "note": "月度补货",
                    "lines": [{"sku": sku, "quantity": qty} for sku, qty in sendable]}))
                self.counts["transfers"] += 1
            uow.commit()

    # -- orders --------------------------------------------------------------------------------------
    def _total(self, o: PlannedOrder) -> int:
        price_list = {"member": "member", "vip": "vip"}.get((o.buyer.tier if o.buyer else None) or "", "list")
        subtotal = 0
        for sku, qty, agreed in o.lines:
            info = self.infos[sku]
            price = agreed if agreed is not None else price_for(info, price_list, o.at)[0]
            subtotal += line_amount(qty, price, info.price_basis)
        return subtotal - o.discount + o.shipping_fee

    def _payments(self, o: PlannedOrder, total: int) -> list[PaymentIn]:
        if o.method is None or total <= 0 or o.channel == "web":
            return []
        if o.method == "cash":  # handed over in notes; the change comes back
            step = 5000 if total <= 5000 else 10000
            return [PaymentIn(method="cash", amount=math.ceil(total / step) * step)]
        return [PaymentIn(method=o.method, amount=total, reference=o.external_id)]

    def order(self, o: PlannedOrder) -> None:
        uow = self.uow
        expected = self._total(o)
        data = OrderIn.model_validate({
            "channel": o.channel, "location": o.location,
            "customer": o.buyer.reference(o.channel) if o.buyer else None,
            "lines": [{"sku": s, "quantity": q, **({"unit_price": p} if p is not None else {})}
                      for s, q, p in o.lines],
            "payments": self._payments(o, expected), "discount": o.discount, "shipping_fee": o.shipping_fee,
            "external_id": o.external_id,
        })
        self.clock.at = o.at
        try:
            with uow:
                view = sales.create_order(uow, data)
                if view["total"] != expected:
                    raise AssertionError(f"demo priced {expected}, sales {view['total']}: {view}")
                order_id = view["id"]
                for at, step in o.steps:
                    self.clock.at = at
                    if step in ("pay", "settle"):
                        method = "bank_transfer" if step == "settle" else o.method or "wechat"
                        sales.pay(uow, order_id, [PaymentIn(method=method, amount=view["total"])])
                    elif step == "allocate":
                        sales.allocate(uow, order_id)
                    elif step == "ship":
                        sales.ship(uow, order_id)
                    elif step == "complete":
                        sales.complete(uow, order_id)
                    elif step == "cancel":
                        sales.cancel(uow, order_id, o.cancel_reason)
                if o.refund_at is not None:
                    self.clock.at = o.refund_at
                    sales_refunds.refund(uow, order_id, RefundIn.model_validate({
                        "lines": [{"sku": s, "quantity": q} for s, q in o.refund],
                        "reason": o.refund_reason, "restock": o.restock}))
                uow.commit()
        except InsufficientStock:
            self.counts["orders_skipped"] += 1
            return
        self.counts["orders"] += 1
        self.counts["orders_cancelled"] += any(step == "cancel" for _, step in o.steps)
        self.counts["refunds"] += o.refund_at is not None
        self.counts[f"orders_{o.channel}"] += 1


def load(engine: Engine, *, scale: int, seed: int, today: date | None, customers: int | None,
         orders: int | None) -> dict[str, int]:
    started = time.perf_counter()
    probe = UnitOfWork(make_session_factory(engine), actor="demo")
    if catalog.list_products(probe, limit=1):
        return {"skipped": 1}
    initialize(engine)  # the category tree the catalog needs (idempotent)
    plan = make_plan(scale=scale, seed=seed, today=today or utcnow().date(), customers=customers, orders=orders)
    counts = Loader(engine, plan).run()
    for key in ("orders_skipped", "orders_cancelled", "refunds"):
        counts.setdefault(key, 0)
    counts["elapsed_ms"] = int((time.perf_counter() - started) * 1000)
    return counts
