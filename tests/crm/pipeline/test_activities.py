"""Activities logged on customers, leads and opportunities; tasks with due times per assignee."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from teahub.db.uow import UnitOfWork
from tests.crm.pipeline.helpers import API, assert_problem, company, counts, events, ok

ACTIVITIES = f"{API}/activities"
TASKS = f"{API}/tasks"


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def test_activities_are_listed_per_record_latest_first(client: TestClient, uow: UnitOfWork) -> None:
    customer = company(client)
    lead = ok(client.post(f"{API}/leads", json={"name": "周总", "phone": "13700000000", "source": "referral"}), 201)
    opp = ok(client.post(f"{API}/opportunities", json={"customer_id": customer["id"], "title": "春节礼盒"}), 201)
    t0 = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)
    visit = ok(client.post(ACTIVITIES, json={"kind": "visit", "customer_id": customer["id"],
                                             "occurred_at": iso(t0), "summary": "拜访行政部，看了样品"}), 201)
    tasting = ok(client.post(ACTIVITIES, json={"kind": "tasting", "customer_id": customer["id"],
                                               "occurred_at": iso(t0 + timedelta(days=3)),
                                               "summary": "品鉴会：明前龙井、正山小种"}), 201)
    call = ok(client.post(ACTIVITIES, json={"kind": "call", "customer_id": customer["id"],
                                            "occurred_at": iso(t0 + timedelta(days=1)), "summary": "确认预算"}), 201)
    ok(client.post(ACTIVITIES, json={"kind": "wechat", "lead_id": lead["id"], "summary": "加了微信"}), 201)
    note = ok(client.post(ACTIVITIES, json={"kind": "note", "opportunity_id": opp["id"], "summary": "需开专票"}), 201)
    assert (visit["by"], visit["created_by"], visit["occurred_at"]) == ("root", "user:root", "2026-07-01T02:00:00Z")

    timeline = ok(client.get(ACTIVITIES, params={"customer_id": customer["id"]}))
    assert [a["id"] for a in timeline["items"]] == [tasting["id"], call["id"], visit["id"]]
    first = ok(client.get(ACTIVITIES, params={"customer_id": customer["id"], "limit": 2}))
    assert [a["id"] for a in first["items"]] == [tasting["id"], call["id"]]
    rest = ok(client.get(ACTIVITIES, params={"customer_id": customer["id"], "limit": 2, "cursor": first["next"]}))
    assert [a["id"] for a in rest["items"]] == [visit["id"]] and rest["next"] is None
    assert [a["kind"] for a in ok(client.get(ACTIVITIES, params={"lead_id": lead["id"]}))["items"]] == ["wechat"]
    assert [a["id"] for a in ok(client.get(ACTIVITIES, params={"opportunity_id": opp["id"]}))["items"]] == [
        note["id"]]
    assert [a["id"] for a in ok(client.get(ACTIVITIES, params={"customer_id": customer["id"], "kind": "call"})
                                )["items"]] == [call["id"]]
    logged = events(uow, "activity", visit["id"])
    assert [(e["type"], e["version"]) for e in logged] == [("activity.logged", 1)]
    assert logged[0]["payload"]["activity"]["summary"] == "拜访行政部，看了样品"


@pytest.mark.parametrize(("body", "status", "field"), [
    ({}, 422, "customer_id"),
    ({"customer_id": 1, "lead_id": 1}, 422, "lead_id"),
    ({"customer_id": 999}, 404, "customer_id"),
    ({"lead_id": 999}, 404, "lead_id"),
    ({"opportunity_id": 999}, 404, "opportunity_id"),
    ({"customer_id": 1, "kind": "email"}, 422, "kind"),
    ({"customer_id": 1, "occurred_at": "2026-07-01T10:00:00"}, 422, "occurred_at"),
    ({"customer_id": 1, "summary": ""}, 422, "summary"),
    ({"customer_id": 1, "summary": "   "}, 422, "summary"),
    ({"customer_id": 1, "by": "nobody"}, 422, "by"),
])
def test_bad_activities_name_the_field_and_write_nothing(client: TestClient, uow: UnitOfWork, body: dict[str, Any],
                                                         status: int, field: str) -> None:
    company(client)
    before = counts(uow)
    response = client.post(ACTIVITIES, json={"kind": "call", "summary": "电话", **body})
    assert_problem(response, status, field)
    assert counts(uow) == before


def test_tasks_open_and_overdue_per_assignee(client: TestClient, client_as: Any, uow: UnitOfWork) -> None:
    client_as("manager", ["BJ01"], username="lin")
    customer = company(client)
    now = datetime.now(UTC)
    late = ok(client.post(TASKS, json={"title": "寄样品", "due_at": iso(now - timedelta(days=1)), "assignee": "lin",
                                       "customer_id": customer["id"]}), 201)
    soon = ok(client.post(TASKS, json={"title": "跟进报价", "due_at": iso(now + timedelta(days=2)),
                                       "assignee": "lin"}), 201)
    mine = ok(client.post(TASKS, json={"title": "准备合同", "due_at": iso(now + timedelta(days=1))}), 201)
    assert (late["overdue"], soon["overdue"], mine["assignee"]) == (True, False, "root")

    assert [t["id"] for t in ok(client.get(TASKS, params={"assignee": "lin"}))["items"]] == [late["id"], soon["id"]]
    assert [t["id"] for t in ok(client.get(TASKS, params={"assignee": "lin", "state": "overdue"}))["items"]] == [
        late["id"]]
    assert [t["id"] for t in ok(client.get(TASKS))["items"]] == [late["id"], mine["id"], soon["id"]]
    page1 = ok(client.get(TASKS, params={"limit": 2}))
    page2 = ok(client.get(TASKS, params={"limit": 2, "cursor": page1["next"]}))
    assert [t["id"] for t in page1["items"] + page2["items"]] == [late["id"], mine["id"], soon["id"]]

    done = ok(client.patch(f"{TASKS}/{late['id']}", json={"done": True, "version": late["version"]}))
    assert done["done"] and done["done_at"] is not None and not done["overdue"]
    assert [t["id"] for t in ok(client.get(TASKS, params={"assignee": "lin", "state": "overdue"}))["items"]] == []
    assert [t["id"] for t in ok(client.get(TASKS, params={"state": "done"}))["items"]] == [late["id"]]
    assert [t["id"] for t in ok(client.get(TASKS, params={"customer_id": customer["id"], "state": "all"})
                                )["items"]] == [late["id"]]
    assert [e["type"] for e in events(uow, "task", late["id"])] == ["task.created", "task.completed"]
    moved = ok(client.patch(f"{TASKS}/{soon['id']}", json={"assignee": "root", "due_at": iso(now)}))
    assert moved["assignee"] == "root"
    assert_problem(client.patch(f"{TASKS}/{soon['id']}", json={"title": "x", "version": 1}), 409, "version")


@pytest.mark.parametrize(("body", "field"), [
    ({"due_at": "2026-07-01"}, "due_at"),
    ({"due_at": "2026-07-01T10:00:00"}, "due_at"),
    ({"assignee": "nobody"}, "assignee"),
    ({"title": " "}, "title"),
])
def test_bad_tasks_name_the_field(client: TestClient, uow: UnitOfWork, body: dict[str, Any], field: str) -> None:
    before = counts(uow)
    assert_problem(client.post(TASKS, json={"title": "回访", "due_at": "2026-07-01T10:00:00Z", **body}), 422, field)
    assert counts(uow) == before
