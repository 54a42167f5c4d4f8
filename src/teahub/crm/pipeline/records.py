"""What the pipeline's use cases share: loading records (under lock for writes), checking who and what they
refer to, bumping versions with their event, and the views the API shows.

Internal to the pipeline package; other capabilities call `teahub.crm.pipeline.service`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select

from teahub.crm.pipeline import rules
from teahub.crm.pipeline.models import Activity, CrmTask, Lead, Opportunity, Quote, QuoteVersion
from teahub.db.base import Base
from teahub.db.uow import UnitOfWork
from teahub.errors import Conflict, NotFound, ValidationFailed

R = TypeVar("R", bound=Base)

_NAMES: dict[type[Base], str] = {Lead: "lead", Opportunity: "opportunity", CrmTask: "task", Quote: "quote",
                                 Activity: "activity"}


# -- loading ----------------------------------------------------------------------------------------
def load(uow: UnitOfWork, model: type[R], record_id: int, *, field: str = "id", lock: bool = False) -> R:
    """A record by id; with `lock`, held until the transaction ends and read afresh."""
    stmt = select(model).where(model.id == record_id)  # type: ignore[attr-defined]
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    row = uow.session.scalar(stmt)
    if row is None:
        raise NotFound(f"no {_NAMES.get(model, model.__tablename__)} {record_id}", field=field)
    return row


def check_version(row: Any, expected: int | None) -> None:
    if expected is not None and expected != row.version:
        raise Conflict(f"this record changed meanwhile (now version {row.version}); reload it and try again",
                       field="version", current_version=row.version)


def bump(uow: UnitOfWork, row: Any, event_type: str, aggregate_type: str, payload: dict[str, Any]) -> None:
    """One more version of the record, and its event at that version."""
    row.version += 1
    row.updated_at = uow.now()
    uow.record_event(event_type, aggregate_type, row.id, jsonable(payload), version=row.version)


def created(uow: UnitOfWork, row: Any, event_type: str, aggregate_type: str, view: dict[str, Any],
            payload_key: str) -> None:
    """A new record's event (version 1) and audit entry."""
    uow.record_event(event_type, aggregate_type, row.id, jsonable({payload_key: view}), version=row.version)
    uow.audit(event_type, aggregate_type, row.id, None, jsonable(view))


# -- references -------------------------------------------------------------------------------------
def check_user(uow: UnitOfWork, username: str, field: str) -> str:
    """An active user's name (owners and assignees are users)."""
    from teahub.auth import service as auth

    name = username.strip()
    if not any(u["username"] == name and u["active"] for u in auth.list_users(uow)):
        raise ValidationFailed(f"no active user {username!r}", field=field)
    return name


def customer_id(uow: UnitOfWork, given: int, field: str = "customer_id") -> int:
    """The customer's id, or that of the customer it was merged into."""
    from teahub.customers import service as customers

    try:
        return customers.get_customer_info(uow, given).id
    except NotFound:
        raise NotFound(f"no customer {given}", field=field) from None


def check_subjects(uow: UnitOfWork, subjects: dict[str, int], *, required: bool) -> dict[str, int | None]:
    """customer_id / lead_id / opportunity_id: one of them (or none, unless `required`), checked to exist (a
    merged customer's survivor is used); those not given are None."""
    if len(subjects) > 1 or (required and not subjects):
        names = " or ".join(("customer_id", "lead_id", "opportunity_id"))
        raise ValidationFailed(f"give {'exactly' if required else 'at most'} one of {names}",
                               field=sorted(subjects)[-1] if subjects else "customer_id")
    out: dict[str, int | None] = {"customer_id": None, "lead_id": None, "opportunity_id": None}
    for name, value in subjects.items():
        if name == "customer_id":
            out[name] = customer_id(uow, value)
        elif name == "lead_id":
            out[name] = load(uow, Lead, value, field=name).id
        else:
            out[name] = load(uow, Opportunity, value, field=name).id
    return out


# -- cursors ----------------------------------------------------------------------------------------
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def time_cursor(at: datetime, record_id: int) -> str:
    return f"{(at - _EPOCH) // timedelta(microseconds=1)}_{record_id}"


def parse_time_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor:
        return None
    micros, sep, rid = cursor.partition("_")
    try:
        at = _EPOCH + timedelta(microseconds=int(micros))
        record_id = int(rid)
        if not sep or not 0 < record_id < 2**63:
            raise ValueError(cursor)
    except (ValueError, OverflowError):
        raise ValidationFailed("cursor must be the `next` value of a previous page", field="cursor") from None
    return at, record_id


