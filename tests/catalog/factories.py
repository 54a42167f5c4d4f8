"""Factories for catalog tests: product bodies as integrators send them, and a view of what was written."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

PRODUCTS = "/api/v1/products"


def longjing_can(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sku": "LJ-MQ26-250", "name": "西湖龙井 明前特级 250g", "category": "green", "unit": "piece",
        "prices": {"list": 68800, "member": 62800},
        "tea": {"origin": "浙江杭州西湖", "grade": "特级", "harvest_year": 2026, "season": "明前"},
    }
    body.update(overrides)
    return body


def loose_tea(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sku": "TGY-AX-QX-L", "name": "安溪铁观音 清香型", "name_en": "Anxi Tieguanyin light",
        "category": "oolong", "unit": "g", "price_basis": 500, "prices": {"list": 52000},
        "tea": {"origin": "福建泉州安溪", "cultivar": "铁观音", "grade": "一级", "season": "秋",
                "harvest_year": 2026, "form": "loose", "taste_notes": ["兰花香", "音韵"],
                "brewing": {"water_c": 100, "grams_per_100ml": 7, "steeps": 7}, "shelf_life_days": 720},
    }
    body.update(overrides)
    return body


def teaware(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"sku": "GW-JDZ-150", "name": "景德镇白瓷盖碗", "name_en": "Gaiwan",
                            "category": "teaware", "unit": "piece", "prices": {"list": 16800}}
    body.update(overrides)
    return body


def create(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(PRODUCTS, json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def written(client: TestClient) -> dict[str, Any]:
    """Everything a catalog change could write: products, categories, events, product audit entries."""
    return {
        "products": client.get(PRODUCTS, params={"limit": 500}).json()["items"],
        "categories": client.get("/api/v1/categories", params={"limit": 500}).json()["items"],
        "events": client.get("/api/v1/events", params={"limit": 1000}).json()["items"],
        "audit": [e for e in client.get("/api/v1/audit", params={"limit": 500}).json()["items"]
                  if e["entity_type"] in ("product", "category")],
    }


def assert_problem(response: Any, status: int, field: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["field"] == field, body
    return body  # type: ignore[no-any-return]
