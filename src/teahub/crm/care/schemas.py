"""Input and output of the care API: rules' settings, the frequency cap, a run's counts, queued messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from teahub.crm.care.rules import (
    DEDUPE_KEY_MAX,
    MAX_MESSAGES_RANGE,
    SOURCE_MAX,
    TEMPLATE_MAX,
    TEMPLATE_PATTERN,
    WINDOW_DAYS_RANGE,
    Channel,
    DailyRule,
    MessageStatus,
    RuleName,
)


class RuleOut(BaseModel):
    name: RuleName
    trigger: str = Field(description="what makes the rule speak")
    enabled: bool
    channel: Channel
    template: str = Field(description="the template code delivery maps to an SMS or WeChat template")
    days: int | None = Field(description="the rule's number (see days_meaning); null for rules without one")
    days_meaning: str | None
    customized: bool = Field(description="false: the rule runs with its defaults")
    updated_at: datetime | None
    updated_by: str | None


class RuleIn(BaseModel):
    """Only the settings given change. `days` only for repurchase_due (look-ahead, 0-60) and win_back (days
    without a paid purchase, 1-3650)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None
    channel: Channel | None = None
    template: str | None = Field(default=None, min_length=1, max_length=TEMPLATE_MAX, pattern=TEMPLATE_PATTERN)
    days: int | None = Field(default=None, ge=0, le=3650)


class PolicyOut(BaseModel):
    max_messages: int = Field(description="at most this many messages per customer ...")
    window_days: int = Field(description="... within this many days; every message counts, failed ones excepted")
    customized: bool
    updated_at: datetime | None
    updated_by: str | None


class PolicyIn(BaseModel):
    """Only the values given change; max_messages 0 pauses every message."""

    model_config = ConfigDict(extra="forbid")

    max_messages: int | None = Field(default=None, ge=MAX_MESSAGES_RANGE[0], le=MAX_MESSAGES_RANGE[1])
    window_days: int | None = Field(default=None, ge=WINDOW_DAYS_RANGE[0], le=WINDOW_DAYS_RANGE[1])


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rule: DailyRule | None = Field(default=None, description="only this daily rule; all of them when left out")


class RuleCounts(BaseModel):
    enabled: bool
    queued: int
    duplicate: int = Field(description="queued before for the same cause")
    no_consent: int
    capped: int
    unreachable: int = Field(description="erased or merged, or no phone (sms) / WeChat identity (wechat)")


class RunOut(BaseModel):
    as_of: datetime
    rules: dict[str, RuleCounts]


class MessageOut(BaseModel):
    id: int
    customer_id: int
    channel: Channel
    template: str
    params: dict[str, Any]
    source: str = Field(max_length=SOURCE_MAX)
    dedupe_key: str = Field(max_length=DEDUPE_KEY_MAX)
    status: MessageStatus
    created_at: datetime
    updated_at: datetime
