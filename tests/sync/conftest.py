"""Fixtures for outbound sync: a real RabbitMQ (TEAHUB_TEST_BROKER_URL; in CI a broker that is unset or
unreachable fails the run, elsewhere it skips), names unique per test, and a real HTTP receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pika
import pytest

from teahub.sync.broker import BrokerConfig
from teahub.sync.delivery import DeliveryOptions
from teahub.sync.relay import RelayOptions
from teahub.sync.rules import Backoff

BROKER_URL = os.environ.get("TEAHUB_TEST_BROKER_URL")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SECRET = "s3cret-signing-key-for-tests"
EVENT_TYPES = ("order.created", "order.paid", "order.shipped", "stock.changed", "test.happened")

# Retries and pauses in milliseconds, so a test sees attempts run out in well under a second.
FAST = DeliveryOptions(batch_size=50, backoff=Backoff(timedelta(milliseconds=5), timedelta(milliseconds=40)),
                       pause=Backoff(timedelta(milliseconds=5), timedelta(milliseconds=40)),
                       lease=timedelta(seconds=30), fetch_wait=0.2, idle_wait=0.02)
FAST_RELAY = RelayOptions(batch_size=100, lease=timedelta(seconds=30),
                          pause=Backoff(timedelta(milliseconds=5), timedelta(milliseconds=20)), idle_wait=0.02)


def _unavailable(message: str) -> None:
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@dataclass
class BrokerFixture:
    config: BrokerConfig
    queues: set[str] = field(default_factory=set)

    def channel(self) -> Any:
        connection = pika.BlockingConnection(pika.URLParameters(self.config.url))
        return connection, connection.channel()

    def tap(self, binding: str = "#") -> str:
        """A queue of the test's own, bound to the all-exchange: sees every message the relay publishes."""
        connection, channel = self.channel()
        try:
            channel.exchange_declare(self.config.all_exchange, "topic", durable=True)
            name = f"{self.config.prefix}.tap.{uuid.uuid4().hex[:6]}"
            channel.queue_declare(name, durable=True)
            channel.queue_bind(name, self.config.all_exchange, routing_key=binding)
        finally:
            connection.close()
        self.queues.add(name)
        return name

    def drain(self, queue: str) -> list[tuple[Any, dict[str, Any]]]:
        connection, channel = self.channel()
        messages = []
        try:
            while True:
                method, properties, body = channel.basic_get(queue, auto_ack=True)
                if method is None:
                    return messages
                messages.append((properties, json.loads(body)))
        finally:
            connection.close()


@pytest.fixture
def broker() -> Iterator[BrokerFixture]:
    if not BROKER_URL:
        _unavailable("TEAHUB_TEST_BROKER_URL is not set")
    assert BROKER_URL
    try:
        pika.BlockingConnection(pika.URLParameters(BROKER_URL)).close()
    except Exception as exc:  # noqa: BLE001
        _unavailable(f"RabbitMQ at {BROKER_URL} is not reachable: {exc}")
    test = BrokerFixture(BrokerConfig(url=BROKER_URL, prefix=f"t{uuid.uuid4().hex[:10]}"))
    yield test
    connection, channel = test.channel()
    try:
        for name in test.queues:
            channel.queue_delete(name)
        for event_type in EVENT_TYPES:
            channel.exchange_delete(test.config.type_exchange(event_type))
        channel.exchange_delete(test.config.all_exchange)
    finally:
        connection.close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- the receiver -------------------------------------------------------------------------------------------
class Receiver:
    """A webhook receiver as a partner would write one: checks the HMAC of the raw body, dedupes on the event
    id, applies each event once. `answer(event)` decides what to do: a status code, or ("sleep", seconds)."""

    def __init__(self, secret: str = SECRET) -> None:
        self.secret = secret
        self.applied: list[dict[str, Any]] = []
        self.headers: dict[str, dict[str, str]] = {}
        self.requests = 0
        self.duplicates = 0
        self.bad_signatures = 0
        self.lock = threading.Lock()
        self.answer: Any = lambda event: 200
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/teahub"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - the http.server hook
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = receiver.receive(body, dict(self.headers))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler

    def receive(self, body: bytes, headers: dict[str, str]) -> int:
        with self.lock:
            self.requests += 1
        expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, headers.get("X-Teahub-Signature", "")):
            with self.lock:
                self.bad_signatures += 1
            return 401
        event = json.loads(body)
        decision = self.answer(event)
        if isinstance(decision, tuple):
            time.sleep(decision[1])
            decision = 200
        if decision != 200:
            return int(decision)
        with self.lock:
            if event["id"] in self.headers:
                self.duplicates += 1
            else:
                self.headers[event["id"]] = headers
                self.applied.append(event)
        return 200

    def ids(self) -> list[str]:
        with self.lock:
            return [e["id"] for e in self.applied]

    def by_record(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        with self.lock:
            for e in self.applied:
                out.setdefault(f"{e['aggregate_type']}:{e['aggregate_id']}", []).append(e["seq"])
        return out

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()
