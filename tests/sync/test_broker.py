"""Outbox → RabbitMQ → target, against a real broker: each event published persistent to its type's exchange
with message_id = event id; no loss when the broker is away or the relay dies mid-batch (duplicates, absorbed);
a broker-fed target delivers once in effect and in per-record order."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest
from sqlalchemy import Engine

from teahub.sync import cursors
from teahub.sync.broker import BrokerConfig, BrokerError
from teahub.sync.delivery import deliver
from teahub.sync.models import SyncCursor
from teahub.sync.relay import relay
from teahub.sync.status import status
from tests.sync.conftest import FAST, FAST_RELAY, BrokerFixture, Receiver, closed_port
from tests.sync.helpers import add_target, record, record_many, uow_for


def relay_position(engine: Engine) -> int:
    uow = uow_for(engine)
    with uow.reading():
        row = uow.session.get(SyncCursor, cursors.RELAY)
        return row.position if row else 0


def test_each_event_goes_to_its_type_exchange_persistent_with_its_id(engine: Engine, broker: BrokerFixture) -> None:
    tap = broker.tap()
    record(engine, [("order", "1"), ("order", "2")], event_type="order.paid")
    record(engine, [("sku", "A")], event_type="stock.changed")

    result = relay(uow_for(engine), broker.config, options=FAST_RELAY)

    assert result.published == 3 and relay_position(engine) == 3
    messages = broker.drain(tap)
    assert [(p.type, p.delivery_mode, p.message_id == e["id"]) for p, e in messages] == [
        ("order.paid", 2, True), ("order.paid", 2, True), ("stock.changed", 2, True)]
    assert [e["seq"] for _, e in messages] == [1, 2, 3]
    # Anyone can bind to one type's exchange.
    connection, channel = broker.channel()
    try:
        queue = channel.queue_declare("", exclusive=True).method.queue
        channel.queue_bind(queue, broker.config.type_exchange("stock.changed"))
        record(engine, [("sku", "B")], event_type="stock.changed")
        record(engine, [("order", "3")], event_type="order.paid")
        relay(uow_for(engine), broker.config, options=FAST_RELAY)
        method, _props, body = channel.basic_get(queue, auto_ack=True)
        assert method is not None and b'"aggregate_id":"B"' in body
        assert channel.basic_get(queue, auto_ack=True)[0] is None
    finally:
        connection.close()


def test_broker_down_then_back_loses_nothing(engine: Engine, broker: BrokerFixture) -> None:
    tap = broker.tap()
    record_many(engine, 30)
    down = BrokerConfig(url=f"amqp://guest:guest@127.0.0.1:{closed_port()}/", prefix=broker.config.prefix)

    with pytest.raises(BrokerError):
        relay(uow_for(engine), down, options=FAST_RELAY)
    assert relay_position(engine) == 0
    report = status(uow_for(engine), broker=True)["relay"]
    assert report["lag_events"] == 30 and report["failures"] == 1 and "cannot reach" in report["last_error"]

    time.sleep(0.05)  # the relay's pause
    record_many(engine, 10)
    result = relay(uow_for(engine), broker.config, options=FAST_RELAY)
    assert result.published == 40 and relay_position(engine) == 40
    assert sorted(e["seq"] for _, e in broker.drain(tap)) == list(range(1, 41))
    assert status(uow_for(engine), broker=True)["relay"]["consecutive_failures"] == 0


KILLER = textwrap.dedent("""
    import os, sys
    from datetime import timedelta
    from teahub.db.engine import make_engine, make_session_factory
    from teahub.db.uow import UnitOfWork
    from teahub.sync.broker import BrokerConfig, Publisher
    from teahub.sync.relay import RelayOptions, relay

    class DiesMidBatch(Publisher):
        def publish(self, events, timeout=30.0):
            super().publish(events[: len(events) // 2])  # half the batch is out and confirmed...
            os._exit(9)                                  # ...and the process dies before moving its cursor

    url, broker_url, prefix = sys.argv[1:4]
    engine = make_engine(url)
    relay(UnitOfWork(make_session_factory(engine)), BrokerConfig(broker_url, prefix),
          options=RelayOptions(batch_size=100, lease=timedelta(seconds=1)), publisher_factory=DiesMidBatch)
""")


def test_relay_killed_mid_batch_republishes_and_the_receiver_dedupes(
        engine: Engine, db_url: str, broker: BrokerFixture, receiver: Receiver) -> None:
    target = add_target(engine, receiver.url, types=("order.*",))
    deliver(uow_for(engine), target, broker=broker.config, options=FAST)  # the target's queue is bound
    broker.queues.add(broker.config.queue("erp"))
    tap = broker.tap()
    record_many(engine, 60, records=7)

    died = subprocess.run([sys.executable, "-c", KILLER, db_url, broker.config.url, broker.config.prefix],
                          capture_output=True, text=True, timeout=60)
    assert died.returncode == 9, died.stderr
    assert relay_position(engine) == 0  # the cursor did not move

    time.sleep(1.1)  # the dead relay's lease runs out
    assert relay(uow_for(engine), broker.config, options=FAST_RELAY).published == 60
    published = broker.drain(tap)
    assert len(published) == 90  # 30 twice: duplicates, never loss
    assert {e["seq"] for _, e in published} == set(range(1, 61))

    deliver(uow_for(engine), target, broker=broker.config, options=FAST)
    assert sorted(e["seq"] for e in receiver.applied) == list(range(1, 61)) and receiver.duplicates == 0
    assert all(seqs == sorted(seqs) for seqs in receiver.by_record().values())


def test_a_broker_fed_target_delivers_in_record_order_with_retries(
        engine: Engine, broker: BrokerFixture, receiver: Receiver) -> None:
    record(engine, [("order", "0")])  # before the target exists: not for it
    target = add_target(engine, receiver.url, types=("order.*",), start="end", max_attempts=50)
    broker.queues.add(broker.config.queue("erp"))
    record(engine, [("order", "1")])  # after the target, before its queue is bound: caught up from the outbox
    deliver(uow_for(engine), target, broker=broker.config, options=FAST)
    assert [e["seq"] for e in receiver.applied] == [2]

    flaky = {"order:5": 3}

    def answer(event: dict) -> int:  # type: ignore[type-arg]
        key = f"{event['aggregate_type']}:{event['aggregate_id']}"
        if flaky.get(key, 0) > 0:
            flaky[key] -= 1
            return 503
        return 200

    receiver.answer = answer
    record_many(engine, 50, records=10)
    record(engine, [("sku", "X")], event_type="stock.changed")  # not for this target
    relay(uow_for(engine), broker.config, options=FAST_RELAY)
    relay(uow_for(engine), broker.config, options=FAST_RELAY)  # nothing new: no duplicates either

    deadline = time.monotonic() + 20
    while len(receiver.applied) < 51 and time.monotonic() < deadline:
        deliver(uow_for(engine), target, broker=broker.config, options=FAST, budget=0.2)
    assert sorted(e["seq"] for e in receiver.applied) == list(range(2, 53)) and receiver.duplicates == 0
    assert all(seqs == sorted(seqs) for seqs in receiver.by_record().values())
    deliver(uow_for(engine), target, broker=broker.config, options=FAST)
    report = status(uow_for(engine), broker=True)["targets"][0]
    assert report["pending"] == 0 and report["lag_events"] == 0 and report["failures"] >= 3
