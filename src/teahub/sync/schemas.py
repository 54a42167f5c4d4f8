from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints


class EventOut(BaseModel):
    id: str
    seq: int
    type: str
    occurred_at: str
    aggregate_type: str
    aggregate_id: str
    version: int
    payload: dict[str, Any]


class EventPage(BaseModel):
    items: list[EventOut]
    next: str | None = None


# -- outbound sync ------------------------------------------------------------------------------------------
class TargetIn(BaseModel):
    """A connector subscription. `event_types`: exact types (`order.paid`), `prefix.*` or `*`."""

    name: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
    kind: Literal["webhook", "odoo", "kingdee", "yonyou"] = "webhook"
    url: Annotated[str, StringConstraints(min_length=8, max_length=2000)]
    secret: Annotated[str, StringConstraints(min_length=16, max_length=256)] | None = None
    event_types: Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=64)]],
                           Field(min_length=1, max_length=50)]
    enabled: bool = True
    max_attempts: Annotated[int, Field(ge=1, le=50)] = 8
    timeout_seconds: Annotated[int, Field(ge=1, le=120)] = 10
    # Where a new target starts: with events recorded from now on ("end") or with the whole outbox.
    start: Literal["end", "beginning"] = "end"


class TargetPatch(BaseModel):
    url: Annotated[str, StringConstraints(min_length=8, max_length=2000)] | None = None
    secret: Annotated[str, StringConstraints(min_length=16, max_length=256)] | None = None
    event_types: Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=64)]],
                           Field(min_length=1, max_length=50)] | None = None
    enabled: bool | None = None
    max_attempts: Annotated[int, Field(ge=1, le=50)] | None = None
    timeout_seconds: Annotated[int, Field(ge=1, le=120)] | None = None


class TargetOut(BaseModel):
    id: int
    name: str
    kind: str
    url: str
    has_secret: bool
    event_types: list[str]
    enabled: bool
    max_attempts: int
    timeout_seconds: int
    created_at: datetime
    updated_at: datetime


class DeadLetterOut(BaseModel):
    id: int
    target: str
    event_seq: int
    event_id: str
    event_type: str
    record_key: str
    error: str
    attempts: int
    failed_at: datetime
    replays: int
    replayed_at: datetime | None
    resolved_at: datetime | None
    event: dict[str, Any]


class ReplayOut(BaseModel):
    """Dead letters queued again for delivery (they are resolved once delivered)."""

    replayed: int
    ids: list[int]


class RelayStatus(BaseModel):
    position: int
    lag_events: int
    lag_seconds: float
    published: int
    failures: int
    consecutive_failures: int
    paused_until: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None


class TargetStatus(BaseModel):
    name: str
    kind: str
    enabled: bool
    position: int | None
    lag_events: int
    lag_seconds: float
    pending: int
    dead_letters: int
    delivered: int
    failures: int
    consecutive_failures: int
    paused_until: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None


class SyncStatus(BaseModel):
    now: datetime
    broker: bool
    newest_seq: int
    relay: RelayStatus | None
    targets: list[TargetStatus]


class RecordStatus(BaseModel):
    target: str
    record_key: str
    last_seq: int
    last_event_id: str | None
    last_success_at: datetime | None
    failures: int
    last_error: str | None
    last_error_at: datetime | None
    pending: int


# -- mappings, ERP options, reconciliation ------------------------------------------------------------------
class MappingInfo(BaseModel):
    name: str
    version: int
    target: str
    record: str


class MappingPreviewIn(BaseModel):
    """A mapping (YAML text) and the record to try it on: a `sample` (an order or customer as teahub shows it)
    or a stored one (`record_id`). `lookups` and `options` stand in for a target's."""

    mapping: Annotated[str, StringConstraints(min_length=1, max_length=200_000)]
    sample: dict[str, Any] | None = None
    record_id: Annotated[int, Field(ge=1, le=2**53)] | None = None
    lookups: dict[str, dict[str, Any]] | None = None
    options: dict[str, Any] | None = None


class MappingPreviewOut(BaseModel):
    mapping: str
    version: int
    target: str
    record: str
    document: dict[str, Any]


class TargetOptionsIn(BaseModel):
    """Connector settings: e.g. Odoo {database, login, default_partner_id}; Kingdee {app_id, acct_id, user,
    sale_org}; Yonyou {from_account, to_account, app_key}; and for all {mappings: {order, customer},
    lookups: {table: {key: value}}}."""

    options: dict[str, Any]


class TargetOptionsOut(BaseModel):
    name: str
    kind: str
    options: dict[str, Any]


class ReconcileMissing(BaseModel):
    record_key: str
    reference: str
    mapping: str | None


class ReconcileDifferent(BaseModel):
    record_key: str
    reference: str
    external_id: str | None
    mapping: str | None
    problems: list[str]
    repairable: bool


class ReconcileOut(BaseModel):
    target: str
    kind: str
    days: int
    checked: int
    missing: list[ReconcileMissing]
    different: list[ReconcileDifferent]
    repaired: int
    errors: list[str]
