"""The rules of outbound sync as plain Python: event-type patterns, broker names, backoff with jitter, which
events may go out together. No I/O."""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from fnmatch import fnmatchcase
from typing import Any

TARGET_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
# An event type is dotted lower-case words ("order.paid"); a pattern is a type, "prefix.*" (every type under
# prefix) or "*" (every type).
_WORD = r"[a-z0-9_]+"
EVENT_TYPE = re.compile(rf"^{_WORD}(\.{_WORD})*$")
PATTERN = re.compile(rf"^(\*|{_WORD}(\.{_WORD})*(\.\*)?)$")
EXCHANGE_PREFIX = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


def valid_pattern(pattern: str) -> bool:
    return len(pattern) <= 64 and PATTERN.match(pattern) is not None


def matches(patterns: Iterable[str], event_type: str) -> bool:
    """`order.*` matches `order.paid` and `order.line.added`; `*` matches everything."""
    return any(fnmatchcase(event_type, pattern) for pattern in patterns)


def binding_key(pattern: str) -> str:
    """The AMQP topic binding key with the same meaning as the pattern (`#` is any number of words)."""
    if pattern == "*":
        return "#"
    if pattern.endswith(".*"):
        return pattern[:-2] + ".#"
    return pattern


# -- RabbitMQ names ------------------------------------------------------------------------------------------
def type_exchange(prefix: str, event_type: str) -> str:
    """Each event type has its own fanout exchange: `teahub.order.paid`."""
    return f"{prefix}.{event_type}"


def all_exchange(prefix: str) -> str:
    """A topic exchange every type exchange is bound to (routing key = event type): `teahub:all`. Targets bind
    their queue here with one key per pattern, so a message reaches a queue once however many keys match."""
    return f"{prefix}:all"


def target_queue(prefix: str, target_name: str) -> str:
    return f"{prefix}.sync.{target_name}"


# -- retries ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Backoff:
    base: timedelta = timedelta(seconds=1)
    cap: timedelta = timedelta(minutes=10)

    def delay(self, attempts: int, rng: random.Random | None = None) -> timedelta:
        """The wait after `attempts` failed attempts: exponential, capped, with "equal jitter" (between half
        and all of it), so that many records failing together do not come back together."""
        exponent = min(max(attempts - 1, 0), 32)
        full = min(self.base * (2**exponent), self.cap)
        return full * (0.5 + 0.5 * (rng or random).random())


# -- batching -----------------------------------------------------------------------------------------------
def record_key(event: dict[str, Any]) -> str:
    return f"{event['aggregate_type']}:{event['aggregate_id']}"[:100]


def split_distinct_records(events: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Cut events (in seq order) into consecutive chunks in which no record appears twice: a connector may then
    send one chunk's events in parallel and per-record order still holds across chunks."""
    chunks: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    seen: set[str] = set()
    for event in events:
        key = record_key(event)
        if key in seen:
            chunks.append(current)
            current, seen = [], set()
        current.append(event)
        seen.add(key)
    if current:
        chunks.append(current)
    return chunks
