"""Tickets through the API: opening on an order and batch, what is refused (and writes nothing), the lifecycle,
who may do what, notes and the satisfaction score; events and audit entries of every change."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from teahub.crm.aftersales import service
from teahub.db.uow import UnitOfWork
from tests import factories as f
from tests.crm.aftersales.helpers import (
    ALICE,
    BOB,
    TEA,
    TICKETS,
    audit_actions,
    counts,
    open_ticket,
    problem,
    sale,
    shop,
    ticket_body,
    ticket_events,
)


def _alice_bought_bad_batch(client: TestClient) -> dict[str, Any]:
    shop(client)
    return sale(client, 2, ALICE)  # BAD expires first: sold first


def test_open_a_quality_ticket_on_an_order_and_the_batch_the_customer_got(client: TestClient) -> None:
    order = _alice_bought_bad_batch(client)
    assert [b["batch_code"] for b in order["lines"][0]["batches"]] == ["BAD"]
    response = client.post(TICKETS, json=ticket_body(order["customer_id"], order_id=order["id"], sku=TEA,
                                                     batch_code="BAD", priority="high", assignee="root"))
    ticket = f.ok(response, 201)
    assert ticket == {**ticket, "kind": "quality", "subject": "茶叶有异味", "customer_id": order["customer_id"],
                      "order_id": order["id"], "sku": TEA, "batch_code": "BAD", "channel": "phone",
                      "priority": "high", "status": "open", "assignee": "root", "breached": False,
                      "resolution": None, "csat_score": None, "notes": [], "opened_by": "root", "version": 1}
    assert ticket["number"] == f"TK{ticket['id']:08d}"
    assert f.ok(client.get(f"{TICKETS}/{ticket['id']}")) == ticket
    [event] = ticket_events(client)
    assert (event["type"], event["aggregate_id"], event["version"]) == ("ticket.opened", str(ticket["id"]), 1)
    assert event["payload"] == {**event["payload"], "id": ticket["id"], "kind": "quality", "status": "open",
                                "customer_id": order["customer_id"], "order_id": order["id"], "batch_code": "BAD"}
    assert audit_actions(client, ticket["id"]) == ["ticket.opened"]


def test_a_batch_named_on_an_order_without_its_sku_is_found_on_the_order(client: TestClient) -> None:
    order = _alice_bought_bad_batch(client)
    ticket = open_ticket(client, order["customer_id"], order_id=order["id"], batch_code="BAD")
    assert (ticket["sku"], ticket["batch_code"]) == (TEA, "BAD")


def test_a_ticket_needs_no_order_or_product(client: TestClient) -> None:
    customer = f.ok(client.post("/api/v1/customers", json={"name": "李雷", "phone": BOB}), 201)
    ticket = open_ticket(client, customer["id"], kind="enquiry", subject="门店营业时间?", description=None)
    assert (ticket["order_id"], ticket["sku"], ticket["batch_code"], ticket["assignee"]) == (None, None, None, None)


def test_invalid_tickets_name_the_field_and_write_nothing(client: TestClient, engine: Engine) -> None:
    order = _alice_bought_bad_batch(client)
    alice = order["customer_id"]
    bob = f.ok(client.post("/api/v1/customers", json={"name": "李雷", "phone": BOB}), 201)["id"]
    sale(client, 3, BOB)  # BAD's last unit and two of GOOD
    before = counts(engine)
    cases: list[tuple[dict[str, Any], int, str]] = [
        (ticket_body(999_999), 404, "customer_id"),
        (ticket_body(alice, order_id=999_999), 404, "order_id"),
        (ticket_body(bob, order_id=order["id"]), 422, "order_id"),
        (ticket_body(alice, sku="NOPE"), 404, "sku"),
        (ticket_body(alice, order_id=order["id"], sku="CUP"), 422, "sku"),
        (ticket_body(alice, sku=TEA, batch_code="NOPE"), 404, "batch_code"),
        (ticket_body(alice, order_id=order["id"], sku=TEA, batch_code="GOOD"), 422, "batch_code"),
        (ticket_body(alice, batch_code="BAD"), 422, "sku"),
        (ticket_body(alice, subject="   "), 422, "subject"),
        (ticket_body(alice, kind="praise"), 422, "kind"),
        (ticket_body(alice, priority="asap"), 422, "priority"),
        (ticket_body(alice, assignee="nobody"), 404, "assignee"),
        ({k: v for k, v in ticket_body(alice).items() if k != "customer_id"}, 422, "customer_id"),
    ]
    for body, status, field in cases:
        problem(client.post(TICKETS, json=body), status, field)
    assert counts(engine) == before == (0, 0, 0)
    assert f.ok(client.get(TICKETS))["items"] == []


def test_lifecycle_from_open_to_closed_with_events_and_audit(client: TestClient) -> None:
    order = _alice_bought_bad_batch(client)
    ticket = open_ticket(client, order["customer_id"], order_id=order["id"])
    url = f"{TICKETS}/{ticket['id']}"
    assigned = f.ok(client.patch(url, json={"assignee": "root"}))
    assert (assigned["assignee"], assigned["status"]) == ("root", "open")
    assert f.ok(client.patch(url, json={"status": "in_progress"}))["status"] == "in_progress"
    assert f.ok(client.patch(url, json={"status": "waiting_customer"}))["status"] == "waiting_customer"
    problem(client.patch(url, json={"status": "resolved"}), 422, "status")  # resolving needs a resolution
    problem(client.post(f"{url}/resolve", json={"resolution": "  "}), 422, "resolution")
    problem(client.post(f"{url}/resolve", json={}), 422, "resolution")
    resolved = f.ok(client.post(f"{url}/resolve", json={"resolution": "退款并补寄一罐"}))
    assert (resolved["status"], resolved["resolution"]) == ("resolved", "退款并补寄一罐")
    assert resolved["resolved_at"] is not None
    reopened = f.ok(client.post(f"{url}/reopen"))
    assert (reopened["status"], reopened["resolution"], reopened["resolved_at"]) == ("in_progress", None, None)
    f.ok(client.post(f"{url}/resolve", json={"resolution": "补寄一罐"}))
    closed = f.ok(client.post(f"{url}/close"))
    assert closed["status"] == "closed" and closed["closed_at"] is not None
    events = ticket_events(client, ticket["id"])
    assert [e["type"] for e in events] == [
        "ticket.opened", "ticket.assigned", "ticket.status_changed", "ticket.status_changed", "ticket.resolved",
        "ticket.status_changed", "ticket.resolved", "ticket.closed"]
    assert [e["version"] for e in events] == list(range(1, 9)) and closed["version"] == 8
    assert events[5]["payload"] == {**events[5]["payload"], "status": "in_progress", "previous_status": "resolved"}
    assert events[1]["payload"] == {**events[1]["payload"], "assignee": "root", "previous_assignee": None}
    assert audit_actions(client, ticket["id"]) == [
        "ticket.opened", "ticket.updated", "ticket.updated", "ticket.updated", "ticket.resolved",
        "ticket.reopened", "ticket.resolved", "ticket.closed"]


def test_forbidden_transitions_are_409_and_change_nothing(client: TestClient, engine: Engine) -> None:
    order = _alice_bought_bad_batch(client)
    ticket = open_ticket(client, order["customer_id"])
    url = f"{TICKETS}/{ticket['id']}"
    before = counts(engine)
    for response in (client.post(f"{url}/close"), client.post(f"{url}/reopen"),
                     client.post(f"{url}/csat", json={"score": 5})):
        body = problem(response, 409, "status")
        assert body["type"] == "urn:teahub:problem:invalid-transition"
    assert counts(engine) == before
    assert f.ok(client.get(url)) == ticket
    f.ok(client.post(f"{url}/resolve", json={"resolution": "ok"}))
    f.ok(client.post(f"{url}/close"))
    closed = f.ok(client.get(url))
    before = counts(engine)
    for response in (client.patch(url, json={"status": "in_progress"}), client.post(f"{url}/reopen"),
                     client.post(f"{url}/resolve", json={"resolution": "again"}), client.post(f"{url}/close")):
        problem(response, 409, "status")
    assert counts(engine) == before
    assert f.ok(client.get(url)) == closed


def test_a_patch_that_changes_nothing_records_nothing(client: TestClient, engine: Engine) -> None:
    order = _alice_bought_bad_batch(client)
    ticket = open_ticket(client, order["customer_id"], priority="normal")
    before = counts(engine)
    same = f.ok(client.patch(f"{TICKETS}/{ticket['id']}", json={"priority": "normal", "status": "open"}))
    assert same == ticket and counts(engine) == before


def test_any_role_opens_and_reads_but_only_managers_and_the_assignee_handle(client: TestClient,
                                                                             client_as: Any) -> None:
    order = _alice_bought_bad_batch(client)
    clerk = client_as("clerk", ["BJ01"], username="mei")
    other = client_as("clerk", ["BJ01"], username="lei")
    manager = client_as("manager", ["BJ01"])
    ticket = f.ok(clerk.post(TICKETS, json=ticket_body(order["customer_id"], order_id=order["id"])), 201)
    url = f"{TICKETS}/{ticket['id']}"
    assert ticket["opened_by"] == "mei"
    assert f.ok(other.get(url))["id"] == ticket["id"]
    assert [t["id"] for t in f.ok(other.get(TICKETS))["items"]] == [ticket["id"]]
    problem(clerk.patch(url, json={"assignee": "mei"}), 403, None)
    problem(clerk.post(f"{url}/resolve", json={"resolution": "done"}), 403, None)
    assert f.ok(manager.patch(url, json={"assignee": "mei"}))["assignee"] == "mei"
    problem(other.post(f"{url}/resolve", json={"resolution": "done"}), 403, None)
    f.ok(other.post(f"{url}/notes", json={"body": "I know this customer"}), 201)  # notes: anyone
    assert f.ok(clerk.patch(url, json={"priority": "urgent"}))["priority"] == "urgent"
    assert f.ok(clerk.post(f"{url}/resolve", json={"resolution": "done"}))["status"] == "resolved"
    assert f.ok(clerk.post(f"{url}/close"))["status"] == "closed"
    assert f.ok(other.post(f"{url}/csat", json={"score": 4}))["csat_score"] == 4


def test_assignee_must_be_an_active_user_and_can_be_removed(client: TestClient) -> None:
    order = _alice_bought_bad_batch(client)
    ticket = open_ticket(client, order["customer_id"], assignee="root")
    url = f"{TICKETS}/{ticket['id']}"
    problem(client.patch(url, json={"assignee": "ghost"}), 404, "assignee")
    unassigned = f.ok(client.patch(url, json={"assignee": None}))
    assert unassigned["assignee"] is None
    event = ticket_events(client, ticket["id"])[-1]
    assert event["type"] == "ticket.assigned" and event["payload"]["previous_assignee"] == "root"


def test_notes_are_append_only_with_author_and_time(client: TestClient, client_as: Any) -> None:
    order = _alice_bought_bad_batch(client)
    ticket = open_ticket(client, order["customer_id"])
    url = f"{TICKETS}/{ticket['id']}"
    clerk = client_as("clerk", ["BJ01"], username="mei")
    f.ok(client.post(f"{url}/notes", json={"body": "called the customer"}), 201)
    noted = f.ok(clerk.post(f"{url}/notes", json={"body": "photo received"}), 201)
    assert [(n["author"], n["body"]) for n in noted["notes"]] == [("root", "called the customer"),
                                                                  ("mei", "photo received")]
    assert all(n["created_at"] for n in noted["notes"])
    problem(client.post(f"{url}/notes", json={"body": " "}), 422, "body")
    first = noted["notes"][0]["id"]
    assert client.delete(f"{url}/notes/{first}").status_code in (404, 405)
    assert client.patch(f"{url}/notes/{first}", json={"body": "x"}).status_code in (404, 405)
    assert f.ok(client.get(url))["notes"] == noted["notes"]
    types = [e["type"] for e in ticket_events(client, ticket["id"])]
    assert types == ["ticket.opened", "ticket.note_added", "ticket.note_added"]
    assert "called" not in str(ticket_events(client, ticket["id"])[1]["payload"])  # internal text stays inside


def test_csat_only_once_and_only_after_resolution(client: TestClient, engine: Engine) -> None:
    order = _alice_bought_bad_batch(client)
    ticket = open_ticket(client, order["customer_id"])
    url = f"{TICKETS}/{ticket['id']}"
    problem(client.post(f"{url}/csat", json={"score": 5}), 409, "status")
    f.ok(client.post(f"{url}/resolve", json={"resolution": "replaced"}))
    problem(client.post(f"{url}/csat", json={"score": 6}), 422, "score")
    problem(client.post(f"{url}/csat", json={"score": 0}), 422, "score")
    rated = f.ok(client.post(f"{url}/csat", json={"score": 4, "comment": "快速处理"}))
    assert (rated["csat_score"], rated["csat_comment"]) == (4, "快速处理") and rated["csat_at"]
    before = counts(engine)
    problem(client.post(f"{url}/csat", json={"score": 5}), 409, "score")
    assert counts(engine) == before
    closed = f.ok(client.post(f"{url}/close"))
    assert closed["csat_score"] == 4
    problem(client.post(f"{url}/csat", json={"score": 1}), 409, "score")
    event = next(e for e in ticket_events(client, ticket["id"]) if e["type"] == "ticket.csat_recorded")
    assert event["payload"] == {**event["payload"], "score": 4, "status": "resolved"}


def test_lists_filter_and_page(client: TestClient) -> None:
    order = _alice_bought_bad_batch(client)
    alice = order["customer_id"]
    bob = f.ok(client.post("/api/v1/customers", json={"name": "李雷", "phone": BOB}), 201)["id"]
    quality = open_ticket(client, alice, order_id=order["id"], sku=TEA, batch_code="BAD", assignee="root")
    enquiry = open_ticket(client, bob, kind="enquiry", subject="会员积分?")
    delivery = open_ticket(client, alice, kind="delivery", subject="还没收到")
    f.ok(client.post(f"{TICKETS}/{delivery['id']}/resolve", json={"resolution": "delivered"}))

    def ids(**params: Any) -> list[int]:
        return [t["id"] for t in f.ok(client.get(TICKETS, params=params))["items"]]

    assert ids() == [delivery["id"], enquiry["id"], quality["id"]]
    assert ids(customer_id=alice) == [delivery["id"], quality["id"]]
    assert ids(kind="enquiry") == [enquiry["id"]]
    assert ids(status="resolved") == [delivery["id"]]
    assert ids(assignee="root") == [quality["id"]]
    assert ids(sku=TEA, batch_code="BAD") == [quality["id"]]
    assert ids(order_id=order["id"]) == [quality["id"]]
    assert ids(breached="false") == [delivery["id"], enquiry["id"], quality["id"]]
    assert ids(breached="true") == []
    first = f.ok(client.get(TICKETS, params={"limit": 2}))
    assert [t["id"] for t in first["items"]] == [delivery["id"], enquiry["id"]] and first["next"]
    rest = f.ok(client.get(TICKETS, params={"limit": 2, "cursor": first["next"]}))
    assert [t["id"] for t in rest["items"]] == [quality["id"]] and rest["next"] is None
    problem(client.get(TICKETS, params={"status": "lost"}), 422, "status")
    problem(client.get(TICKETS, params={"cursor": "x"}), 422, "cursor")
    problem(client.get(f"{TICKETS}/999999"), 404, "id")


def test_a_merged_customer_is_answered_by_the_survivor(client: TestClient, uow: UnitOfWork) -> None:
    order = _alice_bought_bad_batch(client)
    bob = f.ok(client.post("/api/v1/customers", json={"name": "李雷", "phone": BOB}), 201)["id"]
    early = open_ticket(client, bob, kind="enquiry", subject="before the merge")
    f.ok(client.post(f"/api/v1/customers/{bob}/merge", json={"source_id": order["customer_id"]}))
    ticket = open_ticket(client, order["customer_id"], order_id=order["id"], sku=TEA, batch_code="BAD")
    assert ticket["customer_id"] == bob  # the survivor, who now holds the order too
    moved = service.reassign_tickets(uow, bob, order["customer_id"])  # e.g. the merge is reversed
    assert moved == [early["id"], ticket["id"]]
    assert {t["customer_id"] for t in f.ok(client.get(TICKETS))["items"]} == {order["customer_id"]}
    event = ticket_events(client, ticket["id"])[-1]
    assert event["type"] == "ticket.customer_changed" and event["payload"]["previous_customer_id"] == bob
