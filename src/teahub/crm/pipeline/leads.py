"""Leads: recorded, worked (new → contacted → qualified | disqualified) and converted, in one transaction, into a
customer and an opportunity."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from teahub.crm.pipeline import events, rules
from teahub.crm.pipeline.models import Lead, lead_contact_hash
from teahub.crm.pipeline.opportunities import create_opportunity
from teahub.crm.pipeline.records import (
    bump,
    check_user,
    check_version,
    created,
    customer_id,
    jsonable,
    lead_view,
    load,
)
from teahub.crm.pipeline.schemas import ConvertIn, LeadIn, LeadPatch, OpportunityIn
from teahub.customers import rules as customer_rules
from teahub.db.uow import UnitOfWork
from teahub.errors import InvalidTransition, ValidationFailed

_CONTACT_FIELDS = ("name", "company", "title", "phone", "email", "source", "owner", "note")


def _text(value: str | None) -> str | None:
    return " ".join(value.split()) or None if value is not None else None


def _name(value: str | None) -> str:
    name = customer_rules.normalize_name(value)
    if not name:
        raise ValidationFailed("a lead needs a name", field="name")
    return name


def _phone(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    return customer_rules.normalize_phone(value, mobile_only=False, field="phone")


def _email(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    return customer_rules.normalize_email(value, field="email")


def _clean(name: str, value: Any) -> Any:
    if name == "name":
        return _name(value)
    if name == "phone":
        return _phone(value)
    if name == "email":
        return _email(value)
    if name in ("company", "title"):
        return _text(value)
    if name == "note":
        return value.strip() or None if value is not None else None
    return value


def _reachable(lead_phone: str | None, lead_email: str | None) -> None:
    if lead_phone is None and lead_email is None:
        raise ValidationFailed("a lead needs a phone number or an email address", field="phone")


def _kept(view: dict[str, Any]) -> dict[str, Any]:
    """A lead as events and the audit log keep it: phone and email masked (they are sealed at rest)."""
    return {**view, "phone": customer_rules.mask_phone(view.get("phone")),
            "email": customer_rules.mask_email(view.get("email"))}


def create_lead(uow: UnitOfWork, data: LeadIn, *, default_owner: str) -> dict[str, Any]:
    values = {name: _clean(name, getattr(data, name)) for name in _CONTACT_FIELDS if name != "owner"}
    _reachable(values["phone"], values["email"])
    with uow:
        now = uow.now()
        lead = Lead(**values, owner=check_user(uow, data.owner or default_owner, "owner"), status="new",
                    version=1, created_at=now, updated_at=now)
        uow.session.add(lead)
        uow.session.flush()
        view = lead_view(lead)
        created(uow, lead, events.LEAD_CREATED, events.LEAD, _kept(view), "lead")
        uow.commit()
        return view


def shown_to(lead: dict[str, Any], sees_personal_data: bool) -> dict[str, Any]:
    """A lead's view as the caller may see it: whole, or its phone and email masked (as customers' are)."""
    if sees_personal_data:
        return lead
    return {**lead, "phone": customer_rules.mask_phone(lead.get("phone")),
            "email": customer_rules.mask_email(lead.get("email"))}


def get_lead(uow: UnitOfWork, lead_id: int) -> dict[str, Any]:
    with uow.reading():
        return lead_view(load(uow, Lead, lead_id))


def list_leads(uow: UnitOfWork, *, status: str | None = None, owner: str | None = None, source: str | None = None,
               q: str | None = None, before_id: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Newest first. `q` matches the name or company (contains, any case), or the phone or email exactly."""
    stmt = select(Lead)
    if before_id:
        stmt = stmt.where(Lead.id < before_id)
    if status is not None:
        stmt = stmt.where(Lead.status == status)
    if owner is not None:
        stmt = stmt.where(Lead.owner == owner)
    if source is not None:
        stmt = stmt.where(Lead.source == source)
    if q is not None and q.strip():
        term = q.strip()
        pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        matches = [Lead.name.ilike(pattern, escape="\\"), Lead.company.ilike(pattern, escape="\\"),
                   Lead.email_hash == lead_contact_hash("email", term.lower())]
        phone = customer_rules.try_normalize_phone(term)
        if phone is not None:
            matches.append(Lead.phone_hash == lead_contact_hash("phone", phone))
        stmt = stmt.where(or_(*matches))
    with uow.reading():
        return [lead_view(lead) for lead in uow.session.scalars(stmt.order_by(Lead.id.desc()).limit(limit))]


