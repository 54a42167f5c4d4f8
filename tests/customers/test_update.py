"""Changing a customer: fields, identities, contacts; versioned, evented, audited, refused cleanly."""

from __future__ import annotations

from typing import Any

from teahub.db.uow import UnitOfWork
from tests.customers.helpers import API, assert_problem, audits, counts, create, events, ok


def patch(client: Any, customer_id: int, status: int = 200, **body: Any) -> dict[str, Any]:
    return ok(client.patch(f"{API}/{customer_id}", json=body), status)  # type: ignore[no-any-return]


def test_patch_changes_fields_bumps_version_and_records_event_and_audit(client: Any, uow: UnitOfWork) -> None:
    made = create(client, name="王芳", phone="13812345678")
    body = patch(client, made["id"], name="王 芳", tier="vip", birthday="1990-05-01", home_store="BJ01",
                 note="喜欢明前龙井")
    assert (body["name"], body["tier"], body["birthday"], body["home_store"], body["note"]) == (
        "王 芳", "vip", "1990-05-01", "BJ01", "喜欢明前龙井")
    assert body["version"] == 2
    assert body["updated_at"] >= made["updated_at"]
    assert ok(client.get(f"{API}/{made['id']}")) == body
    [event] = events(uow, "customer.updated", made["id"])
    assert event["version"] == 2
    assert set(event["payload"]["changed"]) == {"name", "tier", "birthday", "home_store", "note"}
    [entry] = audits(uow, "customer.updated", made["id"])
    assert entry["before"]["tier"] == "member" and entry["after"]["tier"] == "vip"


def test_a_patch_that_changes_nothing_records_nothing(client: Any, uow: UnitOfWork) -> None:
    made = create(client, name="王芳", phone="13812345678")
    before = counts(uow)
    assert patch(client, made["id"], name="王芳", add_identities=[{"kind": "phone", "value": "13812345678"}]) \
        == ok(client.get(f"{API}/{made['id']}"))
    assert counts(uow) == before


def test_patch_clears_a_field_sent_as_null(client: Any) -> None:
    made = create(client, name="王芳", phone="13812345678", note="x")
    body = patch(client, made["id"], note=None, tier=None)
    assert body["note"] is None and body["tier"] is None


def test_patch_adds_identities_that_make_the_customer_findable(client: Any) -> None:
    made = create(client, name="王芳")
    body = patch(client, made["id"], add_identities=[{"kind": "phone", "value": "138 1234 5678"},
                                                     {"kind": "wechat_unionid", "value": "oU-123"}])
    assert body["phone"] == "+8613812345678"
    assert body["tier"] == "member"
    assert [c["id"] for c in ok(client.get(API, params={"q": "5678"}))["items"]] == [made["id"]]
    assert create(client, 200, identities=[{"kind": "wechat_unionid", "value": "oU-123"}])["id"] == made["id"]


def test_adding_an_identity_of_another_customer_is_409_and_writes_nothing(client: Any, uow: UnitOfWork) -> None:
    wang = create(client, name="王芳", phone="13812345678")
    li = create(client, name="李雷")
    before = counts(uow)
    problem = assert_problem(client.patch(f"{API}/{li['id']}", json={
        "name": "李雷雷", "add_identities": [{"kind": "email", "value": "li@example.com"},
                                              {"kind": "phone", "value": "+86 138 1234 5678"}]}),
        409, "identities")
    assert problem["customer_id"] == wang["id"]
    assert counts(uow) == before
    assert ok(client.get(f"{API}/{li['id']}"))["name"] == "李雷"


def test_contacts_are_replaced_keeping_the_ones_given_by_id(client: Any) -> None:
    made = create(client, name="某公司", kind="company",
                  contacts=[{"name": "张经理", "phone": "13800000001"}, {"name": "刘会计"}])
    zhang, liu = made["contacts"]
    body = patch(client, made["id"], contacts=[{"id": zhang["id"], "name": "张经理", "title": "总经理"},
                                               {"name": "陈助理", "email": "chen@example.com"}])
    assert [(c["id"] == zhang["id"], c["name"], c["title"]) for c in body["contacts"]] == [
        (True, "张经理", "总经理"), (False, "陈助理", None)]
    assert liu["id"] not in [c["id"] for c in body["contacts"]]
    assert_problem(client.patch(f"{API}/{made['id']}", json={"contacts": [{"id": 99999, "name": "x"}]}),
                   422, "contacts.0.id")


def test_a_stale_version_is_409(client: Any, uow: UnitOfWork) -> None:
    made = create(client, name="王芳")
    patch(client, made["id"], note="first", version=1)
    before = counts(uow)
    assert_problem(client.patch(f"{API}/{made['id']}", json={"note": "second", "version": 1}), 409, "version")
    assert counts(uow) == before


def test_only_admin_or_manager_may_change_credit_terms(client: Any, client_as: Any, uow: UnitOfWork) -> None:
    made = create(client, name="某公司", kind="company", credit_limit=100000, payment_terms="monthly")
    clerk = client_as("clerk", ["BJ01"])
    before = counts(uow)
    assert_problem(clerk.patch(f"{API}/{made['id']}", json={"credit_limit": 999999}), 403, "credit_limit")
    assert_problem(clerk.patch(f"{API}/{made['id']}", json={"payment_terms": None}), 403, "payment_terms")
    assert counts(uow) == before
    assert patch(clerk, made["id"], note="下单前电话确认")["note"] == "下单前电话确认"
    manager = client_as("manager", ["BJ01"])
    body = patch(manager, made["id"], credit_limit=200000, payment_terms="net30")
    assert (body["credit_limit"], body["payment_terms"]) == (200000, "net30")


def test_bad_patches_name_the_field_and_write_nothing(client: Any, uow: UnitOfWork) -> None:
    made = create(client, name="王芳")
    before = counts(uow)
    for body, status, field in [
        ({"name": ""}, 422, "name"),
        ({"name": "   "}, 422, "name"),
        ({"tier": "platinum"}, 422, "tier"),
        ({"add_identities": [{"kind": "phone", "value": "12"}]}, 422, "add_identities.0.value"),
        ({"add_identities": [{"kind": "fax", "value": "12"}]}, 422, "add_identities.0.kind"),
        ({"payment_terms": "someday"}, 422, "payment_terms"),
        ({"phone": "13812345678"}, 422, "phone"),
    ]:
        assert_problem(client.patch(f"{API}/{made['id']}", json=body), status, field)
    assert counts(uow) == before


def test_unknown_customers_are_404(client: Any) -> None:
    assert_problem(client.get(f"{API}/999999"), 404, "id")
    assert_problem(client.patch(f"{API}/999999", json={"note": "x"}), 404, "id")
