"""Connectors: what carries events to one external system.

A connector is made for one target and gets batches of that target's events (envelopes, in seq order, never
two events of the same record in one batch, so it may send them in parallel). It answers for each event:
delivered, retry (a passing failure: the event is tried again later with backoff) or rejected (a permanent
failure: the event goes straight to the dead letters). It never raises for one event's failure.

    class OdooConnector:                      # later: ERP connectors and YAML mappings fit the same shape
        def __init__(self, target, sessions) -> None: ...  # target.options: database, mapping; sessions: the db
        def deliver(self, events): ...        # map each envelope, call the ERP, answer per event
        def close(self) -> None: ...

    register_connector("odoo", OdooConnector)
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import httpx
from sqlalchemy.orm import Session, sessionmaker

Status = Literal["delivered", "retry", "rejected"]

SIGNATURE_HEADER = "X-Teahub-Signature"
EVENT_ID_HEADER = "X-Teahub-Event-Id"
EVENT_TYPE_HEADER = "X-Teahub-Event-Type"
IDEMPOTENCY_HEADER = "Idempotency-Key"
USER_AGENT = "teahub-sync/1"
ERROR_MAX = 2000


@dataclass(frozen=True)
class TargetConfig:
    """What a connector is told about its target (the secret in clear)."""

    id: int
    name: str
    kind: str
    url: str
    secret: str | None
    timeout_seconds: float = 10.0
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Result:
    event_id: str
    status: Status
    error: str | None = None
    retry_after: float | None = None  # seconds the receiver asked us to wait (Retry-After)

    @classmethod
    def delivered(cls, event_id: str) -> Result:
        return cls(event_id, "delivered")

    @classmethod
    def retry(cls, event_id: str, error: str, retry_after: float | None = None) -> Result:
        return cls(event_id, "retry", error[:ERROR_MAX], retry_after)

    @classmethod
    def rejected(cls, event_id: str, error: str) -> Result:
        return cls(event_id, "rejected", error[:ERROR_MAX])


class Connector(Protocol):
    def deliver(self, events: Sequence[dict[str, Any]]) -> list[Result]:
        """One result per event, in any order (matched by event id)."""
        ...

    def close(self) -> None: ...


# A factory gets the target and the database's session factory (for connectors that read records or keep state).
ConnectorFactory = Callable[[TargetConfig, sessionmaker[Session]], Connector]
_CONNECTORS: dict[str, ConnectorFactory] = {}


def register_connector(kind: str, factory: ConnectorFactory) -> None:
    _CONNECTORS[kind] = factory


def connector_kinds() -> list[str]:
    return sorted(_CONNECTORS)


def make_connector(target: TargetConfig, sessions: sessionmaker[Session]) -> Connector:
    factory = _CONNECTORS.get(target.kind)
    if factory is None:
        raise LookupError(f"no connector for kind {target.kind!r}")
    return factory(target, sessions)


# -- the generic webhook ------------------------------------------------------------------------------------
def sign(secret: str, body: bytes) -> str:
    """The signature header's value: `sha256=` and the hex HMAC-SHA256 of the raw request body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """What a receiver does: recompute the HMAC over the raw body and compare in constant time."""
    return header is not None and hmac.compare_digest(sign(secret, body), header)


def encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode()


RETRYABLE_STATUSES = frozenset({408, 425, 429})


def classify(event_id: str, response: httpx.Response) -> Result:
    """2xx delivered; 408/425/429/5xx retry (honouring Retry-After); any other answer rejected."""
    if 200 <= response.status_code < 300:
        return Result.delivered(event_id)
    error = f"HTTP {response.status_code}: {response.text[:500]}"
    if response.status_code in RETRYABLE_STATUSES or response.status_code >= 500:
        return Result.retry(event_id, error, _retry_after(response.headers.get("retry-after")))
    return Result.rejected(event_id, error)


def _retry_after(value: str | None) -> float | None:
    try:
        return max(float(value), 0.0) if value else None
    except ValueError:
        return None  # an HTTP date: use our own backoff


class WebhookConnector:
    """POSTs each event as JSON to the target's URL, signed with HMAC-SHA256 of the raw body in
    `X-Teahub-Signature: sha256=<hex>`; the event id goes in `X-Teahub-Event-Id` and `Idempotency-Key` (the
    receiver dedupes on it: delivery is at least once)."""

    parallel = 8

    def __init__(self, target: TargetConfig, sessions: sessionmaker[Session] | None = None) -> None:
        self.target = target
        self.client = httpx.Client(timeout=target.timeout_seconds, follow_redirects=False,
                                   headers={"User-Agent": USER_AGENT})
        self.pool = ThreadPoolExecutor(self.parallel, thread_name_prefix=f"webhook-{target.name}")

    def _post(self, event: dict[str, Any]) -> Result:
        body = encode(event)
        headers = {"Content-Type": "application/json", EVENT_ID_HEADER: event["id"], IDEMPOTENCY_HEADER: event["id"],
                   EVENT_TYPE_HEADER: event["type"]}
        if self.target.secret:
            headers[SIGNATURE_HEADER] = sign(self.target.secret, body)
        try:
            response = self.client.post(self.target.url, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            return Result.retry(event["id"], f"timeout after {self.target.timeout_seconds}s: {exc!r}")
        except httpx.HTTPError as exc:
            return Result.retry(event["id"], f"{type(exc).__name__}: {exc}")
        return classify(event["id"], response)

    def deliver(self, events: Sequence[dict[str, Any]]) -> list[Result]:
        if len(events) == 1:
            return [self._post(events[0])]
        return list(self.pool.map(self._post, events))

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.client.close()


register_connector("webhook", WebhookConnector)

# The ERP connectors (Odoo, Kingdee, Yonyou) register themselves; imported here so that every process that
# knows the webhook kind knows them too.
import teahub.sync.erp  # noqa: E402, F401
