"""The webhook connector without a broker: events reach a real HTTP receiver signed, once in effect, in
per-record order; failures retry with backoff, then become dead letters, which replay."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from teahub.sync import deadletters
from teahub.sync.connectors import sign, verify
from teahub.sync.delivery import deliver
from teahub.sync.status import records, status
from tests.sync.conftest import FAST, SECRET, Receiver
from tests.sync.helpers import add_target, record, uow_for


def drain(engine: Engine, target_id: int, rounds: int = 50) -> list[dict[str, Any]]:
    """Deliver until nothing is left to do right now (retries waiting out their backoff included)."""
    results = []
    for _ in range(rounds):
        result = deliver(uow_for(engine), target_id, options=FAST, budget=0.05)
        results.append(result.as_dict())
        if result.state == "idle" and not (result.delivered or result.retried or result.dead or result.held):
            st = status(uow_for(engine), broker=False)["targets"]
            if all(t["pending"] == 0 for t in st):
                break
    return results


def test_events_arrive_signed_once_and_in_record_order(engine: Engine, receiver: Receiver) -> None:
    target = add_target(engine, receiver.url, types=("order.*",))
    record(engine, [("order", "1"), ("order", "2"), ("order", "1"), ("order", "3"), ("order", "1")])
    record(engine, [("customer", "9")], event_type="customer.created")  # not subscribed

    drain(engine, target)

    assert len(receiver.applied) == 5 and receiver.duplicates == 0 and receiver.bad_signatures == 0
    assert receiver.by_record() == {"order:1": [1, 3, 5], "order:2": [2], "order:3": [4]}
    event = receiver.applied[0]
    headers = receiver.headers[event["id"]]
    assert headers["Idempotency-Key"] == headers["X-Teahub-Event-Id"] == event["id"]
    assert headers["X-Teahub-Event-Type"] == "order.paid"
    report = status(uow_for(engine), broker=False)["targets"][0]
    assert report["delivered"] == 5 and report["lag_events"] == 0 and report["last_success_at"] is not None
    (state,) = records(uow_for(engine), "erp", "order:1")
    assert state["last_seq"] == 5 and state["pending"] == 0


def test_a_failing_record_holds_back_only_its_own_later_events(engine: Engine, receiver: Receiver) -> None:
    target = add_target(engine, receiver.url, max_attempts=50)
    broken = {"order:12"}
    receiver.answer = lambda e: 500 if f"{e['aggregate_type']}:{e['aggregate_id']}" in broken else 200
    record(engine, [("order", "12"), ("order", "13"), ("order", "12"), ("order", "13")])

    drain(engine, target, rounds=5)
    assert receiver.by_record() == {"order:13": [2, 4]}  # order 12's second event waits behind its first
    assert status(uow_for(engine), broker=False)["targets"][0]["pending"] == 2

    broken.clear()
    drain(engine, target)
    assert receiver.by_record() == {"order:13": [2, 4], "order:12": [1, 3]}


def test_500s_and_timeouts_retry_then_dead_letter_then_replay(engine: Engine, receiver: Receiver) -> None:
    target = add_target(engine, receiver.url, max_attempts=3, timeout_seconds=1)
    answers = {"order:1": 500, "order:2": ("sleep", 1.5)}
    receiver.answer = lambda e: answers.get(f"{e['aggregate_type']}:{e['aggregate_id']}", 200)
    record(engine, [("order", "1"), ("order", "2"), ("order", "3"), ("order", "1")])

    drain(engine, target)

    assert receiver.by_record()["order:3"] == [3]
    letters = deadletters.list_dead_letters(uow_for(engine))
    # Order 1's second event waited behind its first, then got its own three attempts.
    assert [(d["event_seq"], d["attempts"]) for d in letters] == [(1, 3), (2, 3), (4, 3)]
    by_seq = {d["event_seq"]: d for d in letters}
    assert "HTTP 500" in by_seq[1]["error"] and "timeout" in by_seq[2]["error"]
    # The slow receiver applied order 2's event after our timeouts: at-least-once, deduped there.
    report = status(uow_for(engine), broker=False)["targets"][0]
    assert report["failures"] >= 6 and report["dead_letters"] == len(letters)

    answers.clear()
    replayed = deadletters.replay(uow_for(engine), by_seq[1]["id"])
    assert replayed == {"replayed": 1, "ids": [by_seq[1]["id"]]}
    drain(engine, target)
    assert 1 in receiver.by_record()["order:1"]
    assert deadletters.replay(uow_for(engine))["replayed"] == len(letters) - 1
    drain(engine, target)
    assert deadletters.list_dead_letters(uow_for(engine)) == []
    assert sorted(e["seq"] for e in receiver.applied) == [1, 2, 3, 4]
    assert receiver.by_record()["order:1"] == [1, 4]


def test_the_receiver_refuses_a_wrong_signature(engine: Engine, receiver: Receiver) -> None:
    target = add_target(engine, receiver.url, secret="not-the-shared-secret-at-all")
    record(engine, [("order", "1")])

    drain(engine, target)

    assert receiver.applied == [] and receiver.bad_signatures == 1  # 401 is permanent: no retries
    (letter,) = deadletters.list_dead_letters(uow_for(engine))
    assert letter["error"].startswith("HTTP 401") and letter["attempts"] == 1


def test_signature_is_hmac_sha256_of_the_raw_body() -> None:
    body = b'{"id":"e1","type":"order.paid"}'
    header = sign(SECRET, body)
    assert header.startswith("sha256=") and verify(SECRET, body, header)
    assert not verify(SECRET, body + b" ", header) and not verify("other-secret-xxxxxxx", body, header)
    assert not verify(SECRET, body, None)
