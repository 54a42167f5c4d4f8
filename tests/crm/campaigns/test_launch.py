"""Launching a coupon campaign: the segment's members when it is launched each get the coupon once, however
often it is launched, after a crash halfway, or when loyalty refuses some grants."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from teahub.crm.campaigns import launching, service, tasks
from teahub.db.uow import UnitOfWork
from teahub.errors import ValidationFailed
from teahub.loyalty import coupons
from teahub.loyalty.coupon_models import Coupon
from tests.crm.campaigns.helpers import (
    API,
    assert_problem,
    coupon,
    coupon_campaign,
    events,
    grants,
    ids,
    ok,
    person,
    segment,
)


def _gold(client: TestClient, n: int) -> list[dict[str, Any]]:
    return [person(client, f"金{i}", f"1360000{i:04d}", tier="gold") for i in range(n)]


def _campaign(client: TestClient, **coupon_terms: Any) -> dict[str, Any]:
    made = segment(client, "金卡", {"tiers": ["gold"]})
    coupon(client, **coupon_terms)
    return coupon_campaign(client, made["id"])


def _recipients(client: TestClient, campaign_id: int, **params: Any) -> list[dict[str, Any]]:
    return ok(client.get(f"{API}/campaigns/{campaign_id}/recipients", params={"limit": 500, **params}))["items"]


def test_launching_twice_grants_each_member_once(client: TestClient, uow: UnitOfWork) -> None:
    gold = _gold(client, 3)
    person(client, "银", "13600009999", tier="silver")
    campaign = _campaign(client)
    assert (campaign["status"], campaign["recipients"], campaign["segment"]) == ("draft", 0, "金卡")

    launched = ok(client.post(f"{API}/campaigns/{campaign['id']}/launch"))
    assert (launched["status"], launched["recipients"], launched["pending"]) == ("finished", 3, 0)
    assert launched["outcomes"]["granted"] == 3 and launched["launched_by"] == "user:root"
    assert grants(uow, campaign["id"]) == [(p["id"], "issued") for p in gold]

    late = person(client, "后来的金", "13600008888", tier="gold")  # joins the segment after the launch
    again = ok(client.post(f"{API}/campaigns/{campaign['id']}/launch"))
    assert (again["status"], again["recipients"], again["version"]) == ("finished", 3, launched["version"])
    assert len(grants(uow, campaign["id"])) == 3
    assert late["id"] not in [r["customer_id"] for r in _recipients(client, campaign["id"])]

    mine = ok(client.get(f"{API}/customers/{gold[0]['id']}/coupons"))["items"]
    assert [(c["coupon"], c["source"]) for c in mine] == [("COMEBACK", f"campaign:{campaign['id']}")]
    recipients = _recipients(client, campaign["id"])
    assert [(r["customer_id"], r["outcome"], r["reference"]) for r in recipients] == [
        (p["id"], "granted", c["code"]) for p, c in zip(
            gold, [ok(client.get(f"{API}/customers/{p['id']}/coupons"))["items"][0] for p in gold], strict=True)]
    assert [e["type"] for e in events(uow, "campaign", campaign["id"])] == [
        "campaign.created", "campaign.launched", "campaign.finished"]
    finished = events(uow, "campaign", campaign["id"])[-1]["payload"]
    assert finished["recipients"] == 3 and finished["outcomes"]["granted"] == 3


def test_refused_grants_are_recorded_and_the_launch_goes_on(client: TestClient, uow: UnitOfWork,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    gold = _gold(client, 3)
    campaign = _campaign(client)
    real_grant = coupons.grant

    def limited(uow_: UnitOfWork, code: str, customer_id: int, source: str | None = None) -> dict[str, Any]:
        granted = real_grant(uow_, code, customer_id, source)  # written, then refused: the grant must not stay
        if customer_id == gold[1]["id"]:
            raise ValidationFailed(f"coupon {code} was used 1 times by this customer already", field="coupon")
        return granted

    monkeypatch.setattr(coupons, "grant", limited)
    launched = ok(client.post(f"{API}/campaigns/{campaign['id']}/launch"))
    assert launched["status"] == "finished"
    assert (launched["outcomes"]["granted"], launched["outcomes"]["refused"]) == (2, 1)
    assert grants(uow, campaign["id"]) == [(gold[0]["id"], "issued"), (gold[2]["id"], "issued")]
    refused = _recipients(client, campaign["id"], outcome="refused")
    assert [(r["customer_id"], r["reason"], r["reference"]) for r in refused] == [
        (gold[1]["id"], "coupon COMEBACK was used 1 times by this customer already", None)]


def test_a_coupon_no_longer_given_is_refused_to_every_recipient(client: TestClient, uow: UnitOfWork) -> None:
    _gold(client, 2)
    campaign = _campaign(client)
    with uow:
        uow.session.execute(update(Coupon).where(Coupon.code == "COMEBACK").values(active=False))
        uow.commit()
    launched = ok(client.post(f"{API}/campaigns/{campaign['id']}/launch"))
    assert (launched["status"], launched["outcomes"]["refused"], launched["outcomes"]["granted"]) == (
        "finished", 2, 0)
    assert {r["reason"] for r in _recipients(client, campaign["id"])} == {"coupon COMEBACK is no longer given"}
    assert grants(uow, campaign["id"]) == []


def test_a_launch_that_crashed_halfway_resumes_without_granting_twice(
        client: TestClient, app: Any, uow: UnitOfWork, monkeypatch: pytest.MonkeyPatch) -> None:
    gold = _gold(client, 5)
    campaign = _campaign(client)
    monkeypatch.setattr(launching, "BATCH", 2)
    real_grant, calls = coupons.grant, []

    def crashing(uow_: UnitOfWork, code: str, customer_id: int, source: str | None = None) -> dict[str, Any]:
        calls.append(customer_id)
        granted = real_grant(uow_, code, customer_id, source)
        if len(calls) == 4:
            raise RuntimeError("the process died")
        return granted

    monkeypatch.setattr(coupons, "grant", crashing)
    factory = app.state.session_factory
    with pytest.raises(RuntimeError):
        service.launch_campaign(UnitOfWork(factory, actor="user:root"), campaign["id"])
    halfway = ok(client.get(f"{API}/campaigns/{campaign['id']}"))
    assert (halfway["status"], halfway["recipients"], halfway["pending"]) == ("launched", 5, 3)
    assert grants(uow, campaign["id"]) == [(gold[0]["id"], "issued"), (gold[1]["id"], "issued")]

    monkeypatch.setattr(coupons, "grant", real_grant)
    assert tasks.resume_launches(UnitOfWork(factory, actor="worker")) == {"resumed": 1}
    done = ok(client.get(f"{API}/campaigns/{campaign['id']}"))
    assert (done["status"], done["pending"], done["outcomes"]["granted"]) == ("finished", 0, 5)
    assert grants(uow, campaign["id"]) == [(p["id"], "issued") for p in gold]
    assert tasks.resume_launches(UnitOfWork(factory, actor="worker")) == {"resumed": 0}


def test_recipients_are_the_members_at_launch(client: TestClient, app: Any, uow: UnitOfWork) -> None:
    first, second, third = _gold(client, 3)
    campaign = _campaign(client)
    factory = app.state.session_factory
    taken = service.launch_campaign(UnitOfWork(factory, actor="user:root"), campaign["id"], max_batches=0)
    assert (taken["status"], taken["recipients"], taken["pending"]) == ("launched", 3, 3)
    # After the members were taken: one is merged into another and one erased before they get the coupon.
    ok(client.post(f"{API}/customers/{first['id']}/merge", json={"source_id": second["id"]}))
    ok(client.post(f"{API}/customers/{third['id']}/erase", json={"reason": "PIPL request"}))
    done = ok(client.post(f"{API}/campaigns/{campaign['id']}/launch"))
    assert (done["outcomes"]["granted"], done["outcomes"]["unreachable"]) == (1, 2)
    assert grants(uow, campaign["id"]) == [(first["id"], "issued")]
    assert ids(second, third) == [r["customer_id"] for r in _recipients(client, campaign["id"], outcome="unreachable")]


def test_an_empty_segment_finishes_at_once(client: TestClient) -> None:
    campaign = _campaign(client)
    launched = ok(client.post(f"{API}/campaigns/{campaign['id']}/launch"))
    assert (launched["status"], launched["recipients"]) == ("finished", 0)
    assert launched["finished_at"] is not None


def test_campaigns_are_checked_and_listed(client: TestClient, client_as: Callable[..., TestClient]) -> None:
    made = segment(client, "金卡", {"tiers": ["gold"]})
    coupon(client)
    coupon(client, "RETIRED", active=False)
    body = {"name": "回归", "segment_id": made["id"], "kind": "coupon", "coupon_code": "COMEBACK"}
    assert_problem(client.post(f"{API}/campaigns", json={**body, "coupon_code": "NOPE"}), 404, "coupon_code")
    assert_problem(client.post(f"{API}/campaigns", json={**body, "coupon_code": "RETIRED"}), 422, "coupon_code")
    assert_problem(client.post(f"{API}/campaigns", json={**body, "segment_id": 999}), 404, "segment_id")
    assert_problem(client.post(f"{API}/campaigns", json={**body, "coupon_code": None}), 422, "coupon_code")
    assert_problem(client.post(f"{API}/campaigns", json={**body, "kind": "message"}), 422, "message")
    assert_problem(client.post(f"{API}/campaigns", json={**body, "attribution_days": 0}), 422, "attribution_days")
    assert_problem(client.post(f"{API}/campaigns", json={**body, "message": {"channel": "sms", "template": "x"}}),
                   422, "message")
    first = ok(client.post(f"{API}/campaigns", json=body), 201)
    second = ok(client.post(f"{API}/campaigns", json={**body, "name": "再来"}), 201)
    ok(client.post(f"{API}/campaigns/{first['id']}/launch"))

    clerk = client_as("clerk", ["BJ01"])
    assert [c["id"] for c in ok(clerk.get(f"{API}/campaigns"))["items"]] == [second["id"], first["id"]]
    assert [c["id"] for c in ok(clerk.get(f"{API}/campaigns", params={"status": "draft"}))["items"]] == [
        second["id"]]
    page = ok(clerk.get(f"{API}/campaigns", params={"limit": 1}))
    assert ok(clerk.get(f"{API}/campaigns", params={"limit": 1, "cursor": page["next"]}))["items"][0]["id"] == (
        first["id"])
    assert ok(clerk.get(f"{API}/campaigns/{first['id']}"))["status"] == "finished"
    assert ok(clerk.get(f"{API}/campaigns/{first['id']}/results"))["recipients"] == 0
    assert clerk.post(f"{API}/campaigns", json=body).status_code == 403
    assert clerk.post(f"{API}/campaigns/{second['id']}/launch").status_code == 403
    assert_problem(client.get(f"{API}/campaigns/999"), 404, "id")
    assert_problem(client.post(f"{API}/campaigns/999/launch"), 404, "id")


def test_a_launch_out_of_time_leaves_the_rest_to_the_resume_job(client: TestClient, app: Any,
                                                                 uow: UnitOfWork) -> None:
    gold = _gold(client, 3)
    campaign = _campaign(client)
    factory = app.state.session_factory
    answered = service.launch_campaign(UnitOfWork(factory, actor="user:root"), campaign["id"], budget_seconds=0)
    assert (answered["status"], answered["recipients"], answered["pending"]) == ("launched", 3, 3)
    assert ok(client.get(f"{API}/campaigns", params={"status": "launched"}))["items"][0]["id"] == campaign["id"]
    assert tasks.resume_launches(UnitOfWork(factory, actor="worker")) == {"resumed": 1}
    assert grants(uow, campaign["id"]) == [(p["id"], "issued") for p in gold]
    assert ok(client.get(f"{API}/campaigns/{campaign['id']}"))["status"] == "finished"
