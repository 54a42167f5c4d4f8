"""Care rules as plain Python, no I/O: each rule's defaults, the per-customer frequency cap, the dedupe keys
that make a message go out at most once per cause, the birthday month, and which consent and which identity
a channel needs.

Defaults live here so that a fresh database works with no rows; the retailer's rows override them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, Literal, get_args

from teahub.errors import ValidationFailed

Channel = Literal["sms", "wechat"]
RuleName = Literal["thank_you", "birthday", "repurchase_due", "win_back", "csat_survey"]
DailyRule = Literal["birthday", "repurchase_due", "win_back"]
Outcome = Literal["queued", "duplicate", "no_consent", "capped", "unreachable"]
MessageStatus = Literal["queued", "sent", "failed"]

CHANNELS: tuple[str, ...] = get_args(Channel)
RULE_NAMES: tuple[str, ...] = get_args(RuleName)
DAILY_RULES: tuple[str, ...] = get_args(DailyRule)
OUTCOMES: tuple[str, ...] = get_args(Outcome)
MESSAGE_STATUSES: tuple[str, ...] = get_args(MessageStatus)

TEMPLATE_MAX = 64
SOURCE_MAX = 64
DEDUPE_KEY_MAX = 200
# Template codes are looked up by the delivery side (SMS template id, WeChat template id): keep them plain.
TEMPLATE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"
_TEMPLATE = re.compile(TEMPLATE_PATTERN)

# China has one time zone and no daylight saving: "this month", "today" are Beijing time.
CHINA = timezone(timedelta(hours=8))

# A repurchase reminder for tea that ran out more than this many days ago is no longer a reminder.
REPURCHASE_OVERDUE_DAYS = 7


# -- rules and their settings -----------------------------------------------------------------------------
@dataclass(frozen=True)
class DaysRange:
    """What a rule's number means and its bounds."""

    meaning: str
    low: int
    high: int


@dataclass(frozen=True)
class RuleSettings:
    name: str
    enabled: bool
    channel: str
    template: str
    days: int | None  # None for a rule with no number


# Only these rules have a number.
DAYS: Mapping[str, DaysRange] = {
    "repurchase_due": DaysRange("remind this many days before the tea is likely finished", 0, 60),
    "win_back": DaysRange("no paid purchase for this many days", 1, 3650),
}

DEFAULT_RULES: Mapping[str, RuleSettings] = {
    "thank_you": RuleSettings("thank_you", True, "wechat", "care_thank_you", None),
    "birthday": RuleSettings("birthday", True, "sms", "care_birthday", None),
    "repurchase_due": RuleSettings("repurchase_due", True, "wechat", "care_repurchase_due", 3),
    "win_back": RuleSettings("win_back", True, "sms", "care_win_back", 90),
    "csat_survey": RuleSettings("csat_survey", True, "wechat", "care_csat_survey", None),
}

TRIGGERS: Mapping[str, str] = {
    "thank_you": "event order.completed",
    "birthday": "daily, during the customer's birthday month (once a year)",
    "repurchase_due": "daily, when a tea bought is likely finished soon",
    "win_back": "daily, after no paid purchase for `days` days (once per last order)",
    "csat_survey": "event ticket.closed",
}


def source_of(rule: str) -> str:
    return f"care:{rule}"


def check_rule_name(name: str, field: str = "name") -> str:
    if name not in RULE_NAMES:
        raise ValidationFailed(f"the rules are {', '.join(RULE_NAMES)}", field=field)
    return name


def check_channel(channel: str, field: str = "channel") -> str:
    if channel not in CHANNELS:
        raise ValidationFailed(f"channel is {' or '.join(CHANNELS)}", field=field)
    return channel


def check_template(template: str, field: str = "template") -> str:
    if not isinstance(template, str) or not 1 <= len(template) <= TEMPLATE_MAX or not _TEMPLATE.match(template):
        raise ValidationFailed(f"a template code has 1 to {TEMPLATE_MAX} letters, digits, '_', '.', ':' or '-'",
                               field=field)
    return template


def check_days(name: str, days: int | None, field: str = "days") -> int | None:
    span = DAYS.get(name)
    if span is None:
        if days is not None:
            raise ValidationFailed(f"rule {name} has no number of days", field=field)
        return None
    if days is None or isinstance(days, bool) or not span.low <= days <= span.high:
        raise ValidationFailed(f"days is {span.low} to {span.high} for rule {name}", field=field)
    return days


