"""How a platform refund is recorded on the order's lines: to the fen, as units when goods come back (or were never
shipped), as money only when the buyer keeps them."""

from __future__ import annotations

from teahub.channels.rules import LineLeft, RefundPart, refund_parts

TEA = LineLeft(line_no=1, sku="LJ-MQ26-250", quantity=2, net_left=137600)
CUP = LineLeft(line_no=2, sku="CUP", quantity=2, net_left=11570)


def test_refund_only_for_part_of_a_shipped_line_is_money_only() -> None:
    assert refund_parts([TEA], 3000, units_back=False) == [RefundPart(TEA, 0, 3000)]


def test_whole_lines_first_then_the_rest_as_the_units_it_pays_for() -> None:
    parts = refund_parts([CUP, TEA], 11570 + 68800, units_back=True)
    assert parts == [RefundPart(CUP, 2, 11570), RefundPart(TEA, 1, 68800)]
    assert sum(p.amount for p in parts) == 11570 + 68800


def test_a_small_refund_with_goods_back_still_takes_a_unit_and_keeps_its_amount() -> None:
    assert refund_parts([TEA], 1000, units_back=True) == [RefundPart(TEA, 1, 1000)]


def test_more_than_the_lines_have_left_records_what_they_have() -> None:
    assert refund_parts([CUP], 99999, units_back=False) == [RefundPart(CUP, 2, 11570)]
    assert refund_parts([LineLeft(1, "X", 0, 0)], 500, units_back=True) == []
