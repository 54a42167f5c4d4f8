"""Knobs of the background runner, with defaults that suit one shop or many workers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any


@dataclass(frozen=True)
class WorkerOptions:
    # A claimed job slot whose run has not finished by then may be taken over by another worker.
    job_lease: timedelta = timedelta(minutes=10)
    # Failed attempts at one event before it is parked in subscription_failures and the cursor moves on.
    max_attempts: int = 10
    # The wait after the n-th failed attempt: backoff_base * 2**(n-1), at most backoff_max.
    backoff_base: timedelta = timedelta(seconds=1)
    backoff_max: timedelta = timedelta(minutes=10)
    # Events read per query, and handled per subscription per pass (so jobs are not starved).
    batch_size: int = 100
    max_events_per_pass: int = 1000

    def __post_init__(self) -> None:
        if self.job_lease <= timedelta(0):
            raise ValueError("job_lease must be positive")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.batch_size < 1 or self.max_events_per_pass < 1:
            raise ValueError("batch sizes must be at least 1")

    def backoff(self, attempts: int) -> timedelta:
        """How long to wait after `attempts` failed attempts."""
        exponent = max(attempts - 1, 0)
        if exponent >= 32:
            return self.backoff_max
        return min(self.backoff_base * (2**exponent), self.backoff_max)

    @classmethod
    def from_settings(cls, settings: Any) -> WorkerOptions:
        """Options from teahub Settings, for the fields it has (worker_job_lease_seconds, worker_max_attempts,
        worker_backoff_base_seconds, worker_backoff_max_seconds); defaults for the rest."""
        defaults = cls()

        def seconds(field: str, default: timedelta) -> timedelta:
            value = getattr(settings, field, None)
            return default if value is None else timedelta(seconds=float(value))

        attempts = getattr(settings, "worker_max_attempts", None)
        return cls(
            job_lease=seconds("worker_job_lease_seconds", defaults.job_lease),
            max_attempts=defaults.max_attempts if attempts is None else int(attempts),
            backoff_base=seconds("worker_backoff_base_seconds", defaults.backoff_base),
            backoff_max=seconds("worker_backoff_max_seconds", defaults.backoff_max),
        )
