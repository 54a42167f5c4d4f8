"""Shops and their SKU mappings through the API and the CLI's service: secrets sealed and never answered."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text

from teahub.channels.rules import available_to_sell
from teahub.db.uow import UnitOfWork
from tests import factories as f
from tests.channels import helpers as h


def test_shop_is_created_with_allocation_and_its_secret_is_never_answered(client: TestClient, uow: UnitOfWork) -> None:
    h.warehouse_with(client, {})
    created = f.ok(client.post("/api/v1/shops", json={
        "code": "TM01", "platform": "tmall", "name": "清风茶舍天猫旗舰店", "location": "WH01", "app_key": "12345678",
        "app_secret": "very-secret", "allocation": {"ratio": 0.5, "safety_stock": 2}}), 201)
    assert created["code"] == "TM01" and created["platform"] == "tmall" and created["location"] == "WH01"
    assert created["allocation"] == {"ratio": 0.5, "safety_stock": 2, "cap": None}
    assert created["has_secret"] is True
    assert "very-secret" not in str(created)
    listed = f.ok(client.get("/api/v1/shops"))["items"]
    assert [s["code"] for s in listed] == ["TM01"] and "very-secret" not in str(listed)
    with uow.reading():
        stored = uow.session.execute(text("select app_key, app_secret from channel_shops")).one()
    assert "very-secret" not in stored.app_secret and "12345678" not in stored.app_key  # sealed at rest
    patched = f.ok(client.patch("/api/v1/shops/TM01", json={"allocation": {"ratio": 0.3, "safety_stock": 0,
                                                                          "cap": 40}}))
    assert patched["allocation"] == {"ratio": 0.3, "safety_stock": 0, "cap": 40} and patched["version"] == 2


def test_shop_errors_name_their_field(client: TestClient) -> None:
    h.warehouse_with(client, {})
    body = {"code": "JD01", "platform": "jd", "name": "京东店", "location": "NOPE", "app_key": "k", "app_secret": "s"}
    missing = client.post("/api/v1/shops", json=body)
    assert missing.status_code == 404 and missing.json()["field"] == "location"
    wrong = client.post("/api/v1/shops", json={**body, "location": "WH01", "platform": "amazon"})
    assert wrong.status_code == 422 and wrong.json()["field"] == "platform"
    f.ok(client.post("/api/v1/shops", json={**body, "location": "WH01"}), 201)
    twice = client.post("/api/v1/shops", json={**body, "location": "WH01"})
    assert twice.status_code == 409 and twice.json()["field"] == "code"


def test_only_admins_manage_shops(client: TestClient, client_as) -> None:  # type: ignore[no-untyped-def]
    h.warehouse_with(client, {})
    clerk = client_as("clerk", ["WH01"])
    assert clerk.post("/api/v1/shops", json={"code": "X", "platform": "jd", "name": "x", "location": "WH01",
                                             "app_key": "k", "app_secret": "s"}).status_code == 403
    assert clerk.get("/api/v1/inbox").status_code == 403


def test_sku_mappings_are_managed_per_shop(client: TestClient) -> None:
    h.warehouse_with(client, {"LJ-MQ26-250": 0})
    h.shop(client, "YZ01", "youzan")
    mapping = f.ok(client.post("/api/v1/shops/YZ01/sku-mappings", json={
        "platform_sku_id": "450996611", "sku": "LJ-MQ26-250"}), 201)
    assert mapping["shop"] == "YZ01" and mapping["units_per_item"] == 1
    again = f.ok(client.post("/api/v1/shops/YZ01/sku-mappings", json={
        "platform_sku_id": "450996611", "sku": "LJ-MQ26-250", "units_per_item": 2}), 201)
    assert again["id"] == mapping["id"] and again["units_per_item"] == 2
    unknown = client.post("/api/v1/shops/YZ01/sku-mappings", json={"outer_code": "X1", "sku": "NOPE"})
    assert unknown.status_code == 422 and unknown.json()["field"] == "sku"
    both = client.post("/api/v1/shops/YZ01/sku-mappings", json={"outer_code": "X1", "platform_sku_id": "1",
                                                                "sku": "LJ-MQ26-250"})
    assert both.status_code == 422
    assert len(f.ok(client.get("/api/v1/shops/YZ01/sku-mappings"))["items"]) == 1
    assert client.delete(f"/api/v1/shops/YZ01/sku-mappings/{mapping['id']}").status_code == 204
    assert f.ok(client.get("/api/v1/shops/YZ01/sku-mappings"))["items"] == []


def test_available_to_sell_follows_ratio_safety_stock_and_cap() -> None:
    assert available_to_sell(100, 5000, 2, None) == 48
    assert available_to_sell(3, 5000, 2, None) == 0
    assert available_to_sell(100, 10000, 0, 40) == 40
