"""Pipeline rules without a database: lead statuses, stages and probabilities, quote validity and prices."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from teahub.catalog.rules import ProductInfo
from teahub.crm.pipeline import rules
from teahub.errors import InvalidTransition, ValidationFailed


def product(sku: str = "X", *, unit: str = "piece", basis: int = 1, active: bool = True) -> ProductInfo:
    return ProductInfo(id=1, sku=sku, name=sku, unit=unit, price_basis=basis, list_price=100, member_price=None,
                       vip_price=None, special_price=None, special_from=None, special_until=None, category="green",
                       ages=False, shelf_life_days=540, is_gift_box=False, active=active)


@pytest.mark.parametrize(("status", "target"), [("new", "contacted"), ("contacted", "qualified"),
                                                 ("contacted", "disqualified"), ("new", "disqualified"),
                                                 ("disqualified", "contacted")])
def test_lead_moves_along_its_path(status: str, target: str) -> None:
    rules.check_lead_transition(status, target)


@pytest.mark.parametrize(("status", "target"), [("new", "qualified"), ("qualified", "new"),
                                                 ("qualified", "converted"), ("converted", "contacted")])
def test_lead_may_not_skip_or_go_back(status: str, target: str) -> None:
    with pytest.raises(InvalidTransition) as refused:
        rules.check_lead_transition(status, target)
    assert refused.value.field == "status"


def test_only_a_qualified_lead_converts() -> None:
    rules.check_convertible("qualified")
    for status in ("new", "contacted", "disqualified", "converted"):
        with pytest.raises(InvalidTransition):
            rules.check_convertible(status)


def test_each_stage_has_its_default_probability_which_may_be_overridden() -> None:
    assert [rules.probability_for(s, None) for s in rules.STAGES] == [10, 20, 50, 75, 100, 0]
    assert rules.probability_for("proposal", 65) == 65
    with pytest.raises(ValidationFailed) as refused:
        rules.probability_for("won", 90)
    assert refused.value.field == "probability"
    assert rules.probability_for("lost", 0) == 0


def test_won_is_final_and_losing_needs_a_reason() -> None:
    rules.check_stage_change("negotiation", "prospecting", None)  # dragged back on the board
    rules.check_stage_change("lost", "negotiation", None)  # reopened
    with pytest.raises(InvalidTransition):
        rules.check_stage_change("won", "negotiation", None)
    with pytest.raises(ValidationFailed) as refused:
        rules.check_stage_change("proposal", "lost", "  ")
    assert refused.value.field == "lost_reason"
    rules.check_stage_change("proposal", "lost", "budget cut")


def test_weighted_value_rounds_half_up_to_the_fen() -> None:
    assert rules.weighted_value(12345 * 50) == 6173  # 6172.5
    assert rules.weighted_value(12345 * 10) == 1235  # 1234.5
    assert rules.weighted_value(0) == 0


def test_a_quote_is_valid_through_the_end_of_its_day_in_china() -> None:
    valid_until = date(2026, 9, 10)
    assert rules.expires_at(valid_until) == datetime(2026, 9, 10, 16, 0, tzinfo=UTC)
    assert not rules.is_expired(valid_until, datetime(2026, 9, 10, 15, 59, 59, tzinfo=UTC))
    assert rules.is_expired(valid_until, datetime(2026, 9, 10, 16, 0, tzinfo=UTC))
    assert rules.effective_status("sent", valid_until, datetime(2026, 9, 11, tzinfo=UTC)) == "expired"
    assert rules.effective_status("draft", valid_until, datetime(2026, 9, 11, tzinfo=UTC)) == "draft"
    assert rules.effective_status("accepted", valid_until, datetime(2026, 9, 11, tzinfo=UTC)) == "accepted"


def test_validity_must_be_today_or_later_and_within_a_year() -> None:
    now = datetime(2026, 9, 9, 17, 0, tzinfo=UTC)  # already the 10th in China
    rules.check_valid_until(date(2026, 9, 10), now)
    with pytest.raises(ValidationFailed) as past:
        rules.check_valid_until(date(2026, 9, 9), now)
    assert past.value.field == "valid_until"
    with pytest.raises(ValidationFailed):
        rules.check_valid_until(date(2027, 12, 31), now)


def test_quote_status_machine() -> None:
    rules.check_quote_transition("draft", "sent")
    rules.check_quote_transition("sent", "accepted")
    for status, target in (("draft", "accepted"), ("accepted", "rejected"), ("rejected", "accepted"),
                           ("expired", "accepted"), ("sent", "sent")):
        with pytest.raises(InvalidTransition):
            rules.check_quote_transition(status, target)
    rules.check_revisable("rejected")
    with pytest.raises(InvalidTransition):
        rules.check_revisable("accepted")


def test_quote_lines_are_priced_as_the_order_will_price_them() -> None:
    products = {"LOOSE": product("LOOSE", unit="g", basis=500), "CAN": product("CAN")}
    priced = rules.price_quote([rules.LineRequest("LOOSE", 125, 68000, 0),
                                rules.LineRequest("CAN", 3, 50000, 1000)], products)
    assert [(p.amount, p.discount, p.net_amount) for p in priced.lines] == [(17000, 0, 17000), (150000, 1000, 149000)]
    assert (priced.subtotal, priced.discount, priced.total) == (167000, 1000, 166000)


@pytest.mark.parametrize(("line", "field"), [
    (rules.LineRequest("NOPE", 1, 100, 0), "lines.0.sku"),
    (rules.LineRequest("OLD", 1, 100, 0), "lines.0.sku"),
    (rules.LineRequest("CAN", 1, 100, 101), "lines.0.discount"),
    (rules.LineRequest("CAN", 10_000_000, 1_000_000_000, 0), "lines.0.quantity"),
])
def test_bad_quote_lines_name_the_field(line: rules.LineRequest, field: str) -> None:
    products = {"CAN": product("CAN"), "OLD": product("OLD", active=False)}
    with pytest.raises(ValidationFailed) as refused:
        rules.price_quote([line], products)
    assert refused.value.field == field


def test_a_quote_may_not_exceed_what_an_order_can_hold() -> None:
    products = {"CAN": product("CAN")}
    lines = [rules.LineRequest("CAN", 2, 1_000_000_000, 0), rules.LineRequest("CAN", 1, 200_000_000, 0)]
    with pytest.raises(ValidationFailed) as refused:
        rules.price_quote(lines, products)
    assert refused.value.field == "lines"
