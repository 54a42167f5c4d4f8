"""Quotes through the API: rounds of negotiation kept as versions, sent, rejected, expired."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from teahub.crm.pipeline import service
from teahub.crm.pipeline.rules import QuoteExpired
from teahub.crm.pipeline.schemas import QuoteIn
from teahub.db.uow import UnitOfWork
from tests.crm.pipeline.helpers import (
    API,
    LOOSE,
    SKU,
    assert_problem,
    clock,
    company,
    counts,
    events,
    ok,
    quote_body,
    shop,
)

QUOTES = f"{API}/quotes"


def test_every_round_is_a_new_version_and_earlier_ones_are_kept(client: TestClient, uow: UnitOfWork) -> None:
    shop(client)
    customer = company(client)
    first = ok(client.post(QUOTES, json=quote_body(customer["id"], [(SKU, 300, 52000), (LOOSE, 2500, 60000)],
                                                   note="首轮报价")), 201)
    assert (first["status"], first["current_version"], first["number"]) == ("draft", 1, f"QT{first['id']:08d}")
    assert first["total"] == 300 * 52000 + 300000  # 2500 g at 60000 per 500 g
    assert [(ln["sku"], ln["amount"], ln["price_basis"]) for ln in first["current"]["lines"]] == [
        (SKU, 15_600_000, 1), (LOOSE, 300_000, 500)]
    sent = ok(client.post(f"{QUOTES}/{first['id']}/send"))
    assert sent["status"] == "sent" and sent["sent_at"] is not None
    rejected = ok(client.post(f"{QUOTES}/{first['id']}/reject", json={"reason": "单价太高"}))
    assert (rejected["status"], rejected["reject_reason"]) == ("rejected", "单价太高")

    second = ok(client.post(f"{QUOTES}/{first['id']}/versions", json={
        "valid_until": first["valid_until"], "note": "第二轮：礼盒降价，加送散茶",
        "lines": [{"sku": SKU, "quantity": 300, "unit_price": 49800, "discount": 40000}]}), 201)
    assert (second["status"], second["current_version"], second["total"]) == ("draft", 2, 300 * 49800 - 40000)
    assert second["reject_reason"] is None
    ok(client.post(f"{QUOTES}/{first['id']}/send"))

    versions = ok(client.get(f"{QUOTES}/{first['id']}/versions"))["items"]
    assert [(v["number"], v["total"], v["note"]) for v in versions] == [
        (1, 15_900_000, "首轮报价"), (2, 14_900_000, "第二轮：礼盒降价，加送散茶")]
    assert [len(v["lines"]) for v in versions] == [2, 1]
    assert versions[0]["lines"][0]["unit_price"] == 52000  # the first round is as it was
    one = ok(client.get(f"{QUOTES}/{first['id']}/versions", params={"limit": 1}))
    assert [v["number"] for v in one["items"]] == [1] and one["next"] == "1"
    got = ok(client.get(f"{QUOTES}/{first['id']}"))
    assert (got["status"], got["current"]["number"], got["total"]) == ("sent", 2, 14_900_000)
    assert [e["type"] for e in events(uow, "quote", first["id"])] == [
        "quote.created", "quote.sent", "quote.rejected", "quote.revised", "quote.sent"]
    assert [e["version"] for e in events(uow, "quote", first["id"])] == [1, 2, 3, 4, 5]


def test_quote_statuses_only_move_forward(client: TestClient, uow: UnitOfWork) -> None:
    shop(client)
    quote = ok(client.post(QUOTES, json=quote_body(company(client)["id"])), 201)
    assert_problem(client.post(f"{QUOTES}/{quote['id']}/accept"), 409, "status")
    assert_problem(client.post(f"{QUOTES}/{quote['id']}/reject"), 409, "status")
    ok(client.post(f"{QUOTES}/{quote['id']}/send"))
    before = counts(uow)
    assert_problem(client.post(f"{QUOTES}/{quote['id']}/send"), 409, "status")
    assert counts(uow) == before


def test_quotes_list_by_status_and_customer(client: TestClient) -> None:
    shop(client)
    a, b = company(client)["id"], company(client, "上海某银行")["id"]
    qa = ok(client.post(QUOTES, json=quote_body(a)), 201)
    qb = ok(client.post(QUOTES, json=quote_body(b)), 201)
    ok(client.post(f"{QUOTES}/{qb['id']}/send"))
    assert [q["id"] for q in ok(client.get(QUOTES))["items"]] == [qb["id"], qa["id"]]
    assert [q["id"] for q in ok(client.get(QUOTES, params={"status": "sent"}))["items"]] == [qb["id"]]
    assert [q["id"] for q in ok(client.get(QUOTES, params={"customer_id": a}))["items"]] == [qa["id"]]
    assert_problem(client.get(f"{QUOTES}/999"), 404, "id")
    assert_problem(client.get(f"{QUOTES}/999/versions"), 404, "id")


def _quote_in_the_past(app: Any, customer_id: int) -> int:
    """A quote made and sent on 5 January 2026, valid until the 10th: long expired now."""
    past = UnitOfWork(app.state.session_factory, actor="user:root", clock=clock(datetime(2026, 1, 5, 2, tzinfo=UTC)))
    quote = service.create_quote(past, QuoteIn.model_validate(
        {**quote_body(customer_id), "valid_until": "2026-01-10"}), default_owner="root")
    service.send_quote(past, quote["id"])
    return int(quote["id"])


def test_an_expired_quote_cannot_be_accepted(client: TestClient, app: Any, uow: UnitOfWork) -> None:
    shop(client)
    quote_id = _quote_in_the_past(app, company(client)["id"])
    assert ok(client.get(f"{QUOTES}/{quote_id}"))["status"] == "expired"
    assert [q["id"] for q in ok(client.get(QUOTES, params={"status": "expired"}))["items"]] == [quote_id]
    assert ok(client.get(QUOTES, params={"status": "sent"}))["items"] == []
    before = counts(uow)
    problem = assert_problem(client.post(f"{QUOTES}/{quote_id}/accept"), 409, "valid_until")
    assert problem["title"] == "Quote expired" and problem["valid_until"] == "2026-01-10"
    assert counts(uow) == before
    assert ok(client.get(f"{API}/orders"))["items"] == []

    assert service.expire_quotes(uow) == [quote_id]
    assert service.expire_quotes(uow) == []
    assert [e["type"] for e in events(uow, "quote", quote_id)][-1] == "quote.expired"
    assert_problem(client.post(f"{QUOTES}/{quote_id}/accept"), 409, "status")
    renewed = ok(client.post(f"{QUOTES}/{quote_id}/versions", json={
        "valid_until": quote_body(0)["valid_until"], "lines": [{"sku": SKU, "quantity": 10, "unit_price": 50000}]}),
        201)
    assert (renewed["status"], renewed["current_version"]) == ("draft", 2)


def test_validity_ends_at_midnight_in_china_by_the_units_clock(client: TestClient, app: Any) -> None:
    shop(client)
    customer_id = company(client)["id"]
    factory = app.state.session_factory
    at = datetime(2026, 9, 1, 2, tzinfo=UTC)
    made = UnitOfWork(factory, actor="user:root", clock=clock(at))
    quote = service.create_quote(made, QuoteIn.model_validate({**quote_body(customer_id), "valid_until": "2026-09-10"}),
                                 default_owner="root")
    service.send_quote(made, quote["id"])
    late = UnitOfWork(factory, actor="user:root", clock=clock(datetime(2026, 9, 10, 16, 0, tzinfo=UTC)))
    with pytest.raises(QuoteExpired):
        service.accept_quote(late, quote["id"])
    in_time = UnitOfWork(factory, actor="user:root", clock=clock(datetime(2026, 9, 10, 15, 59, tzinfo=UTC)))
    assert service.accept_quote(in_time, quote["id"])["status"] == "accepted"


def test_a_draft_past_its_validity_is_not_sent(client: TestClient, app: Any) -> None:
    shop(client)
    customer_id = company(client)["id"]
    past = UnitOfWork(app.state.session_factory, actor="user:root", clock=clock(datetime(2026, 1, 5, tzinfo=UTC)))
    quote = service.create_quote(past, QuoteIn.model_validate({**quote_body(customer_id), "valid_until": "2026-01-10"}),
                                 default_owner="root")
    assert_problem(client.post(f"{QUOTES}/{quote['id']}/send"), 409, "valid_until")


@pytest.mark.parametrize(("change", "status", "field"), [
    ({"customer_id": 999}, 404, "customer_id"),
    ({"valid_until": "2020-01-01"}, 422, "valid_until"),
    ({"valid_until": "2099-01-01"}, 422, "valid_until"),
    ({"valid_until": "soon"}, 422, "valid_until"),
    ({"lines": []}, 422, "lines"),
    ({"lines": [{"sku": "NOPE", "quantity": 1, "unit_price": 100}]}, 422, "lines.0.sku"),
    ({"lines": [{"sku": SKU, "quantity": 0, "unit_price": 100}]}, 422, "lines.0.quantity"),
    ({"lines": [{"sku": SKU, "quantity": 1}]}, 422, "lines.0.unit_price"),
    ({"lines": [{"sku": SKU, "quantity": 1, "unit_price": -5}]}, 422, "lines.0.unit_price"),
    ({"lines": [{"sku": SKU, "quantity": 1, "unit_price": 100, "discount": 101}]}, 422, "lines.0.discount"),
    ({"lines": [{"sku": SKU, "quantity": 10_000_000, "unit_price": 1_000_000}]}, 422, "lines.0.quantity"),
    ({"location": "NOWHERE"}, 404, "location"),
    ({"opportunity_id": 999}, 404, "opportunity_id"),
    ({"owner": "nobody"}, 422, "owner"),
])
def test_bad_quotes_name_the_field_and_write_nothing(client: TestClient, uow: UnitOfWork, change: dict[str, Any],
                                                     status: int, field: str) -> None:
    shop(client)
    customer = company(client)
    before = counts(uow)
    assert_problem(client.post(QUOTES, json={**quote_body(customer["id"]), **change}), status, field)
    assert counts(uow) == before


def test_a_quote_links_only_an_open_opportunity_of_its_customer(client: TestClient) -> None:
    shop(client)
    mine, theirs = company(client)["id"], company(client, "上海某银行")["id"]
    opp = ok(client.post(f"{API}/opportunities", json={"customer_id": theirs, "title": "春节"}), 201)
    assert_problem(client.post(QUOTES, json=quote_body(mine, opportunity_id=opp["id"])), 422, "opportunity_id")
    ok(client.patch(f"{API}/opportunities/{opp['id']}", json={"stage": "lost", "lost_reason": "没预算"}))
    assert_problem(client.post(QUOTES, json=quote_body(theirs, opportunity_id=opp["id"])), 409, "opportunity_id")
