"""Queueing a message: only with consent in force, only to a reachable customer, never beyond the cap, never
twice for one cause; the outbox event carries no personal data."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine

from teahub.crm.care import messages as messages_module
from teahub.crm.care import service
from teahub.crm.care.models import CustomerMessage
from teahub.customers import privacy
from teahub.customers import service as customers
from teahub.db.uow import UnitOfWork
from teahub.errors import Conflict, NotFound, ValidationFailed
from tests.crm.care.helpers import Clock, keys, message_count, person, queue, queued_events, uow_at


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def at(engine: Engine, clock: Clock) -> UnitOfWork:
    return uow_at(engine, clock)


def test_a_message_is_queued_with_its_event_and_no_personal_data(at: UnitOfWork, engine: Engine,
                                                                  clock: Clock) -> None:
    wang = person(at, name="王芳", birthday=date(1990, 5, 17))
    answer = queue(at, wang, "thank_you:order:7", template="care_thank_you", source="care:thank_you",
                   params={"order_id": 7, "order_number": "SO00000007"})
    assert answer["status"] == "queued"
    message = answer["message"]
    assert message["customer_id"] == wang and message["status"] == "queued"
    assert message["created_at"] == clock.now and message["dedupe_key"] == "thank_you:order:7"
    [event] = queued_events(engine)
    assert event["aggregate_type"] == "customer_message" and event["aggregate_id"] == str(message["id"])
    assert event["payload"] == {"message_id": message["id"], "customer_id": wang, "channel": "sms",
                                "template": "care_thank_you", "params": {"order_id": 7, "order_number": "SO00000007"},
                                "source": "care:thank_you"}
    phone = customers.get_customer(at, wang)["phone"]
    assert phone[-8:] not in str(event) and "王芳" not in str(event) and "1990" not in str(event)


def test_no_message_without_consent_for_the_channel(at: UnitOfWork, engine: Engine) -> None:
    nobody = person(at, consents=())
    sms_only = person(at, wechat=True, consents=("marketing_sms",))
    assert queue(at, nobody, "a")["status"] == "no_consent"
    assert queue(at, sms_only, "b", channel="wechat") == {"status": "no_consent", "message": None}
    assert queue(at, sms_only, "c", channel="sms")["status"] == "queued"
    assert keys(engine) == ["c"] and len(queued_events(engine)) == 1


def test_withdrawn_consent_stops_messages(at: UnitOfWork, engine: Engine) -> None:
    wang = person(at)
    privacy.record_consent(at, wang, "marketing_sms", False, "pos:BJ01")
    assert queue(at, wang, "a")["status"] == "no_consent"
    privacy.record_consent(at, wang, "marketing_sms", True, "web")
    assert queue(at, wang, "a")["status"] == "queued"


def test_a_customer_the_channel_cannot_reach_is_unreachable(at: UnitOfWork, engine: Engine) -> None:
    email_only = person(at, phone=False, email="li@example.com")
    phone_only = person(at)
    assert queue(at, email_only, "a", channel="sms")["status"] == "unreachable"
    assert queue(at, phone_only, "b", channel="wechat")["status"] == "unreachable"
    both = person(at, wechat=True)
    assert queue(at, both, "c", channel="wechat")["status"] == "queued"
    assert keys(engine) == ["c"]


def test_erased_and_merged_customers_get_nothing(at: UnitOfWork, engine: Engine) -> None:
    erased, merged, survivor = person(at), person(at), person(at)
    privacy.erase(at, erased, "asked at the counter")
    customers.merge_customers(at, survivor, merged)
    assert queue(at, erased, "a")["status"] == "unreachable"
    assert queue(at, merged, "b")["status"] == "unreachable"
    assert queue(at, survivor, "c")["status"] == "queued"
    assert keys(engine) == ["c"]


def test_the_same_cause_is_queued_once(at: UnitOfWork, engine: Engine) -> None:
    wang = person(at)
    first = queue(at, wang, "birthday:2026:1")
    again = queue(at, wang, "birthday:2026:1", params={"other": True})
    assert again["status"] == "duplicate" and again["message"] == first["message"]
    assert message_count(engine) == 1 and len(queued_events(engine)) == 1


def test_a_cause_queued_by_another_transaction_meanwhile_is_a_duplicate(at: UnitOfWork, engine: Engine,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The unique key decides, not the look before: the losing insert rolls back to its savepoint only."""
    wang, li = person(at), person(at)
    winner = queue(at, wang, "campaign:12:1")["message"]
    real = messages_module._by_key
    looks: list[str] = []

    def blind_first_looks(uow: UnitOfWork, key: str) -> CustomerMessage | None:
        # Both looks before the insert miss it, as they would if the other transaction committed just after.
        looks.append(key)
        return None if key == "campaign:12:1" and looks.count(key) <= 2 else real(uow, key)

    monkeypatch.setattr(messages_module, "_by_key", blind_first_looks)
    with at:
        kept = queue(at, li, "other-cause")  # written before, in the same transaction
        answer = queue(at, wang, "campaign:12:1")
        at.commit()
    assert answer == {"status": "duplicate", "message": winner} and looks.count("campaign:12:1") == 3
    assert kept["status"] == "queued" and keys(engine) == ["campaign:12:1", "other-cause"]
    assert len(queued_events(engine)) == 2


