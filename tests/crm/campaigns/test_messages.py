"""Launching a message campaign: care queues one message per reachable recipient with consent in force, once,
and the campaign records why the others got none."""

from __future__ import annotations

import re
import typing

from fastapi.testclient import TestClient

from teahub.crm.campaigns import rules, schemas
from teahub.crm.care import rules as care_rules
from teahub.crm.care import service as care
from teahub.db.uow import UnitOfWork
from tests.crm.campaigns.helpers import API, consent, ok, person, segment

SPRING = {"channel": "sms", "template": "spring_tea_2026", "params": {"tea": "明前龙井", "stores": 3}}


def test_channels_and_template_codes_are_those_care_sends() -> None:
    assert set(typing.get_args(schemas.Channel)) == set(care_rules.CHANNELS)
    pattern = schemas.MessageIn.model_fields["template"].metadata
    assert any(getattr(m, "pattern", None) == care_rules.TEMPLATE_PATTERN for m in pattern)
    assert re.fullmatch(care_rules.TEMPLATE_PATTERN, str(SPRING["template"]))
    assert set(care_rules.OUTCOMES) == rules.MESSAGE_OUTCOMES


def test_a_message_campaign_respects_consent_and_sends_once(client: TestClient, uow: UnitOfWork) -> None:
    agreed = person(client, "同意", "13500000001", tier="gold")
    silent = person(client, "未问", "13500000002", tier="gold")
    withdrawn = person(client, "撤回", "13500000003", tier="gold")
    no_phone = ok(client.post(f"{API}/customers", json={"name": "只有邮箱", "email": "a@example.com",
                                                         "tier": "gold"}), 201)
    consent(client, agreed, "marketing_sms", True)
    consent(client, withdrawn, "marketing_sms", True)
    consent(client, withdrawn, "marketing_sms", False)
    consent(client, no_phone, "marketing_sms", True)
    made = segment(client, "金卡", {"tiers": ["gold"]})
    campaign = ok(client.post(f"{API}/campaigns", json={"name": "春茶上新", "segment_id": made["id"],
                                                        "kind": "message", "message": SPRING}), 201)
    assert campaign["message"] == SPRING and campaign["coupon_code"] is None

    launched = ok(client.post(f"{API}/campaigns/{campaign['id']}/launch"))
    assert launched["status"] == "finished"
    assert {k: v for k, v in launched["outcomes"].items() if v} == {"queued": 1, "no_consent": 2, "unreachable": 1}
    messages = care.list_messages(uow, source=f"campaign:{campaign['id']}")
    assert [(m["customer_id"], m["channel"], m["template"], m["params"], m["dedupe_key"]) for m in messages] == [
        (agreed["id"], "sms", "spring_tea_2026", {"tea": "明前龙井", "stores": 3},
         f"campaign:{campaign['id']}:{agreed['id']}")]

    recipients = ok(client.get(f"{API}/campaigns/{campaign['id']}/recipients"))["items"]
    by_customer = {r["customer_id"]: r for r in recipients}
    assert (by_customer[agreed["id"]]["outcome"], by_customer[agreed["id"]]["reference"]) == (
        "queued", str(messages[0]["id"]))
    assert [by_customer[p["id"]]["outcome"] for p in (silent, withdrawn, no_phone)] == [
        "no_consent", "no_consent", "unreachable"]
    assert by_customer[silent["id"]]["reason"] == "no marketing consent in force for the channel"

    ok(client.post(f"{API}/campaigns/{campaign['id']}/launch"))
    assert len(care.list_messages(uow, source=f"campaign:{campaign['id']}")) == 1


def test_a_message_already_queued_for_the_cause_is_a_duplicate(client: TestClient, uow: UnitOfWork,
                                                               app: object) -> None:
    agreed = person(client, "同意", "13500000011", tier="gold")
    consent(client, agreed, "marketing_sms", True)
    made = segment(client, "金卡", {"tiers": ["gold"]})
    campaign = ok(client.post(f"{API}/campaigns", json={"name": "春茶上新", "segment_id": made["id"],
                                                        "kind": "message", "message": SPRING}), 201)
    # Queued for this campaign and customer before the launch got to it (e.g. by another launcher).
    care.queue_message(UnitOfWork(app.state.session_factory), agreed["id"],  # type: ignore[attr-defined]
                       channel="sms", template="spring_tea_2026", params={}, source=f"campaign:{campaign['id']}",
                       dedupe_key=f"campaign:{campaign['id']}:{agreed['id']}")
    launched = ok(client.post(f"{API}/campaigns/{campaign['id']}/launch"))
    assert launched["outcomes"]["duplicate"] == 1
    assert len(care.list_messages(uow, source=f"campaign:{campaign['id']}")) == 1
