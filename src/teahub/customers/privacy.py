"""Personal information (PIPL 个人信息保护法): consent records per purpose, export of everything held about a
customer, and erasure on request (personal data removed; orders kept, anonymised, for the accounts)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from teahub.customers import events
from teahub.customers.models import Consent, Customer, CustomerContact, CustomerIdentity
from teahub.customers.records import customer_view, load_customer, touch
from teahub.db.uow import UnitOfWork
from teahub.errors import Conflict

PURPOSES = ("marketing_sms", "marketing_wechat", "marketing_email", "profiling", "data_sharing")
ERASED_NAME = "(erased)"


def _consent_view(c: Consent) -> dict[str, Any]:
    return {"id": c.id, "purpose": c.purpose, "granted": c.granted, "at": c.at, "source": c.source,
            "recorded_by": c.recorded_by}


def record_consent(uow: UnitOfWork, customer_id: int, purpose: str, granted: bool, source: str) -> dict[str, Any]:
    with uow:
        customer = load_customer(uow, customer_id, lock=True)
        if customer.status == "erased":
            raise Conflict("this customer was erased", field="id")
        row = Consent(customer_id=customer.id, purpose=purpose, granted=granted, at=uow.now(), source=source,
                      recorded_by=uow.actor)
        uow.session.add(row)
        touch(uow, customer)
        uow.session.flush()
        view = _consent_view(row)
        uow.record_event("customer.consent_changed", events.AGGREGATE, customer.id,
                         {"customer_id": customer.id, "purpose": purpose, "granted": granted, "source": source},
                         version=customer.version)
        uow.audit("customer.consent_recorded", "customer", customer.id, None, view)
        uow.commit()
        return view


def consents(uow: UnitOfWork, customer_id: int) -> dict[str, Any]:
    """What is in force per purpose (the latest record), and the whole history."""
    with uow.reading():
        rows = list(uow.session.scalars(select(Consent).where(Consent.customer_id == customer_id)
                                        .order_by(Consent.id)))
        current = {c.purpose: c.granted for c in rows}
        return {"customer_id": customer_id, "current": {p: current.get(p, False) for p in PURPOSES},
                "history": [_consent_view(c) for c in rows]}


def has_consent(uow: UnitOfWork, customer_id: int, purpose: str) -> bool:
    """Marketing reaches a customer only with their consent for that purpose in force."""
    with uow.reading():
        latest = uow.session.scalar(select(Consent.granted).where(Consent.customer_id == customer_id,
                                                                  Consent.purpose == purpose)
                                    .order_by(Consent.id.desc()).limit(1))
        return bool(latest)


def export(uow: UnitOfWork, customer_id: int) -> dict[str, Any]:
    """Everything teahub holds about a customer, as JSON; the export itself is audited."""
    from teahub.crm.aftersales import service as aftersales
    from teahub.crm.care import service as care
    from teahub.loyalty import coupons
    from teahub.loyalty import service as loyalty
    from teahub.sales import views as sales

    with uow:
        customer = load_customer(uow, customer_id)
        document = {
            "customer": customer_view(customer),
            "consents": consents(uow, customer.id),
            "orders": sales.list_orders(uow, customer_id=customer.id, limit=100_000),
            "points": loyalty.points_of(uow, customer.id, limit=100_000),
            "coupons": coupons.customer_coupons(uow, customer.id),
            "tickets": aftersales.list_tickets(uow, customer_id=customer.id, limit=100_000),
            "messages": care.list_messages(uow, customer_id=customer.id, limit=100_000),
            "exported_at": uow.now(),
        }
        uow.audit("customer.exported", "customer", customer.id, None, {"by": uow.actor})
        uow.commit()
        return document


def erase(uow: UnitOfWork, customer_id: int, reason: str) -> dict[str, Any]:
    """Remove the customer's personal data: name, phone and every identity, contacts, birthday, note. The
    record stays, anonymised, so that orders, points and tickets still add up in the accounts."""
    with uow:
        customer = load_customer(uow, customer_id, lock=True)
        if customer.status == "erased":
            raise Conflict("this customer was already erased", field="id")
        if customer.status == "merged":
            raise Conflict("erase the customer it was merged into", field="id")
        uow.session.execute(delete(CustomerIdentity).where(CustomerIdentity.customer_id == customer.id))
        uow.session.execute(delete(CustomerContact).where(CustomerContact.customer_id == customer.id))
        customer.name, customer.birthday, customer.note = ERASED_NAME, None, None
        customer.company_name = ERASED_NAME if customer.company_name else None
        customer.home_store, customer.address = None, None
        customer.status = "erased"
        touch(uow, customer)
        uow.session.flush()
        uow.session.expire(customer, ["identities", "contacts"])
        # No personal data in the event or the audit entry: only that it happened, why and by whom.
        uow.record_event("customer.erased", events.AGGREGATE, customer.id, {"customer_id": customer.id},
                         version=customer.version)
        uow.audit("customer.erased", "customer", customer.id, None, {"reason": reason, "by": uow.actor})
        view = customer_view(customer)
        uow.commit()
        return view


__all__ = ["PURPOSES", "Customer", "consents", "erase", "export", "has_consent", "record_consent"]