# -- views ------------------------------------------------------------------------------------------
def jsonable(value: Any) -> Any:
    """A view with times and dates as ISO strings (event payloads, the audit log)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def lead_view(lead: Lead) -> dict[str, Any]:
    return {
        "id": lead.id, "name": lead.name, "company": lead.company, "title": lead.title, "phone": lead.phone,
        "email": lead.email, "source": lead.source, "status": lead.status, "owner": lead.owner, "note": lead.note,
        "disqualified_reason": lead.disqualified_reason, "customer_id": lead.customer_id,
        "opportunity_id": lead.opportunity_id, "converted_at": lead.converted_at, "version": lead.version,
        "created_at": lead.created_at, "updated_at": lead.updated_at,
    }


def opportunity_summary(o: Opportunity) -> dict[str, Any]:
    return {
        "id": o.id, "customer_id": o.customer_id, "title": o.title, "stage": o.stage,
        "expected_value": o.expected_value, "probability": o.probability,
        "weighted_value": rules.weighted_value(o.expected_value * o.probability),
        "expected_close_on": o.expected_close_on, "owner": o.owner, "lost_reason": o.lost_reason,
        "closed_at": o.closed_at, "version": o.version, "updated_at": o.updated_at,
    }


def opportunity_view(o: Opportunity) -> dict[str, Any]:
    return {
        **opportunity_summary(o), "note": o.note, "created_at": o.created_at,
        "stage_history": [{"from_stage": c.from_stage, "to_stage": c.to_stage, "probability": c.probability,
                           "changed_at": c.changed_at, "changed_by": c.changed_by} for c in o.stage_changes],
    }


def activity_view(a: Activity) -> dict[str, Any]:
    return {
        "id": a.id, "kind": a.kind, "customer_id": a.customer_id, "lead_id": a.lead_id,
        "opportunity_id": a.opportunity_id, "occurred_at": a.occurred_at, "by": a.by, "summary": a.summary,
        "created_at": a.created_at, "created_by": a.created_by,
    }


def task_view(t: CrmTask, now: datetime) -> dict[str, Any]:
    return {
        "id": t.id, "title": t.title, "note": t.note, "due_at": t.due_at, "assignee": t.assignee, "done": t.done,
        "done_at": t.done_at, "overdue": not t.done and t.due_at < now, "customer_id": t.customer_id,
        "lead_id": t.lead_id, "opportunity_id": t.opportunity_id, "created_by": t.created_by,
        "version": t.version, "created_at": t.created_at, "updated_at": t.updated_at,
    }


def quote_number(quote_id: int) -> str:
    return f"QT{quote_id:08d}"


def quote_summary(q: Quote, now: datetime) -> dict[str, Any]:
    return {
        "id": q.id, "number": quote_number(q.id), "customer_id": q.customer_id, "opportunity_id": q.opportunity_id,
        "status": rules.effective_status(q.status, q.valid_until, now), "current_version": q.current_version,
        "valid_until": q.valid_until, "total": q.total, "owner": q.owner, "order_id": q.order_id,
        "version": q.version, "updated_at": q.updated_at,
    }


def version_view(v: QuoteVersion) -> dict[str, Any]:
    return {
        "number": v.number, "valid_until": v.valid_until, "note": v.note, "subtotal": v.subtotal,
        "discount": v.discount, "total": v.total, "created_at": v.created_at, "created_by": v.created_by,
        "lines": [{"line_no": ln.line_no, "sku": ln.sku, "name": ln.name, "unit": ln.unit, "quantity": ln.quantity,
                   "unit_price": ln.unit_price, "price_basis": ln.price_basis, "amount": ln.amount,
                   "discount": ln.discount, "net_amount": ln.net_amount} for ln in v.lines],
    }


def quote_view(q: Quote, current: QuoteVersion, now: datetime) -> dict[str, Any]:
    return {
        **quote_summary(q, now), "location": q.location, "sent_at": q.sent_at, "accepted_at": q.accepted_at,
        "accepted_by": q.accepted_by, "credit_approved_by": q.credit_approved_by, "rejected_at": q.rejected_at,
        "reject_reason": q.reject_reason, "expired_at": q.expired_at, "created_at": q.created_at,
        "current": version_view(current),
    }


def quote_event_payload(q: Quote) -> dict[str, Any]:
    return {"id": q.id, "number": quote_number(q.id), "customer_id": q.customer_id,
            "opportunity_id": q.opportunity_id, "status": q.status, "current_version": q.current_version,
            "valid_until": q.valid_until.isoformat(), "total": q.total}
