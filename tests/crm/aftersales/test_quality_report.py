"""The quality report: a batch with complaints and refunds stands out from the others; and the recall list of
who received a batch, with their open tickets. Sales are arranged through the API."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests import factories as f
from tests.crm.aftersales.helpers import ALICE, BOB, CAROL, MEMBER_PRICE, TEA, TICKETS, open_ticket, sale, shop

REPORT = "/api/v1/reports/quality"
DAVE = "13612345678"


def _arrange(client: TestClient) -> dict[str, Any]:
    """BAD (6 units) sells first: Alice 2, Bob 2, a walk-in 1, then Dave 3 = BAD's last unit + 2 of GOOD.
    Carol buys 5 of GOOD. Alice and Bob complain about BAD; Carol only asks. Alice (not resalable), Dave
    (one BAD and one GOOD, back in stock) and Carol get refunds."""
    shop(client)
    alice = sale(client, 2, ALICE)
    bob = sale(client, 2, BOB)
    walk_in = sale(client, 1)
    dave = sale(client, 3, DAVE)
    carol = sale(client, 5, CAROL)
    sale(client, 1, sku="CUP")
    assert [(b["batch_code"], b["quantity"]) for b in dave["lines"][0]["batches"]] == [("BAD", 1), ("GOOD", 2)]
    assert [b["batch_code"] for b in walk_in["lines"][0]["batches"]] == ["BAD"]
    complaint = open_ticket(client, alice["customer_id"], order_id=alice["id"], sku=TEA, batch_code="BAD")
    bob_complaint = open_ticket(client, bob["customer_id"], kind="complaint", sku=TEA, batch_code="BAD")
    f.ok(client.post(f"{TICKETS}/{bob_complaint['id']}/resolve", json={"resolution": "refunded in store"}))
    bob_enquiry = open_ticket(client, bob["customer_id"], kind="enquiry", subject="会员积分")
    open_ticket(client, carol["customer_id"], kind="enquiry", sku=TEA, batch_code="GOOD")

    def refund(order: dict[str, Any], quantity: int, restock: bool) -> None:
        f.ok(client.post(f"/api/v1/orders/{order['id']}/refunds", json={
            "lines": [{"sku": TEA, "quantity": quantity}], "reason": "quality", "restock": restock}), 201)

    refund(alice, 1, restock=False)
    refund(dave, 2, restock=True)
    refund(carol, 1, restock=True)
    dave_batches = f.ok(client.get(f"/api/v1/orders/{dave['id']}"))["lines"][0]["batches"]
    assert [(b["batch_code"], b["returned_quantity"]) for b in dave_batches] == [("BAD", 1), ("GOOD", 1)]
    return {"alice": alice, "bob": bob, "carol": carol, "dave": dave, "complaint": complaint,
            "bob_enquiry": bob_enquiry}


def test_a_bad_batch_stands_out_by_complaints_and_refunds(client: TestClient) -> None:
    _arrange(client)
    report = f.ok(client.get(REPORT, params={"by": "batch"}))
    assert report["by"] == "batch" and report["next"] is None
    rows = {(r["sku"], r["batch_code"]): r for r in report["items"]}
    assert [(r["sku"], r["batch_code"]) for r in report["items"]][0] == (TEA, "BAD")
    bad, good = rows[(TEA, "BAD")], rows[(TEA, "GOOD")]
    assert bad == {**bad, "units_sold": 6, "complaints": 2, "open_complaints": 1, "refunds": 2,
                   "refunded_units": 2, "refunded_amount": 2 * MEMBER_PRICE, "complaint_rate": 333.33,
                   "refund_rate": 333.33, "name": f"茶 {TEA}"}
    assert good == {**good, "units_sold": 7, "complaints": 0, "open_complaints": 0, "refunds": 2,
                    "refunded_units": 2, "refunded_amount": 2 * MEMBER_PRICE, "complaint_rate": 0.0,
                    "refund_rate": 285.71}
    assert rows[("CUP", "C1")] == {**rows[("CUP", "C1")], "units_sold": 1, "complaints": 0, "refunds": 0}


def test_per_product_the_complaints_and_refunds_of_all_batches_add_up(client: TestClient) -> None:
    _arrange(client)
    report = f.ok(client.get(REPORT, params={"by": "product"}))
    rows = {r["sku"]: r for r in report["items"]}
    assert [r["sku"] for r in report["items"]] == [TEA, "CUP"]
    assert rows[TEA] == {**rows[TEA], "batch_code": None, "units_sold": 13, "complaints": 2, "refunds": 3,
                         "refunded_units": 4, "refunded_amount": 4 * MEMBER_PRICE, "complaint_rate": 153.85}
    assert rows["CUP"] == {**rows["CUP"], "units_sold": 1, "complaints": 0, "complaint_rate": 0.0}


def test_the_report_covers_a_time_window(client: TestClient) -> None:
    _arrange(client)
    past = f.ok(client.get(REPORT, params={"by": "batch", "until": "2000-01-01T00:00:00Z"}))
    assert past["items"] == []
    future = f.ok(client.get(REPORT, params={"by": "product", "since": "2999-01-01T00:00:00+08:00"}))
    assert future["items"] == [] and future["since"].startswith("2998-12-31T16:00:00")
    all_time = f.ok(client.get(REPORT, params={"since": "2000-01-01T00:00:00Z", "until": "2999-01-01T00:00:00Z"}))
    assert {r["sku"] for r in all_time["items"]} == {TEA, "CUP"}
    naive = client.get(REPORT, params={"since": "2026-01-01T00:00:00"})
    assert naive.status_code == 422 and naive.json()["field"] == "since"
    assert client.get(REPORT, params={"by": "supplier"}).status_code == 422


def test_recall_lists_who_received_the_batch_with_their_open_tickets(client: TestClient) -> None:
    arranged = _arrange(client)
    alice, bob = arranged["alice"], arranged["bob"]
    buyers = f.ok(client.get(f"{REPORT}/batches/{TEA}/BAD/buyers"))
    assert (buyers["sku"], buyers["batch_code"], buyers["next"]) == (TEA, "BAD", None)
    # Dave's BAD unit came back into stock: he no longer holds any of it.
    assert [(b["customer_id"], b["orders"], b["units"], b["open_tickets"], b["open_tickets_on_batch"])
            for b in buyers["items"]] == [
        (alice["customer_id"], [alice["id"]], 2, 1, 1),
        (bob["customer_id"], [bob["id"]], 2, 1, 0),  # his complaint is resolved; his enquiry is open
    ]
    assert (buyers["units"], buyers["anonymous_units"]) == (5, 1)
    missing = client.get(f"{REPORT}/batches/{TEA}/NOPE/buyers")
    assert missing.status_code == 404 and missing.json()["field"] == "batch_code"


def test_reports_are_for_admins_and_managers(client: TestClient, client_as: Any) -> None:
    shop(client)
    clerk = client_as("clerk", ["BJ01"])
    manager = client_as("manager", ["BJ01"])
    assert clerk.get(REPORT).status_code == 403
    assert clerk.get(f"{REPORT}/batches/{TEA}/BAD/buyers").status_code == 403
    assert manager.get(REPORT).status_code == 200
    assert f.ok(manager.get(f"{REPORT}/batches/{TEA}/BAD/buyers"))["items"] == []