def test_the_cap_holds_per_customer_per_window(at: UnitOfWork, engine: Engine, clock: Clock) -> None:
    wang, li = person(at), person(at)
    assert queue(at, wang, "a")["status"] == "queued"
    clock.advance(days=3)
    assert queue(at, wang, "b")["status"] == "queued"
    assert queue(at, wang, "c") == {"status": "capped", "message": None}
    assert queue(at, li, "d")["status"] == "queued"  # another customer has a cap of their own
    clock.advance(days=4, seconds=1)  # "a" is now more than 7 days old
    assert queue(at, wang, "c")["status"] == "queued"
    assert queue(at, wang, "e")["status"] == "capped"
    assert keys(engine, wang) == ["a", "b", "c"]


def test_failed_deliveries_do_not_count_against_the_cap(at: UnitOfWork) -> None:
    wang = person(at)
    first = queue(at, wang, "a")["message"]
    queue(at, wang, "b")
    assert queue(at, wang, "c")["status"] == "capped"
    assert service.record_delivery(at, first["id"], "failed")["status"] == "failed"
    assert queue(at, wang, "c")["status"] == "queued"
    with pytest.raises(Conflict):
        service.record_delivery(at, first["id"], "sent")
    assert service.record_delivery(at, first["id"], "failed")["status"] == "failed"  # said again: no change


def test_the_policy_changes_the_cap(at: UnitOfWork) -> None:
    wang = person(at)
    assert service.put_policy(at, max_messages=1)["max_messages"] == 1
    assert service.get_policy(at)["window_days"] == 7
    queue(at, wang, "a")
    assert queue(at, wang, "b")["status"] == "capped"
    service.put_policy(at, max_messages=0)
    li = person(at)
    assert queue(at, li, "c")["status"] == "capped"


def test_concurrent_queueing_never_passes_the_cap(engine: Engine, at: UnitOfWork) -> None:
    wang = person(at)
    start = threading.Barrier(6)

    def one(n: int) -> str:
        start.wait()
        return str(queue(UnitOfWork(at._factory, actor="test"), wang, f"cause-{n}")["status"])

    with ThreadPoolExecutor(6) as pool:
        outcomes = sorted(pool.map(one, range(6)))
    assert outcomes == ["capped"] * 4 + ["queued"] * 2
    assert message_count(engine) == 2


def test_concurrent_queueing_of_one_cause_queues_it_once(engine: Engine, at: UnitOfWork) -> None:
    service.put_policy(at, max_messages=100)
    wang = person(at)
    start = threading.Barrier(6)

    def one(_: int) -> dict[str, Any]:
        start.wait()
        return queue(UnitOfWork(at._factory, actor="test"), wang, "csat:ticket:5")

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(one, range(6)))
    assert sorted(a["status"] for a in answers) == ["duplicate"] * 5 + ["queued"]
    assert len({a["message"]["id"] for a in answers}) == 1
    assert message_count(engine) == 1 and len(queued_events(engine)) == 1


def test_unknown_customers_and_bad_messages_are_refused(at: UnitOfWork, engine: Engine) -> None:
    with pytest.raises(NotFound):
        queue(at, 999_999, "a")
    wang = person(at)
    with pytest.raises(ValidationFailed) as refused:
        queue(at, wang, "a", channel="email")
    assert refused.value.field == "channel"
    assert message_count(engine) == 0


def test_messages_are_listed_by_filter_and_page(at: UnitOfWork) -> None:
    service.put_policy(at, max_messages=10)
    wang, li = person(at), person(at)
    queue(at, wang, "a", source="care:birthday")
    queue(at, li, "b", source="campaign:12")
    queue(at, wang, "c", source="campaign:12")
    listed = service.list_messages(at, customer_id=wang)
    assert [m["dedupe_key"] for m in listed] == ["a", "c"]
    assert [m["dedupe_key"] for m in service.list_messages(at, source="campaign:12")] == ["b", "c"]
    first = service.list_messages(at, limit=2)
    rest = service.list_messages(at, after_id=first[-1]["id"])
    assert [m["dedupe_key"] for m in first + rest] == ["a", "b", "c"]
    assert service.list_messages(at, status="sent") == []
    with pytest.raises(ValidationFailed):
        service.list_messages(at, status="lost")
