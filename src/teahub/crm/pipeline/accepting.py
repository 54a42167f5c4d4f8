"""Accepting a quote: the current version becomes a B2B sales order at the quote's prices, once; and sent quotes
past their validity becoming expired."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from teahub.crm.pipeline import events, rules
from teahub.crm.pipeline.models import Quote, QuoteVersion
from teahub.crm.pipeline.opportunities import close_won
from teahub.crm.pipeline.quotes import current_version, view_of
from teahub.crm.pipeline.records import bump, jsonable, load, quote_event_payload, quote_number, quote_summary
from teahub.db.uow import UnitOfWork
from teahub.errors import Conflict


def order_client_id(quote_id: int) -> str:
    """The order's client id: unique among orders, so a quote can never place a second one."""
    return f"crm-quote-{quote_id}"


def _order_in(quote: Quote, version: QuoteVersion) -> Any:
    from teahub.sales.schemas import CustomerRef, LineIn, OrderIn

    return OrderIn(
        channel="b2b", location=quote.location, customer=CustomerRef(id=quote.customer_id),
        lines=[LineIn(sku=line.sku, quantity=line.quantity, unit_price=line.unit_price, discount=line.discount)
               for line in version.lines],
        client_id=order_client_id(quote.id),
        note=f"quote {quote_number(quote.id)} version {version.number}",
    )


def accept_quote(uow: UnitOfWork, quote_id: int, *, version: int | None = None,
                 credit_approved_by: str | None = None) -> dict[str, Any]:
    """The customer accepts the current version: the B2B order is placed through sales (stock reserved, credit
    checked; over the limit it is refused unless `credit_approved_by` names the approving manager), the quote
    keeps the order id and its opportunity, if any, is won. All in one transaction: a refusal writes nothing.
    Accepting an accepted quote answers it as it is, with the same order."""
    from teahub.sales import service as sales

    with uow:
        quote = load(uow, Quote, quote_id, lock=True)
        if quote.status == "accepted":
            return view_of(uow, quote)
        now = uow.now()
        if quote.status == "sent" and rules.is_expired(quote.valid_until, now):
            raise rules.QuoteExpired(
                f"quote {quote_number(quote.id)} was valid until {quote.valid_until}; make a new version",
                field="valid_until", valid_until=quote.valid_until.isoformat())
        rules.check_quote_transition(quote.status, "accepted")
        if version is not None and version != quote.current_version:
            raise Conflict(f"version {version} is not the current one ({quote.current_version})", field="version",
                           current_version=quote.current_version)
        before = jsonable(quote_summary(quote, now))
        offer = current_version(uow, quote)
        order, _status = sales.place_order(uow, _order_in(quote, offer), caller=uow.actor,
                                           credit_approved_by=credit_approved_by)
        quote.status = "accepted"
        quote.order_id = order["id"]
        quote.accepted_at = now
        quote.accepted_by = uow.actor
        quote.credit_approved_by = credit_approved_by
        bump(uow, quote, events.QUOTE_ACCEPTED, events.QUOTE, {
            "quote": quote_event_payload(quote), "order_id": order["id"], "credit_approved_by": credit_approved_by})
        if quote.opportunity_id is not None:
            close_won(uow, quote.opportunity_id, reason={"quote_id": quote.id, "order_id": order["id"]})
        view = view_of(uow, quote)
        uow.audit(events.QUOTE_ACCEPTED, events.QUOTE, quote.id, before, jsonable(quote_summary(quote, now)))
        uow.commit()
        return view


def expire_quotes(uow: UnitOfWork, *, limit: int = 500) -> list[int]:
    """Mark sent quotes past their validity as expired (`quote.expired`). Answers the quotes marked; run it
    until it answers none. (Reads and acceptance treat such quotes as expired already.)"""
    with uow:
        now = uow.now()
        stale = list(uow.session.scalars(
            select(Quote).where(Quote.status == "sent", Quote.valid_until < rules.business_date(now))
            .order_by(Quote.id).limit(limit).with_for_update()))
        for quote in stale:
            before = jsonable(quote_summary(quote, now))
            quote.status = "expired"
            quote.expired_at = now
            bump(uow, quote, events.QUOTE_EXPIRED, events.QUOTE, {"quote": quote_event_payload(quote)})
            uow.audit(events.QUOTE_EXPIRED, events.QUOTE, quote.id, before, jsonable(quote_summary(quote, now)))
        expired = [q.id for q in stale]
        uow.commit()
        return expired
