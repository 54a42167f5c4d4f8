"""Each segment rule selects exactly the customers it describes (through the preview API and the evaluation
itself), on SQLite and PostgreSQL; conditions are ANDed; only active customers are members."""

from __future__ import annotations

import typing
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from teahub.analytics import segments
from teahub.analytics.rules import SEGMENTS
from teahub.crm.campaigns.rules import ConsentPurpose, RfmSegment, SegmentRules
from teahub.customers.privacy import PURPOSES
from teahub.db.uow import UnitOfWork
from tests.analytics.shop import ago
from tests.crm.campaigns.helpers import (
    API,
    CUP,
    GREEN,
    PRICE,
    RAW,
    assert_problem,
    consent,
    ids,
    ok,
    person,
    selected,
    sell,
    shop,
)


def test_rule_vocabularies_are_those_of_rfm_and_consent() -> None:
    assert set(typing.get_args(RfmSegment)) == set(SEGMENTS)
    assert set(typing.get_args(ConsentPurpose)) == set(PURPOSES)


def test_tiers_select_members_of_those_tiers_only_while_active(client: TestClient) -> None:
    gold = person(client, "金", "13800000001", tier="gold")
    silver = person(client, "银", "13800000002", tier="silver")
    member = person(client, "普", "13800000003", tier="member")
    person(client, "无", "13800000004")  # no tier: pays list price
    merged = person(client, "合", "13800000005", tier="member")
    erased = person(client, "删", "13800000006", tier="gold")
    ok(client.post(f"{API}/customers/{silver['id']}/merge", json={"source_id": merged["id"]}))
    ok(client.post(f"{API}/customers/{erased['id']}/erase", json={"reason": "PIPL request"}))

    assert selected(client, {"tiers": ["gold"]}) == ids(gold)
    assert selected(client, {"tiers": ["gold", "silver"]}) == ids(gold, silver)
    assert selected(client, {"tiers": ["member"]}) == ids(member)  # the merged one is no longer a customer
    assert selected(client, {"tiers": ["vip"]}) == []
    assert_problem(client.post(f"{API}/segments/preview", json={"rules": {"tiers": ["platinum"]}}), 422,
                   "rules.tiers.0")


def test_last_purchase_and_no_purchase_count_sold_orders(client: TestClient) -> None:
    shop(client)
    recent = person(client, "近", "13800000011")
    month = person(client, "月", "13800000012")
    old = person(client, "久", "13800000013")
    never = person(client, "未", "13800000014")
    unpaid = person(client, "欠", "13800000015")
    sell(client, recent, GREEN, at=ago(5))
    sell(client, recent, GREEN, at=ago(300))
    sell(client, month, GREEN, at=ago(40))
    sell(client, old, GREEN, at=ago(200))
    ok(client.post(f"{API}/orders", json={"channel": "web", "location": "BJ01", "customer": {"id": unpaid["id"]},
                                          "lines": [{"sku": GREEN, "quantity": 1}]}), 201)  # never paid

    assert selected(client, {"last_purchase_within_days": 30}) == ids(recent)
    assert selected(client, {"last_purchase_within_days": 250}) == ids(recent, month, old)
    assert selected(client, {"no_purchase_for_days": 30}) == ids(month, old, never, unpaid)
    # Both: last bought between 30 and 100 days ago.
    assert selected(client, {"last_purchase_within_days": 100, "no_purchase_for_days": 30}) == ids(month)
    # Lapsed buyers only: who never bought is left out by asking for some spend.
    assert selected(client, {"no_purchase_for_days": 30, "min_lifetime_spend": 1}) == ids(month, old)
    assert_problem(client.post(f"{API}/segments/preview", json={"rules": {
        "last_purchase_within_days": 30, "no_purchase_for_days": 30}}), 422, "rules.no_purchase_for_days")


