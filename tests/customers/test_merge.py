"""Merging two records of one person, and reversing a merge exactly."""

from __future__ import annotations

from typing import Any

import pytest

from teahub.customers import service
from teahub.db.uow import UnitOfWork
from tests.customers.helpers import API, assert_problem, audits, counts, create, events, ok, order_for, orders_of


@pytest.fixture
def pair(client: Any, uow: UnitOfWork) -> tuple[dict[str, Any], dict[str, Any]]:
    """The same person known at the counter (target) and on Taobao (source), each with an order."""
    target = create(client, name="王芳", phone="13812345678",
                    contacts=[{"name": "王先生", "phone": "13900000000"}])
    source = create(client, name="wf淘宝", email="wf@example.com", tier="vip",
                    identities=[{"kind": "taobao", "value": "tb_wangfang"}], contacts=[{"name": "助理"}])
    order_for(uow, target["id"], "T-1")
    order_for(uow, source["id"], "S-1")
    order_for(uow, source["id"], "S-2")
    return target, source


def merge(client: Any, target_id: int, source_id: int, status: int = 200) -> dict[str, Any]:
    return ok(client.post(f"{API}/{target_id}/merge", json={"source_id": source_id}), status)  # type: ignore


def test_merge_moves_identities_contacts_and_orders_to_the_target(client: Any, uow: UnitOfWork, pair: Any) -> None:
    target, source = pair
    source_orders = orders_of(uow, source["id"])
    body = merge(client, target["id"], source["id"])
    assert body["id"] == target["id"]
    assert isinstance(body["merge_id"], int)
    assert {(i["kind"], i["value"]) for i in body["identities"]} == {
        ("phone", "+8613812345678"), ("email", "wf@example.com"), ("taobao", "tb_wangfang")}
    assert [c["name"] for c in body["contacts"]] == ["王先生", "助理"]
    assert body["tier"] == "vip"  # the better tier of the two
    assert len(orders_of(uow, target["id"])) == 3
    assert orders_of(uow, source["id"]) == []
    gone = ok(client.get(f"{API}/{source['id']}"))
    assert (gone["status"], gone["merged_into"], gone["identities"], gone["contacts"]) == (
        "merged", target["id"], [], [])
    [record] = ok(client.get(f"{API}/{target['id']}/merges"))["items"]
    assert record["id"] == body["merge_id"]
    assert record["merged_by"] == "user:root"
    assert sorted(record["moved"]["order_ids"]) == source_orders
    assert len(record["moved"]["identity_ids"]) == 2 and len(record["moved"]["contact_ids"]) == 1
    # the source's identities now find the survivor
    assert create(client, 200, identities=[{"kind": "taobao", "value": "tb_wangfang"}])["id"] == target["id"]


def test_merge_is_evented_and_audited(client: Any, uow: UnitOfWork, pair: Any) -> None:
    target, source = pair
    body = merge(client, target["id"], source["id"])
    [event] = events(uow, "customer.merged")
    assert event["aggregate_id"] == str(target["id"])
    assert event["version"] == body["version"] == 2
    assert event["payload"] == {"target_id": target["id"], "source_id": source["id"], "merge_id": body["merge_id"],
                                "moved": {"identities": 2, "contacts": 1, "orders": 2}}
    [on_target] = audits(uow, "customer.merged", target["id"])
    assert on_target["before"]["tier"] == "member" and on_target["after"]["tier"] == "vip"
    [on_source] = audits(uow, "customer.merged", source["id"])
    assert on_source["before"]["status"] == "active" and on_source["after"]["status"] == "merged"


def test_reversing_a_merge_puts_back_exactly_what_it_moved(client: Any, uow: UnitOfWork, pair: Any) -> None:
    target, source = pair
    target_orders, source_orders = orders_of(uow, target["id"]), orders_of(uow, source["id"])
    merge_id = merge(client, target["id"], source["id"])["merge_id"]
    # after the merge the survivor gets more: it keeps those when the merge is reversed
    ok(client.patch(f"{API}/{target['id']}", json={"add_identities": [{"kind": "jd", "value": "jd_wf"}]}))
    later_order = order_for(uow, target["id"], "T-2")

    body = ok(client.post(f"{API}/merges/{merge_id}/reverse"))
    assert body["reversed_by"] == "user:root" and body["reversed_at"] is not None
    back = ok(client.get(f"{API}/{source['id']}"))
    assert (back["status"], back["merged_into"], back["tier"]) == ("active", None, "vip")
    assert back["identities"] == source["identities"]
    assert back["contacts"] == source["contacts"]
    assert orders_of(uow, source["id"]) == source_orders
    kept = ok(client.get(f"{API}/{target['id']}"))
    assert kept["identities"] == target["identities"] + [{"kind": "jd", "value": "jd_wf"}]
    assert kept["contacts"] == target["contacts"]
    assert kept["tier"] == "member"
    assert orders_of(uow, target["id"]) == target_orders + [later_order]
    assert body["source"] == back and body["target"] == kept

    [event] = events(uow, "customer.unmerged")
    assert event["payload"]["merge_id"] == merge_id
    assert event["version"] == kept["version"]
    assert len(audits(uow, "customer.unmerged", source["id"])) == 1
    assert len(audits(uow, "customer.unmerged", target["id"])) == 1


