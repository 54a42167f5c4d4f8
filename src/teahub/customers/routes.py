from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from teahub.api_params import Limit, PathId
from teahub.auth.deps import CurrentPrincipal, Uow
from teahub.auth.principal import Principal
from teahub.customers import privacy, service
from teahub.customers.schemas import (
    ConsentIn,
    ConsentOut,
    ConsentsOut,
    CustomerIn,
    CustomerKind,
    CustomerOut,
    CustomerPatch,
    EraseIn,
    MergedCustomerOut,
    MergeIn,
    MergeOut,
    ReversedMergeOut,
)
from teahub.errors import Forbidden
from teahub.pagination import DEFAULT_LIMIT, Page, cursor_int, page

router = APIRouter(tags=["customers"])

TERMS_ROLES = ("admin", "manager")


def _require_terms_role(principal: Principal, body: CustomerIn | CustomerPatch) -> None:
    """Credit limit and payment terms are set by admins and managers only."""
    for name in ("credit_limit", "payment_terms"):
        sent = name in body.model_fields_set
        if sent and (isinstance(body, CustomerPatch) or getattr(body, name) is not None) \
                and not principal.has_role(*TERMS_ROLES):
            raise Forbidden(f"only {' or '.join(TERMS_ROLES)} may set {name}", field=name)


@router.post("/customers", response_model=CustomerOut, status_code=201,
             responses={200: {"model": CustomerOut,
                              "description": "An identity given already belongs to this customer"}})
def create_customer(body: CustomerIn, principal: CurrentPrincipal, uow: Uow, response: Response) -> dict[str, Any]:
    """Create a customer (201), or answer the existing customer one of the identities belongs to (200)."""
    _require_terms_role(principal, body)
    view, created = service.create_customer(uow, body)
    response.status_code = 201 if created else 200
    return service.shown_to(view, principal.sees_personal_data)


@router.get("/customers", response_model=Page[CustomerOut])
def list_customers(principal: CurrentPrincipal, uow: Uow, q: str | None = None,
                   kind: CustomerKind | None = None,
                   identity: Annotated[str | None, Query(description="kind:value, e.g. taobao:tb_nick")] = None,
                   cursor: str | None = None, limit: Limit = DEFAULT_LIMIT) -> dict[str, Any]:
    """Search by name, full phone or its last four digits (`q`), kind, or one identity."""
    rows = service.list_customers(uow, q=q, kind=kind, identity=identity, after_id=cursor_int(cursor),
                                  limit=limit + 1)
    return page([service.shown_to(row, principal.sees_personal_data) for row in rows], limit)


@router.get("/customers/{customer_id}", response_model=CustomerOut)
def get_customer(customer_id: PathId, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    return service.shown_to(service.get_customer(uow, customer_id), principal.sees_personal_data)


@router.patch("/customers/{customer_id}", response_model=CustomerOut)
def update_customer(customer_id: PathId, body: CustomerPatch, principal: CurrentPrincipal,
                    uow: Uow) -> dict[str, Any]:
    _require_terms_role(principal, body)
    return service.shown_to(service.update_customer(uow, customer_id, body), principal.sees_personal_data)


@router.post("/customers/{customer_id}/merge", response_model=MergedCustomerOut)
def merge_customers(customer_id: PathId, body: MergeIn, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    """Merge customer `source_id` into this one; answers this customer and the `merge_id`."""
    principal.require_role("admin", "manager")
    return service.merge_customers(uow, customer_id, body.source_id)


@router.post("/customers/merges/{merge_id}/reverse", response_model=ReversedMergeOut)
def reverse_merge(merge_id: PathId, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    principal.require_role("admin")
    return service.reverse_merge(uow, merge_id)


@router.get("/customers/{customer_id}/merges", response_model=Page[MergeOut])
def list_merges(customer_id: PathId, principal: CurrentPrincipal, uow: Uow, cursor: str | None = None,
                limit: Limit = DEFAULT_LIMIT) -> dict[str, Any]:
    rows = service.list_merges(uow, customer_id, after_id=cursor_int(cursor), limit=limit + 1)
    return page(rows, limit)


@router.post("/customers/{customer_id}/consents", response_model=ConsentOut, status_code=201)
def record_consent(customer_id: PathId, body: ConsentIn, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    """Record a consent given or withdrawn for one purpose (the latest record per purpose is in force)."""
    return privacy.record_consent(uow, customer_id, body.purpose, body.granted, body.source)


@router.get("/customers/{customer_id}/consents", response_model=ConsentsOut)
def consents(customer_id: PathId, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    return privacy.consents(uow, customer_id)


@router.get("/customers/{customer_id}/export")
def export(customer_id: PathId, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    """Everything held about the customer, as JSON (a PIPL access request). Admins only; audited."""
    principal.require_role("admin")
    return privacy.export(uow, customer_id)


@router.post("/customers/{customer_id}/erase", response_model=CustomerOut)
def erase(customer_id: PathId, body: EraseIn, principal: CurrentPrincipal, uow: Uow) -> dict[str, Any]:
    """Erase the customer's personal data on request; orders stay, anonymised. Admins only; audited."""
    principal.require_role("admin")
    return privacy.erase(uow, customer_id, body.reason)
