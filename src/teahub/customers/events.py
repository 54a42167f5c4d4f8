"""The events customers emit (aggregate type "customer", aggregate id the customer id, version the
customer's version after the change), with their payloads.

A customer in an event is the masked view (no phone, email, address or birthday in clear): events are kept and
relayed to other systems, and personal data must stay sealed and erasable. A consumer that needs the clear
values reads the customer through the service when it acts."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

AGGREGATE = "customer"

CUSTOMER_CREATED = "customer.created"
CUSTOMER_UPDATED = "customer.updated"
CUSTOMER_MERGED = "customer.merged"
CUSTOMER_UNMERGED = "customer.unmerged"

EVENT_TYPES = (CUSTOMER_CREATED, CUSTOMER_UPDATED, CUSTOMER_MERGED, CUSTOMER_UNMERGED)


class CustomerCreated(BaseModel):
    customer_id: int
    customer: dict[str, Any]  # the customer as the API shows it


class CustomerUpdated(BaseModel):
    customer_id: int
    changed: list[str]  # field names; "identities" and "contacts" for those lists
    customer: dict[str, Any]


class MovedCounts(BaseModel):
    identities: int
    contacts: int
    orders: int


class CustomerMerged(BaseModel):
    """The source customer was merged into the target (the aggregate of the event)."""

    target_id: int
    source_id: int
    merge_id: int
    moved: MovedCounts


class CustomerUnmerged(BaseModel):
    """A merge was reversed: what it moved went back to the source, which is active again."""

    target_id: int
    source_id: int
    merge_id: int
    moved: MovedCounts
