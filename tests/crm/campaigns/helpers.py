"""Helpers for the segment and campaign tests: a small shop, customers with known histories, previews."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from teahub.db.outbox import OutboxEvent
from teahub.db.uow import UnitOfWork
from teahub.loyalty.coupon_models import CouponGrant
from tests import factories as f
from tests.analytics.shop import CASH, customer, tea

API = "/api/v1"
GREEN, RAW, CUP = "GREEN", "RAW", "CUP"  # green tea, raw pu-erh (a sub-category of pu-erh), a teaware cup
PRICE = 10000
COST = 4000


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def assert_problem(response: Any, status: int, field: str | None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body.get("field") == field, body
    return body  # type: ignore[no-any-return]


def shop(client: TestClient) -> None:
    f.location(client, "BJ01")
    f.location(client, "SH01")
    f.location(client, "WH01", "warehouse")
    tea(client, GREEN, category="green", price=PRICE)
    tea(client, RAW, category="puerh_raw", price=PRICE)
    tea(client, CUP, category="teaware", price=PRICE)
    for sku in (GREEN, RAW, CUP):
        for store in ("BJ01", "SH01"):
            f.receive(client, sku, 100, location=store, unit_cost=COST)


def person(client: TestClient, name: str, phone: str, **patch: Any) -> dict[str, Any]:
    """A customer, changed by `patch` (tier, birthday, home_store ...) through the API."""
    found = customer(client, name, phone)
    if patch:
        found = ok(client.patch(f"{API}/customers/{found['id']}", json=patch))
    return found


def sell(client: TestClient, buyer: dict[str, Any] | None, sku: str, *, at: datetime, store: str = "BJ01",
         quantity: int = 1, coupons: list[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"channel": "pos", "location": store, "sold_at": at.isoformat(),
                            "lines": [{"sku": sku, "quantity": quantity}],
                            "payments": [{"method": "cash", "amount": CASH}]}
    if buyer is not None:
        body["customer"] = {"id": buyer["id"]}
    if coupons:
        body["coupons"] = coupons
    return ok(client.post(f"{API}/orders", json=body), 201)  # type: ignore[no-any-return]


def consent(client: TestClient, who: dict[str, Any], purpose: str, granted: bool) -> None:
    ok(client.post(f"{API}/customers/{who['id']}/consents",
                   json={"purpose": purpose, "granted": granted, "source": "pos:BJ01"}), 201)


def selected(client: TestClient, rules: dict[str, Any]) -> list[int]:
    """The ids a rule set selects now (its preview), checking that the size agrees."""
    answer = ok(client.post(f"{API}/segments/preview", json={"rules": rules}))
    ids = [m["id"] for m in answer["members"]]
    assert answer["size"] == len(ids), answer
    return ids


def ids(*people: dict[str, Any]) -> list[int]:
    return sorted(p["id"] for p in people)


def segment(client: TestClient, name: str, rules: dict[str, Any]) -> dict[str, Any]:
    return ok(client.post(f"{API}/segments", json={"name": name, "rules": rules}), 201)  # type: ignore[no-any-return]


def coupon(client: TestClient, code: str = "COMEBACK", **body: Any) -> dict[str, Any]:
    return ok(client.post(f"{API}/coupons", json={"code": code, "name": "回归礼券", "kind": "fixed", "value": 2000,
                                                   **body}), 201)


def coupon_campaign(client: TestClient, segment_id: int, code: str = "COMEBACK", **body: Any) -> dict[str, Any]:
    return ok(client.post(f"{API}/campaigns", json={"name": "老客回归", "segment_id": segment_id, "kind": "coupon",
                                                     "coupon_code": code, **body}), 201)


def grants(uow: UnitOfWork, campaign_id: int) -> list[tuple[int, str]]:
    """(customer id, status) of every coupon grant the campaign made."""
    with uow.reading():
        rows = uow.session.execute(select(CouponGrant.customer_id, CouponGrant.status)
                                   .where(CouponGrant.source == f"campaign:{campaign_id}")
                                   .order_by(CouponGrant.customer_id)).all()
        return [(r[0], r[1]) for r in rows]


def events(uow: UnitOfWork, aggregate: str, aggregate_id: int) -> list[dict[str, Any]]:
    with uow.reading():
        rows = uow.session.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_type == aggregate,
                                                             OutboxEvent.aggregate_id == str(aggregate_id))
                                   .order_by(OutboxEvent.seq))
        return [{"type": e.type, "version": e.version, "payload": e.payload} for e in rows]
