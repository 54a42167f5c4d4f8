"""The care rules as plain Python: defaults, settings checks, the cap, dedupe keys, the birthday month, consent
purposes and reachability. No database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from teahub.crm.care import rules
from teahub.errors import ValidationFailed


def test_every_rule_has_defaults_and_only_two_have_a_number() -> None:
    assert set(rules.DEFAULT_RULES) == set(rules.RULE_NAMES) == set(rules.TRIGGERS)
    numbered = {name for name, r in rules.DEFAULT_RULES.items() if r.days is not None}
    assert numbered == set(rules.DAYS) == {"repurchase_due", "win_back"}
    assert rules.DEFAULT_RULES["win_back"].days == 90
    for name, r in rules.DEFAULT_RULES.items():
        assert r.name == name and r.enabled
        rules.check_channel(r.channel)
        rules.check_template(r.template)
        rules.check_days(name, r.days)


def test_changes_apply_and_keep_what_is_not_given() -> None:
    changed = rules.apply_changes(rules.DEFAULT_RULES["win_back"], {"days": 120, "enabled": False})
    assert changed == rules.RuleSettings("win_back", False, "sms", "care_win_back", 120)


@pytest.mark.parametrize(("name", "changes", "field"), [
    ("thank_you", {"days": 3}, "days"),
    ("csat_survey", {"days": 0}, "days"),
    ("win_back", {"days": 0}, "days"),
    ("win_back", {"days": 3651}, "days"),
    ("repurchase_due", {"days": 61}, "days"),
    ("win_back", {"days": None}, "days"),
    ("birthday", {"channel": "email"}, "channel"),
    ("birthday", {"template": ""}, "template"),
    ("birthday", {"template": "has space"}, "template"),
    ("birthday", {"template": "x" * 65}, "template"),
    ("birthday", {"enabled": "yes"}, "enabled"),
    ("birthday", {"colour": "red"}, "colour"),
])
def test_bad_settings_are_refused_naming_the_field(name: str, changes: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        rules.apply_changes(rules.DEFAULT_RULES[name], changes)
    assert refused.value.field == field


def test_unknown_rule_names_are_refused() -> None:
    with pytest.raises(ValidationFailed) as refused:
        rules.check_rule_name("spam")
    assert refused.value.field == "name"


def test_the_default_cap_is_two_messages_per_seven_days() -> None:
    cap = rules.DEFAULT_POLICY
    assert (cap.max_messages, cap.window_days) == (2, 7)
    assert rules.within_cap(0, cap) and rules.within_cap(1, cap)
    assert not rules.within_cap(2, cap) and not rules.within_cap(5, cap)
    now = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
    assert rules.cap_window_start(cap, now) == now - timedelta(days=7)


def test_a_cap_of_zero_pauses_every_message() -> None:
    assert not rules.within_cap(0, rules.Policy(0, 7))


@pytest.mark.parametrize(("policy", "field"), [
    (rules.Policy(-1, 7), "max_messages"), (rules.Policy(101, 7), "max_messages"),
    (rules.Policy(2, 0), "window_days"), (rules.Policy(2, 366), "window_days"),
])
def test_bad_policies_are_refused(policy: rules.Policy, field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        rules.check_policy(policy)
    assert refused.value.field == field


def test_dedupe_keys_name_their_cause() -> None:
    assert rules.thank_you_key(123) == "thank_you:order:123"
    assert rules.birthday_key(2026, 42) == "birthday:2026:42"
    assert rules.repurchase_key(42, 7, date(2026, 12, 3)) == "repurchase:42:product:7:2026-12-03"
    assert rules.win_back_key(42, 991) == "win_back:42:last_order:991"
    assert rules.csat_key(5) == "csat:ticket:5"
    assert rules.campaign_key(12, 42) == "campaign:12:42"
    assert rules.source_of("birthday") == "care:birthday"


def test_the_birthday_month_is_the_month_in_china() -> None:
    # 17:00 UTC on 31 March is 01:00 on 1 April in Beijing.
    today = rules.local_date(datetime(2026, 3, 31, 17, 0, tzinfo=UTC))
    assert today == date(2026, 4, 1)
    assert rules.is_birthday_month(4, today)
    assert not rules.is_birthday_month(3, today)
    assert not rules.is_birthday_month(None, today)


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        rules.local_date(datetime(2026, 3, 31, 17, 0))


def test_win_back_counts_days_back_from_now() -> None:
    now = datetime(2026, 5, 10, 1, 0, tzinfo=UTC)
    assert rules.win_back_cutoff(now, 90) == now - timedelta(days=90)


def test_each_channel_needs_its_own_consent_and_identity() -> None:
    assert rules.consent_purpose("sms") == "marketing_sms"
    assert rules.consent_purpose("wechat") == "marketing_wechat"
    assert rules.reachable("sms", ["phone", "email"])
    assert not rules.reachable("sms", ["wechat_openid", "email"])
    assert rules.reachable("wechat", ["wechat_openid"]) and rules.reachable("wechat", ["wechat_unionid"])
    assert not rules.reachable("wechat", ["phone"])
    with pytest.raises(ValidationFailed):
        rules.consent_purpose("email")


@pytest.mark.parametrize(("args", "field"), [
    (("fax", "t", {}, "s", "k"), "channel"),
    (("sms", "", {}, "s", "k"), "template"),
    (("sms", "t", [], "s", "k"), "params"),
    (("sms", "t", {}, "", "k"), "source"),
    (("sms", "t", {}, "s" * 65, "k"), "source"),
    (("sms", "t", {}, "s", ""), "dedupe_key"),
    (("sms", "t", {}, "s", "k" * 201), "dedupe_key"),
])
def test_a_message_must_be_well_formed(args: tuple[object, ...], field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        rules.check_message(*args)  # type: ignore[arg-type]
    assert refused.value.field == field