def test_bought_categories_include_sub_categories_and_leave_out_full_refunds(client: TestClient) -> None:
    shop(client)
    puerh = person(client, "普洱客", "13800000021")
    green = person(client, "绿茶客", "13800000022")
    cups = person(client, "茶具客", "13800000023")
    returned = person(client, "退货客", "13800000024")
    sell(client, puerh, RAW, at=ago(10))
    sell(client, green, GREEN, at=ago(100))
    sell(client, cups, CUP, at=ago(3))
    refunded = sell(client, returned, RAW, at=ago(5))
    ok(client.post(f"{API}/orders/{refunded['id']}/refunds", json={"lines": [{"sku": RAW, "quantity": 1}]}), 201)

    assert selected(client, {"bought_categories": ["puerh"]}) == ids(puerh)  # raw pu-erh is pu-erh
    assert selected(client, {"bought_categories": ["puerh_raw"]}) == ids(puerh)
    assert selected(client, {"bought_categories": ["green", "puerh"]}) == ids(puerh, green)
    assert selected(client, {"bought_categories": ["green"], "bought_within_days": 30}) == []
    assert selected(client, {"bought_categories": ["puerh", "teaware"], "bought_within_days": 30}) == ids(puerh, cups)
    assert_problem(client.post(f"{API}/segments/preview", json={"rules": {"bought_categories": ["coffee"]}}), 422,
                   "rules.bought_categories.0")
    assert_problem(client.post(f"{API}/segments/preview", json={"rules": {"bought_within_days": 30}}), 422,
                   "rules.bought_within_days")


def test_stores_select_who_bought_there_or_calls_it_home(client: TestClient) -> None:
    shop(client)
    bought = person(client, "上海买", "13800000031")
    home = person(client, "上海家", "13800000032", home_store="SH01")
    elsewhere = person(client, "北京买", "13800000033", home_store="BJ01")
    sell(client, bought, GREEN, at=ago(20), store="SH01")
    sell(client, elsewhere, GREEN, at=ago(20), store="BJ01")
    sell(client, None, GREEN, at=ago(1), store="SH01")  # a walk-in

    assert selected(client, {"stores": ["SH01"]}) == ids(bought, home)
    assert selected(client, {"stores": ["BJ01", "SH01"]}) == ids(bought, home, elsewhere)
    assert selected(client, {"stores": ["WH01"]}) == []
    assert_problem(client.post(f"{API}/segments/preview", json={"rules": {"stores": ["SH01", "GZ01"]}}), 422,
                   "rules.stores.1")


def test_birth_month_and_the_current_month_in_beijing_time(client: TestClient, app: object) -> None:
    march = person(client, "三月", "13800000041", birthday="1990-03-15")
    july = person(client, "七月", "13800000042", birthday="1985-07-01")
    person(client, "不详", "13800000043")

    assert selected(client, {"birth_month": 3}) == ids(march)
    assert selected(client, {"birth_month": 12}) == []
    factory = app.state.session_factory  # type: ignore[attr-defined]
    rules = SegmentRules(birth_month="current")
    # 2026-06-30 17:00 UTC is already 1 July in Beijing.
    beijing_july = UnitOfWork(factory, clock=lambda: datetime(2026, 6, 30, 17, 0, tzinfo=UTC))
    assert [m["id"] for m in segments.preview(beijing_july, rules)["members"]] == ids(july)
    utc_still_june = UnitOfWork(factory, clock=lambda: datetime(2026, 6, 30, 15, 0, tzinfo=UTC))
    assert segments.preview(utc_still_june, rules)["size"] == 0
    assert client.post(f"{API}/segments/preview", json={"rules": {"birth_month": 13}}).status_code == 422


def test_consent_counts_the_latest_record_per_purpose(client: TestClient) -> None:
    given = person(client, "同意", "13800000051")
    withdrawn = person(client, "撤回", "13800000052")
    regiven = person(client, "再同意", "13800000053")
    other = person(client, "微信", "13800000054")
    person(client, "未问", "13800000055")
    consent(client, given, "marketing_sms", True)
    consent(client, withdrawn, "marketing_sms", True)
    consent(client, withdrawn, "marketing_sms", False)
    consent(client, regiven, "marketing_sms", False)
    consent(client, regiven, "marketing_sms", True)
    consent(client, other, "marketing_wechat", True)
    consent(client, other, "marketing_sms", False)

    assert selected(client, {"consent": "marketing_sms"}) == ids(given, regiven)
    assert selected(client, {"consent": "marketing_wechat"}) == ids(other)
    assert client.post(f"{API}/segments/preview", json={"rules": {"consent": "spam"}}).status_code == 422


