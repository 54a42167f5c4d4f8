"""Small helpers that arrange a shop through the real API."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()  # type: ignore[no-any-return]


def location(client: TestClient, code: str = "BJ01", kind: str = "store", name: str | None = None) -> dict[str, Any]:
    return ok(client.post("/api/v1/locations", json={"code": code, "name": name or f"{code} 门店", "kind": kind}), 201)


def product(client: TestClient, sku: str = "LJ-MQ26-250", *, list_price: int = 68800, member: int | None = 62800,
            category: str = "green", unit: str = "piece", price_basis: int | None = None,
            shelf_life_days: int | None = 540, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sku": sku, "name": f"茶 {sku}", "category": category, "unit": unit,
        "prices": {"list": list_price, **({"member": member} if member is not None else {})},
        "tea": {"origin": "浙江杭州西湖", "grade": "特级", "harvest_year": 2026, "season": "明前",
                "shelf_life_days": shelf_life_days},
        **extra,
    }
    if price_basis is not None:
        body["price_basis"] = price_basis
    return ok(client.post("/api/v1/products", json=body), 201)


def receive(client: TestClient, sku: str, quantity: int, *, location: str = "BJ01", batch: str = "B1",
            unit_cost: int = 30000, produced_on: str | None = "2026-03-28", expires_on: str | None = None,
            ) -> dict[str, Any]:
    body: dict[str, Any] = {"location": location, "sku": sku, "batch_code": batch, "quantity": quantity,
                            "unit_cost": unit_cost, "produced_on": produced_on}
    if expires_on is not None:
        body["expires_on"] = expires_on
    return ok(client.post("/api/v1/stock/receipts", json=body), 201)


def stock(client: TestClient, sku: str, location: str = "BJ01") -> dict[str, Any]:
    items = ok(client.get("/api/v1/stock", params={"sku": sku, "location": location}))["items"]
    assert len(items) == 1, items
    return items[0]


def pos_sale(client: TestClient, lines: list[tuple[str, int]], *, location: str = "BJ01", pay: int | None = None,
             method: str = "wechat", phone: str | None = None, **extra: Any) -> Any:
    body: dict[str, Any] = {"channel": "pos", "location": location,
                            "lines": [{"sku": s, "quantity": q} for s, q in lines],
                            "payments": [{"method": method, "amount": pay if pay is not None else 1}], **extra}
    if phone:
        body["customer"] = {"phone": phone}
    return client.post("/api/v1/orders", json=body)


def web_order(client: TestClient, lines: list[tuple[str, int]], *, location: str | None = None,
              **extra: Any) -> Any:
    body: dict[str, Any] = {"channel": "web", "lines": [{"sku": s, "quantity": q} for s, q in lines], **extra}
    if location:
        body["location"] = location
    return client.post("/api/v1/orders", json=body)
