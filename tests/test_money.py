"""Money arithmetic: shares of a discount add up to the fen, and a half fen rounds up."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from teahub.money import distribute, half_up_div


@given(st.lists(st.integers(0, 10_000_000), min_size=1, max_size=20).filter(lambda w: sum(w) > 0),
       st.data())
def test_distribute_adds_up_and_never_exceeds_a_weight(weights: list[int], data: st.DataObject) -> None:
    total = data.draw(st.integers(0, sum(weights)))
    shares = distribute(total, weights)
    assert sum(shares) == total
    assert all(0 <= share <= weight for share, weight in zip(shares, weights, strict=True))


def test_half_up_division() -> None:
    assert [half_up_div(n, 2) for n in (0, 1, 2, 3)] == [0, 1, 1, 2]
    assert half_up_div(68000 * 125, 500) == 17000
