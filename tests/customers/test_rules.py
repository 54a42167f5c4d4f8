"""The pure customer rules: phones, identities, masking, tiers, payment terms, search classification."""

from __future__ import annotations

import pytest

from teahub.customers import rules
from teahub.errors import ValidationFailed

CN = "+8613812345678"


@pytest.mark.parametrize("raw", [
    "13812345678", "138 1234 5678", "138-1234-5678", "+86 138-1234-5678", "8613812345678", "+8613812345678",
    "86 138 1234 5678", "008613812345678", "(+86) 138.1234.5678", " 13812345678 ", "１３８１２３４５６７８",
])
def test_normalize_phone_turns_every_usual_cn_mobile_format_into_e164(raw: str) -> None:
    assert rules.normalize_phone(raw) == CN


@pytest.mark.parametrize("raw, expected", [
    ("+1 650 253 0000", "+16502530000"),
    ("+44 7911 123456", "+447911123456"),
    ("+852 6123 4567", "+85261234567"),
    ("+86 199 1234 5678", "+8619912345678"),
])
def test_normalize_phone_keeps_valid_international_numbers_as_e164(raw: str, expected: str) -> None:
    assert rules.normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", [
    "", "   ", "12345", "1381234567", "138123456789", "12812345678", "010-12345678", "+86 10 1234 5678",
    "1-800-FLOWERS", "abc", "138****5678", "+1 123", "+999 1234567", "1" * 40,
])
def test_normalize_phone_refuses_non_numbers_and_non_mobiles_naming_the_field(raw: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        rules.normalize_phone(raw)
    assert err.value.field == "phone"


def test_normalize_phone_names_the_field_it_is_told() -> None:
    with pytest.raises(ValidationFailed) as err:
        rules.normalize_phone("12", field="customer.phone")
    assert err.value.field == "customer.phone"


def test_a_cn_landline_is_accepted_only_where_landlines_are_allowed() -> None:
    assert rules.normalize_phone("010-12345678", mobile_only=False) == "+861012345678"
    with pytest.raises(ValidationFailed):
        rules.normalize_phone("010-12345678")


def test_normalize_identity_normalizes_phone_and_lowercases_email() -> None:
    assert rules.normalize_identity("phone", "138 1234 5678") == CN
    assert rules.normalize_identity("email", "  Wang.Fang@Example.COM ") == "wang.fang@example.com"


@pytest.mark.parametrize("bad", ["wang", "wang@", "@example.com", "wang@example", "wang fang@example.com",
                                 "a@b@example.com", "x" * 120 + "@example.com"])
def test_normalize_identity_refuses_malformed_email(bad: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        rules.normalize_identity("email", bad)
    assert err.value.field == "email"


def test_normalize_identity_strips_marketplace_ids_and_keeps_their_case() -> None:
    assert rules.normalize_identity("taobao", "  AAHk5d-EAAeGwJedwSHbQX ") == "AAHk5d-EAAeGwJedwSHbQX"
    assert rules.normalize_identity("wechat_unionid", "oRrdQt2Ea") == "oRrdQt2Ea"


@pytest.mark.parametrize("value", ["", "   ", "x" * 129, "t**1", "138****5678"])
def test_normalize_identity_refuses_empty_overlong_or_masked_values(value: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        rules.normalize_identity("pdd", value, field="identities.0.value")
    assert err.value.field == "identities.0.value"


def test_normalize_identity_refuses_unknown_kinds_naming_the_kind_field() -> None:
    with pytest.raises(ValidationFailed) as err:
        rules.normalize_identity("myspace", "x", kind_field="identities.2.kind")
    assert err.value.field == "identities.2.kind"


def test_mask_phone_hides_the_middle_digits() -> None:
    assert rules.mask_phone(CN) == "+86 138****5678"
    assert rules.mask_phone("+16502530000") == "+1 650***0000"
    assert rules.mask_phone(None) is None


def test_phone_last4_is_the_end_of_the_number() -> None:
    assert rules.phone_last4(CN) == "5678"


def test_default_tier_is_member_only_with_a_phone() -> None:
    assert rules.default_tier(True) == "member"
    assert rules.default_tier(False) is None


def test_higher_tier_ranks_vip_over_member_over_none() -> None:
    ranks = {None: 0, "member": 1, "gold": 3, "vip": 4}.__getitem__
    assert rules.higher_tier(None, "member", ranks) == "member"
    assert rules.higher_tier("vip", "member", ranks) == "vip"
    assert rules.higher_tier("member", "gold", ranks) == "gold"
    assert rules.higher_tier(None, None, ranks) is None


@pytest.mark.parametrize("raw, expected", [
    ("monthly", "monthly"), (" Monthly ", "monthly"), ("prepaid", "prepaid"), ("NET30", "net30"),
    ("net 60", "net60"), ("", None), (None, None),
])
def test_payment_terms_are_normalized(raw: str | None, expected: str | None) -> None:
    assert rules.normalize_payment_terms(raw) == expected


@pytest.mark.parametrize("raw", ["weekly-ish", "net0", "net999", "net"])
def test_unknown_payment_terms_are_refused(raw: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        rules.normalize_payment_terms(raw)
    assert err.value.field == "payment_terms"


@pytest.mark.parametrize("q, expected", [
    ("5678", ("last4", "5678")),
    (" 5678 ", ("last4", "5678")),
    ("138 1234 5678", ("phone", CN)),
    ("+86 138-1234-5678", ("phone", CN)),
    ("王芳", ("text", "王芳")),
    ("12345", ("text", "12345")),
    ("wang@example.com", ("text", "wang@example.com")),
])
def test_classify_query_tells_last_four_digits_phone_and_text_apart(q: str, expected: tuple[str, str]) -> None:
    assert rules.classify_query(q) == expected
