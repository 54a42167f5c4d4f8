"""Arranging customers with known histories through the API: teas with their attributes, customers, and
counter sales on past days (an order's `sold_at`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests import factories as f

CASH = 100_000_000  # cash handed over at the counter; the change comes back


def ago(days: float, now: datetime | None = None) -> datetime:
    return (now or datetime.now(UTC)) - timedelta(days=days)


def tea(client: TestClient, sku: str, *, category: str = "green", unit: str = "piece", price: int = 10000,
        price_basis: int | None = None, form: str | None = None, taste_notes: list[str] | None = None,
        origin: str | None = "浙江杭州西湖") -> dict[str, Any]:
    body: dict[str, Any] = {"sku": sku, "name": f"茶 {sku}", "category": category, "unit": unit,
                            "prices": {"list": price}}
    if price_basis is not None:
        body["price_basis"] = price_basis
    if category not in ("teaware", "giftbox", "other"):
        body["tea"] = {"origin": origin, "form": form, "taste_notes": taste_notes or [], "shelf_life_days": 540}
    return f.ok(client.post("/api/v1/products", json=body), 201)


def customer(client: TestClient, name: str, phone: str, *, home_store: str | None = None, kind: str = "person",
             ) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, "phone": phone, "kind": kind, "tier": None}
    if home_store:
        body["home_store"] = home_store
    if kind == "company":
        body["company_name"] = name
    return f.ok(client.post("/api/v1/customers", json=body), 201)


def sale(client: TestClient, buyer: dict[str, Any] | None, lines: list[tuple[str, int]], *, at: datetime,
         location: str = "BJ01") -> dict[str, Any]:
    """A counter sale on a past moment, paid in cash."""
    body: dict[str, Any] = {"channel": "pos", "location": location, "sold_at": at.isoformat(),
                            "lines": [{"sku": s, "quantity": q} for s, q in lines],
                            "payments": [{"method": "cash", "amount": CASH}]}
    if buyer is not None:
        body["customer"] = {"id": buyer["id"]}
    return f.ok(client.post("/api/v1/orders", json=body), 201)
