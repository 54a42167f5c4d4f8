"""Coupon arithmetic with no I/O: which lines a coupon covers, how much it takes off, whether coupons stack."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from teahub.errors import ValidationFailed
from teahub.money import distribute


@dataclass(frozen=True)
class CouponTerms:
    code: str
    kind: str
    value: int
    percent_off: int
    threshold: int
    max_discount: int | None
    valid_from: datetime | None
    valid_until: datetime | None
    channels: tuple[str, ...]
    skus: tuple[str, ...]
    categories: tuple[str, ...]
    stackable: bool


@dataclass(frozen=True)
class LineForCoupon:
    sku: str
    category: str
    amount: int  # what the line costs after its own discount


def check_usable(terms: CouponTerms, channel: str, at: datetime, field: str) -> None:
    if terms.valid_from is not None and at < terms.valid_from:
        raise ValidationFailed(f"coupon {terms.code} is not valid yet", field=field)
    if terms.valid_until is not None and at >= terms.valid_until:
        raise ValidationFailed(f"coupon {terms.code} has expired", field=field)
    if terms.channels and channel not in terms.channels:
        raise ValidationFailed(f"coupon {terms.code} is not valid on {channel}", field=field)


def covered(terms: CouponTerms, line: LineForCoupon) -> bool:
    if not terms.skus and not terms.categories:
        return True
    return line.sku in terms.skus or line.category in terms.categories


def discount(terms: CouponTerms, lines: list[LineForCoupon], field: str) -> list[int]:
    """The discount per line (0 for lines the coupon does not cover), never more than a line's amount."""
    eligible = [line.amount if covered(terms, line) else 0 for line in lines]
    base = sum(eligible)
    if base == 0:
        raise ValidationFailed(f"coupon {terms.code} covers nothing in this order", field=field)
    if terms.kind == "threshold" and base < terms.threshold:
        raise ValidationFailed(f"coupon {terms.code} needs {terms.threshold} fen of eligible goods; "
                               f"this order has {base}", field=field)
    if terms.kind == "percent":
        off = (base * terms.percent_off + 50) // 100
        if terms.max_discount is not None:
            off = min(off, terms.max_discount)
    else:
        off = terms.value
    off = min(off, base)
    return distribute(off, eligible)


def check_stacking(terms: list[CouponTerms], field: str) -> None:
    codes = [t.code for t in terms]
    if len(set(codes)) != len(codes):
        raise ValidationFailed("the same coupon is given twice", field=field)
    if len(terms) > 1 and any(not t.stackable for t in terms):
        lone = next(t.code for t in terms if not t.stackable)
        raise ValidationFailed(f"coupon {lone} cannot be combined with other coupons", field=field)