def test_a_merge_cannot_be_reversed_twice(client: Any, uow: UnitOfWork, pair: Any) -> None:
    target, source = pair
    merge_id = merge(client, target["id"], source["id"])["merge_id"]
    ok(client.post(f"{API}/merges/{merge_id}/reverse"))
    before = counts(uow)
    assert_problem(client.post(f"{API}/merges/{merge_id}/reverse"), 409, "merge_id")
    assert counts(uow) == before
    assert_problem(client.post(f"{API}/merges/999999/reverse"), 404, "merge_id")


def test_only_an_admin_may_reverse_a_merge(client: Any, client_as: Any, uow: UnitOfWork, pair: Any) -> None:
    target, source = pair
    merge_id = merge(client, target["id"], source["id"])["merge_id"]
    callers = [client_as(role, ["BJ01"]) for role in ("clerk", "manager")]
    before = counts(uow)
    for caller in callers:
        assert_problem(caller.post(f"{API}/merges/{merge_id}/reverse"), 403, None)
    assert counts(uow) == before
    assert ok(client.get(f"{API}/{source['id']}"))["status"] == "merged"


def test_a_manager_may_merge_and_a_clerk_may_not(client_as: Any, uow: UnitOfWork, pair: Any) -> None:
    target, source = pair
    clerk = client_as("clerk", ["BJ01"])
    before = counts(uow)
    assert_problem(clerk.post(f"{API}/{target['id']}/merge", json={"source_id": source["id"]}), 403, None)
    assert counts(uow) == before
    assert merge(client_as("manager", ["BJ01"]), target["id"], source["id"])["id"] == target["id"]


def test_refused_merges_write_nothing(client: Any, uow: UnitOfWork, pair: Any) -> None:
    target, source = pair
    other = create(client, name="李雷")
    merge(client, target["id"], source["id"])
    before = counts(uow)
    assert_problem(client.post(f"{API}/{target['id']}/merge", json={"source_id": target["id"]}), 409, "source_id")
    assert_problem(client.post(f"{API}/{target['id']}/merge", json={"source_id": source["id"]}), 409, "source_id")
    assert_problem(client.post(f"{API}/{source['id']}/merge", json={"source_id": other["id"]}), 409, "id")
    assert_problem(client.post(f"{API}/{target['id']}/merge", json={"source_id": 999999}), 404, "source_id")
    assert_problem(client.post(f"{API}/999999/merge", json={"source_id": other["id"]}), 404, "id")
    assert_problem(client.post(f"{API}/{target['id']}/merge", json={"source_id": "x"}), 422, "source_id")
    assert_problem(client.patch(f"{API}/{source['id']}", json={"note": "x"}), 409, "id")
    assert counts(uow) == before


def test_a_merge_whose_target_was_merged_again_is_reversed_last_first(client: Any, pair: Any) -> None:
    target, source = pair
    first = merge(client, target["id"], source["id"])["merge_id"]
    final = create(client, name="王芳 (会员卡)")
    second = merge(client, final["id"], target["id"])["merge_id"]
    assert_problem(client.post(f"{API}/merges/{first}/reverse"), 409, "merge_id")
    ok(client.post(f"{API}/merges/{second}/reverse"))
    ok(client.post(f"{API}/merges/{first}/reverse"))
    assert ok(client.get(f"{API}/{source['id']}"))["status"] == "active"


def test_the_survivor_answers_for_a_merged_customer(client: Any, uow: UnitOfWork, pair: Any) -> None:
    target, source = pair
    merge(client, target["id"], source["id"])
    assert service.resolve_customer(uow, {"id": source["id"]}).id == target["id"]
    info = service.get_customer_info(uow, source["id"])
    assert (info.id, info.tier) == (target["id"], "vip")
    assert [m["source_id"] for m in ok(client.get(f"{API}/{source['id']}/merges"))["items"]] == [source["id"]]
    assert_problem(client.get(f"{API}/999999/merges"), 404, "id")
