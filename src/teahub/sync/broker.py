"""RabbitMQ through pika's BlockingConnection: the relay's confirming publisher and the targets' queues.

Topology (prefix `teahub` unless configured):
- one durable fanout exchange per event type, `teahub.order.paid`; the relay publishes each event there with
  routing key = the type, persistent, message_id = the event id, body = the event envelope (JSON). External
  consumers bind their own queues to the type exchanges they want.
- one durable topic exchange `teahub:all`, bound to every type exchange; a target's durable queue
  `teahub.sync.<target>` is bound there with one key per event-type pattern (`order.paid`, `order.#`, `#`), so a
  message reaches the queue once however many of its keys match.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel

from teahub.sync import rules

DEFAULT_PREFIX = "teahub"
CONFIRM_TIMEOUT = 30.0
AMQP_ERRORS: tuple[type[BaseException], ...] = (pika.exceptions.AMQPError, OSError)


class BrokerError(RuntimeError):
    """The broker is unreachable, refused a message, or did not confirm in time."""


@dataclass(frozen=True)
class BrokerConfig:
    url: str
    prefix: str = DEFAULT_PREFIX

    @classmethod
    def from_settings(cls, settings: Any) -> BrokerConfig | None:
        """From TEAHUB_BROKER_URL (None when it is not set); the prefix from `broker_exchange_prefix` when the
        settings have one."""
        url = getattr(settings, "broker_url", None)
        if not url:
            return None
        return cls(url=url, prefix=getattr(settings, "broker_exchange_prefix", None) or DEFAULT_PREFIX)

    @property
    def all_exchange(self) -> str:
        return rules.all_exchange(self.prefix)

    def type_exchange(self, event_type: str) -> str:
        return rules.type_exchange(self.prefix, event_type)

    def queue(self, target_name: str) -> str:
        return rules.target_queue(self.prefix, target_name)


def connect(config: BrokerConfig) -> pika.BlockingConnection:
    params = pika.URLParameters(config.url)
    params.connection_attempts = 1
    params.socket_timeout = 5
    params.stack_timeout = 10
    params.blocked_connection_timeout = 30
    params.heartbeat = 30
    try:
        return pika.BlockingConnection(params)
    except AMQP_ERRORS as exc:
        raise BrokerError(f"cannot reach the broker: {type(exc).__name__}: {exc}") from exc


def _close(connection: pika.BlockingConnection | None) -> None:
    if connection is None:
        return
    try:
        if connection.is_open:
            connection.close()
    except AMQP_ERRORS:
        pass


class Publisher:
    """Publishes batches with publisher confirms: every message of a batch is sent, then the call waits until
    the broker has confirmed them all (it confirms persistent messages once they are safely queued). Any nack,
    a lost connection or a timeout raises BrokerError: the caller must not move its cursor."""

    def __init__(self, config: BrokerConfig) -> None:
        self.config = config
        self.connection = connect(config)
        try:
            self.channel: BlockingChannel = self.connection.channel()
            self.channel.exchange_declare(config.all_exchange, "topic", durable=True)
            # pika's blocking channel waits for each confirm in turn (~3k messages/s); its underlying channel
            # lets a whole batch be in flight and confirmed together.
            self._impl = self.channel._impl
            self._ready = False
            self._impl.confirm_delivery(ack_nack_callback=self._on_confirm, callback=self._on_select_ok)
            self._wait(lambda: self._ready, 10.0, "confirm mode")
        except AMQP_ERRORS as exc:
            _close(self.connection)
            raise BrokerError(f"broker channel failed: {type(exc).__name__}: {exc}") from exc
        self._tag = 0  # delivery tags count the messages published on this channel
        self._unconfirmed: set[int] = set()
        self._low = 1
        self._nacked = 0
        self._declared: set[str] = set()

    def _on_select_ok(self, _frame: Any) -> None:
        self._ready = True

    def _on_confirm(self, frame: Any) -> None:
        method = frame.method
        tag = method.delivery_tag
        if isinstance(method, pika.spec.Basic.Nack):
            self._nacked += 1
        if method.multiple:
            for confirmed in range(self._low, tag + 1):
                self._unconfirmed.discard(confirmed)
            self._low = max(self._low, tag + 1)
        else:
            self._unconfirmed.discard(tag)

    def _wait(self, done: Any, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrokerError(f"the broker did not confirm {what} within {timeout}s")
            # Confirms arrive on the underlying channel, which does not end a blocking wait early: poll in
            # short slices so a confirmed batch returns within a couple of milliseconds.
            self.connection.process_data_events(time_limit=min(left, 0.002))

    def _exchange(self, event_type: str) -> str:
        name = self.config.type_exchange(event_type)
        if name not in self._declared:
            self.channel.exchange_declare(name, "fanout", durable=True)
            self.channel.exchange_bind(destination=self.config.all_exchange, source=name)
            self._declared.add(name)
        return name

    def publish(self, events: Sequence[dict[str, Any]], timeout: float = CONFIRM_TIMEOUT) -> None:
        """Publish each envelope to its type's exchange and return once the broker confirmed all of them."""
        if not events:
            return
        try:
            self._nacked = 0
            for event in events:
                exchange = self._exchange(event["type"])
                properties = pika.BasicProperties(
                    delivery_mode=pika.DeliveryMode.Persistent, message_id=event["id"], type=event["type"],
                    content_type="application/json",
                    headers={"seq": event["seq"], "aggregate_type": event["aggregate_type"],
                             "aggregate_id": event["aggregate_id"]})
                self._impl.basic_publish(exchange, event["type"], json.dumps(event, separators=(",", ":")).encode(),
                                         properties)
                self._tag += 1
                self._unconfirmed.add(self._tag)
            self._wait(lambda: not self._unconfirmed, timeout, f"{len(events)} messages")
        except AMQP_ERRORS as exc:
            raise BrokerError(f"publishing failed: {type(exc).__name__}: {exc}") from exc
        if self._nacked:
            raise BrokerError(f"the broker refused {self._nacked} of {len(events)} messages")

    def close(self) -> None:
        _close(self.connection)


