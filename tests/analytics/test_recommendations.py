"""Recommendations from real co-purchases and tea likeness, for a product and for a customer: nothing out of
stock near the customer, nothing they just bought."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests import factories as f
from tests.analytics.shop import ago, customer, sale, tea


def _arrange(client: TestClient) -> dict[str, Any]:
    """A (green) is bought with C (oolong), CUP, D and E, twice each; B is a green tea like A, never bought.
    After the sales: CUP is left only at the warehouse, D only at another store, E nowhere."""
    for code, kind in (("BJ01", "store"), ("SH01", "store"), ("WH01", "warehouse")):
        f.location(client, code, kind=kind)
    tea(client, "A", taste_notes=["豆香", "鲜爽"])
    tea(client, "B", taste_notes=["豆香", "回甘"])
    tea(client, "C", category="oolong", origin="福建泉州安溪", taste_notes=["兰花香"])
    tea(client, "CUP", category="teaware")
    tea(client, "D", taste_notes=["鲜爽"], origin="江苏苏州吴中")
    tea(client, "E", category="black", origin="福建武夷山桐木", taste_notes=["松烟香"])
    tea(client, "HERB", category="herbal", origin="海南", taste_notes=["苦"])
    f.receive(client, "A", 50, location="BJ01")
    f.receive(client, "A", 10, location="SH01")
    f.receive(client, "B", 10, location="BJ01")
    f.receive(client, "C", 10, location="BJ01")
    f.receive(client, "CUP", 2, location="BJ01")
    f.receive(client, "CUP", 5, location="WH01")
    f.receive(client, "D", 5, location="SH01")
    f.receive(client, "E", 2, location="BJ01")
    f.receive(client, "HERB", 10, location="BJ01")
    for second in ("C", "C", "CUP", "CUP", "E", "E"):
        sale(client, None, [("A", 1), (second, 1)], at=ago(100))
    for _ in range(2):
        sale(client, None, [("A", 1), ("D", 1)], at=ago(100), location="SH01")
    for _ in range(6):  # orders without A: A is in 9 of 16 orders
        sale(client, None, [("HERB", 1)], at=ago(90))
    me = customer(client, "me", "13812343000", home_store="BJ01")
    sale(client, me, [("A", 1)], at=ago(60))
    sale(client, me, [("C", 1)], at=ago(5))
    return me


def test_bought_together_counts_real_co_purchases(client: TestClient) -> None:
    _arrange(client)
    answer = f.ok(client.get("/api/v1/reports/recommendations/products/A"))
    assert answer["orders"] == 9
    together = [(r["sku"], r["orders"], r["confidence"], r["lift"]) for r in answer["bought_together"]]
    # 2 of A's 9 orders hold CUP, which is in 2 of 16 orders: lift (2/9) / (2/16) = 1.7778
    assert sorted(together[:3]) == [("CUP", 2, 0.2222, 1.7778), ("D", 2, 0.2222, 1.7778), ("E", 2, 0.2222, 1.7778)]
    assert together[3] == ("C", 2, 0.2222, 1.1852)  # C is in 3 orders, so less of a sign
    assert [r["sku"] for r in answer["similar"]][:2] == ["B", "D"]  # same category, origin and notes first
    assert "CUP" not in [r["sku"] for r in answer["similar"]]  # teaware is not a tea
    assert client.get("/api/v1/reports/recommendations/products/NOPE").status_code == 404


def test_min_orders_leaves_out_rare_pairs(client: TestClient) -> None:
    _arrange(client)
    answer = f.ok(client.get("/api/v1/reports/recommendations/products/A", params={"min_orders": 3}))
    assert answer["bought_together"] == []


def test_customer_recommendations_skip_recent_buys_and_stock_they_cannot_get(client: TestClient) -> None:
    me = _arrange(client)
    answer = f.ok(client.get(f"/api/v1/reports/recommendations/customers/{me['id']}"))
    assert answer["stock_at"] == ["BJ01", "WH01"]
    items = [(r["sku"], r["reason"], r["because_sku"]) for r in answer["items"]]
    # A goes with C (2 of C's 3 orders) and was bought 60 days ago; CUP goes with A and is at the warehouse
    assert items[:2] == [("A", "bought_together", "C"), ("CUP", "bought_together", "A")]
    skus = [sku for sku, _, _ in items]
    assert "C" not in skus  # bought 5 days ago
    assert "D" not in skus  # only at SH01: neither the home store nor the warehouse has it
    assert "E" not in skus  # sold out
    assert ("B", "similar", "A") in items
    assert next(r for r in answer["items"] if r["sku"] == "CUP")["available"] == 5

    longer = f.ok(client.get(f"/api/v1/reports/recommendations/customers/{me['id']}",
                             params={"exclude_days": 90, "limit": 2}))
    assert [(r["sku"], r["reason"]) for r in longer["items"]] == [("CUP", "bought_together"), ("B", "similar")]


def test_a_new_customer_gets_best_sellers_in_stock(client: TestClient) -> None:
    _arrange(client)
    new = customer(client, "new", "13812343001")  # no home store: the warehouse's stock counts
    answer = f.ok(client.get(f"/api/v1/reports/recommendations/customers/{new['id']}"))
    assert answer["stock_at"] == ["WH01"]
    assert [(r["sku"], r["reason"]) for r in answer["items"]] == [("CUP", "popular")]
