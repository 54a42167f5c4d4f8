"""Points arithmetic and tier choice, with no I/O. Points are whole numbers; money is fen."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class TierRule:
    code: str
    rank: int
    threshold: int
    price_list: str
    multiplier_permille: int


def points_earned(cash_paid_fen: int, *, points_per_yuan: int, multiplier_permille: int) -> int:
    """Points for what was paid in money (not points): per whole yuan, times the tier's multiplier."""
    if cash_paid_fen <= 0:
        return 0
    return (cash_paid_fen // 100) * points_per_yuan * multiplier_permille // 1000


def reversal_due(earned: int, cash_paid: int, cash_refunded: int, reversed_so_far: int) -> int:
    """Points to take back now so that, in total, the reversal is the refunded share of what was earned
    (rounded half up). A full refund takes back exactly what was earned."""
    if earned <= 0 or cash_paid <= 0:
        return 0
    refunded = min(cash_refunded, cash_paid)
    target = (2 * earned * refunded + cash_paid) // (2 * cash_paid)
    return max(target - reversed_so_far, 0)


def tier_for(spend: int, tiers: Sequence[TierRule], *, floor: str | None) -> str | None:
    """The highest tier whose threshold the spend reaches; never below `floor` (a member stays a member)."""
    reached = [t for t in tiers if t.threshold <= spend]
    best = max(reached, key=lambda t: t.rank, default=None)
    floor_rule = next((t for t in tiers if t.code == floor), None)
    if best is None or (floor_rule is not None and floor_rule.rank > best.rank):
        return floor_rule.code if floor_rule else None
    return best.code


def expiring(expired_earnings: int, debits: int, balance: int) -> int:
    """Points to expire: what was earned in entries now past their expiry and not yet consumed (debits are
    taken from the oldest earnings first), never more than the balance."""
    return max(0, min(expired_earnings - debits, balance))
