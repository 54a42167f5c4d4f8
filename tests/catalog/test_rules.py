"""Catalog rules without a database: line amounts, which price applies, what makes a product valid."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from teahub.catalog.rules import (
    MAX_PRICE,
    Component,
    ProductInfo,
    check_components,
    check_gift_box,
    check_prices,
    check_unit_and_basis,
    default_price_basis,
    line_amount,
    price_for,
)
from teahub.errors import ValidationFailed

T0 = datetime(2026, 9, 1, tzinfo=UTC)


def tea(**changes: object) -> ProductInfo:
    base = ProductInfo(
        id=1, sku="LJ-43-YQ-L", name="龙井43 雨前一级", unit="g", price_basis=500, list_price=68000,
        member_price=None, vip_price=None, special_price=None, special_from=None, special_until=None,
        category="green", ages=False, shelf_life_days=540, is_gift_box=False, active=True,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


# -- line_amount ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("quantity", "price", "basis", "expected"),
    [
        (125, 68000, 500, 17000),  # 125 g of a 680-yuan-per-斤 tea
        (1, 68000, 500, 136),
        (3, 1, 500, 0),  # 0.006 fen
        (250, 1, 500, 1),  # exactly half a fen rounds up
        (249, 1, 500, 0),  # just under half rounds down
        (750, 1, 500, 2),  # 1.5 rounds up, not to even
        (250, 3, 500, 2),  # 1.5 again
        (2, 68800, 1, 137600),  # pieces
        (37, 12345, 50, 9135),  # 9135.3
        (0, 68000, 500, 0),
    ],
)
def test_line_amount_rounds_half_up_to_the_fen(quantity: int, price: int, basis: int, expected: int) -> None:
    assert line_amount(quantity, price, basis) == expected


def test_line_amount_of_a_return_rounds_half_away_from_zero() -> None:
    assert line_amount(-250, 1, 500) == -1
    assert line_amount(-125, 68000, 500) == -17000


def test_line_amount_refuses_floats_and_a_zero_basis() -> None:
    with pytest.raises(TypeError):
        line_amount(1.5, 100, 1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        line_amount(1, 99.9, 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        line_amount(1, 100, 0)


@given(quantity=st.integers(-10**7, 10**7), price=st.integers(0, MAX_PRICE - 1),
       basis=st.sampled_from([1, 50, 500, 1000]) | st.integers(1, 10**6))
def test_line_amount_matches_decimal_round_half_up(quantity: int, price: int, basis: int) -> None:
    exact = Decimal(quantity) * Decimal(price) / Decimal(basis)
    expected = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    assert line_amount(quantity, price, basis) == expected


# -- price_for --------------------------------------------------------------------------------------
def test_list_buyers_pay_the_list_price() -> None:
    assert price_for(tea(member_price=62000, vip_price=58000), "list", T0) == (68000, "list")


def test_members_pay_the_member_price_or_the_list_price_when_there_is_none() -> None:
    assert price_for(tea(member_price=62000, vip_price=58000), "member", T0) == (62000, "member")
    assert price_for(tea(vip_price=58000), "member", T0) == (68000, "list")


def test_vips_fall_back_to_member_then_list() -> None:
    assert price_for(tea(member_price=62000, vip_price=58000), "vip", T0) == (58000, "vip")
    assert price_for(tea(member_price=62000), "vip", T0) == (62000, "member")
    assert price_for(tea(), "vip", T0) == (68000, "list")


def test_a_special_price_inside_its_window_wins_when_lower() -> None:
    product = tea(member_price=62000, special_price=60000, special_from=T0, special_until=T0 + timedelta(days=7))
    assert price_for(product, "list", T0) == (60000, "special")
    assert price_for(product, "member", T0 + timedelta(days=3)) == (60000, "special")


def test_a_special_price_applies_from_its_start_up_to_but_not_at_its_end() -> None:
    product = tea(special_price=60000, special_from=T0, special_until=T0 + timedelta(days=7))
    assert price_for(product, "list", T0 - timedelta(microseconds=1)) == (68000, "list")
    assert price_for(product, "list", T0) == (60000, "special")
    assert price_for(product, "list", T0 + timedelta(days=7) - timedelta(microseconds=1)) == (60000, "special")
    assert price_for(product, "list", T0 + timedelta(days=7)) == (68000, "list")


def test_a_special_window_may_be_open_at_either_end() -> None:
    no_end = tea(special_price=60000, special_from=T0)
    assert price_for(no_end, "list", T0 + timedelta(days=3650)) == (60000, "special")
    assert price_for(no_end, "list", T0 - timedelta(days=1)) == (68000, "list")
    no_start = tea(special_price=60000, special_until=T0)
    assert price_for(no_start, "list", T0 - timedelta(days=3650)) == (60000, "special")
    assert price_for(no_start, "list", T0) == (68000, "list")
    always = tea(special_price=60000)
    assert price_for(always, "list", T0) == (60000, "special")


def test_a_special_price_not_lower_than_the_buyers_price_does_not_apply() -> None:
    product = tea(vip_price=55000, special_price=60000)
    assert price_for(product, "vip", T0) == (55000, "vip")
    assert price_for(tea(special_price=68000), "list", T0) == (68000, "list")


def test_an_unknown_price_list_is_refused() -> None:
    with pytest.raises(ValidationFailed) as err:
        price_for(tea(), "staff", T0)
    assert err.value.field == "price_list"


# -- product validity -------------------------------------------------------------------------------
def test_default_price_basis_is_per_piece_or_per_jin() -> None:
    assert default_price_basis("piece") == 1
    assert default_price_basis("g") == 500


@pytest.mark.parametrize(("unit", "basis"), [("g", 50), ("g", 500), ("g", 1000), ("piece", 1)])
def test_allowed_units_and_price_bases(unit: str, basis: int) -> None:
    check_unit_and_basis(unit, basis)


@pytest.mark.parametrize(("unit", "basis"), [("g", 1), ("g", 100), ("g", 250), ("piece", 500), ("piece", 0)])
def test_other_price_bases_are_refused(unit: str, basis: int) -> None:
    with pytest.raises(ValidationFailed) as err:
        check_unit_and_basis(unit, basis)
    assert err.value.field == "price_basis"


def test_a_product_without_a_list_price_is_refused() -> None:
    with pytest.raises(ValidationFailed) as err:
        check_prices(None, 100, None, None, None, None)
    assert err.value.field == "prices.list"


def test_a_special_window_without_a_special_price_is_refused() -> None:
    with pytest.raises(ValidationFailed) as err:
        check_prices(100, None, None, None, T0, None)
    assert err.value.field == "prices.special"


@pytest.mark.parametrize("until", [T0, T0 - timedelta(seconds=1)])
def test_a_special_window_ending_at_or_before_its_start_is_refused(until: datetime) -> None:
    with pytest.raises(ValidationFailed) as err:
        check_prices(100, None, None, 80, T0, until)
    assert err.value.field == "prices.special_until"


def test_prices_out_of_range_are_refused() -> None:
    with pytest.raises(ValidationFailed) as err:
        check_prices(100, -1, None, None, None, None)
    assert err.value.field == "prices.member"
    with pytest.raises(ValidationFailed) as err:
        check_prices(MAX_PRICE, None, None, None, None, None)
    assert err.value.field == "prices.list"
    check_prices(MAX_PRICE - 1, 0, 0, 0, T0, T0 + timedelta(seconds=1))


def test_a_gift_box_is_sold_by_the_piece() -> None:
    check_gift_box("piece", 1)
    with pytest.raises(ValidationFailed) as err:
        check_gift_box("g", 500)
    assert err.value.field == "unit"


def test_gift_box_components_must_exist_be_active_ordinary_and_listed_once() -> None:
    found = {"A": tea(sku="A"), "B": tea(sku="B", id=2), "OFF": tea(sku="OFF", active=False),
             "BOX": tea(sku="BOX", is_gift_box=True, components=(Component(1, "A", 1),))}
    check_components([("A", 1), ("B", 250)], found)
    cases = [
        ([], "components"),
        ([("A", 1), ("NOPE", 1)], "components.1.sku"),
        ([("OFF", 1)], "components.0.sku"),
        ([("BOX", 1)], "components.0.sku"),
        ([("A", 1), ("A", 2)], "components.1.sku"),
        ([("A", 0)], "components.0.quantity"),
    ]
    for components, field in cases:
        with pytest.raises(ValidationFailed) as err:
            check_components(components, found)
        assert err.value.field == field, components


def test_a_gift_box_cannot_contain_itself() -> None:
    with pytest.raises(ValidationFailed) as err:
        check_components([("A", 1)], {"A": tea(sku="A")}, box_sku="A")
    assert err.value.field == "components.0.sku"
