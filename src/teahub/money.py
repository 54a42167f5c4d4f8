"""Arithmetic on fen (integer money) shared by every capability's rules: no floats, no lost fen."""

from __future__ import annotations


def half_up_div(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half-up, for non-negative integers."""
    return (2 * numerator + denominator) // (2 * denominator)


def distribute(total: int, weights: list[int]) -> list[int]:
    """Split `total` fen over lines in proportion to their weights, exactly (largest remainder): the shares
    add up to `total`, and none exceeds its weight when `total` does not exceed their sum."""
    if total == 0:
        return [0] * len(weights)
    whole = sum(weights)
    if whole <= 0:
        raise ValueError("nothing to distribute over")
    shares = [total * w // whole for w in weights]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    return shares
