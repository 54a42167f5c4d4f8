"""What the API answers about the background runner."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class JobRunOut(BaseModel):
    slot: str
    status: str  # running | succeeded | failed | stale (running, lease ran out: its worker died)
    claimed_by: str
    attempt: int
    started_at: str
    finished_at: str | None
    lease_until: str
    result: dict[str, Any] | None
    error: str | None


class JobStatus(BaseModel):
    name: str
    registered: bool
    cadence: str | None
    due_slot: str | None
    last_success_at: str | None
    last_run: JobRunOut | None


class SubscriptionStatus(BaseModel):
    name: str
    registered: bool
    event_types: list[str] | None
    position: int | None
    lag: int | None
    failing_seq: int | None
    attempts: int
    retry_at: str | None
    last_error: str | None
    last_error_at: str | None
    failures: int


class WorkerStatus(BaseModel):
    now: str
    newest_seq: int
    jobs: list[JobStatus]
    subscriptions: list[SubscriptionStatus]


class FailureOut(BaseModel):
    id: int
    subscription: str
    event_seq: int
    event_id: str
    event_type: str
    error: str
    attempts: int
    failed_at: str
    retried_at: str | None
    resolved_at: str | None
