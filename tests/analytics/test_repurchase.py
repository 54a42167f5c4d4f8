"""When a customer's tea is likely finished: grams bought, their own rhythm, or 8 g a day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from teahub.analytics.rules import local_date
from tests import factories as f
from tests.analytics.shop import ago, customer, sale, tea

NOW = datetime.now(UTC)


def at(days: float) -> datetime:
    return ago(days, NOW)


def due_on(bought_days_ago: float, days_of_tea: float) -> str:
    return local_date(at(bought_days_ago) + timedelta(days=days_of_tea)).isoformat()


def _arrange(client: TestClient) -> dict[str, dict[str, Any]]:
    f.location(client, "BJ01")
    tea(client, "LJ-250", form="can 250 g")
    tea(client, "LJ-L", unit="g", price=68000, price_basis=500, form="loose")
    tea(client, "CAKE", category="puerh_raw", form="cake 357 g")
    tea(client, "OOLONG-BOX", category="oolong", form="box")  # no weight given: 125 g for an oolong
    tea(client, "CUP", category="teaware")
    for sku, quantity in (("LJ-250", 50), ("LJ-L", 5000), ("CAKE", 5), ("OOLONG-BOX", 5), ("CUP", 5)):
        f.receive(client, sku, quantity)
    people = {name: customer(client, name, f"1381234400{i}")
              for i, name in enumerate(("steady", "once", "mixed", "ager", "lapsed"))}
    people["company"] = customer(client, "公司", "13812344009", kind="company")
    for days in (100, 70, 40):  # a can every 30 days
        sale(client, people["steady"], [("LJ-250", 1)], at=at(days))
    sale(client, people["once"], [("LJ-L", 200), ("CUP", 1)], at=at(20))
    sale(client, people["mixed"], [("LJ-250", 2)], at=at(50))  # 500 g, then 250 g 25 days later: 20 g a day
    sale(client, people["mixed"], [("LJ-L", 250)], at=at(25))
    sale(client, people["ager"], [("CAKE", 1)], at=at(10))
    sale(client, people["ager"], [("OOLONG-BOX", 2)], at=at(3))
    sale(client, people["lapsed"], [("LJ-L", 100)], at=at(60))  # finished 47.5 days ago: too long overdue
    sale(client, people["company"], [("LJ-250", 1)], at=at(25))  # a company gives its tea away
    return people


def test_repurchase_due_lists_tea_finished_soon_or_lately(client: TestClient) -> None:
    people = _arrange(client)
    answer = f.ok(client.get("/api/v1/reports/repurchase-due", params={"within_days": 7, "overdue_days": 30}))
    rows = [(r["customer_id"], r["sku"], r["basis"], r["grams"], r["grams_per_day"], r["due_on"])
            for r in answer["items"]]
    assert rows == [
        (people["mixed"]["id"], "LJ-250", "category", 500, 20.0, due_on(50, 500 / 20)),
        (people["mixed"]["id"], "LJ-L", "category", 250, 20.0, due_on(25, 250 / 20)),
        (people["steady"]["id"], "LJ-250", "tea", 250, 8.33, due_on(40, 30)),
        (people["once"]["id"], "LJ-L", "default", 200, 8.0, due_on(20, 200 / 8)),
    ]
    assert answer["total"] == 4 and answer["next"] is None
    assert [r["days_left"] for r in answer["items"]][2:] == [
        (local_date(at(40) + timedelta(days=30)) - local_date(NOW)).days,
        (local_date(at(20) + timedelta(days=25)) - local_date(NOW)).days]
    assert answer["items"][0]["customer_name"] == "mixed"

    first = f.ok(client.get("/api/v1/reports/repurchase-due", params={"limit": 3}))
    assert first["next"] == "3" and len(first["items"]) == 3
    rest = f.ok(client.get("/api/v1/reports/repurchase-due", params={"limit": 3, "cursor": first["next"]}))
    assert [r["sku"] for r in rest["items"]] == ["LJ-L"] and rest["next"] is None


def test_a_customers_teas_and_when_they_run_out(client: TestClient) -> None:
    people = _arrange(client)
    ager = f.ok(client.get(f"/api/v1/reports/repurchase-due/customers/{people['ager']['id']}"))
    assert [(r["sku"], r["grams"], r["basis"], r["due_on"]) for r in ager["items"]] == [
        ("OOLONG-BOX", 250, "default", due_on(3, 250 / 8)),
        ("CAKE", 357, "default", due_on(10, 357 / 8)),
    ]
    steady = f.ok(client.get(f"/api/v1/reports/repurchase-due/customers/{people['steady']['id']}"))
    assert [(r["sku"], r["purchases"], r["basis"]) for r in steady["items"]] == [("LJ-250", 3, "tea")]
    once = f.ok(client.get(f"/api/v1/reports/repurchase-due/customers/{people['once']['id']}"))
    assert [r["sku"] for r in once["items"]] == ["LJ-L"]  # the cup is not drunk
    company = f.ok(client.get(f"/api/v1/reports/repurchase-due/customers/{people['company']['id']}"))
    assert company["items"] == []
    assert client.get("/api/v1/reports/repurchase-due/customers/999999").status_code == 404