def update_lead(uow: UnitOfWork, lead_id: int, patch: LeadPatch) -> dict[str, Any]:
    """Change the lead's details and/or move its status (`lead.status_changed`; else `lead.updated`).
    Disqualifying needs a reason; a converted lead no longer changes."""
    sent = patch.model_fields_set - {"version"}
    values = {name: _clean(name, getattr(patch, name)) for name in _CONTACT_FIELDS if name in sent}
    for name in ("name", "source", "owner"):
        if name in values and values[name] is None:
            raise ValidationFailed(f"a lead's {name} cannot be removed", field=name)
    with uow:
        lead = load(uow, Lead, lead_id, lock=True)
        check_version(lead, patch.version)
        if lead.status == "converted" and sent:
            raise InvalidTransition("a converted lead no longer changes; work on its customer",
                                    field="status", current="converted")
        before = jsonable(_kept(lead_view(lead)))
        if "owner" in values:
            values["owner"] = check_user(uow, values["owner"], "owner")
        changed = [name for name, value in values.items() if getattr(lead, name) != value]
        for name in changed:
            setattr(lead, name, values[name])
        _reachable(lead.phone, lead.email)
        previous = lead.status
        if "status" in sent and patch.status is not None and patch.status != lead.status:
            rules.check_lead_transition(lead.status, patch.status)
            reason = _text(patch.disqualified_reason) if "disqualified_reason" in sent else None
            if patch.status == "disqualified" and not reason:
                raise ValidationFailed("say why the lead is disqualified", field="disqualified_reason")
            lead.status = patch.status
            lead.disqualified_reason = reason if patch.status == "disqualified" else None
            changed += ["status", "disqualified_reason"]
        elif "disqualified_reason" in sent and lead.status == "disqualified" and patch.disqualified_reason:
            reason = _text(patch.disqualified_reason)
            if reason != lead.disqualified_reason:
                lead.disqualified_reason = reason
                changed.append("disqualified_reason")
        if not changed:
            return lead_view(lead)
        if lead.status != previous:
            bump(uow, lead, events.LEAD_STATUS_CHANGED, events.LEAD,
                 {"lead": _kept(lead_view(lead)), "from": previous, "to": lead.status, "changed": changed})
        else:
            bump(uow, lead, events.LEAD_UPDATED, events.LEAD, {"lead": _kept(lead_view(lead)), "changed": changed})
        view = lead_view(lead)
        uow.audit("lead.status_changed" if lead.status != previous else "lead.updated", events.LEAD, lead.id,
                  before, jsonable(_kept(view)))
        uow.commit()
        return view


def _new_customer(lead: Lead) -> Any:
    """The customer a lead becomes: a company (the lead its contact) when it names one; else a person, found
    by their mobile phone or email when already a customer."""
    from teahub.customers.schemas import ContactIn, CustomerIn

    if lead.company:
        return CustomerIn(name=lead.company[:100], kind="company", company_name=lead.company, note=lead.note,
                          contacts=[ContactIn(name=lead.name, title=lead.title, phone=lead.phone, email=lead.email)])
    mobile = customer_rules.try_normalize_phone(lead.phone) if lead.phone else None
    note = lead.note
    if lead.phone and mobile is None:  # a landline identifies nobody: keep it as a note
        note = "\n".join(filter(None, [note, f"phone: {lead.phone}"]))
    return CustomerIn(name=lead.name, phone=mobile, email=lead.email, note=note[:2000] if note else None)


def convert_lead(uow: UnitOfWork, lead_id: int, data: ConvertIn) -> dict[str, Any]:
    """Turn a qualified lead into a customer (created, or the one given) and an opportunity, all in one
    transaction. Answers {lead, customer_id, customer_created, opportunity}."""
    from teahub.customers import service as customers

    with uow:
        lead = load(uow, Lead, lead_id, lock=True)
        rules.check_convertible(lead.status)
        before = jsonable(_kept(lead_view(lead)))
        if data.customer_id is not None:
            cid, customer_created = customer_id(uow, data.customer_id), False
        else:
            customer, customer_created = customers.create_customer(uow, _new_customer(lead))
            cid = customer["id"]
        draft = data.opportunity
        opportunity = create_opportunity(uow, OpportunityIn(
            customer_id=cid, title=draft.title or lead.company or lead.name, stage=draft.stage,
            expected_value=draft.expected_value, probability=draft.probability,
            expected_close_on=draft.expected_close_on, owner=draft.owner or lead.owner, note=draft.note),
            default_owner=lead.owner)
        lead.status = "converted"
        lead.customer_id = cid
        lead.opportunity_id = opportunity["id"]
        lead.converted_at = uow.now()
        bump(uow, lead, events.LEAD_CONVERTED, events.LEAD, {
            "lead": _kept(lead_view(lead)), "customer_id": cid, "customer_created": customer_created,
            "opportunity_id": opportunity["id"]})
        view = lead_view(lead)
        uow.audit("lead.converted", events.LEAD, lead.id, before, jsonable(_kept(view)))
        uow.commit()
        return {"lead": view, "customer_id": cid, "customer_created": customer_created, "opportunity": opportunity}
