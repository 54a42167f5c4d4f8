"""Creating customers: one record per person, found again by any of its identities."""

from __future__ import annotations

from typing import Any

import pytest

from teahub.db.uow import UnitOfWork
from tests.customers.helpers import API, assert_problem, audits, counts, create, events, ok


def test_create_answers_201_with_id_normalized_phone_and_member_tier(client: Any) -> None:
    body = create(client, name="王芳", phone="13812345678")
    assert isinstance(body["id"], int)
    assert body["name"] == "王芳"
    assert body["phone"] == "+8613812345678"
    assert body["phone_masked"] == "+86 138****5678"
    assert body["identities"] == [{"kind": "phone", "value": "+8613812345678"}]
    assert body["tier"] == "member"
    assert body["kind"] == "person"
    assert body["status"] == "active"
    assert body["version"] == 1
    assert ok(client.get(f"{API}/{body['id']}")) == body


def test_create_with_a_known_phone_in_another_format_answers_200_and_the_same_customer(
        client: Any, uow: UnitOfWork) -> None:
    first = create(client, name="王芳", phone="13812345678")
    again = create(client, 200, name="Wang Fang", phone="+86 138-1234-5678")
    assert again["id"] == first["id"]
    assert again["name"] == "王芳"  # the existing record is answered, not overwritten
    assert counts(uow)["customers"] == 1
    assert len(events(uow, "customer.created")) == 1


def test_create_matching_one_identity_attaches_the_free_ones(client: Any, uow: UnitOfWork) -> None:
    first = create(client, name="李雷", email="li.lei@example.com")
    assert first["tier"] is None
    again = create(client, 200, name="李雷", email="LI.LEI@example.com", phone="13900001111",
                   identities=[{"kind": "taobao", "value": "tb_lilei"}])
    assert again["id"] == first["id"]
    assert {(i["kind"], i["value"]) for i in again["identities"]} == {
        ("email", "li.lei@example.com"), ("phone", "+8613900001111"), ("taobao", "tb_lilei")}
    assert again["tier"] == "member"  # gave a phone: now a member
    assert again["version"] == 2
    [updated] = events(uow, "customer.updated", first["id"])
    assert updated["version"] == 2
    assert set(updated["payload"]["changed"]) == {"identities", "tier"}


def test_create_leaves_an_identity_of_another_customer_with_that_customer(client: Any) -> None:
    a = create(client, name="A", phone="13800000001")
    b = create(client, name="B", email="b@example.com")
    answer = create(client, 200, name="A", phone="13800000001", email="b@example.com")
    assert answer["id"] == a["id"]  # the phone is looked at first
    assert answer["email"] is None
    assert ok(client.get(f"{API}/{b['id']}"))["email"] == "b@example.com"


def test_create_finds_a_customer_by_marketplace_identity(client: Any) -> None:
    first = create(client, name="淘宝买家", identities=[{"kind": "taobao", "value": "AAHk5d-EAAeG"}])
    again = create(client, 200, identities=[{"kind": "taobao", "value": " AAHk5d-EAAeG "}])
    assert again["id"] == first["id"]


def test_a_customer_without_phone_pays_list_price_and_a_given_tier_is_kept(client: Any) -> None:
    assert create(client, name="散客")["tier"] is None
    assert create(client, name="VIP", phone="13700000000", tier="vip")["tier"] == "vip"
    assert create(client, name="No tier", phone="13700000001", tier=None)["tier"] is None


def test_create_records_the_created_event_and_an_audit_entry(client: Any, uow: UnitOfWork) -> None:
    body = create(client, name="王芳", phone="13812345678", birthday="1990-05-01", home_store="BJ01")
    [event] = events(uow, "customer.created", body["id"])
    assert event["aggregate_type"] == "customer"
    assert event["version"] == 1
    assert event["payload"]["customer_id"] == body["id"]
    # Events and the audit log keep personal data masked: they outlive erasure and travel to other systems.
    assert event["payload"]["customer"]["phone"] == "+86 138****5678"
    [entry] = audits(uow, "customer.created", body["id"])
    assert entry["before"] is None
    assert entry["after"] is not None and entry["after"]["birthday"] is None
    assert entry["after"]["birth_month"] == 5 and entry["after"]["home_store"] == "BJ01"
    assert entry["actor"] == "user:root"


