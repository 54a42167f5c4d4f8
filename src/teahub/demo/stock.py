"""Locations, and the purchasing that keeps them stocked: monthly receipts into the warehouse sized from
what the next month will sell, transfers to the stores, low-stock thresholds, and the old green-tea
batches that are near (or past) their expiry date."""

from __future__ import annotations

import math
import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from teahub.demo.catalog_data import DemoProduct, supplier_for
from teahub.demo.orders import WAREHOUSE
from teahub.demo.people import STORES
from teahub.demo.timeline import Timeline, china_date, china_time, latest_harvest, vintage_date

LOCATIONS = [
    {"code": "WH01", "name": "杭州中心仓", "kind": "warehouse", "address": "浙江省杭州市余杭区仓前街道良睦路1288号"},
    {"code": "BJ01", "name": "北京前门店", "kind": "store", "address": "北京市东城区前门大街28号"},
    {"code": "HZ01", "name": "杭州西湖店", "kind": "store", "address": "浙江省杭州市西湖区龙井路16号"},
    {"code": "XM01", "name": "厦门鼓浪屿店", "kind": "store", "address": "福建省厦门市思明区鼓浪屿龙头路58号"},
]
COVER = 1.35  # stock a month's expected sales plus a third


@dataclass
class Receipt:
    sku: str
    batch_code: str
    quantity: int
    unit_cost: int
    produced_on: date | None
    expires_on: date | None
    supplier: str

    def receipt_in(self) -> dict[str, Any]:
        return {"location": WAREHOUSE, "sku": self.sku, "batch_code": self.batch_code, "quantity": self.quantity,
                "unit_cost": self.unit_cost, "produced_on": self.produced_on, "expires_on": self.expires_on,
                "supplier": self.supplier}


@dataclass
class Wave:
    at: datetime
    receipts: list[Receipt] = field(default_factory=list)
    transfers: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    thresholds: list[tuple[str, str, int]] = field(default_factory=list)  # location, sku, minimum


@dataclass
class _Lot:
    key: tuple[Any, ...]  # allocation order, as the inventory takes it
    expires_on: date | None
    quantity: int


class _Shelf:
    """What the planner expects to be on hand, lot by lot, so expired stock is not counted on."""

    def __init__(self) -> None:
        self.lots: dict[tuple[str, str], list[_Lot]] = defaultdict(list)

    def usable(self, loc: str, sku: str, until: date) -> int:
        return sum(lot.quantity for lot in self.lots[(loc, sku)] if lot.expires_on is None or lot.expires_on >= until)

    def add(self, loc: str, sku: str, lot: _Lot) -> None:
        self.lots[(loc, sku)].append(lot)
        self.lots[(loc, sku)].sort(key=lambda x: x.key)

    def take(self, loc: str, sku: str, quantity: int, until: date) -> list[_Lot]:
        taken: list[_Lot] = []
        for lot in self.lots[(loc, sku)]:
            if quantity <= 0:
                break
            if lot.quantity <= 0 or (lot.expires_on is not None and lot.expires_on < until):
                continue
            n = min(quantity, lot.quantity)
            lot.quantity -= n
            quantity -= n
            taken.append(_Lot(lot.key, lot.expires_on, n))
        self.lots[(loc, sku)] = [lot for lot in self.lots[(loc, sku)] if lot.quantity > 0]
        return taken


def _code_prefix(sku: str) -> str:
    parts = [re.sub(r"[^A-Z]", "", part) for part in sku.split("-")]
    letters = [p for p in parts if p][:2]
    return "".join(letters) or "B"


def _round_up(quantity: int, step: int) -> int:
    return int(math.ceil(quantity / step) * step) if quantity > 0 else 0


