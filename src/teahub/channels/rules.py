"""Channel rules with no I/O: a shop's available-to-sell figure, which update is older, and how many units of
a line a platform refund gives back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from teahub.channels.models import RATIO_SCALE
from teahub.money import half_up_div


def ratio_points(ratio: Decimal) -> int:
    """0.5 → 5000 basis points, exactly."""
    return int((ratio * RATIO_SCALE).to_integral_value(ROUND_HALF_UP))


def available_to_sell(available: int, ratio_points: int, safety_stock: int, cap: int | None) -> int:
    """What a shop is shown (DOMAIN.md): floor(available × ratio) − safety stock, never below 0, at most the cap
    (teahub base units; see channels.stock)."""
    shown = available * ratio_points // RATIO_SCALE - safety_stock
    shown = max(shown, 0)
    return min(shown, cap) if cap is not None else shown


def platform_pieces(quantity: int, units_per_item: int) -> int:
    """Whole platform pieces in a quantity of teahub base units (a 250 g bag of 1,100 g shown: 4)."""
    return max(quantity, 0) // units_per_item


def is_older(*, version: int | None, modified_at: datetime | None, held_version: int | None,
             held_modified_at: datetime | None) -> bool:
    """An update older than what teahub holds: by the platform's version when both have one, else by the
    platform's modified time. An update that says nothing of either is not older."""
    if version is not None and held_version is not None:
        return version < held_version
    if modified_at is not None and held_modified_at is not None:
        return modified_at < held_modified_at
    return False


@dataclass(frozen=True)
class LineLeft:
    line_no: int
    sku: str
    quantity: int  # units not refunded yet
    net_left: int  # fen of the line not refunded yet


@dataclass(frozen=True)
class RefundPart:
    line: LineLeft
    units: int  # given back (0: money only)
    amount: int  # fen paid back on the line


def refund_parts(lines: list[LineLeft], amount: int, *, units_back: bool) -> list[RefundPart]:
    """How a platform refund of `amount` fen over these lines is recorded, to the fen: whole lines while the
    amount covers them, then the rest on the next line, as the units it pays for when the goods come back (or were
    never shipped), else as money only (refund only, 仅退款: the buyer keeps the goods)."""
    parts: list[RefundPart] = []
    left = amount
    for line in lines:
        if line.quantity <= 0 or left <= 0 or line.net_left <= 0:
            continue
        if left >= line.net_left:
            parts.append(RefundPart(line, line.quantity, line.net_left))
            left -= line.net_left
            continue
        units = min(line.quantity, max(1, half_up_div(left * line.quantity, line.net_left))) if units_back else 0
        parts.append(RefundPart(line, units, left))
        left = 0
    return parts
