"""How values are shown: money as ¥ from fen, weights in g / 两 / 斤, times in Beijing time."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

SHOP_TIME = ZoneInfo("Asia/Shanghai")
GRAMS_PER_LIANG = 50
GRAMS_PER_JIN = 500


def money(fen: int | None) -> str:
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(int(fen)), 100)
    return f"{sign}¥{yuan:,}.{cents:02d}"


def weight(grams: int | None) -> str:
    """250 → "250 g (5 两)"; 1000 → "1,000 g (2 斤)": the 两/斤 figure when it is a whole or half number."""
    if grams is None:
        return "—"
    shown = f"{grams:,} g"
    if grams and grams % GRAMS_PER_JIN == 0:
        return f"{shown} ({grams // GRAMS_PER_JIN} 斤)"
    if grams and grams % (GRAMS_PER_LIANG // 2) == 0 and grams >= GRAMS_PER_LIANG:
        liang = grams / GRAMS_PER_LIANG
        return f"{shown} ({liang:g} 两)"
    return shown


def quantity(amount: int | None, unit: str | None) -> str:
    """A quantity in its product's base unit: grams as a weight, pieces as a count."""
    if amount is None:
        return "—"
    return weight(amount) if unit == "g" else f"{amount:,}"


def local_time(value: datetime | str | None, with_seconds: bool = False) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    shown = value.astimezone(SHOP_TIME) if value.tzinfo else value
    return shown.strftime("%Y-%m-%d %H:%M:%S" if with_seconds else "%Y-%m-%d %H:%M")


def local_date(value: date | datetime | str | None) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = value.astimezone(SHOP_TIME).date() if value.tzinfo else value.date()
    return value.isoformat()


def percent(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"
