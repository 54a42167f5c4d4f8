"""Who may do what in the pipeline: admins and managers everything, clerks log activities and read, integrations
read."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.crm.pipeline.helpers import API, assert_problem, company, ok, quote_body, shop


@pytest.fixture
def world(client: TestClient) -> dict[str, Any]:
    shop(client)
    customer = company(client)
    lead = ok(client.post(f"{API}/leads", json={"name": "周总", "phone": "13700000000", "source": "website"}), 201)
    opp = ok(client.post(f"{API}/opportunities", json={"customer_id": customer["id"], "title": "春节"}), 201)
    quote = ok(client.post(f"{API}/quotes", json=quote_body(customer["id"])), 201)
    task = ok(client.post(f"{API}/tasks", json={"title": "回访", "due_at": "2026-07-01T10:00:00Z"}), 201)
    return {"customer": customer["id"], "lead": lead["id"], "opp": opp["id"], "quote": quote["id"], "task": task["id"]}


def writes(w: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        ("POST", "/leads", {"name": "x", "phone": "13700000001", "source": "website"}),
        ("PATCH", f"/leads/{w['lead']}", {"status": "contacted"}),
        ("POST", f"/leads/{w['lead']}/convert", {}),
        ("POST", "/opportunities", {"customer_id": w["customer"], "title": "x"}),
        ("PATCH", f"/opportunities/{w['opp']}", {"stage": "proposal"}),
        ("POST", "/tasks", {"title": "x", "due_at": "2026-07-01T10:00:00Z"}),
        ("PATCH", f"/tasks/{w['task']}", {"done": True}),
        ("POST", "/quotes", quote_body(w["customer"])),
        ("POST", f"/quotes/{w['quote']}/versions", {k: v for k, v in quote_body(w["customer"]).items()
                                                    if k in ("valid_until", "lines")}),
        ("POST", f"/quotes/{w['quote']}/send", {}),
        ("POST", f"/quotes/{w['quote']}/accept", {}),
        ("POST", f"/quotes/{w['quote']}/reject", {}),
    ]


def reads(w: dict[str, Any]) -> list[str]:
    return ["/leads", f"/leads/{w['lead']}", "/opportunities", f"/opportunities/{w['opp']}", "/pipeline",
            f"/activities?customer_id={w['customer']}", "/tasks", f"/tasks/{w['task']}", "/quotes",
            f"/quotes/{w['quote']}", f"/quotes/{w['quote']}/versions"]


@pytest.mark.parametrize("role", ["clerk", "integration"])
def test_clerks_and_integrations_read_but_do_not_change_the_pipeline(world: dict[str, Any], client_as: Any,
                                                                     role: str) -> None:
    caller = client_as(role, ["BJ01"] if role == "clerk" else None)
    for path in reads(world):
        ok(caller.get(f"{API}{path}"))
    for method, path, body in writes(world):
        assert_problem(caller.request(method, f"{API}{path}", json=body), 403, None)


def test_a_clerk_logs_activities_in_their_own_name(world: dict[str, Any], client_as: Any) -> None:
    clerk = client_as("clerk", ["BJ01"], username="xiaomei")
    logged = ok(clerk.post(f"{API}/activities", json={"kind": "tasting", "customer_id": world["customer"],
                                                      "summary": "门店品鉴"}), 201)
    assert (logged["by"], logged["created_by"]) == ("xiaomei", "user:xiaomei")
    assert_problem(clerk.post(f"{API}/activities", json={"kind": "call", "customer_id": world["customer"],
                                                         "summary": "x", "by": "root"}), 403, "by")


def test_an_integration_cannot_log_activities(world: dict[str, Any], client_as: Any) -> None:
    assert client_as("integration").post(f"{API}/activities", json={
        "kind": "note", "customer_id": world["customer"], "summary": "x"}).status_code == 403


def test_a_manager_does_everything(world: dict[str, Any], client_as: Any) -> None:
    manager = client_as("manager", ["BJ01"], username="lin")
    lead = ok(manager.post(f"{API}/leads", json={"name": "x", "phone": "13700000001", "source": "website"}), 201)
    assert lead["owner"] == "lin"
    ok(manager.patch(f"{API}/opportunities/{world['opp']}", json={"stage": "proposal"}))
    ok(manager.post(f"{API}/quotes/{world['quote']}/send"))
    assert ok(manager.post(f"{API}/quotes/{world['quote']}/accept"))["status"] == "accepted"


def test_the_pipeline_needs_a_login(anonymous: TestClient) -> None:
    for path in ("/leads", "/pipeline", "/quotes", "/tasks", "/activities"):
        assert_problem(anonymous.get(f"{API}{path}"), 401, None)
