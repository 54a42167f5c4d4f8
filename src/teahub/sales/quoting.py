"""Quoting an order: what placing it would charge, computed by placing it for real inside a transaction that is
never committed. The price, the member's price list, coupons, points and stock are checked by the very code that
places orders, and nothing is written (no order, no stock moved, no points spent, no coupon used, no event).

A counter sale is quoted while it is being rung up, before its payments are complete: the answer then says in
`payments_missing` what the payments given leave to pay (the quote priced the sale as if the rest came in cash,
and that assumed payment is left out of the answer)."""

from __future__ import annotations

from typing import Any

from teahub.db.uow import UnitOfWork
from teahub.errors import ValidationFailed
from teahub.sales import placing
from teahub.sales.records import Authorize
from teahub.sales.schemas import OrderIn, PaymentIn

# The largest payment a request may carry (PaymentIn.amount): cash "for the rest" of a sale with no payment yet.
_ANY_AMOUNT = 1_000_000_000


def quote_order(uow: UnitOfWork, data: OrderIn, *, caller: str = "system",
                authorize: Authorize | None = None) -> dict[str, Any]:
    """The order `POST /orders` would answer for this body, without writing anything, plus `payments_missing`
    (fen the given payments leave unpaid; 0 when they cover the total)."""
    if data.channel == "pos" and not data.payments and not data.draft:
        # Nothing paid yet: price it as paid in cash, then leave that cash out of the answer.
        view = _placed_and_undone(uow, _with_cash(data, _ANY_AMOUNT), caller, authorize)
        return _without_assumed(view, assumed=view["paid_amount"], given_paid=0)
    try:
        return {**_placed_and_undone(uow, data, caller, authorize), "payments_missing": 0}
    except ValidationFailed as short:
        due, paid = short.extra.get("due"), short.extra.get("paid")
        if short.field != "payments" or not isinstance(due, int) or not isinstance(paid, int) or paid >= due:
            raise
    # The payments given cover part of it: the rest in cash, exactly (no change), then left out again.
    view = _placed_and_undone(uow, _with_cash(data, due - paid), caller, authorize)
    return _without_assumed(view, assumed=due - paid, given_paid=paid)


def _placed_and_undone(uow: UnitOfWork, data: OrderIn, caller: str, authorize: Authorize | None
                       ) -> dict[str, Any]:
    # The outer `with` is never committed: placing's own commit (at depth 2) only flushes, and leaving this
    # block rolls everything back.
    with uow:
        view, _status = placing.place_order(uow, data, caller=caller, authorize=authorize)
        return view


def _with_cash(data: OrderIn, amount: int) -> OrderIn:
    return data.model_copy(update={"payments": [*data.payments, PaymentIn(method="cash", amount=amount)]})


def _without_assumed(view: dict[str, Any], *, assumed: int, given_paid: int) -> dict[str, Any]:
    """The answer as the payments given leave it: the assumed cash payment (the last one recorded) taken out."""
    payments = list(view["payments"])
    if assumed > 0 and payments and payments[-1]["method"] == "cash":
        payments.pop()
    missing = max(view["total"] - given_paid, 0)
    return {**view, "payments": payments, "paid_amount": given_paid, "balance_due": missing, "change": 0,
            "payments_missing": missing}
