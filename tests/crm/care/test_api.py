"""The care API: rules and policy (admin, manager), running the daily rules, listing messages (staff; a clerk
one customer at a time); bad input answers a problem naming the field."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi.testclient import TestClient

from teahub.crm.care.rules import local_date
from teahub.db.uow import UnitOfWork
from tests import factories as f
from tests.crm.care.helpers import CARE, person, problem, queue


def rule_list(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return list(response.json())


def test_rules_start_from_their_defaults(client: TestClient) -> None:
    rules = rule_list(client.get(f"{CARE}/rules"))
    assert [r["name"] for r in rules] == ["thank_you", "birthday", "repurchase_due", "win_back", "csat_survey"]
    win_back = rules[3]
    assert win_back["enabled"] and win_back["days"] == 90 and win_back["channel"] == "sms"
    assert win_back["customized"] is False and win_back["updated_by"] is None
    assert win_back["days_meaning"] and rules[0]["days"] is None and rules[0]["days_meaning"] is None


def test_a_manager_changes_a_rule_and_what_is_not_given_stays(client_as: Any) -> None:
    manager = client_as("manager", ["BJ01"], username="mgr")
    changed = f.ok(manager.put(f"{CARE}/rules/win_back", json={"days": 120, "template": "wb_2026"}))
    assert (changed["days"], changed["template"], changed["channel"], changed["enabled"]) == (
        120, "wb_2026", "sms", True)
    assert changed["customized"] and changed["updated_by"] == "user:mgr"
    off = f.ok(manager.put(f"{CARE}/rules/win_back", json={"enabled": False}))
    assert (off["enabled"], off["days"], off["template"]) == (False, 120, "wb_2026")
    listed = {r["name"]: r for r in rule_list(manager.get(f"{CARE}/rules"))}
    assert listed["win_back"] == off and listed["birthday"]["customized"] is False


def test_bad_rule_settings_name_the_field(client: TestClient) -> None:
    problem(client.put(f"{CARE}/rules/thank_you", json={"days": 3}), 422, "days")
    problem(client.put(f"{CARE}/rules/win_back", json={"days": 0}), 422, "days")
    problem(client.put(f"{CARE}/rules/repurchase_due", json={"days": 90}), 422, "days")
    problem(client.put(f"{CARE}/rules/birthday", json={"channel": "email"}), 422, "channel")
    problem(client.put(f"{CARE}/rules/birthday", json={"template": "no spaces"}), 422, "template")
    problem(client.put(f"{CARE}/rules/birthday", json={"colour": "red"}), 422, "colour")
    problem(client.put(f"{CARE}/rules/spam", json={}), 422, "name")
    assert all(not r["customized"] for r in rule_list(client.get(f"{CARE}/rules")))


def test_clerks_may_not_change_rules_policy_or_run(client_as: Any) -> None:
    clerk = client_as("clerk", ["BJ01"])
    problem(clerk.put(f"{CARE}/rules/birthday", json={"enabled": False}), 403, None)
    problem(clerk.put(f"{CARE}/policy", json={"max_messages": 9}), 403, None)
    problem(clerk.post(f"{CARE}/run"), 403, None)
    assert f.ok(clerk.get(f"{CARE}/policy"))["max_messages"] == 2


def test_the_policy_is_read_and_changed(client: TestClient) -> None:
    policy = f.ok(client.get(f"{CARE}/policy"))
    assert (policy["max_messages"], policy["window_days"], policy["customized"]) == (2, 7, False)
    changed = f.ok(client.put(f"{CARE}/policy", json={"max_messages": 3}))
    assert (changed["max_messages"], changed["window_days"], changed["customized"]) == (3, 7, True)
    problem(client.put(f"{CARE}/policy", json={"window_days": 0}), 422, "window_days")
    problem(client.put(f"{CARE}/policy", json={"max_messages": -1}), 422, "max_messages")
    assert f.ok(client.get(f"{CARE}/policy"))["max_messages"] == 3


def test_running_by_hand_answers_the_counts(client: TestClient, app: Any) -> None:
    uow = UnitOfWork(app.state.session_factory, actor="test")
    person(uow, birthday=date(1990, local_date(uow.now()).month, 1))
    answer = f.ok(client.post(f"{CARE}/run"))
    assert set(answer["rules"]) == {"birthday", "repurchase_due", "win_back"}
    assert answer["rules"]["birthday"] == {"enabled": True, "queued": 1, "duplicate": 0, "no_consent": 0,
                                           "capped": 0, "unreachable": 0}
    assert f.ok(client.post(f"{CARE}/run", json={}))["rules"]["birthday"]["duplicate"] == 1
    only = f.ok(client.post(f"{CARE}/run", json={"rule": "win_back"}))
    assert list(only["rules"]) == ["win_back"]
    problem(client.post(f"{CARE}/run", json={"rule": "thank_you"}), 422, "rule")


def test_messages_are_listed_in_pages(client: TestClient, app: Any) -> None:
    uow = UnitOfWork(app.state.session_factory, actor="test")
    wang, li = person(uow), person(uow)
    for key in ("a", "b"):
        queue(uow, wang, key, source="care:birthday")
    queue(uow, li, "c", source="campaign:12", params={"coupon": "SPRING30"})
    first = f.ok(client.get(f"{CARE}/messages", params={"limit": 2}))
    assert [m["dedupe_key"] for m in first["items"]] == ["a", "b"] and first["next"]
    rest = f.ok(client.get(f"{CARE}/messages", params={"after": first["next"]}))
    assert [m["dedupe_key"] for m in rest["items"]] == ["c"] and rest["next"] is None
    assert rest["items"][0]["params"] == {"coupon": "SPRING30"} and rest["items"][0]["status"] == "queued"
    mine = f.ok(client.get(f"{CARE}/messages", params={"customer_id": wang, "source": "care:birthday"}))
    assert [m["dedupe_key"] for m in mine["items"]] == ["a", "b"]
    assert f.ok(client.get(f"{CARE}/messages", params={"status": "sent"}))["items"] == []
    problem(client.get(f"{CARE}/messages", params={"after": "x"}), 422, "after")
    problem(client.get(f"{CARE}/messages", params={"status": "lost"}), 422, "status")
    problem(client.get(f"{CARE}/messages", params={"customer_id": 0}), 422, "customer_id")


def test_a_clerk_reads_one_customers_messages(client_as: Any, app: Any) -> None:
    uow = UnitOfWork(app.state.session_factory, actor="test")
    wang = person(uow)
    queue(uow, wang, "a")
    clerk = client_as("clerk", ["BJ01"])
    assert [m["dedupe_key"] for m in f.ok(clerk.get(f"{CARE}/messages", params={"customer_id": wang}))["items"]] \
        == ["a"]
    problem(clerk.get(f"{CARE}/messages"), 403, "customer_id")
