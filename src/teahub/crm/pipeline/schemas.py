"""API shapes of the B2B pipeline. Shape and size are checked here; meaning (transitions, phone formats,
prices, validity) in rules.py and the services."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from teahub.api_params import MAX_ID

LeadSource = Literal["referral", "exhibition", "wechat", "website", "phone", "other"]
LeadStatus = Literal["new", "contacted", "qualified", "disqualified", "converted"]
SettableLeadStatus = Literal["new", "contacted", "qualified", "disqualified"]
Stage = Literal["prospecting", "qualification", "proposal", "negotiation", "won", "lost"]
OpenStage = Literal["prospecting", "qualification", "proposal", "negotiation"]
ActivityKind = Literal["call", "visit", "wechat", "tasting", "note"]
QuoteStatus = Literal["draft", "sent", "accepted", "rejected", "expired"]
TaskState = Literal["open", "overdue", "done", "all"]

MAX_FEN = 2_147_483_647
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("give a time zone (UTC: ...Z)")
    if not _EARLIEST <= value < _LATEST:
        raise ValueError("a time between 2000 and 2100")
    return value


def _sane_date(value: date) -> date:
    if not date(2000, 1, 1) <= value < date(2100, 1, 1):
        raise ValueError("a date between 2000 and 2100")
    return value


AwareTime = Annotated[datetime, AfterValidator(_aware)]
Day = Annotated[date, AfterValidator(_sane_date)]
Id = Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]
Fen = Annotated[int, Field(strict=True, ge=0, le=MAX_FEN)]
Percent = Annotated[int, Field(strict=True, ge=0, le=100)]
Username = Annotated[str, Field(min_length=1, max_length=64)]
Note = Annotated[str, Field(max_length=2000)]
Reason = Annotated[str, Field(min_length=1, max_length=200)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Subject(_In):
    """What an activity or task is about: a customer, a lead or an opportunity."""

    customer_id: Id | None = None
    lead_id: Id | None = None
    opportunity_id: Id | None = None

    def subjects(self) -> dict[str, int]:
        return {name: value for name in ("customer_id", "lead_id", "opportunity_id")
                if (value := getattr(self, name)) is not None}


# -- leads ------------------------------------------------------------------------------------------
class LeadIn(_In):
    name: str = Field(min_length=1, max_length=100)
    company: str | None = Field(None, max_length=200)
    title: str | None = Field(None, max_length=64, description="the contact's job title")
    phone: str | None = Field(None, max_length=32)
    email: str | None = Field(None, max_length=128)
    source: LeadSource
    owner: Username | None = Field(None, description="username; the caller when left out")
    note: Note | None = None


class LeadPatch(_In):
    """Fields to change; `status` moves the lead (new → contacted → qualified | disqualified). `version`, when
    given, must be the current version."""

    name: str | None = Field(None, min_length=1, max_length=100)
    company: str | None = Field(None, max_length=200)
    title: str | None = Field(None, max_length=64)
    phone: str | None = Field(None, max_length=32)
    email: str | None = Field(None, max_length=128)
    source: LeadSource | None = None
    owner: Username | None = None
    note: Note | None = None
    status: SettableLeadStatus | None = None
    disqualified_reason: Reason | None = None
    version: Id | None = None


class LeadOut(BaseModel):
    id: int
    name: str
    company: str | None
    title: str | None
    phone: str | None
    email: str | None
    source: str
    status: str
    owner: str
    note: str | None
    disqualified_reason: str | None
    customer_id: int | None
    opportunity_id: int | None
    converted_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


class OpportunityDraft(_In):
    """The opportunity a converted lead opens."""

    title: str | None = Field(None, min_length=1, max_length=200, description="default: the company or name")
    stage: OpenStage = "qualification"
    expected_value: Fen = 0
    probability: Percent | None = Field(None, description="default: the stage's")
    expected_close_on: Day | None = None
    owner: Username | None = Field(None, description="default: the lead's owner")
    note: Note | None = None


class ConvertIn(_In):
    customer_id: Id | None = Field(None, description="attach to this existing customer instead of creating one")
    opportunity: OpportunityDraft = Field(default_factory=OpportunityDraft)


# -- opportunities ----------------------------------------------------------------------------------
class OpportunityIn(_In):
    customer_id: Id
    title: str = Field(min_length=1, max_length=200)
    stage: Stage = "prospecting"
    expected_value: Fen = 0
    probability: Percent | None = Field(None, description="default: the stage's")
    expected_close_on: Day | None = None
    owner: Username | None = Field(None, description="username; the caller when left out")
    lost_reason: Reason | None = None
    note: Note | None = None


class OpportunityPatch(_In):
    """Fields to change. A new `stage` without `probability` takes the stage's default probability; `lost`
    needs a `lost_reason`. `version`, when given, must be the current version (a board sends it)."""

    title: str | None = Field(None, min_length=1, max_length=200)
    stage: Stage | None = None
    probability: Percent | None = None
    expected_value: Fen | None = None
    expected_close_on: Day | None = None
    owner: Username | None = None
    lost_reason: Reason | None = None
    note: Note | None = None
    version: Id | None = None


class StageChangeOut(BaseModel):
    from_stage: str | None
    to_stage: str
    probability: int
    changed_at: datetime
    changed_by: str


class OpportunitySummaryOut(BaseModel):
    id: int
    customer_id: int
    title: str
    stage: str
    expected_value: int
    probability: int
    weighted_value: int
    expected_close_on: date | None
    owner: str
    lost_reason: str | None
    closed_at: datetime | None
    version: int
    updated_at: datetime


class OpportunityOut(OpportunitySummaryOut):
    note: str | None
    created_at: datetime
    stage_history: list[StageChangeOut]


class BoardTotals(BaseModel):
    count: int
    total_value: int
    weighted_value: int


class BoardColumnOut(BoardTotals):
    stage: str
    default_probability: int
    items: list[OpportunitySummaryOut]
    more: bool = Field(description="the column holds more opportunities than listed")


class BoardOut(BaseModel):
    stages: list[BoardColumnOut]
    open: BoardTotals = Field(description="the open stages together (the forecast)")


# -- activities and tasks ---------------------------------------------------------------------------
class ActivityIn(_Subject):
    """Exactly one of customer_id, lead_id, opportunity_id."""

    kind: ActivityKind
    occurred_at: AwareTime | None = Field(None, description="default: now")
    by: Username | None = Field(None, description="who did it (username); default: the caller")
    summary: str = Field(min_length=1, max_length=2000)


class ActivityOut(BaseModel):
    id: int
    kind: str
    customer_id: int | None
    lead_id: int | None
    opportunity_id: int | None
    occurred_at: datetime
    by: str
    summary: str
    created_at: datetime
    created_by: str


class TaskIn(_Subject):
    """At most one of customer_id, lead_id, opportunity_id."""

    title: str = Field(min_length=1, max_length=200)
    due_at: AwareTime
    assignee: Username | None = Field(None, description="default: the caller")
    note: Note | None = None


class TaskPatch(_In):
    title: str | None = Field(None, min_length=1, max_length=200)
    due_at: AwareTime | None = None
    assignee: Username | None = None
    note: Note | None = None
    done: bool | None = None
    version: Id | None = None


class TaskOut(BaseModel):
    id: int
    title: str
    note: str | None
    due_at: datetime
    assignee: str
    done: bool
    done_at: datetime | None
    overdue: bool
    customer_id: int | None
    lead_id: int | None
    opportunity_id: int | None
    created_by: str
    version: int
    created_at: datetime
    updated_at: datetime


# -- quotes -----------------------------------------------------------------------------------------
class QuoteLineIn(_In):
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(strict=True, gt=0, le=10_000_000, description="base units: grams for loose tea, else pieces")
    unit_price: int = Field(strict=True, ge=0, le=1_000_000_000,
                            description="the agreed price, fen per the product's price basis (as on orders)")
    discount: int = Field(0, strict=True, ge=0, le=1_000_000_000, description="line discount, fen")


class QuoteVersionIn(_In):
    """A negotiation round: the full set of lines on offer, valid through `valid_until` (a day in China)."""

    valid_until: date
    note: Note | None = None
    lines: list[QuoteLineIn] = Field(min_length=1, max_length=200)


class QuoteIn(QuoteVersionIn):
    customer_id: Id
    opportunity_id: Id | None = None
    location: str | None = Field(None, min_length=1, max_length=32,
                                 description="where the order ships from; default: the default warehouse")
    owner: Username | None = Field(None, description="username; the caller when left out")


class AcceptIn(_In):
    approve_over_limit: bool = Field(False, description="a manager or admin approves going over the credit limit")
    version: Id | None = Field(None, description="the round the customer accepted; must be the current one")


class RejectIn(_In):
    reason: Reason | None = None


class QuoteLineOut(BaseModel):
    line_no: int
    sku: str
    name: str
    unit: str
    quantity: int
    unit_price: int
    price_basis: int
    amount: int
    discount: int
    net_amount: int


class QuoteVersionOut(BaseModel):
    number: int
    valid_until: date
    note: str | None
    subtotal: int
    discount: int
    total: int
    created_at: datetime
    created_by: str
    lines: list[QuoteLineOut]


class QuoteSummaryOut(BaseModel):
    id: int
    number: str
    customer_id: int
    opportunity_id: int | None
    status: str
    current_version: int = Field(description="the negotiation round on the table")
    valid_until: date
    total: int
    owner: str
    order_id: int | None
    version: int = Field(description="of the record (events, concurrency); not the negotiation round")
    updated_at: datetime


class QuoteOut(QuoteSummaryOut):
    location: str | None
    sent_at: datetime | None
    accepted_at: datetime | None
    accepted_by: str | None
    credit_approved_by: str | None
    rejected_at: datetime | None
    reject_reason: str | None
    expired_at: datetime | None
    created_at: datetime
    current: QuoteVersionOut


class ConvertOut(BaseModel):
    lead: LeadOut
    customer_id: int
    customer_created: bool = Field(description="false when the lead's phone or email found an existing customer")
    opportunity: OpportunityOut


class ActivityPage(BaseModel):
    items: list[ActivityOut]
    next: str | None = None


class TaskPage(BaseModel):
    items: list[TaskOut]
    next: str | None = None
