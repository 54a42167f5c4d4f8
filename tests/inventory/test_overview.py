"""Stock overviews for the pages: one location's stock with minimums, batches by expiry, transfers and counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from teahub.db.uow import UnitOfWork
from teahub.errors import NotFound
from teahub.inventory import movement_history, overview
from tests import factories as f

TEA = "LJ-MQ26-250"
LOOSE = "LJ-43-L"


def shop(client: TestClient) -> None:
    f.location(client, "WH01", "warehouse")
    f.location(client, "BJ01")
    f.location(client, "HZ01")
    f.product(client, TEA)
    f.product(client, LOOSE, unit="g", list_price=68000)


def test_location_stock_shows_minimums_and_what_is_below(client: TestClient, uow: UnitOfWork) -> None:
    shop(client)
    f.receive(client, TEA, 3, location="BJ01", batch="B1")
    f.ok(client.put("/api/v1/stock/thresholds", json={"location": "BJ01", "sku": TEA, "minimum": 5}))
    f.ok(client.put("/api/v1/stock/thresholds", json={"location": "BJ01", "sku": LOOSE, "minimum": 500}))
    f.receive(client, TEA, 50, location="HZ01", batch="B1")

    items = {i["sku"]: i for i in overview.location_stock(uow, "BJ01")}
    assert (items[TEA]["on_hand"], items[TEA]["minimum"], items[TEA]["below"], items[TEA]["unit"]) == (
        3, 5, True, "piece")
    # never held here, but it has a minimum: listed at zero, below it
    assert (items[LOOSE]["on_hand"], items[LOOSE]["below"], items[LOOSE]["unit"]) == (0, True, "g")
    assert overview.thresholds(uow, "BJ01") == {TEA: 5, LOOSE: 500}

    f.receive(client, TEA, 10, location="BJ01", batch="B1")
    assert [i["sku"] for i in overview.location_stock(uow, "BJ01", below_only=True)] == [LOOSE]
    assert [i["sku"] for i in overview.location_stock(uow, "BJ01", q="43-l")] == [LOOSE]
    hz = overview.location_stock(uow, "HZ01")
    assert [(i["sku"], i["on_hand"], i["minimum"], i["below"]) for i in hz] == [(TEA, 50, None, False)]


def test_batches_by_expiry_with_stock_in_scope(client: TestClient, uow: UnitOfWork) -> None:
    shop(client)
    today = uow.now().date()
    soon, later, gone = today + timedelta(days=20), today + timedelta(days=400), today - timedelta(days=2)
    f.receive(client, TEA, 10, location="WH01", batch="LATER", produced_on=None, expires_on=str(later))
    f.receive(client, TEA, 4, location="BJ01", batch="SOON", produced_on=None, expires_on=str(soon))
    f.receive(client, TEA, 6, location="WH01", batch="SOON", produced_on=None, expires_on=str(soon))
    f.receive(client, LOOSE, 250, location="HZ01", batch="OLD", produced_on=None, expires_on=str(gone))

    rows = overview.batch_list(uow)
    assert [(r["sku"], r["batch_code"], r["expiry"]) for r in rows] == [
        (LOOSE, "OLD", "expired"), (TEA, "SOON", "near"), (TEA, "LATER", "ok")]
    soon_row = rows[1]
    assert (soon_row["on_hand"], soon_row["locations"], soon_row["days_left"]) == (10, ["BJ01", "WH01"], 20)
    assert rows[0]["available"] == 0  # nothing of an expired batch can be sold

    bj = overview.batch_list(uow, scope=frozenset({"BJ01"}))
    assert [(r["batch_code"], r["on_hand"], r["locations"]) for r in bj] == [("SOON", 4, ["BJ01"])]
    assert [r["batch_code"] for r in overview.batch_list(uow, expiring_within_days=60)] == ["OLD", "SOON"]
    assert [r["batch_code"] for r in overview.batch_list(uow, q="43-L")] == ["OLD"]

    detail = overview.batch_detail(uow, TEA, "SOON")
    assert [(loc["location"], loc["on_hand"]) for loc in detail["locations"]] == [("BJ01", 4), ("WH01", 6)]
    assert detail["unit_cost"] == 30000 and detail["expiry"] == "near"
    with pytest.raises(NotFound):
        overview.batch_detail(uow, TEA, "LATER", scope=frozenset({"BJ01"}))

    # a batch sold out stays listed when asked for (traceability)
    f.ok(client.post("/api/v1/stock/scrap", json={"location": "HZ01", "sku": LOOSE, "batch_code": "OLD",
                                                  "quantity": 250}), 201)
    assert "OLD" not in [r["batch_code"] for r in overview.batch_list(uow)]
    assert "OLD" in [r["batch_code"] for r in overview.batch_list(uow, with_empty=True)]


def test_transfers_and_counts_newest_first_within_scope(client: TestClient, uow: UnitOfWork) -> None:
    shop(client)
    f.receive(client, TEA, 20, location="WH01", batch="B1")
    f.receive(client, LOOSE, 1000, location="WH01", batch="L1")
    f.ok(client.post("/api/v1/stock/transfers", json={
        "from_location": "WH01", "to_location": "BJ01", "note": "补货",
        "lines": [{"sku": TEA, "quantity": 5}, {"sku": LOOSE, "quantity": 500}]}), 201)
    f.ok(client.post("/api/v1/stock/transfers", json={
        "from_location": "WH01", "to_location": "HZ01", "lines": [{"sku": TEA, "quantity": 2}]}), 201)
    f.ok(client.post("/api/v1/stock/counts", json={
        "location": "BJ01", "lines": [{"sku": TEA, "counted": 4}]}), 201)

    transfers = movement_history.transfer_list(uow)
    assert [(t["from_location"], t["to_location"]) for t in transfers] == [("WH01", "HZ01"), ("WH01", "BJ01")]
    first = transfers[1]
    assert first["note"] == "补货"
    assert [(line["sku"], line["batch_code"], line["quantity"], line["unit"]) for line in first["lines"]] == [
        (TEA, "B1", 5, "piece"), (LOOSE, "L1", 500, "g")]
    assert [t["to_location"] for t in movement_history.transfer_list(uow, scope=frozenset({"BJ01"}))] == ["BJ01"]
    assert len(movement_history.transfer_list(uow, before_id=transfers[0]["id"])) == 1

    [count] = movement_history.count_list(uow, scope=frozenset({"BJ01"}))
    assert count["location"] == "BJ01"
    assert [(line["sku"], line["expected"], line["counted"], line["difference"]) for line in count["lines"]] == [
        (TEA, 5, 4, -1)]
    assert movement_history.count_list(uow, scope=frozenset({"HZ01"})) == []
