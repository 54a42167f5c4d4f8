"""Slots: the start of the period a moment falls in, in UTC; the runner only ever asks for the latest one."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from teahub.scheduling import AnyOf, Daily, Every
from teahub.scheduling.options import WorkerOptions


def at(hour: int, minute: int = 0, second: int = 0, day: int = 1) -> datetime:
    return datetime(2025, 3, day, hour, minute, second, tzinfo=UTC)


def test_every_aligns_slots_on_the_epoch() -> None:
    quarter = Every(timedelta(minutes=15))
    assert quarter.latest_slot(at(10, 0)) == at(10, 0)
    assert quarter.latest_slot(at(10, 14, 59)) == at(10, 0)
    assert quarter.latest_slot(at(10, 15)) == at(10, 15)
    assert quarter.latest_slot(at(23, 59, 59)) == at(23, 45)


def test_every_can_be_anchored() -> None:
    hourly_at_ten_past = Every(timedelta(hours=1), anchor=at(0, 10))
    assert hourly_at_ten_past.latest_slot(at(10, 9)) == at(9, 10)
    assert hourly_at_ten_past.latest_slot(at(10, 10)) == at(10, 10)


def test_daily_slot_is_today_once_the_time_has_come_else_yesterday() -> None:
    daily = Daily(at=time(3, 0))
    assert daily.latest_slot(at(2, 59, day=2)) == at(3, day=1)
    assert daily.latest_slot(at(3, 0, day=2)) == at(3, day=2)
    assert daily.latest_slot(at(23, 0, day=2)) == at(3, day=2)


def test_slots_are_utc_whatever_zone_now_is_given_in() -> None:
    from zoneinfo import ZoneInfo

    beijing = datetime(2025, 3, 2, 11, 30, tzinfo=ZoneInfo("Asia/Shanghai"))  # 03:30 UTC
    assert Daily(at=time(3, 0)).latest_slot(beijing) == at(3, day=2)
    assert Daily(at=time(3, 0)).latest_slot(beijing).tzinfo == UTC


def test_combined_cadences_take_the_latest_slot_of_any() -> None:
    twice_a_day = Daily(at=time(3, 0)) | Daily(at=time(15, 0))
    assert isinstance(twice_a_day, AnyOf)
    assert twice_a_day.latest_slot(at(14, 0, day=2)) == at(3, day=2)
    assert twice_a_day.latest_slot(at(16, 0, day=2)) == at(15, day=2)
    assert twice_a_day.latest_slot(at(1, 0, day=2)) == at(15, day=1)
    assert len((twice_a_day | Every(timedelta(hours=6))).cadences) == 3


def test_nonsense_cadences_are_refused() -> None:
    with pytest.raises(ValueError):
        Every(timedelta(0))
    with pytest.raises(ValueError):
        Every(timedelta(minutes=5)).latest_slot(datetime(2025, 3, 1, 10, 0))  # naive
    with pytest.raises(ValueError):
        Daily(at=time(3, 0, tzinfo=UTC))


def test_backoff_doubles_up_to_its_cap() -> None:
    options = WorkerOptions(backoff_base=timedelta(seconds=1), backoff_max=timedelta(seconds=60))
    assert [options.backoff(n).total_seconds() for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert options.backoff(1000) == timedelta(seconds=60)
