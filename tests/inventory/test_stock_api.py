"""Stock through the API: receipts, the derived levels, transfers, counts, scrap, thresholds and scope."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient

from teahub.db.uow import UnitOfWork
from teahub.inventory import service as inventory
from tests import factories as f

SKU = "LJ-MQ26-250"


def shop(client: TestClient) -> None:
    f.location(client, "WH01", "warehouse")
    f.location(client, "BJ01")
    f.location(client, "HZ01")
    f.product(client, SKU)


def test_receipt_creates_a_batch_and_stock_is_derived_from_the_ledger(client: TestClient, uow: UnitOfWork) -> None:
    shop(client)
    answer = f.receive(client, SKU, 100, location="WH01", batch="LJ26-001", unit_cost=30000,
                       expires_on="2027-09-28")
    assert answer["stock"]["on_hand"] == 100
    f.receive(client, SKU, 20, location="WH01", batch="LJ26-001", unit_cost=30000)
    item = f.stock(client, SKU, "WH01")
    assert (item["on_hand"], item["reserved"], item["available"]) == (120, 0, 120)
    assert item["batches"][0]["batch_code"] == "LJ26-001"
    assert item["batches"][0]["expires_on"] == "2027-09-28"
    ledger = f.ok(client.get("/api/v1/stock/ledger", params={"sku": SKU}))["items"]
    assert [(e["kind"], e["quantity"]) for e in ledger] == [("receipt", 100), ("receipt", 20)]
    assert inventory.verify_ledger(uow) == []


def test_expiry_defaults_to_production_date_plus_shelf_life(client: TestClient) -> None:
    shop(client)
    f.receive(client, SKU, 5, location="WH01", produced_on="2026-03-28")
    batch = f.stock(client, SKU, "WH01")["batches"][0]
    assert batch["expires_on"] == str(date(2026, 3, 28) + timedelta(days=540))


def test_aging_tea_has_no_expiry(client: TestClient) -> None:
    shop(client)
    f.product(client, "SP-2019", category="puerh", shelf_life_days=None, member=None, list_price=26800)
    f.receive(client, "SP-2019", 5, location="WH01", produced_on="2019-04-01")
    assert f.stock(client, "SP-2019", "WH01")["batches"][0]["expires_on"] is None


def test_same_batch_code_at_another_cost_is_refused_and_changes_nothing(client: TestClient) -> None:
    shop(client)
    f.receive(client, SKU, 10, location="WH01", batch="B1", unit_cost=30000)
    response = client.post("/api/v1/stock/receipts", json={"location": "WH01", "sku": SKU, "batch_code": "B1",
                                                           "quantity": 5, "unit_cost": 31000})
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["field"] == "unit_cost"
    assert f.stock(client, SKU, "WH01")["on_hand"] == 10


def test_bad_receipts_name_the_field(client: TestClient) -> None:
    shop(client)
    cases = [
        ({"location": "WH01", "sku": "NOPE", "batch_code": "B", "quantity": 1, "unit_cost": 1}, 404, "sku"),
        ({"location": "XX", "sku": SKU, "batch_code": "B", "quantity": 1, "unit_cost": 1}, 404, "location"),
        ({"location": "WH01", "sku": SKU, "batch_code": "B", "quantity": 0, "unit_cost": 1}, 422, "quantity"),
        ({"location": "WH01", "sku": SKU, "batch_code": "B", "quantity": -3, "unit_cost": 1}, 422, "quantity"),
        ({"location": "WH01", "sku": SKU, "batch_code": "B", "quantity": 1, "unit_cost": -1}, 422, "unit_cost"),
        ({"location": "WH01", "sku": SKU, "batch_code": "B", "quantity": 1, "unit_cost": 1,
          "produced_on": "2026-05-01", "expires_on": "2026-04-01"}, 422, "expires_on"),
    ]
    for body, status, field in cases:
        response = client.post("/api/v1/stock/receipts", json=body)
        assert response.status_code == status, (body, response.text)
        assert response.json()["field"] == field
    assert f.ok(client.get("/api/v1/stock", params={"sku": SKU}))["items"] == []


def test_transfer_moves_batches_between_locations(client: TestClient, uow: UnitOfWork) -> None:
    shop(client)
    f.receive(client, SKU, 10, location="WH01", batch="OLD", expires_on="2027-01-01")
    f.receive(client, SKU, 10, location="WH01", batch="NEW", expires_on="2027-06-01", unit_cost=31000)
    transfer = f.ok(client.post("/api/v1/stock/transfers", json={
        "from_location": "WH01", "to_location": "BJ01", "lines": [{"sku": SKU, "quantity": 12}]}), 201)
    assert [(line["batch_code"], line["quantity"]) for line in transfer["lines"]] == [("OLD", 10), ("NEW", 2)]
    assert f.stock(client, SKU, "WH01")["on_hand"] == 8
    store = f.stock(client, SKU, "BJ01")
    assert store["on_hand"] == 12
    assert {b["batch_code"]: b["unit_cost"] for b in store["batches"]} == {"OLD": 30000, "NEW": 31000}
    assert inventory.verify_ledger(uow) == []


def test_transfer_of_more_than_available_is_refused_whole(client: TestClient) -> None:
    shop(client)
    f.receive(client, SKU, 5, location="WH01")
    f.product(client, "OTHER")
    f.receive(client, "OTHER", 50, location="WH01")
    response = client.post("/api/v1/stock/transfers", json={
        "from_location": "WH01", "to_location": "BJ01",
        "lines": [{"sku": "OTHER", "quantity": 10}, {"sku": SKU, "quantity": 6}]})
    assert response.status_code == 409
    assert response.json()["field"] == "lines.1.quantity"
    assert f.stock(client, "OTHER", "WH01")["on_hand"] == 50
    assert f.ok(client.get("/api/v1/stock", params={"location": "BJ01"}))["items"] == []


def test_stock_count_posts_the_difference(client: TestClient, uow: UnitOfWork) -> None:
    shop(client)
    f.receive(client, SKU, 10, location="BJ01")
    count = f.ok(client.post("/api/v1/stock/counts", json={"location": "BJ01", "lines": [{"sku": SKU, "counted": 7}]}),
                 201)
    assert count["lines"][0] == {"sku": SKU, "batch_code": "B1", "expected": 10, "counted": 7, "difference": -3}
    assert f.stock(client, SKU)["on_hand"] == 7
    kinds = [(e["kind"], e["quantity"]) for e in f.ok(client.get("/api/v1/stock/ledger"))["items"]]
    assert ("count_adjustment", -3) in kinds
    assert inventory.verify_ledger(uow) == []


def test_count_needs_the_batch_when_several_are_held(client: TestClient) -> None:
    shop(client)
    f.receive(client, SKU, 10, location="BJ01", batch="A")
    f.receive(client, SKU, 10, location="BJ01", batch="B")
    response = client.post("/api/v1/stock/counts", json={"location": "BJ01", "lines": [{"sku": SKU, "counted": 7}]})
    assert response.status_code == 422
    assert response.json()["field"] == "lines.0.batch_code"
    assert f.stock(client, SKU)["on_hand"] == 20


def test_scrap_takes_units_out(client: TestClient) -> None:
    shop(client)
    f.receive(client, SKU, 10, location="BJ01")
    f.ok(client.post("/api/v1/stock/scrap", json={"location": "BJ01", "sku": SKU, "batch_code": "B1", "quantity": 2,
                                                  "reason": "damp"}), 201)
    assert f.stock(client, SKU)["on_hand"] == 8
    too_many = client.post("/api/v1/stock/scrap", json={"location": "BJ01", "sku": SKU, "batch_code": "B1",
                                                        "quantity": 9})
    assert too_many.status_code == 409
    assert f.stock(client, SKU)["on_hand"] == 8


def test_expired_stock_is_on_hand_but_not_available(client: TestClient) -> None:
    shop(client)
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    f.receive(client, SKU, 4, location="BJ01", batch="EXP", produced_on="2025-01-01", expires_on=yesterday)
    f.receive(client, SKU, 3, location="BJ01", batch="OK", expires_on="2030-01-01")
    item = f.stock(client, SKU)
    assert (item["on_hand"], item["available"], item["expired"]) == (7, 3, 4)
    refused = f.pos_sale(client, [(SKU, 4)], pay=4 * 68800)
    assert refused.status_code == 409


def test_low_stock_event_when_available_falls_below_threshold(client: TestClient) -> None:
    shop(client)
    f.receive(client, SKU, 10, location="BJ01")
    f.ok(client.put("/api/v1/stock/thresholds", json={"location": "BJ01", "sku": SKU, "minimum": 5}))
    f.ok(f.pos_sale(client, [(SKU, 4)], pay=4 * 68800), 201)
    events = f.ok(client.get("/api/v1/events", params={"limit": 1000}))["items"]
    assert not [e for e in events if e["type"] == "stock.low"]
    f.ok(f.pos_sale(client, [(SKU, 2)], pay=2 * 68800), 201)
    low = [e for e in f.ok(client.get("/api/v1/events", params={"limit": 1000}))["items"] if e["type"] == "stock.low"]
    assert len(low) == 1
    assert low[0]["payload"] == {"sku": SKU, "location": "BJ01", "available": 4, "minimum": 5}
    assert low[0]["aggregate_id"] == f"{SKU}@BJ01"


def test_stock_changed_events_have_increasing_versions(client: TestClient) -> None:
    shop(client)
    f.receive(client, SKU, 10, location="BJ01")
    f.ok(f.pos_sale(client, [(SKU, 1)], pay=68800), 201)
    changed = [e for e in f.ok(client.get("/api/v1/events"))["items"] if e["type"] == "stock.changed"]
    assert [e["version"] for e in changed] == [1, 2]
    assert [e["payload"]["on_hand"] for e in changed] == [10, 9]


def test_clerk_cannot_touch_another_stores_stock(client: TestClient, client_as) -> None:  # type: ignore[no-untyped-def]
    shop(client)
    f.receive(client, SKU, 10, location="BJ01")
    f.receive(client, SKU, 10, location="HZ01")
    clerk = client_as("clerk", ["BJ01"])
    assert clerk.get("/api/v1/stock", params={"location": "HZ01"}).status_code == 403
    seen = f.ok(clerk.get("/api/v1/stock"))["items"]
    assert {i["location"] for i in seen} == {"BJ01"}
    assert clerk.post("/api/v1/stock/receipts", json={"location": "HZ01", "sku": SKU, "batch_code": "X",
                                                      "quantity": 1, "unit_cost": 1}).status_code == 403
    assert clerk.post("/api/v1/stock/counts", json={"location": "HZ01",
                                                    "lines": [{"sku": SKU, "counted": 0}]}).status_code == 403
    manager = client_as("manager", ["HZ01"])
    assert manager.post("/api/v1/stock/transfers", json={"from_location": "BJ01", "to_location": "HZ01",
                                                         "lines": [{"sku": SKU, "quantity": 1}]}).status_code == 403
    assert f.stock(client, SKU, "HZ01")["on_hand"] == 10


def test_manager_draws_from_the_warehouse_into_their_store(client: TestClient, client_as) -> None:  # type: ignore[no-untyped-def]
    shop(client)
    f.receive(client, SKU, 10, location="WH01")
    manager = client_as("manager", ["BJ01"])
    f.ok(manager.post("/api/v1/stock/transfers", json={"from_location": "WH01", "to_location": "BJ01",
                                                       "lines": [{"sku": SKU, "quantity": 4}]}), 201)
    assert f.stock(client, SKU, "BJ01")["on_hand"] == 4


def test_anonymous_callers_are_refused(anonymous: TestClient) -> None:
    response = anonymous.get("/api/v1/stock")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert anonymous.get("/health").json()["status"] == "ok"


def test_a_threshold_for_the_longest_sku_at_the_longest_location_code_is_kept(client: TestClient) -> None:
    sku, code = "S" * 64, "L" * 32  # the audit names it SKU@location: 97 characters
    f.location(client, code)
    f.product(client, sku)
    f.ok(client.put("/api/v1/stock/thresholds", json={"location": code, "sku": sku, "minimum": 3}))
    [entry] = f.ok(client.get("/api/v1/audit", params={"entity_type": "stock"}))["items"]
    assert entry["entity_id"] == f"{sku}@{code}"
