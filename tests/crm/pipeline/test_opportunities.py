"""Opportunities through the API: stages with their history and probabilities, and the pipeline board."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from teahub.db.uow import UnitOfWork
from tests.crm.pipeline.helpers import API, assert_problem, audits, company, counts, events, ok

OPPS = f"{API}/opportunities"


def opportunity(client: TestClient, customer_id: int, **extra: Any) -> dict[str, Any]:
    body = {"customer_id": customer_id, "title": "中秋礼盒", "expected_value": 1_000_000, **extra}
    return ok(client.post(OPPS, json=body), 201)  # type: ignore[no-any-return]


def move(client: TestClient, opp_id: int, **patch: Any) -> dict[str, Any]:
    return ok(client.patch(f"{OPPS}/{opp_id}", json=patch))  # type: ignore[no-any-return]


def test_stage_changes_are_kept_with_default_or_given_probabilities(client: TestClient, uow: UnitOfWork) -> None:
    customer = company(client)
    opp = opportunity(client, customer["id"], expected_close_on="2026-08-31")
    assert (opp["stage"], opp["probability"], opp["weighted_value"]) == ("prospecting", 10, 100_000)
    opp = move(client, opp["id"], stage="proposal", version=opp["version"])
    assert (opp["stage"], opp["probability"]) == ("proposal", 50)
    opp = move(client, opp["id"], probability=60)
    assert (opp["stage"], opp["probability"], opp["weighted_value"]) == ("proposal", 60, 600_000)
    opp = move(client, opp["id"], stage="negotiation", probability=80)
    assert opp["probability"] == 80
    assert_problem(client.patch(f"{OPPS}/{opp['id']}", json={"stage": "lost"}), 422, "lost_reason")
    opp = move(client, opp["id"], stage="lost", lost_reason="选了别家月饼礼盒")
    assert (opp["probability"], opp["lost_reason"]) == (0, "选了别家月饼礼盒")
    assert opp["closed_at"] is not None
    opp = move(client, opp["id"], stage="negotiation")  # they came back
    assert (opp["probability"], opp["lost_reason"], opp["closed_at"]) == (75, None, None)
    opp = move(client, opp["id"], stage="won")
    assert opp["probability"] == 100
    assert_problem(client.patch(f"{OPPS}/{opp['id']}", json={"stage": "proposal"}), 409, "stage")

    history = ok(client.get(f"{OPPS}/{opp['id']}"))["stage_history"]
    assert [(h["from_stage"], h["to_stage"], h["probability"]) for h in history] == [
        (None, "prospecting", 10), ("prospecting", "proposal", 50), ("proposal", "negotiation", 80),
        ("negotiation", "lost", 0), ("lost", "negotiation", 75), ("negotiation", "won", 100)]
    assert {h["changed_by"] for h in history} == {"user:root"}
    assert [e["type"] for e in events(uow, "opportunity", opp["id"])] == [
        "opportunity.created", "opportunity.stage_changed", "opportunity.updated", "opportunity.stage_changed",
        "opportunity.stage_changed", "opportunity.stage_changed", "opportunity.stage_changed"]
    assert [e["version"] for e in events(uow, "opportunity", opp["id"])] == list(range(1, 8))
    assert len(audits(uow, "opportunity", opp["id"])) == 7


def test_a_change_that_changes_nothing_writes_nothing(client: TestClient, uow: UnitOfWork) -> None:
    opp = opportunity(client, company(client)["id"])
    before = counts(uow)
    same = move(client, opp["id"], stage="prospecting", title="中秋礼盒")
    assert same["version"] == opp["version"]
    assert counts(uow) == before


def test_a_board_drag_with_a_stale_version_is_refused(client: TestClient) -> None:
    opp = opportunity(client, company(client)["id"])
    move(client, opp["id"], stage="qualification")
    assert_problem(client.patch(f"{OPPS}/{opp['id']}", json={"stage": "proposal", "version": opp["version"]}),
                   409, "version")


def test_board_groups_by_stage_with_counts_totals_and_weighted_values(client: TestClient) -> None:
    customer = company(client)
    other = company(client, "上海某银行")
    opportunity(client, customer["id"], expected_value=1_000_000)  # prospecting 10 %
    opportunity(client, customer["id"], expected_value=2_000_005)  # prospecting 10 %
    opportunity(client, other["id"], stage="proposal", expected_value=3_000_000, probability=40)
    opportunity(client, other["id"], stage="negotiation", expected_value=500_000)  # 75 %
    opportunity(client, customer["id"], stage="won", expected_value=700_000)
    opportunity(client, customer["id"], stage="lost", expected_value=900_000, lost_reason="预算取消")

    board = ok(client.get(f"{API}/pipeline"))
    columns = {c["stage"]: c for c in board["stages"]}
    assert [c["stage"] for c in board["stages"]] == ["prospecting", "qualification", "proposal", "negotiation",
                                                      "won", "lost"]
    assert {s: (c["count"], c["total_value"], c["weighted_value"]) for s, c in columns.items()} == {
        "prospecting": (2, 3_000_005, 300_001),  # 300000.5 rounds half up
        "qualification": (0, 0, 0),
        "proposal": (1, 3_000_000, 1_200_000),
        "negotiation": (1, 500_000, 375_000),
        "won": (1, 700_000, 700_000),
        "lost": (1, 900_000, 0),
    }
    assert board["open"] == {"count": 4, "total_value": 6_500_005, "weighted_value": 1_875_001}
    assert columns["qualification"]["default_probability"] == 20
    assert len(columns["prospecting"]["items"]) == 2 and not columns["prospecting"]["more"]

    limited = {c["stage"]: c for c in ok(client.get(f"{API}/pipeline", params={"per_stage": 1}))["stages"]}
    assert len(limited["prospecting"]["items"]) == 1 and limited["prospecting"]["more"]
    assert limited["prospecting"]["count"] == 2
    mine = ok(client.get(f"{API}/pipeline", params={"customer_id": other["id"]}))
    assert mine["open"] == {"count": 2, "total_value": 3_500_000, "weighted_value": 1_575_000}


def test_dragging_on_the_board_moves_value_between_columns(client: TestClient) -> None:
    opp = opportunity(client, company(client)["id"], expected_value=1_000_000)
    move(client, opp["id"], stage="negotiation")
    columns = {c["stage"]: c for c in ok(client.get(f"{API}/pipeline"))["stages"]}
    assert (columns["prospecting"]["count"], columns["negotiation"]["count"]) == (0, 1)
    assert columns["negotiation"]["weighted_value"] == 750_000


def test_opportunities_list_filters(client: TestClient) -> None:
    customer = company(client)
    a = opportunity(client, customer["id"])
    b = opportunity(client, customer["id"], stage="proposal")
    assert [o["id"] for o in ok(client.get(OPPS))["items"]] == [b["id"], a["id"]]
    assert [o["id"] for o in ok(client.get(OPPS, params={"stage": "proposal"}))["items"]] == [b["id"]]
    assert ok(client.get(OPPS, params={"owner": "someone"}))["items"] == []


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"customer_id": 999}, 404, "customer_id"),
    ({"title": " "}, 422, "title"),
    ({"stage": "closing"}, 422, "stage"),
    ({"probability": 101}, 422, "probability"),
    ({"stage": "won", "probability": 80}, 422, "probability"),
    ({"stage": "lost"}, 422, "lost_reason"),
    ({"expected_value": -1}, 422, "expected_value"),
    ({"expected_value": 12.5}, 422, "expected_value"),
    ({"expected_close_on": "next week"}, 422, "expected_close_on"),
    ({"owner": "nobody"}, 422, "owner"),
])
def test_bad_opportunities_name_the_field_and_write_nothing(client: TestClient, uow: UnitOfWork,
                                                            body: dict[str, Any], status: int, field: str) -> None:
    customer = company(client)
    before = counts(uow)
    response = client.post(OPPS, json={"customer_id": customer["id"], "title": "春节礼品", **body})
    assert_problem(response, status, field)
    assert counts(uow) == before
