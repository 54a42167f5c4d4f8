"""A year of orders, planned in memory before anything is written: channels, seasons and festivals,
who buys what, and how far each order has come by now (paid, shipped, completed, cancelled, refunded)."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from teahub.demo.catalog_data import DemoProduct, round_yuan
from teahub.demo.people import STORE_SHARE, STORES, Person
from teahub.demo.timeline import CHINA, Timeline, china_date, china_time

CHANNEL_SHARE = {"pos": 0.42, "web": 0.10, "tmall": 0.17, "taobao": 0.08, "jd": 0.10, "pdd": 0.06,
                 "douyin": 0.06, "b2b": 0.01}
MARKETPLACES = ("tmall", "taobao", "jd", "pdd", "douyin")
ONLINE = ("web", *MARKETPLACES)
WAREHOUSE = "WH01"

POS_HOURS = {10: 4, 11: 6, 12: 7, 13: 5, 14: 5, 15: 6, 16: 7, 17: 8, 18: 8, 19: 7, 20: 6, 21: 4}
ONLINE_HOURS = dict(enumerate([3, 2, 1, 1, 1, 1, 2, 4, 6, 7, 8, 8, 8, 7, 7, 7, 7, 7, 8, 9, 11, 12, 11, 7]))
B2B_HOURS = {9: 5, 10: 8, 11: 7, 13: 4, 14: 7, 15: 7, 16: 6, 17: 3}

CATEGORY_BY_CHANNEL: dict[str, dict[str, float]] = {
    "douyin": {"puerh_raw": 2.0, "puerh_ripe": 2.0, "white": 1.6, "black": 1.4, "teaware": 0.6},
    "pdd": {"herbal": 2.5, "scented": 1.8, "puerh_ripe": 1.5, "teaware": 0.5, "white": 0.8},
    "jd": {"teaware": 1.3, "oolong": 1.3},
    "pos": {"teaware": 1.4},
    "web": {"green": 1.2, "oolong": 1.2},
}
GIFT_BOX_BY_CHANNEL = {"pos": 1.2, "web": 1.4, "tmall": 1.6, "jd": 1.6, "taobao": 0.8, "douyin": 0.8, "pdd": 0.0}
REFUND_REASONS = [("七天无理由退货", True), ("发错货", True), ("包装破损", False), ("茶叶受潮", False),
                  ("口感与描述不符", False), ("买多了", True)]
CANCEL_REASONS = ["买家不想要了", "地址填写错误", "拍错了/多拍了", "协商一致退款"]


@dataclass
class PlannedOrder:
    at: datetime
    channel: str
    location: str
    buyer: Person | None
    lines: list[tuple[str, int, int | None]]  # sku, quantity, agreed unit price
    method: str | None  # payment method at creation; None: unpaid when placed
    discount: int = 0
    shipping_fee: int = 0
    external_id: str | None = None
    steps: list[tuple[datetime, str]] = field(default_factory=list)  # pay, allocate, ship, complete, cancel
    refund: list[tuple[str, int]] = field(default_factory=list)
    refund_at: datetime | None = None
    refund_reason: str = ""
    restock: bool = True
    cancel_reason: str | None = None


def _weighted_hour(rng: random.Random, hours: dict[int, int]) -> int:
    return rng.choices(list(hours), weights=list(hours.values()))[0]


class OrderPlanner:
    def __init__(self, rng: random.Random, tl: Timeline, products: list[DemoProduct], people: list[Person],
                 companies: list[Person]) -> None:
        self.rng = rng
        self.tl = tl
        self.products = products
        self.by_sku = {p.sku: p for p in products}
        self.people = people
        self.companies = companies
        self.festivals = tl.festivals()
        self.days = tl.days()
        self._weights_cache: dict[Any, tuple[list[DemoProduct], list[float]]] = {}
        self._buyers: dict[str, tuple[list[Person], list[float]]] = {}
        self._external_ids: set[str] = set()
        self.clearance_from = tl.today - timedelta(days=90)

    # -- when ------------------------------------------------------------------------------------------
    def _festival_distance(self, day: date, name: str) -> list[int]:
        return [(d - day).days for n, d in self.festivals if n == name]

    def day_weight(self, channel: str, day: date) -> float:
        frac = (day - self.days[0]).days / max(len(self.days) - 1, 1)
        w = 0.9 + 0.25 * frac  # the shop grows over the year
        weekend = day.weekday() >= 5
        if channel == "pos":
            if day >= self.tl.today:  # stores open at 10:00; today's morning has no counter sales yet
                return 0.0
            w *= 1.35 if weekend else 1.0
            if date(day.year, 10, 1) <= day <= date(day.year, 10, 7):
                w *= 1.5  # National Day holidays: tourists in Hangzhou and Gulangyu
        elif channel == "b2b":
            w *= 0.08 if weekend else 1.0
        else:
            w *= 1.1 if weekend else 1.0
        for d in self._festival_distance(day, "spring"):
            if channel == "b2b":
                w *= 12 if 7 <= d <= 40 else 1
            elif channel == "pos":
                w *= 1.8 if 1 <= d <= 30 else 0.3 if -3 <= d <= 0 else 1.2 if -10 <= d < -3 else 1
            else:  # the New Year goods festival, then couriers stop for the holidays
                w *= 2.0 if 10 <= d <= 35 else 0.4 if -6 <= d < 10 else 1
        for d in self._festival_distance(day, "autumn"):
            if channel == "b2b":
                w *= 12 if 5 <= d <= 35 else 1
            else:
                w *= 1.8 if 1 <= d <= 30 else 1
        if channel in MARKETPLACES and day.month == 11:
            w *= 5 if day.day == 11 else 2 if day.day <= 10 else 1.3 if day.day <= 14 else 1
        if channel in ("jd", "tmall", "taobao") and day.month == 6 and day.day <= 18:
            w *= 3 if day.day == 18 else 1.6
        if channel != "b2b" and (date(day.year, 3, 25) <= day <= date(day.year, 5, 15)):
            w *= 1.2  # new-season green tea
        return w

    def _moment(self, channel: str, day: date) -> datetime:
        rng = self.rng
        hours = POS_HOURS if channel == "pos" else B2B_HOURS if channel == "b2b" else ONLINE_HOURS
        for _ in range(30):
            at = china_time(day, _weighted_hour(rng, hours), rng.randrange(60), rng.randrange(60))
            if self.tl.start <= at < self.tl.now - timedelta(minutes=5):
                return at
        lo = max(self.tl.start, china_time(day, 0))
        hi = min(self.tl.now - timedelta(minutes=5), china_time(day, 0) + timedelta(days=1))
        return lo + timedelta(seconds=rng.randrange(max(int((hi - lo).total_seconds()), 1)))

    # -- what ------------------------------------------------------------------------------------------
    def _active_boxes(self, day: date) -> frozenset[str]:
        active = set()
        for name, fest in self.festivals:
            if 1 <= (fest - day).days <= 35:
                active.add(name)
        return frozenset(active)

    def _product_weights(self, channel: str, day: date) -> tuple[list[DemoProduct], list[float]]:
        boxes = self._active_boxes(day)
        clearance = day >= self.clearance_from
        key = (channel, day.month, boxes, clearance)
        cached = self._weights_cache.get(key)
        if cached is not None:
            return cached
        month = day.month
        chosen: list[DemoProduct] = []
        weights: list[float] = []
        for p in self.products:
            w = p.popularity ** (1.8 if channel == "pdd" else 1.0)
            w *= CATEGORY_BY_CHANNEL.get(channel, {}).get(p.category, 1.0)
            if p.is_gift_box:
                live = p.festival == "both" and boxes or p.festival in boxes
                w = 1.3 * GIFT_BOX_BY_CHANNEL.get(channel, 0) if live else 0.0
            elif p.clearance:
                w = 2.0 * p.popularity if clearance and channel in ("web", "tmall", "taobao", "pdd") else 0.0
            elif p.category in ("green", "yellow"):
                w *= 2.0 if 4 <= month <= 7 else 1.2 if month == 3 else 1.0 if 8 <= month <= 10 else 0.6
            elif p.category in ("black", "dark", "puerh_raw", "puerh_ripe"):
                w *= 1.5 if month in (11, 12, 1, 2) else 0.75 if 5 <= month <= 8 else 1.0
            elif p.category in ("scented", "herbal"):
                w *= 1.6 if 6 <= month <= 8 else 0.7 if month in (12, 1, 2) else 1.0
            elif p.category == "oolong":
                w *= 1.3 if 9 <= month <= 11 else 1.0
            if w > 0:
                chosen.append(p)
                weights.append(w)
        self._weights_cache[key] = (chosen, weights)
        return chosen, weights

    def _quantity(self, channel: str, p: DemoProduct) -> int:
        rng = self.rng
        if p.unit == "g":
            if p.clearance:
                return rng.choice((250, 500))
            if channel == "pos":
                grams = rng.choices((50, 100, 125, 150, 200, 250, 500, 1000), (10, 22, 8, 5, 8, 30, 14, 3))[0]
                if rng.random() < 0.25:  # weighed at the counter
                    grams += rng.choice((-3, -2, -1, 1, 2, 3, 4))
                return grams
            return rng.choices((100, 125, 250, 500), (25, 10, 45, 20))[0]
        if p.is_gift_box:
            return rng.choices((1, 2, 3, 4), (60, 25, 10, 5))[0] if channel in ("pos", "web") else \
                rng.choices((1, 2), (80, 20))[0]
        if p.sku == "CHPK-TPG":
            return rng.choices((1, 2, 4, 6), (30, 30, 25, 15))[0]
        if "cake" in p.form and p.list_price < 50000:
            return rng.choices((1, 2, 3, 7), (78, 14, 5, 3))[0]
        return rng.choices((1, 2, 3, 4, 6), (74, 16, 5, 3, 2))[0]

    def _lines(self, channel: str, day: date) -> list[tuple[str, int, int | None]]:
        rng = self.rng
        counts = {"pos": ((1, 2, 3, 4), (55, 30, 12, 3)), "web": ((1, 2, 3), (60, 30, 10))}
        values, weights = counts.get(channel, ((1, 2, 3), (72, 23, 5)))
        n = rng.choices(values, weights)[0]
        chosen, pweights = self._product_weights(channel, day)
        picked: list[DemoProduct] = []
        for _ in range(n * 3):
            p = rng.choices(chosen, pweights)[0]
            if p not in picked:
                picked.append(p)
            if len(picked) == n:
                break
        return [(p.sku, self._quantity(channel, p), None) for p in picked]

    # -- who -------------------------------------------------------------------------------------------
    def _buyer(self, channel: str, store: str | None) -> Person | None:
        rng = self.rng
        if channel == "pos" and rng.random() < 0.18:
            return None  # a walk-in who did not give a phone number
        key = channel if channel != "pos" else f"pos:{store}" if rng.random() < 0.93 else "pos:*"
        pool = self._buyers.get(key)
        if pool is None:
            if key.startswith("pos:"):
                wanted = key[4:]
                people = [p for p in self.people if "pos" in p.channels and wanted in ("*", p.home_store)]
            else:
                people = [p for p in self.people if channel in p.channels]
            pool = (people, [p.weight for p in people])
            self._buyers[key] = pool
        if not pool[0]:
            return None if channel == "pos" else rng.choice(self.people)
        return rng.choices(pool[0], pool[1])[0]

    def _external_id(self, channel: str, at: datetime) -> str | None:
        rng = self.rng
        while True:
            if channel in ("tmall", "taobao"):
                value = f"{rng.randrange(10**18, 5 * 10**18)}"
            elif channel == "jd":
                value = f"{rng.randrange(2 * 10**11, 4 * 10**11)}"
            elif channel == "pdd":
                value = f"{china_date(at):%y%m%d}-{rng.randrange(10**14, 10**15)}"
            elif channel == "douyin":
                value = f"{rng.randrange(6 * 10**18, 7 * 10**18)}"
            else:
                return None
            if value not in self._external_ids:
                self._external_ids.add(value)
                return value

    # -- the plan --------------------------------------------------------------------------------------
    def plan(self, total: int) -> list[PlannedOrder]:
        orders: list[PlannedOrder] = []
        for channel, share in CHANNEL_SHARE.items():
            count = max(3 if channel == "b2b" else 5, round(total * share))
            weights = [self.day_weight(channel, d) for d in self.days]
            for day in sorted(self.rng.choices(self.days, weights, k=count)):
                order = self._b2b(day) if channel == "b2b" else self._retail(channel, day)
                orders.append(order)
        orders.sort(key=lambda o: o.at)
        return orders

    def _retail(self, channel: str, day: date) -> PlannedOrder:
        rng = self.rng
        store = rng.choices(STORES, STORE_SHARE)[0] if channel == "pos" else None
        at = self._moment(channel, day)
        buyer = self._buyer(channel, store)
        lines = self._lines(channel, day)
        order = PlannedOrder(at=at, channel=channel, location=store or WAREHOUSE, buyer=buyer, lines=lines,
                             method=None, external_id=self._external_id(channel, at))
        estimate = sum(self.by_sku[s].price_of(q, self.by_sku[s].cheapest_price()) for s, q, _ in lines)
        if channel == "pos":
            order.method = rng.choices(("wechat", "alipay", "cash", "card"), (52, 30, 7, 11))[0]
            if order.method == "card" and estimate < 30000:
                order.method = "wechat"
            self._maybe_refund(order, order.at + timedelta(hours=rng.uniform(20, 24 * 7)), 0.006)
            return order
        if channel == "web":
            if rng.random() < 0.15 and estimate >= 20000:
                order.discount = 3000 if estimate < 50000 else 8000  # 满200减30 / 满500减80
            if estimate < 9900:
                order.shipping_fee = 1000
        elif rng.random() < 0.15 and estimate >= 6000:
            order.discount = rng.choice((500, 1000, 2000)) if estimate < 30000 else rng.choice((2000, 3000, 5000))
        self._online_lifecycle(order)
        return order

    def _working(self, at: datetime, minutes: tuple[float, float]) -> datetime:
        """When the warehouse gets to something that came in at `at`: within the hour during working
        hours (09:00-18:00 Beijing), else the next morning."""
        rng = self.rng
        local = at + CHINA
        if 9 <= local.hour < 18:
            return at + timedelta(minutes=rng.uniform(*minutes))
        day = china_date(at) if local.hour < 9 else china_date(at) + timedelta(days=1)
        return china_time(day, 9) + timedelta(minutes=rng.uniform(0, 90))

    def _courier(self, allocated: datetime, days_late: int = 0) -> datetime:
        """Parcels leave with the courier's pickup at 17:00; what is picked after 15:00 goes tomorrow."""
        local = allocated + CHINA
        day = china_date(allocated) + timedelta(days=days_late + (1 if local.hour >= 15 else 0))
        return china_time(day, 17) + timedelta(minutes=self.rng.uniform(0, 60))

    def _online_lifecycle(self, order: PlannedOrder) -> None:
        rng = self.rng
        now = self.tl.now
        t = order.at
        if order.channel == "web":
            recent = t >= now - timedelta(hours=72)
            if rng.random() < (0.25 if recent else 0.04):  # not paid (待付款): closed after three days
                if not recent:
                    order.steps.append((t + timedelta(hours=72), "cancel"))
                    order.cancel_reason = "超时未支付，系统自动关闭"
                return
            t += timedelta(minutes=rng.uniform(0.5, 15))
            order.steps.append((t, "pay"))
            order.method = rng.choices(("wechat", "alipay"), (85, 15))[0]
        else:
            order.method = "platform"  # marketplace orders arrive paid
        t = self._working(t, (5, 60))
        order.steps.append((t, "allocate"))
        if rng.random() < 0.02:
            t += timedelta(hours=rng.uniform(0.5, 3))
            order.steps.append((t, "cancel"))
            order.cancel_reason = rng.choice(CANCEL_REASONS)
        else:
            t = self._courier(t, 1 if order.channel == "pdd" and rng.random() < 0.3 else 0)
            order.steps.append((t, "ship"))
            t += timedelta(days=rng.uniform(3, 10))  # the buyer confirms receipt, or the platform does
            order.steps.append((t, "complete"))
            self._maybe_refund(order, t + timedelta(hours=rng.uniform(12, 24 * 6)), 0.018)
        order.steps = [(at, step) for at, step in order.steps if at < now]
        if order.refund_at is not None and (not order.steps or order.steps[-1][1] != "complete"):
            order.refund, order.refund_at = [], None

    def _maybe_refund(self, order: PlannedOrder, at: datetime, chance: float) -> None:
        rng = self.rng
        if rng.random() >= chance or at >= self.tl.now:
            return
        partial = [(s, q) for s, q, _ in order.lines if len(order.lines) > 1 or q > 1]
        if not partial:
            return
        sku, qty = rng.choice(partial)
        p = self.by_sku[sku]
        if len(order.lines) == 1 or (rng.random() < 0.5 and qty > 1):
            back = max(1, qty // 2) if p.unit == "piece" else max(50, (qty // 2) // 50 * 50)
            back = min(back, qty - 1) if len(order.lines) == 1 else back
        else:
            back = qty
        reason, restock = rng.choice(REFUND_REASONS)
        order.refund, order.refund_at, order.refund_reason = [(sku, back)], at, reason
        order.restock = restock and (p.unit == "piece" or reason in ("发错货",))

    def _b2b(self, day: date) -> PlannedOrder:
        rng = self.rng
        at = self._moment("b2b", day)
        weights = [c.weight for c in self.companies]
        buyer = rng.choices(self.companies, weights)[0]
        boxes = self._active_boxes(day + timedelta(days=5)) | self._active_boxes(day + timedelta(days=10))
        lines: list[tuple[str, int, int | None]] = []
        ratio = rng.choice((0.8, 0.82, 0.85, 0.88))
        if boxes:
            choices = [p for p in self.products if p.is_gift_box and (p.festival in boxes or p.festival == "both")]
            main = rng.choice(choices)
            lines.append((main.sku, rng.choices((10, 20, 30, 50, 80, 100), (25, 25, 20, 15, 10, 5))[0],
                          round_yuan(main.list_price * ratio)))
            if rng.random() < 0.4:
                extra = self.by_sku[rng.choice(("LJ-XH-MQ-250", "DHP-WY-125", "JJM-WY-50", "TGY-AX-NX-125"))]
                lines.append((extra.sku, rng.choice((10, 20, 30, 50)), round_yuan(extra.list_price * ratio)))
        else:  # tea for the office and meeting rooms
            for sku in rng.sample(["LJ-43-YQ-L", "TGY-AX-QX-L", "MLH-FZ-L", "QMHC-L", "SHP-GT-2020-L",
                                   "DHC-YN-L"], rng.choice((1, 2, 3))):
                p = self.by_sku[sku]
                lines.append((sku, rng.choice((1000, 1500, 2000, 2500, 5000)), round_yuan(p.list_price * 0.88)))
            if rng.random() < 0.3:
                cup = self.by_sku[rng.choice(("GDB-BL", "CHPK-TPG", "GW-JDZ"))]
                lines.append((cup.sku, rng.choice((6, 12, 24)), round_yuan(cup.list_price * 0.88)))
        order = PlannedOrder(at=at, channel="b2b", location=WAREHOUSE, buyer=buyer, lines=lines, method=None,
                             external_id=f"PO-{china_date(at):%Y%m}-{rng.randrange(1000, 9999)}")
        while order.external_id in self._external_ids:
            order.external_id = f"PO-{china_date(at):%Y%m}-{rng.randrange(1000, 9999)}"
        self._external_ids.add(order.external_id or "")
        now = self.tl.now
        prepaid = rng.random() < 0.2
        if prepaid:
            order.method = "bank_transfer"
        # approved and picked within a working day or two, shipped by freight
        t = self._working(at + timedelta(days=rng.choice((0, 1, 1, 2))), (30, 240))
        order.steps.append((t, "allocate"))
        t = self._courier(t, rng.choice((0, 1)))
        order.steps.append((t, "ship"))
        t += timedelta(days=rng.uniform(2, 4))
        order.steps.append((t, "complete"))
        if not prepaid:  # monthly settlement: paid by bank transfer in the middle of the next month
            done = china_date(t)
            settle_day = (done.replace(day=1) + timedelta(days=32)).replace(day=rng.randrange(8, 21))
            order.steps.append((china_time(settle_day, rng.randrange(9, 17), rng.randrange(60)), "settle"))
        order.steps = [(s_at, s) for s_at, s in order.steps if s_at < now]
        return order


def order_amount(order: PlannedOrder, by_sku: dict[str, DemoProduct]) -> int:
    """What an order with agreed prices comes to (B2B), to size the credit limits."""
    return sum(by_sku[s].price_of(q, price) for s, q, price in order.lines)


def demand(orders: list[PlannedOrder], by_sku: dict[str, DemoProduct]
           ) -> dict[tuple[int, int], dict[str, dict[str, int]]]:
    """Units wanted per (year, month) → location → stocked SKU (gift boxes as their components)."""
    out: dict[tuple[int, int], dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    for o in orders:
        day = china_date(o.at)
        per_loc = out[(day.year, day.month)][o.location]
        for sku, qty, _ in o.lines:
            p = by_sku[sku]
            if p.components:
                for c, per_box in p.components:
                    per_loc[c] += per_box * qty
            else:
                per_loc[sku] += qty
    return out
