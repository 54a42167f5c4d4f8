"""The demo's calendar: the reference moment, the year of trading before it, festivals and harvests.

Everything is derived from one reference date so that a seed always gives the same data on the same day.
China is UTC+8 and has no daylight saving: local shop hours are converted with a fixed offset.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

CHINA = timedelta(hours=8)

# Lunar-calendar festivals (Gregorian dates of 春节 Spring Festival and 中秋 Mid-Autumn).
SPRING_FESTIVAL = {
    2023: date(2023, 1, 22), 2024: date(2024, 2, 10), 2025: date(2025, 1, 29), 2026: date(2026, 2, 17),
    2027: date(2027, 2, 6), 2028: date(2028, 1, 26), 2029: date(2029, 2, 13), 2030: date(2030, 2, 3),
    2031: date(2031, 1, 23), 2032: date(2032, 2, 11), 2033: date(2033, 1, 31), 2034: date(2034, 2, 19),
    2035: date(2035, 2, 8), 2036: date(2036, 1, 28),
}
MID_AUTUMN = {
    2023: date(2023, 9, 29), 2024: date(2024, 9, 17), 2025: date(2025, 10, 6), 2026: date(2026, 9, 25),
    2027: date(2027, 9, 15), 2028: date(2028, 10, 3), 2029: date(2029, 9, 22), 2030: date(2030, 9, 12),
    2031: date(2031, 10, 1), 2032: date(2032, 9, 19), 2033: date(2033, 9, 8), 2034: date(2034, 9, 27),
    2035: date(2035, 9, 16), 2036: date(2036, 10, 4),
}

# When each season's leaves are picked (month, day): 明前 before Qingming (Apr 5), 雨前 before Guyu (Apr 20).
HARVEST = {
    "明前": (3, 28), "清明": (4, 5), "雨前": (4, 14), "谷雨": (4, 20), "春": (4, 25),
    "夏": (6, 25), "秋": (10, 8), "冬": (11, 28),
}


def spring_festival(year: int) -> date:
    return SPRING_FESTIVAL.get(year, date(year, 2, 5))


def mid_autumn(year: int) -> date:
    return MID_AUTUMN.get(year, date(year, 9, 20))


def china_time(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A Beijing wall-clock moment as an aware UTC datetime."""
    return datetime.combine(day, time(hour, minute, second), tzinfo=UTC) - CHINA


def china_date(moment: datetime) -> date:
    return (moment + CHINA).date()


@dataclass(frozen=True)
class Timeline:
    """The demo's year: orders are placed in [start, now)."""

    today: date
    now: datetime  # the reference moment: 08:00 Beijing time today
    start: datetime

    @classmethod
    def ending(cls, today: date) -> Timeline:
        now = datetime.combine(today, time(0, 0), tzinfo=UTC)
        return cls(today=today, now=now, start=now - timedelta(days=365))

    def days(self) -> list[date]:
        """The Beijing calendar days with trading in the window."""
        first, last = china_date(self.start), china_date(self.now - timedelta(seconds=1))
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]

    def festivals(self) -> list[tuple[str, date]]:
        """Spring Festivals and Mid-Autumns that fall within (or just after) the window."""
        out: list[tuple[str, date]] = []
        for year in range(self.start.year, self.today.year + 2):
            for name, day in (("spring", spring_festival(year)), ("autumn", mid_autumn(year))):
                if china_date(self.start) <= day <= self.today + timedelta(days=40):
                    out.append((name, day))
        return sorted(out, key=lambda item: item[1])


def latest_harvest(season: str | None, before: date, *, lag_days: int = 10) -> date:
    """The most recent picking of a season whose tea could be received on `before`."""
    month, day = HARVEST.get(season or "春", HARVEST["春"])
    year = before.year
    while True:
        picked = date(year, month, day)
        if picked + timedelta(days=lag_days) <= before:
            return picked
        year -= 1


def vintage_date(season: str | None, year: int) -> date:
    month, day = HARVEST.get(season or "春", HARVEST["春"])
    return date(year, month, day)


def month_start(day: date) -> date:
    return day.replace(day=1)
