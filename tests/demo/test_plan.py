"""The demo plan, without a database: deterministic, seasonal, and stocked before it sells."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from teahub.demo.orders import CHANNEL_SHARE, demand
from teahub.demo.runner import make_plan
from teahub.demo.timeline import china_date, mid_autumn, spring_festival

TODAY = date(2026, 11, 24)


def plan(seed: int = 7, customers: int = 300, orders: int = 1200):  # type: ignore[no-untyped-def]
    return make_plan(scale=1, seed=seed, today=TODAY, customers=customers, orders=orders)


def fingerprint(p) -> list[tuple]:  # type: ignore[no-untyped-def]
    return [(o.at, o.channel, o.location, o.buyer.index if o.buyer else None, tuple(o.lines), tuple(o.steps))
            for o in p.orders]


def test_same_seed_gives_the_same_plan() -> None:
    a, b = plan(), plan()
    assert fingerprint(a) == fingerprint(b)
    assert [(p.name, p.phone, p.identities) for p in a.people] == [(p.name, p.phone, p.identities) for p in b.people]
    assert [[(r.sku, r.batch_code, r.quantity) for r in w.receipts] for w in a.waves] == \
        [[(r.sku, r.batch_code, r.quantity) for r in w.receipts] for w in b.waves]


def test_another_seed_gives_another_plan() -> None:
    assert fingerprint(plan(seed=7)) != fingerprint(plan(seed=8))


def test_orders_fill_the_year_before_now_on_every_channel() -> None:
    p = plan()
    assert all(p.tl.start <= o.at < p.tl.now for o in p.orders)
    assert all(at < p.tl.now for o in p.orders for at, _ in o.steps)
    assert {o.channel for o in p.orders} == set(CHANNEL_SHARE)
    months = Counter((china_date(o.at).year, china_date(o.at).month) for o in p.orders)
    assert len(months) >= 12


def test_festivals_sell_more_and_b2b_buys_gift_boxes_before_them() -> None:
    p = plan(orders=3000)
    autumn, spring = mid_autumn(2026), spring_festival(2026)

    def per_day(first: date, last: date) -> float:
        n = sum(1 for o in p.orders if o.channel != "b2b" and first <= china_date(o.at) <= last)
        return n / ((last - first).days + 1)

    quiet = per_day(date(2026, 7, 1), date(2026, 7, 31))
    assert per_day(autumn - timedelta(days=25), autumn - timedelta(days=1)) > 1.3 * quiet
    assert per_day(spring - timedelta(days=30), spring - timedelta(days=10)) > 1.3 * quiet
    b2b = [o for o in p.orders if o.channel == "b2b"]
    boxed = [o for o in b2b if any(sku.startswith("GB-") for sku, _, _ in o.lines)]
    assert len(boxed) >= len(b2b) // 2
    assert all(price is not None for o in b2b for _, _, price in o.lines)  # agreed prices


def test_every_month_is_stocked_before_it_sells() -> None:
    p = plan()
    by_sku = {x.sku: x for x in p.products}
    wanted = demand(p.orders, by_sku)
    received: Counter[str] = Counter()
    first_order = min(o.at for o in p.orders)
    assert p.waves[0].at < first_order
    for wave in p.waves:
        for r in wave.receipts:
            received[r.sku] += r.quantity
            assert r.produced_on is None or r.produced_on <= china_date(wave.at)
            if r.expires_on is not None and not by_sku[r.sku].clearance:
                assert r.expires_on > china_date(wave.at)
    sold: Counter[str] = Counter()
    for per_loc in wanted.values():
        for skus in per_loc.values():
            sold.update(skus)
    assert all(received[sku] >= qty for sku, qty in sold.items())


def test_customers_are_plausible_and_unique() -> None:
    p = plan(customers=1000)
    phones = [x.phone for x in p.people + p.companies if x.phone]
    assert len(phones) == len(set(phones))
    assert all(len(ph) == 11 and ph[0] == "1" and ph[1] in "3456789" for ph in phones)
    tiers = Counter(x.tier for x in p.people)
    assert tiers["member"] > len(p.people) / 2
    assert 0.02 * len(p.people) <= tiers["vip"] <= 0.08 * len(p.people)
    assert all(2 <= len(x.name) <= 4 for x in p.people)
    assert len(p.companies) == 15
    assert all(c.credit_limit and c.contacts for c in p.companies)
    first: dict[int, object] = {}
    for o in p.orders:
        if o.buyer is not None:
            first.setdefault(o.buyer.index, o.at)
    assert all(x.joined is not None and x.joined < first[x.index] for x in p.people + p.companies
               if x.index in first)
