"""Input and output of the segments and campaigns API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from teahub.api_params import MAX_ID
from teahub.crm.campaigns.rules import DEFAULT_ATTRIBUTION_DAYS, MAX_ATTRIBUTION_DAYS, SegmentRules

Kind = Literal["coupon", "message"]
Status = Literal["draft", "launched", "finished"]
Outcome = Literal["granted", "queued", "no_consent", "capped", "unreachable", "duplicate", "refused"]
Channel = Literal["sms", "wechat"]  # care's channels
Name = Annotated[str, Field(min_length=1, max_length=100)]
ParamValue = Annotated[str, Field(max_length=500)] | bool | Annotated[int, Field(ge=-(10**15), le=10**15)]


class SegmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    description: str | None = Field(None, max_length=2000)
    rules: SegmentRules


class SegmentPatch(BaseModel):
    """Fields to change; those left out stay. `version`, when given, must be the current one."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    description: str | None = Field(None, max_length=2000)
    rules: SegmentRules | None = None
    version: int | None = Field(None, ge=1, le=MAX_ID)


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: SegmentRules


class MemberOut(BaseModel):
    id: int
    name: str
    tier: str | None


class SegmentOut(BaseModel):
    id: int
    name: str
    description: str | None
    rules: dict[str, Any] = Field(description="the conditions given (see SegmentRules)")
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int
    size: int | None = Field(None, description="members now (when one segment is read)")


class PreviewOut(BaseModel):
    size: int
    members: list[MemberOut] = Field(description="the first members by id")
    evaluated_at: datetime


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Channel
    template: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$",
                          description="the template code the delivery side knows (SMS or WeChat template)")
    params: dict[Annotated[str, Field(min_length=1, max_length=64)], ParamValue] = Field(
        default_factory=dict, max_length=50, description="values the template fills in")


class CampaignIn(BaseModel):
    """A coupon campaign names a coupon (`coupon_code`, a loyalty coupon still given); a message campaign has a
    `message` (care queues it, with the customer's consent for the channel)."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    segment_id: int = Field(ge=1, le=MAX_ID)
    kind: Kind
    coupon_code: str | None = Field(None, min_length=2, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
    message: MessageIn | None = None
    attribution_days: int = Field(DEFAULT_ATTRIBUTION_DAYS, ge=1, le=MAX_ATTRIBUTION_DAYS,
                                  description="orders this many days after a message count toward it")


class MessageOut(BaseModel):
    channel: str
    template: str
    params: dict[str, Any]


class CampaignOut(BaseModel):
    id: int
    name: str
    segment_id: int
    segment: str | None = Field(description="the segment's name")
    kind: str
    coupon_code: str | None
    message: MessageOut | None
    status: str
    attribution_days: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    launched_at: datetime | None
    launched_by: str | None
    finished_at: datetime | None
    version: int
    recipients: int = Field(description="members of the segment when it was launched")
    pending: int = Field(description="recipients not yet given their coupon or message")
    outcomes: dict[str, int]


class RecipientOut(BaseModel):
    customer_id: int
    outcome: str | None = Field(description="null until processed")
    reason: str | None
    reference: str | None = Field(description="the coupon code granted, or the message's id")
    at: datetime | None


class CampaignResults(BaseModel):
    campaign_id: int
    name: str
    kind: str
    status: str
    launched_at: datetime | None
    attribution_days: int
    attribution_ends_at: datetime | None
    recipients: int
    pending: int
    reached: int = Field(description="recipients granted the coupon or sent the message")
    outcomes: dict[str, int]
    redemptions: int | None = Field(description="coupon campaigns: redemptions of its coupons")
    discount: int | None = Field(description="coupon campaigns: fen its coupons took off")
    orders: int = Field(description="sold orders brought: redeeming its coupon, or within the attribution window")
    buyers: int
    revenue: int = Field(description="fen, net of refunds")
    gross_profit: int = Field(description="fen: revenue less the cost of the batches sold")
    conversion_rate: float | None = Field(description="buyers / reached")
