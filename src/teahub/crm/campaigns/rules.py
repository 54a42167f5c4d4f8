"""Segment rules and campaign rules as plain values, with no I/O.

A segment is a set of conditions on customers, all of which must hold (AND). Which customers meet them is
read by `teahub.analytics.segments`; whether the codes named exist (tiers, categories, stores) is checked by
the service against their owners. A campaign moves draft → launched → finished; each recipient gets one
outcome.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

# The RFM segment names of `teahub.analytics.rules.SEGMENTS` and the consent purposes of
# `teahub.customers.privacy.PURPOSES` (tests keep these equal).
RfmSegment = Literal["champions", "loyal", "potential_loyalists", "new", "promising", "need_attention",
                     "about_to_sleep", "at_risk", "cant_lose", "hibernating", "lost"]
ConsentPurpose = Literal["marketing_sms", "marketing_wechat", "marketing_email", "profiling", "data_sharing"]

MAX_DAYS = 36_500  # a hundred years: anything longer means "ever"
MAX_SPEND = 10**13  # fen
Code = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
BirthMonth = Annotated[int, Field(ge=1, le=12)] | Literal["current"]
Days = Annotated[int, Field(ge=1, le=MAX_DAYS)]


def _unique(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return list(dict.fromkeys(values))


class SegmentRules(BaseModel):
    """Who is in a segment: every condition given must hold. Only active customers (not merged into another,
    not erased) are ever members."""

    model_config = ConfigDict(extra="forbid")

    tiers: list[Code] | None = Field(None, min_length=1, max_length=20,
                                     description="member tier codes (member, silver, gold, vip …)")
    rfm_segments: list[RfmSegment] | None = Field(
        None, min_length=1, max_length=11, description="RFM segments, scored over the last 365 days")
    last_purchase_within_days: Days | None = Field(
        None, description="bought (a paid order) within the last N days")
    no_purchase_for_days: Days | None = Field(
        None, description="no paid order in the last N days (customers who never bought included; add "
                          "min_lifetime_spend to leave them out). With last_purchase_within_days: last bought "
                          "between the two")
    bought_categories: list[Code] | None = Field(
        None, min_length=1, max_length=50,
        description="bought a product of one of these categories (a category includes its sub-categories)")
    bought_within_days: Days | None = Field(
        None, description="with bought_categories: bought it within the last N days")
    stores: list[Code] | None = Field(
        None, min_length=1, max_length=50, description="location codes: bought there, or has it as home store")
    birth_month: BirthMonth | None = Field(
        None, description='1-12, or "current": the month at evaluation time in Beijing time')
    consent: ConsentPurpose | None = Field(None, description="a consent that must be in force")
    min_lifetime_spend: int | None = Field(
        None, ge=1, le=MAX_SPEND, description="fen spent in all paid orders, net of refunds, at least")

    @field_validator("tiers", "bought_categories", "stores")
    @classmethod
    def _no_repeats(cls, values: list[str] | None) -> list[str] | None:
        return _unique(values)

    @field_validator("rfm_segments")
    @classmethod
    def _no_repeated_segments(cls, values: list[RfmSegment] | None) -> list[RfmSegment] | None:
        return None if values is None else list(dict.fromkeys(values))

    @field_validator("no_purchase_for_days")
    @classmethod
    def _window(cls, value: int | None, info: ValidationInfo) -> int | None:
        within = info.data.get("last_purchase_within_days")
        if value is not None and within is not None and value >= within:
            raise ValueError("with last_purchase_within_days, no_purchase_for_days must be fewer days "
                             "(last bought between the two)")
        return value

    @field_validator("bought_within_days")
    @classmethod
    def _needs_categories(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and not info.data.get("bought_categories"):
            raise ValueError("bought_within_days needs bought_categories")
        return value

    @model_validator(mode="after")
    def _at_least_one(self) -> SegmentRules:
        if not self.model_dump(exclude_none=True):
            raise ValueError("a segment needs at least one condition")
        return self

    def stored(self) -> dict[str, Any]:
        """The JSON kept in the segment's row (conditions not given are left out)."""
        return self.model_dump(mode="json", exclude_none=True)


def birth_month_at(rule: int | str, local_month: int) -> int:
    """The month a birth_month rule means at evaluation time (`current`: the month in Beijing time then)."""
    return local_month if rule == "current" else int(rule)


# -- campaigns ---------------------------------------------------------------------------------------------
KINDS = ("coupon", "message")
STATUSES = ("draft", "launched", "finished")
OUTCOMES = ("granted", "queued", "no_consent", "capped", "unreachable", "duplicate", "refused")
# What the care service answers for a message, as the recipient's outcome.
MESSAGE_OUTCOMES = frozenset({"queued", "duplicate", "no_consent", "capped", "unreachable"})
REACHED = frozenset({"granted", "queued"})  # the customer got the coupon or the message
DEFAULT_ATTRIBUTION_DAYS = 14
MAX_ATTRIBUTION_DAYS = 365
REASON_LENGTH = 200


def source(campaign_id: int) -> str:
    """What a campaign's coupons and messages are tagged with."""
    return f"campaign:{campaign_id}"


def dedupe_key(campaign_id: int, customer_id: int) -> str:
    return f"campaign:{campaign_id}:{customer_id}"


_WHY = {
    "duplicate": "this campaign's message was queued for the customer already",
    "no_consent": "no marketing consent in force for the channel",
    "capped": "the customer's message frequency cap is reached",
    "unreachable": "nobody to write to on the channel (erased, merged, or no phone or WeChat identity)",
}


def message_outcome(answer: Mapping[str, Any]) -> tuple[str, str | None]:
    """The recipient's outcome and why, from what the care service answered for its message."""
    status = str(answer.get("status"))
    if status not in MESSAGE_OUTCOMES:
        return "refused", clip(f"the message service answered {status!r}")
    return status, _WHY.get(status)


def message_reference(answer: Mapping[str, Any]) -> str | None:
    """The id of the queued message, when the care service answered one."""
    message = answer.get("message")
    if isinstance(message, Mapping) and message.get("id") is not None:
        return str(message["id"])[:64]
    return None


def clip(text: str) -> str:
    return text if len(text) <= REASON_LENGTH else text[: REASON_LENGTH - 1] + "…"


def outcome_counts(rows: Mapping[str | None, int]) -> dict[str, int]:
    """Every outcome with its count (0 when none), from a group-by that may hold None (not yet processed)."""
    return {outcome: int(rows.get(outcome, 0)) for outcome in OUTCOMES}


def conversion(buyers: int, reached: int) -> float | None:
    return round(buyers / reached, 4) if reached else None
