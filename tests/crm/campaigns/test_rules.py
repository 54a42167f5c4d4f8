"""Segment and campaign rules, without a database."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from teahub.crm.campaigns import rules
from teahub.crm.campaigns.rules import SegmentRules


def test_rules_keep_only_the_conditions_given_without_repeats() -> None:
    given = SegmentRules.model_validate({"tiers": ["gold", "vip", "gold"], "birth_month": "current",
                                         "bought_categories": ["green"], "bought_within_days": 30})
    assert given.stored() == {"tiers": ["gold", "vip"], "birth_month": "current", "bought_categories": ["green"],
                              "bought_within_days": 30}
    assert SegmentRules.model_validate(given.stored()) == given


@pytest.mark.parametrize(("rules_given", "field"), [
    ({}, None),
    ({"tiers": None}, None),
    ({"birth_month": 0}, "birth_month"),
    ({"birth_month": "next"}, "birth_month"),
    ({"bought_within_days": 7}, "bought_within_days"),
    ({"last_purchase_within_days": 30, "no_purchase_for_days": 60}, "no_purchase_for_days"),
    ({"rfm_segments": ["whales"]}, "rfm_segments"),
    ({"consent": "marketing_fax"}, "consent"),
    ({"stores": ["BJ 01"]}, "stores"),
    ({"min_lifetime_spend": 0}, "min_lifetime_spend"),
    ({"no_purchase_for_days": 36_501}, "no_purchase_for_days"),
    ({"tiers": ["gold"], "vip": True}, "vip"),
])
def test_bad_rules_are_refused(rules_given: dict[str, object], field: str | None) -> None:
    with pytest.raises(ValidationError) as refused:
        SegmentRules.model_validate(rules_given)
    first = refused.value.errors()[0]["loc"]
    assert (str(first[0]) if first else None) == field


def test_birth_month_current_is_the_local_month() -> None:
    assert rules.birth_month_at("current", 7) == 7
    assert rules.birth_month_at(3, 7) == 3


def test_message_answers_become_outcomes() -> None:
    assert rules.message_outcome({"status": "queued", "message": {"id": 5}}) == ("queued", None)
    assert rules.message_reference({"status": "queued", "message": {"id": 5}}) == "5"
    assert rules.message_outcome({"status": "capped", "message": None})[0] == "capped"
    assert rules.message_reference({"status": "capped", "message": None}) is None
    outcome, reason = rules.message_outcome({"status": "exploded"})
    assert outcome == "refused" and reason is not None and "exploded" in reason


def test_outcome_counts_name_every_outcome() -> None:
    assert rules.outcome_counts({"granted": 2, None: 1}) == {
        "granted": 2, "queued": 0, "no_consent": 0, "capped": 0, "unreachable": 0, "duplicate": 0, "refused": 0}
    assert rules.conversion(1, 3) == 0.3333 and rules.conversion(0, 0) is None
    assert len(rules.clip("x" * 500)) == rules.REASON_LENGTH
