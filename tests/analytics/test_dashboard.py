"""The dashboard's figures: sales today by store and channel (China days), the last 30 days, top teas, gross
margin, low stock and near-expiry batches; each limited to a store scope; and the spend behind a customer list."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from teahub.analytics import dashboard
from teahub.analytics.rules import local_date
from teahub.db.engine import make_session_factory
from teahub.db.uow import UnitOfWork
from tests import factories as f
from tests.analytics.shop import CASH, customer

NOW = datetime.now(UTC).replace(microsecond=0)
TODAY = NOW.date()  # the stock's today (UTC), as inventory counts expiry


def _day(days: int) -> str:
    return (TODAY + timedelta(days=days)).isoformat()


def _sale(client: TestClient, lines: list[tuple[str, int]], *, location: str, days_ago: int = 0,
          buyer: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"channel": "pos", "location": location,
                            "sold_at": (NOW - timedelta(days=days_ago)).isoformat(),
                            "lines": [{"sku": s, "quantity": q} for s, q in lines],
                            "payments": [{"method": "cash", "amount": CASH}]}
    if buyer is not None:
        body["customer"] = {"id": buyer["id"]}
    return f.ok(client.post("/api/v1/orders", json=body), 201)


def _receive(client: TestClient, sku: str, quantity: int, *, location: str, batch: str, unit_cost: int,
             expires_in: int | None = 400) -> None:
    f.receive(client, sku, quantity, location=location, batch=batch, unit_cost=unit_cost, produced_on=_day(-200),
              expires_on=_day(expires_in) if expires_in is not None else None)


def _threshold(client: TestClient, location: str, sku: str, minimum: int) -> None:
    f.ok(client.put("/api/v1/stock/thresholds", json={"location": location, "sku": sku, "minimum": minimum}))


@pytest.fixture
def shop(client: TestClient, engine: Engine) -> UnitOfWork:
    """Two stores and a warehouse; sales today, three days and forty days ago; a refund, an unpaid order; stock
    thresholds and batches close to expiry. Answers a unit of work whose clock is the moment of the sales."""
    for code in ("BJ01", "HZ01"):
        f.location(client, code)
    f.location(client, "WH01", kind="warehouse")
    f.product(client, "TEA", list_price=10000, member=None)
    f.product(client, "TEA2", list_price=8000, member=None)
    f.product(client, "OLD", list_price=1000, member=None)
    f.product(client, "CUP", category="teaware", list_price=50000, member=None, shelf_life_days=None)
    _receive(client, "TEA", 20, location="BJ01", batch="T1", unit_cost=4000)
    _receive(client, "TEA", 10, location="HZ01", batch="T1", unit_cost=4000)
    _receive(client, "TEA2", 10, location="HZ01", batch="S1", unit_cost=3000)
    _receive(client, "CUP", 10, location="BJ01", batch="C1", unit_cost=2000, expires_in=None)
    for batch, quantity, days in (("E5", 1, 5), ("E10", 3, 10), ("E59", 2, 59), ("E61", 4, 61), ("EX", 1, -1)):
        _receive(client, "OLD", quantity, location="BJ01", batch=batch, unit_cost=500, expires_in=days)
    _receive(client, "OLD", 1, location="HZ01", batch="H10", unit_cost=500, expires_in=10)

    _sale(client, [("TEA", 2), ("CUP", 1)], location="BJ01")  # 70000, cost 10000
    refunded = _sale(client, [("TEA", 1)], location="BJ01")  # refunded in full: 0
    f.ok(client.post(f"/api/v1/orders/{refunded['id']}/refunds", json={"lines": [{"sku": "TEA", "quantity": 1}]}),
         201)
    web = f.ok(f.web_order(client, [("TEA", 1)], location="BJ01", sold_at=NOW.isoformat(),
                           payments=[{"method": "wechat", "amount": 10000}]), 201)
    assert web["status"] == "paid"
    f.ok(client.post(f"/api/v1/orders/{web['id']}/allocate"))  # 10000, cost 4000
    f.ok(f.web_order(client, [("TEA", 1)], location="BJ01"), 201)  # confirmed, not paid: not a sale
    _sale(client, [("TEA2", 3)], location="HZ01")  # 24000, cost 9000
    _sale(client, [("TEA", 1)], location="HZ01", days_ago=3)  # 10000, cost 4000
    _sale(client, [("TEA", 5)], location="BJ01", days_ago=40)  # before the 30 days
    _sale(client, [("OLD", 1)], location="BJ01", days_ago=45)  # sells batch E5 out (first to expire)

    _threshold(client, "BJ01", "TEA", 20)
    _threshold(client, "HZ01", "TEA", 5)  # 9 left
    _threshold(client, "HZ01", "TEA2", 7)  # 7 left: not below
    _threshold(client, "BJ01", "TEA2", 1)  # never stocked there
    _threshold(client, "BJ01", "CUP", 0)
    _threshold(client, "BJ01", "OLD", 10)  # 10 on hand, 1 of them expired
    return UnitOfWork(make_session_factory(engine), actor="test", clock=lambda: NOW)


def test_sales_today_by_store_and_channel_and_day_by_day(shop: UnitOfWork) -> None:
    sales = dashboard.sales(shop)
    today = sales["today"]
    assert today["day"] == local_date(NOW)
    assert (today["orders"], today["sales"]) == (4, 70000 + 10000 + 24000)
    assert today["by_store"] == [
        {"location": "BJ01", "name": "BJ01 门店", "orders": 3, "sales": 80000},
        {"location": "HZ01", "name": "HZ01 门店", "orders": 1, "sales": 24000},
    ]
    assert today["by_channel"] == [{"channel": "pos", "orders": 3, "sales": 94000},
                                   {"channel": "web", "orders": 1, "sales": 10000}]
    daily = sales["daily"]
    assert [d["day"] for d in daily] == [local_date(NOW) - timedelta(days=n) for n in range(29, -1, -1)]
    by_day = {d["day"]: (d["orders"], d["sales"]) for d in daily if d["orders"]}
    assert by_day == {local_date(NOW): (4, 104000), local_date(NOW) - timedelta(days=3): (1, 10000)}


def test_sales_in_a_store_scope(shop: UnitOfWork) -> None:
    sales = dashboard.sales(shop, frozenset({"HZ01"}))
    assert sales["today"]["by_store"] == [{"location": "HZ01", "name": "HZ01 门店", "orders": 1, "sales": 24000}]
    assert sales["today"]["by_channel"] == [{"channel": "pos", "orders": 1, "sales": 24000}]
    assert sum(d["sales"] for d in sales["daily"]) == 34000
    assert dashboard.sales(shop, frozenset())["today"]["sales"] == 0


def test_top_teas_leave_teaware_out(shop: UnitOfWork) -> None:
    top = [(t["sku"], t["quantity"], t["revenue"]) for t in dashboard.top_teas(shop)]
    assert top == [("TEA", 4, 40000), ("TEA2", 3, 24000)]  # the cup earned most, it is no tea
    assert [(t["sku"], t["revenue"]) for t in dashboard.top_teas(shop, frozenset({"HZ01"}))] == [
        ("TEA2", 24000), ("TEA", 10000)]
    assert [t["sku"] for t in dashboard.top_teas(shop, limit=1)] == ["TEA"]


def test_gross_margin_of_the_last_30_days(shop: UnitOfWork) -> None:
    margin = dashboard.gross_margin(shop)
    revenue, cost = 70000 + 10000 + 24000 + 10000, 10000 + 4000 + 9000 + 4000
    assert (margin["revenue"], margin["cost"], margin["gross_profit"]) == (revenue, cost, revenue - cost)
    assert margin["margin"] == round((revenue - cost) / revenue, 4)
    assert {r["key"]: (r["revenue"], r["cost"]) for r in margin["by_location"]} == {
        "BJ01": (80000, 14000), "HZ01": (34000, 13000)}
    mine = dashboard.gross_margin(shop, frozenset({"BJ01"}))
    assert (mine["revenue"], mine["cost"], mine["margin"]) == (80000, 14000, round(66000 / 80000, 4))
    assert dashboard.gross_margin(shop, frozenset({"XM01"}))["margin"] is None


def test_low_stock_is_available_below_the_minimum(shop: UnitOfWork, client: TestClient) -> None:
    low = dashboard.low_stock(shop)
    assert low["count"] == 3
    assert [(r["location"], r["sku"], r["available"], r["minimum"]) for r in low["items"]] == [
        ("BJ01", "TEA2", 0, 1),  # nothing there at all
        ("BJ01", "TEA", 11, 20),  # 20 received, 2 + 1 + 1 + 5 sold, 1 refunded back, 1 held by the unpaid order
        ("BJ01", "OLD", 9, 10),  # the expired unit is not available
    ]
    shown = {r["sku"]: r["available"] for r in low["items"]}
    for sku in ("TEA", "OLD"):  # as the stock API counts it
        assert f.stock(client, sku, "BJ01")["available"] == shown[sku]
    assert dashboard.low_stock(shop, frozenset({"HZ01"})) == {"count": 0, "items": []}
    assert dashboard.low_stock(shop, limit=1)["count"] == 3


def test_near_expiry_lists_batches_in_stock_expiring_within_60_days(shop: UnitOfWork) -> None:
    soon = dashboard.near_expiry(shop)
    assert [(r["location"], r["batch_code"], r["expires_on"], r["days_left"], r["on_hand"]) for r in soon["items"]] == [
        ("BJ01", "E10", date.fromisoformat(_day(10)), 10, 3),
        ("HZ01", "H10", date.fromisoformat(_day(10)), 10, 1),
        ("BJ01", "E59", date.fromisoformat(_day(59)), 59, 2),
    ]  # E5 was sold out, E61 is later, T1 and the cup later or never
    assert (soon["count"], soon["expired"]) == (3, 1)
    mine = dashboard.near_expiry(shop, frozenset({"HZ01"}))
    assert [r["batch_code"] for r in mine["items"]] == ["H10"] and mine["expired"] == 0
    assert [r["batch_code"] for r in dashboard.near_expiry(shop, within_days=10)["items"]] == ["E10", "H10"]


def test_dashboard_leaves_the_margin_out_when_asked(shop: UnitOfWork) -> None:
    everything = dashboard.dashboard(shop, frozenset({"BJ01"}), stock_scope=frozenset({"HZ01"}), margin=False)
    assert everything["margin"] is None
    assert everything["sales"]["today"]["sales"] == 80000
    assert everything["low_stock"]["count"] == 0  # the stock scope, not the sales scope
    assert [r["batch_code"] for r in everything["near_expiry"]["items"]] == ["H10"]


def test_customer_figures_count_sold_orders(client: TestClient, engine: Engine) -> None:
    f.location(client, "BJ01")
    f.product(client, "TEA", list_price=10000, member=None)
    f.receive(client, "TEA", 10)
    wang = customer(client, "王芳", "13812345678")
    li = customer(client, "李雷", "13912345678")
    nobody = customer(client, "张伟", "13712345678")
    _sale(client, [("TEA", 1)], location="BJ01", days_ago=10, buyer=wang)
    _sale(client, [("TEA", 2)], location="BJ01", days_ago=2, buyer=wang)
    f.ok(f.web_order(client, [("TEA", 1)], location="BJ01", customer={"id": li["id"]}), 201)  # not paid
    uow = UnitOfWork(make_session_factory(engine))
    found = dashboard.customer_figures(uow, [wang["id"], li["id"], nobody["id"]])
    assert found == {wang["id"]: {"orders": 2, "spend": 30000, "last_order_at": NOW - timedelta(days=2)}}
    assert dashboard.customer_figures(uow, []) == {}
