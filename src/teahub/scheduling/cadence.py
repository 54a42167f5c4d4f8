"""When a job is due: a cadence maps a moment to the start of the slot it falls in (UTC).

A slot is the period start a job runs for. The runner only ever asks for the latest slot at or before now,
so a worker that was down over several slots runs the job once, for the latest one (no backfill storm).
Pure functions of time: no I/O.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; slots are computed in UTC")
    return moment.astimezone(UTC)


class Cadence(ABC):
    @abstractmethod
    def latest_slot(self, now: datetime) -> datetime:
        """The start (UTC) of the latest slot that has begun at `now`."""

    def __or__(self, other: Cadence) -> Cadence:
        """`Daily(at=time(3)) | Daily(at=time(15))`: due at each of them."""
        return AnyOf((*_parts(self), *_parts(other)))


def _parts(cadence: Cadence) -> tuple[Cadence, ...]:
    return cadence.cadences if isinstance(cadence, AnyOf) else (cadence,)


@dataclass(frozen=True)
class Every(Cadence):
    """Every `interval`, slots aligned on `anchor` (default the Unix epoch, so 15 minutes gives :00, :15, …)."""

    interval: timedelta
    anchor: datetime = EPOCH

    def __post_init__(self) -> None:
        if self.interval <= timedelta(0):
            raise ValueError("the interval must be positive")
        _utc(self.anchor)

    def latest_slot(self, now: datetime) -> datetime:
        anchor = _utc(self.anchor)
        periods = (_utc(now) - anchor) // self.interval
        return anchor + periods * self.interval

    def __str__(self) -> str:
        return f"every {self.interval}"


@dataclass(frozen=True)
class Daily(Cadence):
    """Once a day at `at` (UTC; 03:00 Beijing time is `time(19, 0)` the day before)."""

    at: time

    def __post_init__(self) -> None:
        if self.at.tzinfo is not None:
            raise ValueError("give the time of day without a time zone; it is read as UTC")

    def latest_slot(self, now: datetime) -> datetime:
        now = _utc(now)
        today = datetime.combine(now.date(), self.at, tzinfo=UTC)
        return today if today <= now else today - timedelta(days=1)

    def __str__(self) -> str:
        return f"daily at {self.at.isoformat(timespec='minutes')} UTC"


@dataclass(frozen=True)
class AnyOf(Cadence):
    """Due at the slots of any of its cadences; the latest slot is the latest among them."""

    cadences: tuple[Cadence, ...]

    def __post_init__(self) -> None:
        if not self.cadences:
            raise ValueError("AnyOf needs at least one cadence")

    def latest_slot(self, now: datetime) -> datetime:
        return max(cadence.latest_slot(now) for cadence in self.cadences)

    def __str__(self) -> str:
        return " | ".join(str(cadence) for cadence in self.cadences)