def apply_changes(current: RuleSettings, changes: Mapping[str, Any]) -> RuleSettings:
    """The rule with `changes` (enabled, channel, template, days) applied and checked; other keys refused."""
    unknown = sorted(set(changes) - {"enabled", "channel", "template", "days"})
    if unknown:
        raise ValidationFailed(f"unknown setting {unknown[0]}", field=unknown[0])
    updated = replace(current, **changes)
    if not isinstance(updated.enabled, bool):
        raise ValidationFailed("enabled is true or false", field="enabled")
    check_channel(updated.channel)
    check_template(updated.template)
    check_days(updated.name, updated.days)
    return updated


# -- the frequency cap ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Policy:
    max_messages: int  # at most this many messages per customer ...
    window_days: int  # ... within this many days (transactional-looking ones count too)


DEFAULT_POLICY = Policy(max_messages=2, window_days=7)
MAX_MESSAGES_RANGE = (0, 100)  # 0 pauses every message
WINDOW_DAYS_RANGE = (1, 365)


def check_policy(policy: Policy) -> Policy:
    low, high = MAX_MESSAGES_RANGE
    if isinstance(policy.max_messages, bool) or not low <= policy.max_messages <= high:
        raise ValidationFailed(f"max_messages is {low} to {high}", field="max_messages")
    low, high = WINDOW_DAYS_RANGE
    if isinstance(policy.window_days, bool) or not low <= policy.window_days <= high:
        raise ValidationFailed(f"window_days is {low} to {high}", field="window_days")
    return policy


def cap_window_start(policy: Policy, now: datetime) -> datetime:
    """Messages created after this moment count against the cap."""
    return now - timedelta(days=policy.window_days)


def within_cap(recent: int, policy: Policy) -> bool:
    """May one more message go to a customer who had `recent` messages within the window?"""
    return recent < policy.max_messages


# -- consent and reachability -----------------------------------------------------------------------------
CONSENT_PURPOSES: Mapping[str, str] = {"sms": "marketing_sms", "wechat": "marketing_wechat"}
# The identities the delivery side needs to reach someone on a channel.
REACHED_BY: Mapping[str, tuple[str, ...]] = {"sms": ("phone",), "wechat": ("wechat_openid", "wechat_unionid")}


def consent_purpose(channel: str) -> str:
    return CONSENT_PURPOSES[check_channel(channel)]


def reachable(channel: str, identity_kinds: Iterable[str]) -> bool:
    return bool(set(REACHED_BY[check_channel(channel)]) & set(identity_kinds))


# -- time -------------------------------------------------------------------------------------------------
def local_date(moment: datetime) -> date:
    """The day in China at a UTC moment."""
    if moment.tzinfo is None:
        raise ValidationFailed("give a time zone (UTC)", field="now")
    return moment.astimezone(CHINA).date()


def is_birthday_month(birth_month: int | None, today: date) -> bool:
    return birth_month is not None and birth_month == today.month


def win_back_cutoff(now: datetime, days: int) -> datetime:
    """A customer whose last paid purchase was placed before this moment is lapsed."""
    return now - timedelta(days=days)


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


# -- dedupe keys: one message per cause -------------------------------------------------------------------
def thank_you_key(order_id: int) -> str:
    return f"thank_you:order:{order_id}"


def birthday_key(year: int, customer_id: int) -> str:
    return f"birthday:{year}:{customer_id}"


def repurchase_key(customer_id: int, product_id: int, due_on: date) -> str:
    return f"repurchase:{customer_id}:product:{product_id}:{due_on.isoformat()}"


def win_back_key(customer_id: int, last_order_id: int) -> str:
    return f"win_back:{customer_id}:last_order:{last_order_id}"


def csat_key(ticket_id: int) -> str:
    return f"csat:ticket:{ticket_id}"


def campaign_key(campaign_id: int, customer_id: int) -> str:
    return f"campaign:{campaign_id}:{customer_id}"


def check_message(channel: str, template: str, params: Any, source: str, dedupe_key: str) -> None:
    """What a message to queue must look like, before anything is read or written."""
    check_channel(channel)
    check_template(template)
    if not isinstance(params, dict):
        raise ValidationFailed("params is an object", field="params")
    if not isinstance(source, str) or not 1 <= len(source) <= SOURCE_MAX:
        raise ValidationFailed(f"source has 1 to {SOURCE_MAX} characters", field="source")
    if not isinstance(dedupe_key, str) or not 1 <= len(dedupe_key) <= DEDUPE_KEY_MAX:
        raise ValidationFailed(f"dedupe_key has 1 to {DEDUPE_KEY_MAX} characters", field="dedupe_key")


def empty_counts() -> dict[str, int]:
    return dict.fromkeys(OUTCOMES, 0)
