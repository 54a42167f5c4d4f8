"""What the customer use cases share: a customer's view, loading a customer, marking it changed.

Internal to the customers package (service and merges); other capabilities call `teahub.customers.service`.
"""

from __future__ import annotations

from typing import Any

from teahub.customers import rules
from teahub.customers.models import Customer
from teahub.db.uow import UnitOfWork
from teahub.errors import NotFound


def customer_view(c: Customer) -> dict[str, Any]:
    phone = next((i.value for i in c.identities if i.kind == "phone"), None)
    return {
        "id": c.id,
        "name": c.name,
        "kind": c.kind,
        "tier": c.tier,
        "phone": phone,
        "phone_masked": rules.mask_phone(phone),
        "email": next((i.value for i in c.identities if i.kind == "email"), None),
        "identities": [{"kind": i.kind, "value": i.value} for i in c.identities],
        "birthday": c.birthday.isoformat() if c.birthday else None,
        "birth_month": c.birth_month,
        "address": c.address,
        "home_store": c.home_store,
        "note": c.note,
        "company_name": c.company_name,
        "credit_limit": c.credit_limit,
        "payment_terms": c.payment_terms,
        "contacts": [{"id": ct.id, "name": ct.name, "title": ct.title, "phone": ct.phone, "email": ct.email}
                     for ct in c.contacts],
        "status": c.status,
        "merged_into": c.merged_into_id,
        "version": c.version,
        "created_at": c.created_at.isoformat(),
        "updated_at": c.updated_at.isoformat(),
        "personal_data_masked": False,
    }


def load_customer(uow: UnitOfWork, customer_id: int, *, field: str = "id", lock: bool = False) -> Customer:
    customer = uow.session.get(Customer, customer_id, with_for_update=lock or None, populate_existing=lock)
    if customer is None:
        raise NotFound(f"no customer {customer_id}", field=field)
    return customer


def touch(uow: UnitOfWork, customer: Customer) -> None:
    customer.version += 1
    customer.updated_at = uow.now()


def refreshed_view(uow: UnitOfWork, customer: Customer) -> dict[str, Any]:
    uow.session.flush()
    uow.session.expire(customer, ["identities", "contacts"])
    return customer_view(customer)
