"""API shapes of customers. Shape and size are checked here; meaning (phone formats, identity rules) in
rules.py, called by the service."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from teahub.api_params import MAX_ID

IdentityKind = Literal[
    "phone", "email", "wechat_unionid", "wechat_openid", "taobao", "jd", "pdd", "douyin", "youzan",
]
CustomerKind = Literal["person", "company"]
# A member tier code (see loyalty tiers: member, silver, gold, vip by default).
Tier = Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[a-z0-9_]+$")]
# Money is int fen; the column is a 32-bit integer on every database.
Fen = int
MAX_FEN = 2_147_483_647


class IdentityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: IdentityKind
    value: str = Field(min_length=1, max_length=128)


class IdentityOut(BaseModel):
    kind: str
    value: str


class ContactIn(BaseModel):
    """A contact person of a company customer. Give `id` to keep (and update) an existing contact."""

    model_config = ConfigDict(extra="forbid")

    id: int | None = Field(default=None, ge=1, le=MAX_ID)
    name: str = Field(min_length=1, max_length=100)
    title: str | None = Field(None, max_length=64)
    phone: str | None = Field(None, max_length=32)
    email: str | None = Field(None, max_length=128)


class ContactOut(BaseModel):
    id: int
    name: str
    title: str | None
    phone: str | None
    email: str | None


class CustomerIn(BaseModel):
    """A new customer. If one of the identities (phone, email, identities) already belongs to a customer,
    that customer is answered instead (with the free identities given added to it)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field("", max_length=100)
    phone: str | None = Field(None, max_length=32)
    email: str | None = Field(None, max_length=128)
    identities: list[IdentityIn] = Field(default_factory=list, max_length=20)
    kind: CustomerKind = "person"
    # Left out: "member" when a phone is given, else none (list price).
    tier: Tier | None = None
    birthday: date | None = None
    address: str | None = Field(None, max_length=200)
    home_store: str | None = Field(None, max_length=32)
    note: str | None = Field(None, max_length=2000)
    company_name: str | None = Field(None, max_length=200)
    credit_limit: Fen | None = Field(None, ge=0, le=MAX_FEN, strict=True)
    payment_terms: str | None = Field(None, max_length=32)
    contacts: list[ContactIn] = Field(default_factory=list, max_length=50)


class CustomerRef(BaseModel):
    """The `customer` object of an order: an id, or identities to find (or create) the customer by."""

    model_config = ConfigDict(extra="ignore")

    id: int | None = Field(None, strict=True, ge=1, le=MAX_ID)
    name: str = Field("", max_length=100)
    phone: str | None = Field(None, max_length=32)
    email: str | None = Field(None, max_length=128)
    identities: list[IdentityIn] = Field(default_factory=list, max_length=20)


class CustomerPatch(BaseModel):
    """Fields to change; fields left out stay as they are. `version`, when given, must be the current
    version (optimistic concurrency)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=100)
    kind: CustomerKind | None = None
    tier: Tier | None = None
    birthday: date | None = None
    address: str | None = Field(None, max_length=200)
    home_store: str | None = Field(None, max_length=32)
    note: str | None = Field(None, max_length=2000)
    company_name: str | None = Field(None, max_length=200)
    credit_limit: Fen | None = Field(None, ge=0, le=MAX_FEN, strict=True)
    payment_terms: str | None = Field(None, max_length=32)
    add_identities: list[IdentityIn] = Field(default_factory=list, max_length=20)
    contacts: list[ContactIn] | None = Field(None, max_length=50)
    version: int | None = Field(default=None, ge=1, le=MAX_ID)


class CustomerOut(BaseModel):
    id: int
    name: str
    kind: str
    tier: str | None
    phone: str | None
    phone_masked: str | None
    email: str | None
    identities: list[IdentityOut]
    # Shown only to roles that may see personal data (admin, manager, integration); others get the month.
    birthday: date | None
    birth_month: int | None = None
    address: str | None = None
    home_store: str | None
    note: str | None
    company_name: str | None
    credit_limit: int | None
    payment_terms: str | None
    contacts: list[ContactOut]
    status: str
    merged_into: int | None
    version: int
    created_at: datetime
    updated_at: datetime
    # True when phone, email, identities, contacts and address are masked for the caller's role.
    personal_data_masked: bool = False


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source_id: int = Field(strict=True, ge=1, le=MAX_ID)


class MergedCustomerOut(CustomerOut):
    merge_id: int


class MergeOut(BaseModel):
    id: int
    target_id: int
    source_id: int
    merged_at: datetime
    merged_by: str
    moved: dict[str, Any]
    reversed_at: datetime | None
    reversed_by: str | None


class ReversedMergeOut(MergeOut):
    source: CustomerOut
    target: CustomerOut


class ConsentIn(BaseModel):
    purpose: Literal["marketing_sms", "marketing_wechat", "marketing_email", "profiling", "data_sharing"]
    granted: bool
    source: str = Field(min_length=1, max_length=64, description="where it was given: pos:BJ01, web, paper …")


class ConsentOut(BaseModel):
    id: int
    purpose: str
    granted: bool
    at: datetime
    source: str
    recorded_by: str


class ConsentsOut(BaseModel):
    customer_id: int
    current: dict[str, bool]
    history: list[ConsentOut]


class EraseIn(BaseModel):
    reason: str = Field(min_length=1, max_length=200)
