"""Customer lifetime value: historic gross profit from batch costs, plus a prediction from observed churn."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from teahub.analytics import rules
from tests import factories as f
from tests.analytics.shop import ago, customer, sale, tea

PRICE, COST = 10000, 4000  # a unit earns 6,000 fen of gross profit


def _arrange(client: TestClient) -> dict[str, int]:
    f.location(client, "BJ01")
    tea(client, "TEA", price=PRICE)
    f.receive(client, "TEA", 100, unit_cost=COST)
    ids = {}
    for i, name in enumerate(("regular", "lapsed", "returning", "back")):
        ids[name] = customer(client, name, f"1381234100{i}")["id"]
    # regular: two orders this year, the second with two units of which one came back
    sale(client, {"id": ids["regular"]}, [("TEA", 1)], at=ago(100))
    second = sale(client, {"id": ids["regular"]}, [("TEA", 2)], at=ago(10))
    f.ok(client.post(f"/api/v1/orders/{second['id']}/refunds", json={"lines": [{"sku": "TEA", "quantity": 1}]}),
         201)
    # lapsed: bought more than a year ago, never since
    sale(client, {"id": ids["lapsed"]}, [("TEA", 1)], at=ago(400))
    # returning and back: bought more than a year ago and again this year
    sale(client, {"id": ids["returning"]}, [("TEA", 1)], at=ago(500))
    sale(client, {"id": ids["returning"]}, [("TEA", 1)], at=ago(20))
    sale(client, {"id": ids["back"]}, [("TEA", 1)], at=ago(450))
    sale(client, {"id": ids["back"]}, [("TEA", 1)], at=ago(30))
    return ids


def test_clv_is_historic_profit_plus_predicted_from_observed_churn(client: TestClient,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rules, "MIN_CHURN_BASE", 3)
    ids = _arrange(client)
    report = f.ok(client.get("/api/v1/reports/clv"))
    # a year ago three customers had bought (lapsed, returning, back); one of them has not bought since
    assert (report["churn_base"], report["churn_lapsed"], report["churn_observed"]) == (3, 1, True)
    assert (report["annual_churn"], report["expected_years"]) == (0.3333, 3.0)
    rows = {r["customer_id"]: r for r in report["items"]}
    regular = rows[ids["regular"]]
    # revenue 10,000 + 20,000 - 10,000 refunded; cost 4,000 + 8,000 - 4,000 returned to stock
    assert (regular["orders"], regular["revenue"], regular["cost"], regular["gross_profit"]) == (2, 20000, 8000, 12000)
    assert (regular["average_order_value"], regular["margin"], regular["orders_per_year"]) == (10000, 0.6, 2)
    # 12,000 / 2 orders x 2 orders a year x 3 years
    assert (regular["historic_value"], regular["predicted_value"], regular["clv"]) == (12000, 36000, 48000)
    assert (rows[ids["returning"]]["predicted_value"], rows[ids["returning"]]["clv"]) == (18000, 30000)
    assert (rows[ids["lapsed"]]["predicted_value"], rows[ids["lapsed"]]["clv"]) == (0, 6000)
    assert [r["customer_id"] for r in report["items"]] == [ids["regular"], ids["returning"], ids["back"],
                                                            ids["lapsed"]]
    one = f.ok(client.get(f"/api/v1/reports/clv/customers/{ids['regular']}"))
    assert {k: one[k] for k in regular} == regular
    assert one["expected_years"] == 3.0


def test_clv_assumes_churn_without_a_year_of_customers(client: TestClient) -> None:
    ids = _arrange(client)  # three customers a year ago: fewer than rules.MIN_CHURN_BASE
    one = f.ok(client.get(f"/api/v1/reports/clv/customers/{ids['regular']}"))
    assert (one["churn_observed"], one["annual_churn"], one["expected_years"]) == (False, 0.5, 2.0)
    assert (one["predicted_value"], one["clv"]) == (24000, 36000)  # 6,000 x 2 a year x 2 years
    top = f.ok(client.get("/api/v1/reports/clv", params={"limit": 1}))
    assert [r["customer_id"] for r in top["items"]] == [ids["regular"]] and top["customers"] == 4


def test_clv_of_a_customer_without_orders_is_zero(client: TestClient) -> None:
    nobody = customer(client, "nobody", "13700000001")
    one = f.ok(client.get(f"/api/v1/reports/clv/customers/{nobody['id']}"))
    assert (one["orders"], one["clv"], one["first_order_at"]) == (0, 0, None)
    assert client.get("/api/v1/reports/clv/customers/999999").status_code == 404


def test_the_top_list_reads_costs_only_as_far_as_needed_and_stays_exact(client: TestClient,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Customers come best revenue first; a big spender on a thin margin must not crowd out a smaller one on a
    fat margin."""
    from teahub.analytics import clv

    monkeypatch.setattr(clv, "CHUNK", 2)
    f.location(client, "BJ01")
    tea(client, "THIN", price=PRICE)
    tea(client, "FAT", price=PRICE)
    f.receive(client, "THIN", 100, unit_cost=9500)  # 500 fen a unit
    f.receive(client, "FAT", 100, unit_cost=1000)  # 9,000 fen a unit
    profits = {}
    for i in range(8):
        buyer = customer(client, f"c{i}", f"1381234500{i}")
        thin, fat = (8 - i, 0) if i % 2 == 0 else (0, 8 - i)
        lines = [(sku, n) for sku, n in (("THIN", thin), ("FAT", fat)) if n]
        sale(client, buyer, lines, at=ago(10 + i))
        profits[buyer["id"]] = thin * 500 + fat * 9000
    everyone = f.ok(client.get("/api/v1/reports/clv", params={"limit": 500}))["items"]
    assert [r["customer_id"] for r in everyone] == sorted(profits, key=lambda c: (-profits[c], c))
    top = f.ok(client.get("/api/v1/reports/clv", params={"limit": 3}))["items"]
    assert top == everyone[:3]
    assert [r["historic_value"] for r in top] == sorted(profits.values(), reverse=True)[:3]
