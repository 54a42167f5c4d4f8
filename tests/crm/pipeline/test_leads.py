"""Leads through the API: worked from new to qualified, converted into a customer and an opportunity at once."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from teahub.db.uow import UnitOfWork
from tests.crm.pipeline.helpers import API, assert_problem, audits, counts, events, ok

LEADS = f"{API}/leads"


def new_lead(client: TestClient, **extra: Any) -> dict[str, Any]:
    body = {"name": "陈经理", "company": "杭州某科技有限公司", "title": "行政总监", "phone": "138 1234 5678",
            "source": "exhibition", **extra}
    return ok(client.post(LEADS, json=body), 201)  # type: ignore[no-any-return]


def qualify(client: TestClient, lead_id: int) -> dict[str, Any]:
    ok(client.patch(f"{LEADS}/{lead_id}", json={"status": "contacted"}))
    return ok(client.patch(f"{LEADS}/{lead_id}", json={"status": "qualified"}))  # type: ignore[no-any-return]


def test_lead_lifecycle_and_conversion_into_a_company_and_an_opportunity(client: TestClient, uow: UnitOfWork) -> None:
    lead = new_lead(client, email="Chen@Corp.Example")
    assert (lead["status"], lead["owner"], lead["phone"], lead["email"]) == (
        "new", "root", "+8613812345678", "chen@corp.example")
    contacted = ok(client.patch(f"{LEADS}/{lead['id']}", json={"status": "contacted", "version": lead["version"]}))
    assert contacted["status"] == "contacted" and contacted["version"] == 2
    qualified = ok(client.patch(f"{LEADS}/{lead['id']}", json={"status": "qualified"}))
    assert qualified["status"] == "qualified"

    converted = ok(client.post(f"{LEADS}/{lead['id']}/convert", json={"opportunity": {
        "title": "2026 中秋礼盒 300 份", "expected_value": 9_000_000, "expected_close_on": "2026-08-20"}}), 201)
    assert converted["customer_created"] is True
    customer = ok(client.get(f"{API}/customers/{converted['customer_id']}"))
    assert (customer["kind"], customer["name"], customer["company_name"]) == (
        "company", "杭州某科技有限公司", "杭州某科技有限公司")
    assert [(c["name"], c["title"], c["phone"], c["email"]) for c in customer["contacts"]] == [
        ("陈经理", "行政总监", "+8613812345678", "chen@corp.example")]
    opportunity = converted["opportunity"]
    assert (opportunity["customer_id"], opportunity["stage"], opportunity["probability"], opportunity["owner"]) == (
        customer["id"], "qualification", 20, "root")
    assert opportunity["weighted_value"] == 1_800_000
    assert converted["lead"] == {**converted["lead"], "status": "converted", "customer_id": customer["id"],
                                 "opportunity_id": opportunity["id"]}
    assert ok(client.get(f"{LEADS}/{lead['id']}"))["status"] == "converted"

    assert [e["type"] for e in events(uow, "lead", lead["id"])] == [
        "lead.created", "lead.status_changed", "lead.status_changed", "lead.converted"]
    assert [e["version"] for e in events(uow, "lead", lead["id"])] == [1, 2, 3, 4]
    assert [e["type"] for e in events(uow, "opportunity", opportunity["id"])] == ["opportunity.created"]
    assert [e["type"] for e in events(uow, "customer", customer["id"])] == ["customer.created"]
    assert [a["action"] for a in audits(uow, "lead", lead["id"])] == [
        "lead.created", "lead.status_changed", "lead.status_changed", "lead.converted"]

    again = client.post(f"{LEADS}/{lead['id']}/convert")
    assert_problem(again, 409, "status")
    assert ok(client.get(f"{API}/customers"))["items"] == [customer]


def test_a_person_lead_converts_into_the_customer_who_has_that_phone(client: TestClient) -> None:
    member = ok(client.post(f"{API}/customers", json={"name": "王芳", "phone": "13912345678"}), 201)
    lead = new_lead(client, name="王芳", company=None, phone="+86 139 1234 5678", source="referral")
    qualify(client, lead["id"])
    converted = ok(client.post(f"{LEADS}/{lead['id']}/convert"), 201)
    assert (converted["customer_id"], converted["customer_created"]) == (member["id"], False)
    assert converted["opportunity"]["title"] == "王芳"


def test_a_lead_converts_onto_an_existing_customer_when_told(client: TestClient) -> None:
    existing = ok(client.post(f"{API}/customers", json={"name": "某集团", "kind": "company"}), 201)
    lead = new_lead(client)
    qualify(client, lead["id"])
    converted = ok(client.post(f"{LEADS}/{lead['id']}/convert", json={"customer_id": existing["id"]}), 201)
    assert (converted["customer_id"], converted["customer_created"]) == (existing["id"], False)


def test_conversion_is_one_transaction(client: TestClient, uow: UnitOfWork) -> None:
    lead = new_lead(client)
    qualify(client, lead["id"])
    before = counts(uow)
    refused = client.post(f"{LEADS}/{lead['id']}/convert", json={"opportunity": {"owner": "nobody"}})
    assert_problem(refused, 422, "owner")
    assert counts(uow) == before  # no customer, no opportunity, no event
    assert ok(client.get(f"{LEADS}/{lead['id']}"))["status"] == "qualified"


def test_a_lead_must_be_qualified_before_conversion_and_cannot_skip_contact(client: TestClient,
                                                                          uow: UnitOfWork) -> None:
    lead = new_lead(client)
    assert_problem(client.post(f"{LEADS}/{lead['id']}/convert"), 409, "status")
    before = counts(uow)
    assert_problem(client.patch(f"{LEADS}/{lead['id']}", json={"status": "qualified"}), 409, "status")
    assert_problem(client.patch(f"{LEADS}/{lead['id']}", json={"status": "converted"}), 422, "status")
    assert counts(uow) == before


def test_disqualifying_needs_a_reason_and_may_be_undone(client: TestClient) -> None:
    lead = new_lead(client)
    assert_problem(client.patch(f"{LEADS}/{lead['id']}", json={"status": "disqualified"}), 422,
                   "disqualified_reason")
    out = ok(client.patch(f"{LEADS}/{lead['id']}", json={"status": "disqualified",
                                                         "disqualified_reason": "只买散茶，不需要礼盒"}))
    assert (out["status"], out["disqualified_reason"]) == ("disqualified", "只买散茶，不需要礼盒")
    back = ok(client.patch(f"{LEADS}/{lead['id']}", json={"status": "contacted"}))
    assert (back["status"], back["disqualified_reason"]) == ("contacted", None)


def test_a_stale_version_is_refused(client: TestClient) -> None:
    lead = new_lead(client)
    ok(client.patch(f"{LEADS}/{lead['id']}", json={"note": "想要 200 盒"}))
    assert_problem(client.patch(f"{LEADS}/{lead['id']}", json={"status": "contacted", "version": 1}), 409, "version")


@pytest.mark.parametrize(("body", "field"), [
    ({"phone": None, "email": None}, "phone"),
    ({"phone": "12345"}, "phone"),
    ({"email": "not-an-email", "phone": None}, "email"),
    ({"source": "tv"}, "source"),
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"owner": "nobody"}, "owner"),
    ({"colour": "green"}, "colour"),
])
def test_bad_leads_name_the_field_and_write_nothing(client: TestClient, uow: UnitOfWork, body: dict[str, Any],
                                                    field: str) -> None:
    before = counts(uow)
    base = {"name": "陈经理", "company": "某公司", "phone": "13812345678", "source": "exhibition"}
    assert_problem(client.post(LEADS, json={**base, **body}), 422, field)
    assert counts(uow) == before


def test_leads_list_filters_searches_and_pages(client: TestClient) -> None:
    first = new_lead(client, name="张三", company="某银行", phone="13800000001")
    second = new_lead(client, name="李四", company="某保险", phone="13800000002", source="wechat")
    third = new_lead(client, name="王五", company="某银行分行", phone="13800000003")
    ok(client.patch(f"{LEADS}/{second['id']}", json={"status": "contacted"}))
    page1 = ok(client.get(LEADS, params={"limit": 2}))
    assert [x["id"] for x in page1["items"]] == [third["id"], second["id"]]
    page2 = ok(client.get(LEADS, params={"limit": 2, "cursor": page1["next"]}))
    assert [x["id"] for x in page2["items"]] == [first["id"]] and page2["next"] is None
    assert [x["id"] for x in ok(client.get(LEADS, params={"q": "银行"}))["items"]] == [third["id"], first["id"]]
    assert [x["id"] for x in ok(client.get(LEADS, params={"q": "138 0000 0002"}))["items"]] == [second["id"]]
    assert [x["id"] for x in ok(client.get(LEADS, params={"status": "contacted"}))["items"]] == [second["id"]]
    assert [x["id"] for x in ok(client.get(LEADS, params={"source": "wechat"}))["items"]] == [second["id"]]
    assert_problem(client.get(LEADS, params={"status": "maybe"}), 422, "status")
    assert_problem(client.get(f"{LEADS}/999"), 404, "id")


def test_a_clerk_sees_a_leads_phone_and_email_masked(client: TestClient, client_as: Any) -> None:
    lead = new_lead(client, email="chen@example.com")
    assert lead["phone"] == "+8613812345678"
    clerk = client_as("clerk", ["BJ01"])
    shown = ok(clerk.get(f"{LEADS}/{lead['id']}"))
    assert (shown["phone"], shown["email"]) == ("+86 138****5678", "c***@example.com")
    [listed] = [row for row in ok(clerk.get(LEADS))["items"] if row["id"] == lead["id"]]
    assert listed["phone"] == "+86 138****5678"
    assert ok(client.get(f"{LEADS}/{lead['id']}"))["phone"] == "+8613812345678"  # an admin sees it whole
