"""Quotes: offered to a customer, negotiated in rounds (each a new version, earlier ones kept), sent, rejected.
Accepting (which places the order) and expiring live in `accepting`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_, select

from teahub.catalog import service as catalog
from teahub.crm.pipeline import events, rules
from teahub.crm.pipeline.models import Opportunity, Quote, QuoteLine, QuoteVersion
from teahub.crm.pipeline.records import (
    bump,
    check_user,
    customer_id,
    jsonable,
    load,
    quote_event_payload,
    quote_summary,
    quote_view,
    version_view,
)
from teahub.crm.pipeline.schemas import QuoteIn, QuoteLineIn, QuoteVersionIn
from teahub.db.uow import UnitOfWork
from teahub.errors import Conflict, ValidationFailed


def _price(uow: UnitOfWork, lines: list[QuoteLineIn]) -> rules.PricedQuote:
    products = catalog.get_products(uow, {line.sku for line in lines})
    return rules.price_quote([rules.LineRequest(ln.sku, ln.quantity, ln.unit_price, ln.discount) for ln in lines],
                             products)


def _note(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


def _add_version(uow: UnitOfWork, quote: Quote, number: int, data: QuoteVersionIn,
                 priced: rules.PricedQuote) -> QuoteVersion:
    version = QuoteVersion(
        quote_id=quote.id, number=number, valid_until=data.valid_until, note=_note(data.note),
        subtotal=priced.subtotal, discount=priced.discount, total=priced.total, created_at=uow.now(),
        created_by=uow.actor,
        lines=[QuoteLine(line_no=p.line_no, product_id=p.product.id, sku=p.product.sku, name=p.product.name,
                         unit=p.product.unit, quantity=p.quantity, unit_price=p.unit_price,
                         price_basis=p.product.price_basis, amount=p.amount, discount=p.discount,
                         net_amount=p.net_amount) for p in priced.lines])
    uow.session.add(version)
    quote.current_version = number
    quote.valid_until = data.valid_until
    quote.total = priced.total
    uow.session.flush()
    return version


def current_version(uow: UnitOfWork, quote: Quote) -> QuoteVersion:
    found = uow.session.scalar(select(QuoteVersion).where(QuoteVersion.quote_id == quote.id,
                                                          QuoteVersion.number == quote.current_version))
    assert found is not None, f"quote {quote.id} lost its version {quote.current_version}"
    return found


def view_of(uow: UnitOfWork, quote: Quote) -> dict[str, Any]:
    return quote_view(quote, current_version(uow, quote), uow.now())


def _check_opportunity(uow: UnitOfWork, opportunity_id: int, cid: int) -> None:
    opp = load(uow, Opportunity, opportunity_id, field="opportunity_id")
    if customer_id(uow, opp.customer_id, "opportunity_id") != cid:
        raise ValidationFailed(f"opportunity {opportunity_id} belongs to another customer", field="opportunity_id")
    if opp.stage in rules.CLOSED_STAGES:
        raise Conflict(f"opportunity {opportunity_id} is {opp.stage} already", field="opportunity_id")


def create_quote(uow: UnitOfWork, data: QuoteIn, *, default_owner: str) -> dict[str, Any]:
    """A draft quote for a customer (optionally for one of its opportunities) with its first version."""
    from teahub.inventory import service as inventory

    rules.check_valid_until(data.valid_until, uow.now())
    with uow:
        cid = customer_id(uow, data.customer_id)
        if data.opportunity_id is not None:
            _check_opportunity(uow, data.opportunity_id, cid)
        if data.location is not None:
            inventory.get_location(uow, data.location, "location")
        priced = _price(uow, data.lines)
        now = uow.now()
        quote = Quote(customer_id=cid, opportunity_id=data.opportunity_id, location=data.location,
                      owner=check_user(uow, data.owner or default_owner, "owner"), status="draft", current_version=1,
                      valid_until=data.valid_until, total=priced.total, version=1, created_at=now, updated_at=now)
        uow.session.add(quote)
        uow.session.flush()
        version = _add_version(uow, quote, 1, data, priced)
        view = quote_view(quote, version, now)
        uow.record_event(events.QUOTE_CREATED, events.QUOTE, quote.id, {"quote": quote_event_payload(quote)},
                         version=quote.version)
        uow.audit(events.QUOTE_CREATED, events.QUOTE, quote.id, None, jsonable(view))
        uow.commit()
        return view


def revise_quote(uow: UnitOfWork, quote_id: int, data: QuoteVersionIn) -> dict[str, Any]:
    """The next negotiation round: a new version with its own lines and validity; the quote is a draft again
    (to be sent). Earlier versions stay as they were."""
    rules.check_valid_until(data.valid_until, uow.now())
    with uow:
        quote = load(uow, Quote, quote_id, lock=True)
        rules.check_revisable(quote.status)
        before = jsonable(quote_summary(quote, uow.now()))
        priced = _price(uow, data.lines)
        version = _add_version(uow, quote, quote.current_version + 1, data, priced)
        quote.status = "draft"
        quote.sent_at = quote.rejected_at = quote.expired_at = None
        quote.reject_reason = None
        bump(uow, quote, events.QUOTE_REVISED, events.QUOTE, {"quote": quote_event_payload(quote)})
        view = quote_view(quote, version, uow.now())
        uow.audit(events.QUOTE_REVISED, events.QUOTE, quote.id, before, jsonable(quote_summary(quote, uow.now())))
        uow.commit()
        return view


def send_quote(uow: UnitOfWork, quote_id: int) -> dict[str, Any]:
    """The current version goes to the customer: draft → sent. A version whose validity has passed is not
    sent (make a new version)."""
    with uow:
        quote = load(uow, Quote, quote_id, lock=True)
        rules.check_quote_transition(quote.status, "sent")
        now = uow.now()
        if rules.is_expired(quote.valid_until, now):
            raise rules.QuoteExpired(f"version {quote.current_version} was valid until {quote.valid_until}; "
                                     "make a new version", field="valid_until",
                                     valid_until=quote.valid_until.isoformat())
        return _move(uow, quote, "sent", events.QUOTE_SENT, sent_at=now)


def reject_quote(uow: UnitOfWork, quote_id: int, reason: str | None = None) -> dict[str, Any]:
    """The customer turned the sent version down: sent → rejected (a new version may follow)."""
    with uow:
        quote = load(uow, Quote, quote_id, lock=True)
        rules.check_quote_transition(quote.status, "rejected")
        text = " ".join(reason.split()) or None if reason else None
        return _move(uow, quote, "rejected", events.QUOTE_REJECTED, extra={"reason": text},
                     rejected_at=uow.now(), reject_reason=text)


def _move(uow: UnitOfWork, quote: Quote, status: str, event: str, *, extra: dict[str, Any] | None = None,
          **fields: Any) -> dict[str, Any]:
    before = jsonable(quote_summary(quote, uow.now()))
    quote.status = status
    for name, value in fields.items():
        setattr(quote, name, value)
    bump(uow, quote, event, events.QUOTE, {"quote": quote_event_payload(quote), **(extra or {})})
    view = view_of(uow, quote)
    uow.audit(event, events.QUOTE, quote.id, before, jsonable(quote_summary(quote, uow.now())))
    uow.commit()
    return view


def get_quote(uow: UnitOfWork, quote_id: int) -> dict[str, Any]:
    with uow.reading():
        return view_of(uow, load(uow, Quote, quote_id))


def list_quotes(uow: UnitOfWork, *, status: str | None = None, customer_id: int | None = None,
                opportunity_id: int | None = None, owner: str | None = None, before_id: int | None = None,
                limit: int = 50) -> list[dict[str, Any]]:
    """Newest first. A sent quote past its validity counts as expired."""
    with uow.reading():
        now = uow.now()
        today = rules.business_date(now)
        stmt = select(Quote)
        if before_id:
            stmt = stmt.where(Quote.id < before_id)
        if status == "expired":
            stmt = stmt.where(or_(Quote.status == "expired", and_(Quote.status == "sent", Quote.valid_until < today)))
        elif status == "sent":
            stmt = stmt.where(Quote.status == "sent", Quote.valid_until >= today)
        elif status is not None:
            stmt = stmt.where(Quote.status == status)
        for column, value in ((Quote.customer_id, customer_id), (Quote.opportunity_id, opportunity_id),
                              (Quote.owner, owner)):
            if value is not None:
                stmt = stmt.where(column == value)
        return [quote_summary(q, now) for q in uow.session.scalars(stmt.order_by(Quote.id.desc()).limit(limit))]


def list_versions(uow: UnitOfWork, quote_id: int, *, after_number: int = 0, limit: int = 50) -> list[dict[str, Any]]:
    """Every negotiation round of the quote, first to latest, with its lines."""
    with uow.reading():
        load(uow, Quote, quote_id)
        rows = uow.session.scalars(select(QuoteVersion).where(QuoteVersion.quote_id == quote_id,
                                                              QuoteVersion.number > after_number)
                                   .order_by(QuoteVersion.number).limit(limit))
        return [version_view(v) for v in rows]