def test_min_lifetime_spend_is_net_of_refunds(client: TestClient) -> None:
    shop(client)
    big = person(client, "大", "13800000061")
    small = person(client, "小", "13800000062")
    refunded = person(client, "退", "13800000063")
    for days in (10, 200, 900):  # every paid order counts, however old
        sell(client, big, GREEN, at=ago(days))
    sell(client, small, GREEN, at=ago(10))
    order = sell(client, refunded, GREEN, at=ago(10), quantity=3)
    ok(client.post(f"{API}/orders/{order['id']}/refunds", json={"lines": [{"sku": GREEN, "quantity": 2}]}), 201)

    assert selected(client, {"min_lifetime_spend": 3 * PRICE}) == ids(big)
    assert selected(client, {"min_lifetime_spend": PRICE}) == ids(big, small, refunded)
    assert selected(client, {"min_lifetime_spend": PRICE + 1}) == ids(big)
    assert selected(client, {"min_lifetime_spend": 2**31}) == []  # beyond a 32-bit integer: no error


def test_rfm_segments_match_the_rfm_report(client: TestClient) -> None:
    shop(client)
    histories = {"champion": [2, 20, 40, 60, 80], "loyal": [10, 30, 50, 70], "middling": [40, 90, 150],
                 "sleepy": [100, 200], "gone": [300]}
    people = {}
    for i, (name, days) in enumerate(histories.items()):
        people[name] = person(client, name, f"1380000007{i}")
        for d in days:
            sell(client, people[name], GREEN, at=ago(d))
    person(client, "no orders", "13800000079")

    assert selected(client, {"rfm_segments": ["champions"]}) == ids(people["champion"])
    assert selected(client, {"rfm_segments": ["hibernating", "lost"]}) == ids(people["sleepy"], people["gone"])
    assert selected(client, {"rfm_segments": ["new", "at_risk"]}) == []
    report = ok(client.get(f"{API}/reports/rfm", params={"segment": "need_attention"}))
    assert selected(client, {"rfm_segments": ["need_attention"]}) == [c["customer_id"] for c in report["items"]]


def test_conditions_are_anded(client: TestClient) -> None:
    shop(client)
    both = person(client, "两者", "13800000081", tier="gold", home_store="SH01")
    person(client, "只金", "13800000082", tier="gold")
    person(client, "只店", "13800000083", tier="member", home_store="SH01")
    consent(client, both, "marketing_wechat", True)
    sell(client, both, RAW, at=ago(3), store="SH01")

    assert selected(client, {"tiers": ["gold"], "stores": ["SH01"]}) == ids(both)
    assert selected(client, {"tiers": ["gold"], "stores": ["SH01"], "consent": "marketing_wechat",
                             "bought_categories": ["puerh"], "last_purchase_within_days": 7,
                             "min_lifetime_spend": PRICE}) == ids(both)
    assert selected(client, {"tiers": ["gold"], "stores": ["SH01"], "bought_categories": ["green"]}) == []


def test_rules_refuse_unknown_fields_and_need_a_condition(client: TestClient) -> None:
    assert_problem(client.post(f"{API}/segments/preview", json={"rules": {}}), 422, "rules")
    assert_problem(client.post(f"{API}/segments/preview", json={"rules": {"tiers": ["gold"], "colour": "red"}}),
                   422, "rules.colour")
    assert_problem(client.post(f"{API}/segments/preview", json={"rules": {"tiers": []}}), 422, "rules.tiers")


def test_preview_lists_the_first_twenty_and_counts_all(client: TestClient) -> None:
    people = [person(client, f"客{i}", f"139000000{i:02d}", tier="silver") for i in range(23)]
    answer = ok(client.post(f"{API}/segments/preview", json={"rules": {"tiers": ["silver"]}}))
    assert answer["size"] == 23
    assert [m["id"] for m in answer["members"]] == ids(*people)[:20]
    assert answer["members"][0] == {"id": people[0]["id"], "name": "客0", "tier": "silver"}