class QueueConsumer:
    """A target's durable queue: bound to the patterns it wants, consumed with a bounded prefetch. The queue is
    single-active-consumer, so however many workers attach, one gets the messages (in order)."""

    def __init__(self, config: BrokerConfig, target_name: str, prefetch: int = 500) -> None:
        self.config = config
        self.queue = config.queue(target_name)
        self.prefetch = prefetch
        self.connection = connect(config)
        self.buffer: list[tuple[int, dict[str, Any]]] = []
        self._consuming = False
        try:
            self.channel = self.connection.channel()
            self.channel.exchange_declare(config.all_exchange, "topic", durable=True)
            self.channel.queue_declare(self.queue, durable=True, arguments={"x-single-active-consumer": True})
            self.channel.basic_qos(prefetch_count=prefetch)
        except AMQP_ERRORS as exc:
            _close(self.connection)
            raise BrokerError(f"cannot open queue {self.queue}: {type(exc).__name__}: {exc}") from exc

    def bind(self, keys: Sequence[str], previous: Sequence[str] = ()) -> None:
        try:
            for key in keys:
                self.channel.queue_bind(self.queue, self.config.all_exchange, routing_key=key)
            for key in set(previous) - set(keys):
                self.channel.queue_unbind(self.queue, self.config.all_exchange, routing_key=key)
        except AMQP_ERRORS as exc:
            raise BrokerError(f"binding {self.queue} failed: {type(exc).__name__}: {exc}") from exc

    def _on_message(self, _channel: Any, method: Any, _properties: Any, body: bytes) -> None:
        self.buffer.append((method.delivery_tag, json.loads(body)))

    def fetch(self, limit: int, wait: float) -> list[tuple[int, dict[str, Any]]]:
        """Up to `limit` messages (delivery tag, envelope), waiting at most `wait` seconds for the first."""
        try:
            if not self._consuming:
                self.channel.basic_consume(self.queue, self._on_message)
                self._consuming = True
            deadline = time.monotonic() + wait
            self.connection.process_data_events(time_limit=0)
            while not self.buffer:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.connection.process_data_events(time_limit=min(left, 0.05))
        except AMQP_ERRORS as exc:
            raise BrokerError(f"consuming {self.queue} failed: {type(exc).__name__}: {exc}") from exc
        taken, self.buffer = self.buffer[:limit], self.buffer[limit:]
        return taken

    def ready_count(self) -> int:
        """Messages in the queue not yet handed to a consumer."""
        try:
            return int(self.channel.queue_declare(self.queue, passive=True).method.message_count)
        except AMQP_ERRORS as exc:
            raise BrokerError(f"inspecting {self.queue} failed: {type(exc).__name__}: {exc}") from exc

    def ack_upto(self, delivery_tag: int) -> None:
        try:
            self.channel.basic_ack(delivery_tag=delivery_tag, multiple=True)
        except AMQP_ERRORS as exc:
            raise BrokerError(f"acknowledging on {self.queue} failed: {type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        _close(self.connection)


def delete_queue(config: BrokerConfig, target_name: str) -> None:
    connection = connect(config)
    try:
        connection.channel().queue_delete(config.queue(target_name))
    except AMQP_ERRORS as exc:
        raise BrokerError(f"deleting the queue of {target_name} failed: {exc}") from exc
    finally:
        _close(connection)
