"""Segments through the API: defined by rules, read with their size and members, changed under a version,
removed while no campaign uses them; admins and managers define, every role reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from teahub.db.uow import UnitOfWork
from tests.crm.campaigns.helpers import (
    API,
    assert_problem,
    coupon,
    coupon_campaign,
    events,
    ids,
    ok,
    person,
    segment,
)

GOLD = {"tiers": ["gold"]}


def test_a_segment_keeps_its_rules_and_is_read_with_its_size(client: TestClient, uow: UnitOfWork) -> None:
    gold = [person(client, f"金{i}", f"1370000000{i}", tier="gold") for i in range(3)]
    person(client, "银", "13700000009", tier="silver")
    created = ok(client.post(f"{API}/segments", json={"name": " 金卡会员 ", "description": "gold members",
                                                      "rules": {"tiers": ["gold", "gold"]}}), 201)
    assert (created["name"], created["rules"], created["version"], created["size"]) == (
        "金卡会员", {"tiers": ["gold"]}, 1, None)
    assert created["created_by"] == "user:root"

    one = ok(client.get(f"{API}/segments/{created['id']}"))
    assert one["size"] == 3
    page1 = ok(client.get(f"{API}/segments/{created['id']}/members", params={"limit": 2}))
    assert [m["id"] for m in page1["items"]] == ids(*gold)[:2] and page1["next"] is not None
    page2 = ok(client.get(f"{API}/segments/{created['id']}/members", params={"limit": 2, "cursor": page1["next"]}))
    assert [m["id"] for m in page2["items"]] == ids(*gold)[2:] and page2["next"] is None
    assert page2["items"][0] == {"id": gold[2]["id"], "name": "金2", "tier": "gold"}

    listed = ok(client.get(f"{API}/segments"))
    assert [s["id"] for s in listed["items"]] == [created["id"]]
    assert [e["type"] for e in events(uow, "segment", created["id"])] == ["segment.created"]


def test_a_segment_is_changed_under_its_version(client: TestClient, uow: UnitOfWork) -> None:
    person(client, "金", "13700000011", tier="gold")
    person(client, "银", "13700000012", tier="silver")
    made = segment(client, "高级会员", GOLD)
    changed = ok(client.patch(f"{API}/segments/{made['id']}",
                              json={"rules": {"tiers": ["gold", "silver"]}, "version": 1}))
    assert (changed["version"], changed["rules"]) == (2, {"tiers": ["gold", "silver"]})
    assert ok(client.get(f"{API}/segments/{made['id']}"))["size"] == 2
    stale = client.patch(f"{API}/segments/{made['id']}", json={"name": "旧", "version": 1})
    assert_problem(stale, 409, "version")
    same = ok(client.patch(f"{API}/segments/{made['id']}", json={"name": "高级会员"}))
    assert same["version"] == 2  # nothing changed
    renamed = ok(client.patch(f"{API}/segments/{made['id']}", json={"name": "VIP 候选", "description": None}))
    assert (renamed["name"], renamed["version"]) == ("VIP 候选", 3)
    assert [e["type"] for e in events(uow, "segment", made["id"])] == [
        "segment.created", "segment.updated", "segment.updated"]
    assert_problem(client.patch(f"{API}/segments/{made['id']}", json={"rules": {"stores": ["NOPE"]}}), 422,
                   "rules.stores.0")
    assert_problem(client.patch(f"{API}/segments/{made['id']}", json={"rules": None}), 422, "rules")
    assert ok(client.get(f"{API}/segments/{made['id']}"))["rules"] == {"tiers": ["gold", "silver"]}


def test_segment_names_are_unique(client: TestClient) -> None:
    segment(client, "金卡", GOLD)
    other = segment(client, "银卡", {"tiers": ["silver"]})
    assert_problem(client.post(f"{API}/segments", json={"name": "金卡", "rules": GOLD}), 409, "name")
    assert_problem(client.patch(f"{API}/segments/{other['id']}", json={"name": "金卡"}), 409, "name")
    assert_problem(client.post(f"{API}/segments", json={"name": "  ", "rules": GOLD}), 422, "name")


def test_a_segment_used_by_a_campaign_stays(client: TestClient, uow: UnitOfWork) -> None:
    unused = segment(client, "临时", GOLD)
    used = segment(client, "金卡", {"tiers": ["gold", "vip"]})
    coupon(client)
    coupon_campaign(client, used["id"])
    assert client.delete(f"{API}/segments/{unused['id']}").status_code == 204
    assert_problem(client.get(f"{API}/segments/{unused['id']}"), 404, "id")
    assert [e["type"] for e in events(uow, "segment", unused["id"])] == ["segment.created", "segment.deleted"]
    assert_problem(client.delete(f"{API}/segments/{used['id']}"), 409, "id")
    assert_problem(client.delete(f"{API}/segments/{unused['id']}"), 404, "id")


def test_clerks_read_and_planners_define(client: TestClient, client_as: Callable[..., TestClient]) -> None:
    person(client, "金", "13700000021", tier="gold")
    made = segment(client, "金卡", GOLD)
    clerk = client_as("clerk", ["BJ01"])
    manager = client_as("manager", ["BJ01"])
    assert ok(clerk.get(f"{API}/segments/{made['id']}"))["size"] == 1
    assert ok(clerk.get(f"{API}/segments"))["items"][0]["id"] == made["id"]
    assert ok(clerk.post(f"{API}/segments/preview", json={"rules": GOLD}))["size"] == 1
    assert ok(clerk.get(f"{API}/segments/{made['id']}/members"))["items"][0]["name"] == "金"
    for response in (clerk.post(f"{API}/segments", json={"name": "x", "rules": GOLD}),
                     clerk.patch(f"{API}/segments/{made['id']}", json={"name": "y"}),
                     clerk.delete(f"{API}/segments/{made['id']}")):
        assert response.status_code == 403, response.text
    ok(manager.post(f"{API}/segments", json={"name": "经理的", "rules": GOLD}), 201)


def test_bad_input_names_the_field(client: TestClient) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"name": "x"}, "rules"),
        ({"name": "x", "rules": {}}, "rules"),
        ({"name": "x", "rules": {"min_lifetime_spend": -5}}, "rules.min_lifetime_spend"),
        ({"name": "x", "rules": {"last_purchase_within_days": 0}}, "rules.last_purchase_within_days"),
        ({"name": "x", "rules": GOLD, "extra": 1}, "extra"),
    ]
    for body, field in cases:
        assert_problem(client.post(f"{API}/segments", json=body), 422, field)
    assert_problem(client.get(f"{API}/segments/99"), 404, "id")
    assert_problem(client.get(f"{API}/segments/99/members"), 404, "id")
    assert_problem(client.get(f"{API}/segments", params={"cursor": "abc"}), 422, "cursor")