class StockPlanner:
    def __init__(self, rng: random.Random, tl: Timeline, products: list[DemoProduct]) -> None:
        self.rng = rng
        self.tl = tl
        self.by_sku = {p.sku: p for p in products}
        self.stocked = [p for p in products if not p.components]
        self.cost_ratio = {p.sku: rng.uniform(0.45, 0.58) for p in self.stocked}
        self.batch_seq: dict[str, int] = defaultdict(int)
        self.receipt_seq = 0

    # -- batches -------------------------------------------------------------------------------------
    def _batch(self, p: DemoProduct, quantity: int, received: date, *, produced: date | None = None,
               expires: date | None = None) -> Receipt:
        rng = self.rng
        if produced is None:
            if not p.is_tea:
                produced = received - timedelta(days=rng.randrange(20, 75))
            elif p.ages or not p.shelf_life_days:
                produced = vintage_date(p.season, p.harvest_year or received.year)
            else:
                produced = latest_harvest(p.season, received) - timedelta(days=rng.randrange(0, 6))
        if expires is None and p.shelf_life_days and not p.ages:
            expires = produced + timedelta(days=p.shelf_life_days)
        self.batch_seq[p.sku] += 1
        code = f"{_code_prefix(p.sku)}{produced:%y%m%d}-{self.batch_seq[p.sku]:02d}"
        ratio = min(0.60, max(0.45, self.cost_ratio[p.sku] * rng.uniform(0.97, 1.04)))
        cost = max(1, round(p.list_price * ratio / p.price_basis))
        return Receipt(p.sku, code, quantity, cost, produced, expires, supplier_for(p.origin))

    def _lot(self, p: DemoProduct, r: Receipt) -> _Lot:
        self.receipt_seq += 1
        if p.ages:
            key: tuple[Any, ...] = (r.produced_on or date.min, self.receipt_seq)
        else:
            key = (r.expires_on or date.max, self.receipt_seq)
        return _Lot(key, r.expires_on, r.quantity)

    # -- the year ------------------------------------------------------------------------------------
    def plan(self, wanted: dict[tuple[int, int], dict[str, dict[str, int]]]) -> list[Wave]:
        tl = self.tl
        months = sorted(wanted)
        first_month = (china_date(tl.start).year, china_date(tl.start).month)
        if not months or months[0] != first_month:
            months = sorted(set(months) | {first_month})
        yearly: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for per_loc in wanted.values():
            for loc, skus in per_loc.items():
                for sku, qty in skus.items():
                    yearly[loc][sku] += qty
        shelf = _Shelf()
        waves: list[Wave] = []
        for n, (year, month) in enumerate(months):
            first = date(year, month, 1)
            received = china_date(tl.start) - timedelta(days=10) if n == 0 else first - timedelta(days=1)
            month_end = (first + timedelta(days=32)).replace(day=1)
            wave = Wave(at=china_time(received, 10, 0))
            need = wanted.get((year, month), {})
            self._replenish(wave, shelf, need, yearly, received, month_end)
            if n == 0:
                self._clearance(wave, shelf, yearly[WAREHOUSE])
                wave.thresholds = self._thresholds(yearly)
            waves.append(wave)
            for loc, skus in need.items():  # the month's sales
                for sku, qty in skus.items():
                    if not self.by_sku[sku].clearance:
                        shelf.take(loc, sku, qty, month_end)
        return waves

    def _base(self, p: DemoProduct, loc: str) -> int:
        if loc == WAREHOUSE:
            return 1500 if p.unit == "g" else (2 if p.list_price >= 200000 else 4)
        return 500 if p.unit == "g" else (1 if p.list_price >= 200000 else 2)

    def _replenish(self, wave: Wave, shelf: _Shelf, need: dict[str, dict[str, int]],
                   yearly: dict[str, dict[str, int]], received: date, month_end: date) -> None:
        for p in self.stocked:
            if p.clearance:
                continue
            moves: dict[str, int] = {}
            for store in STORES:
                if yearly[store].get(p.sku, 0) <= 0:
                    continue
                target = math.ceil(COVER * need.get(store, {}).get(p.sku, 0)) + self._base(p, store)
                short = target - shelf.usable(store, p.sku, month_end)
                if short > 0:
                    moves[store] = _round_up(short, 250) if p.unit == "g" else short
            target = math.ceil(COVER * need.get(WAREHOUSE, {}).get(p.sku, 0)) + self._base(p, WAREHOUSE)
            short = target + sum(moves.values()) - shelf.usable(WAREHOUSE, p.sku, month_end)
            if short > 0:
                pack = 500 if p.unit == "g" else 7 if "cake" in p.form else 6 if short >= 6 else 1
                receipt = self._batch(p, _round_up(short, pack), received)
                wave.receipts.append(receipt)
                shelf.add(WAREHOUSE, p.sku, self._lot(p, receipt))
            for store, qty in moves.items():
                wave.transfers.setdefault(store, []).append((p.sku, qty))
                for lot in shelf.take(WAREHOUSE, p.sku, qty, received):
                    shelf.add(store, p.sku, lot)

    def _clearance(self, wave: Wave, shelf: _Shelf, wanted: dict[str, int]) -> None:
        """Older green vintages sold off online: one batch already expired, the others within a month."""
        today = self.tl.today
        clearance = [p for p in self.stocked if p.clearance]
        for n, p in enumerate(clearance):
            life = timedelta(days=p.shelf_life_days or 540)
            sold = wanted.get(p.sku, 0)
            if n == 0:  # the older lot sells first and expired two weeks ago with some left
                lots = [(today - timedelta(days=15), 1.3 * sold + 1000),
                        (today + timedelta(days=12), 0.6 * sold + 1500)]
            else:
                lots = [(today + timedelta(days=24), 1.4 * sold + 1500)]
            for expires, qty in lots:
                receipt = self._batch(p, _round_up(int(qty), 500), china_date(wave.at), produced=expires - life,
                                      expires=expires)
                wave.receipts.append(receipt)
                shelf.add(WAREHOUSE, p.sku, self._lot(p, receipt))

    def _thresholds(self, yearly: dict[str, dict[str, int]]) -> list[tuple[str, str, int]]:
        out = []
        for store in STORES:
            sold = yearly.get(store, {})
            top = sorted(sold, key=lambda sku: (-sold[sku] / (50 if self.by_sku[sku].unit == "g" else 1), sku))
            for sku in top[:6]:
                p = self.by_sku[sku]
                # about two weeks of sales, in whole 斤 for loose tea
                minimum = max(sold[sku] // 26, 500 if p.unit == "g" else 3)
                out.append((store, sku, _round_up(minimum, 500) if p.unit == "g" else minimum))
        return out
