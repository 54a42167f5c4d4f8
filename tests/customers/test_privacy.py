"""PIPL: consent per purpose with its history, export of everything held, erasure that keeps the accounts."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from teahub.customers import privacy
from teahub.db.uow import UnitOfWork
from tests import factories as f

PHONE = "13812345678"


def test_consent_is_recorded_per_purpose_and_the_latest_is_in_force(client: TestClient, app: Any) -> None:
    wang = f.ok(client.post("/api/v1/customers", json={"name": "王芳", "phone": PHONE}), 201)
    url = f"/api/v1/customers/{wang['id']}/consents"
    f.ok(client.post(url, json={"purpose": "marketing_sms", "granted": True, "source": "pos:BJ01"}), 201)
    f.ok(client.post(url, json={"purpose": "marketing_wechat", "granted": True, "source": "wechat"}), 201)
    f.ok(client.post(url, json={"purpose": "marketing_sms", "granted": False, "source": "web"}), 201)
    answer = f.ok(client.get(url))
    assert answer["current"]["marketing_sms"] is False and answer["current"]["marketing_wechat"] is True
    assert [(h["purpose"], h["granted"]) for h in answer["history"]] == [
        ("marketing_sms", True), ("marketing_wechat", True), ("marketing_sms", False)]
    uow = UnitOfWork(app.state.session_factory)
    assert privacy.has_consent(uow, wang["id"], "marketing_wechat")
    assert not privacy.has_consent(uow, wang["id"], "marketing_sms")
    bad = client.post(url, json={"purpose": "everything", "granted": True, "source": "x"})
    assert bad.status_code == 422 and bad.json()["field"] == "purpose"


def test_export_holds_everything_and_erasure_keeps_orders_anonymised(client: TestClient, client_as) -> None:  # type: ignore[no-untyped-def]
    f.location(client, "BJ01")
    f.product(client, "LJ-MQ26-250")
    f.receive(client, "LJ-MQ26-250", 10)
    order = f.ok(f.pos_sale(client, [("LJ-MQ26-250", 1)], pay=62800, phone=PHONE), 201)
    customer_id = order["customer_id"]
    f.ok(client.patch(f"/api/v1/customers/{customer_id}", json={"name": "王芳", "birthday": "1990-05-01"}))
    clerk = client_as("clerk", ["BJ01"])
    assert clerk.get(f"/api/v1/customers/{customer_id}/export").status_code == 403
    assert clerk.post(f"/api/v1/customers/{customer_id}/erase", json={"reason": "asked"}).status_code == 403
    exported = f.ok(client.get(f"/api/v1/customers/{customer_id}/export"))
    assert exported["customer"]["phone"] == "+86" + PHONE and exported["customer"]["birthday"] == "1990-05-01"
    assert [o["id"] for o in exported["orders"]] == [order["id"]]
    erased = f.ok(client.post(f"/api/v1/customers/{customer_id}/erase", json={"reason": "customer asked by phone"}))
    assert (erased["name"], erased["phone"], erased["birthday"], erased["identities"], erased["status"]) == (
        "(erased)", None, None, [], "erased")
    assert f.ok(client.get(f"/api/v1/orders/{order['id']}"))["customer_id"] == customer_id  # the accounts hold
    assert f.ok(client.get("/api/v1/customers", params={"q": PHONE[-4:]}))["items"] == []
    audit = f.ok(client.get("/api/v1/audit", params={"entity_type": "customer", "entity_id": str(customer_id)}))
    actions = [e["action"] for e in audit["items"]]
    assert "customer.exported" in actions and "customer.erased" in actions
    erased_entry = next(e for e in audit["items"] if e["action"] == "customer.erased")
    assert PHONE not in str(erased_entry)
    again = f.ok(f.pos_sale(client, [("LJ-MQ26-250", 1)], pay=62800, phone=PHONE), 201)
    assert again["customer_id"] != customer_id  # a new start, not the erased record
    assert client.post(f"/api/v1/customers/{customer_id}/erase", json={"reason": "again"}).status_code == 409