def test_company_customer_with_credit_terms_and_contacts(client: Any) -> None:
    body = create(client, name="茶礼采购", kind="company", company_name="杭州某科技有限公司",
                  credit_limit=5_000_000, payment_terms="Monthly",
                  contacts=[{"name": "张经理", "title": "行政经理", "phone": "010-12345678",
                             "email": "Zhang@Example.com"}])
    assert body["kind"] == "company"
    assert body["company_name"] == "杭州某科技有限公司"
    assert body["credit_limit"] == 5_000_000
    assert body["payment_terms"] == "monthly"
    [contact] = body["contacts"]
    assert contact["phone"] == "+861012345678"
    assert contact["email"] == "zhang@example.com"
    assert isinstance(contact["id"], int)


def test_a_company_without_company_name_takes_its_name(client: Any) -> None:
    assert create(client, name="某茶叶公司", kind="company")["company_name"] == "某茶叶公司"


def test_any_role_may_create_and_read_customers(client_as: Any) -> None:
    clerk = client_as("clerk", ["BJ01"])
    body = create(clerk, name="王芳", phone="13812345678")
    assert ok(clerk.get(f"{API}/{body['id']}"))["id"] == body["id"]
    integration = client_as("integration")
    assert create(integration, 200, phone="13812345678")["id"] == body["id"]


def test_anonymous_callers_are_refused(anonymous: Any) -> None:
    assert anonymous.post(API, json={"name": "x"}).status_code == 401
    assert anonymous.get(API).status_code == 401


@pytest.mark.parametrize("role", ["clerk", "integration"])
def test_only_admin_or_manager_may_give_credit(client_as: Any, uow: UnitOfWork, role: str) -> None:
    caller = client_as(role, ["BJ01"])
    before = counts(uow)
    assert_problem(caller.post(API, json={"name": "某公司", "kind": "company", "credit_limit": 100000}),
                   403, "credit_limit")
    assert_problem(caller.post(API, json={"name": "某公司", "kind": "company", "payment_terms": "monthly"}),
                   403, "payment_terms")
    assert counts(uow) == before


def test_a_manager_may_give_credit(client_as: Any) -> None:
    manager = client_as("manager", ["BJ01"])
    assert create(manager, name="某公司", kind="company", credit_limit=100000)["credit_limit"] == 100000


@pytest.mark.parametrize("body, field", [
    ({"name": "王芳", "phone": "12345"}, "phone"),
    ({"name": "王芳", "phone": "010-12345678"}, "phone"),
    ({"name": "王芳", "email": "not-an-email"}, "email"),
    ({"name": "王芳", "identities": [{"kind": "myspace", "value": "x"}]}, "identities.0.kind"),
    ({"name": "王芳", "identities": [{"kind": "taobao", "value": "ok"}, {"kind": "pdd", "value": "1****5"}]},
     "identities.1.value"),
    ({"name": "王芳", "identities": [{"kind": "jd", "value": ""}]}, "identities.0.value"),
    ({"name": ""}, "name"),
    ({"name": "x" * 101}, "name"),
    ({"name": "王芳", "kind": "robot"}, "kind"),
    ({"name": "王芳", "tier": "platinum"}, "tier"),
    ({"name": "王芳", "birthday": "2999-01-01"}, "birthday"),
    ({"name": "王芳", "birthday": "not a date"}, "birthday"),
    ({"name": "某公司", "credit_limit": -1}, "credit_limit"),
    ({"name": "某公司", "credit_limit": 12.5}, "credit_limit"),
    ({"name": "某公司", "credit_limit": "100"}, "credit_limit"),
    ({"name": "某公司", "payment_terms": "whenever"}, "payment_terms"),
    ({"name": "某公司", "contacts": [{"name": "张", "phone": "12"}]}, "contacts.0.phone"),
    ({"name": "某公司", "contacts": [{"title": "经理"}]}, "contacts.0.name"),
    ({"name": "王芳", "nickname": "芳芳"}, "nickname"),
])
def test_bad_input_is_a_problem_naming_the_field_and_writes_nothing(
        client: Any, uow: UnitOfWork, body: dict[str, Any], field: str) -> None:
    create(client, name="已有", phone="13800000000")
    before = counts(uow)
    problem = assert_problem(client.post(API, json=body), 422, field)
    assert problem["type"].startswith("urn:teahub:problem:")
    assert counts(uow) == before
