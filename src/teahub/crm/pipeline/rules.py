"""Pipeline rules as plain Python: lead statuses, opportunity stages and their probabilities, quote statuses,
validity and arithmetic. No I/O and no session; refusals are domain errors naming the field."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from teahub.catalog.rules import ProductInfo, line_amount
from teahub.errors import Conflict, InvalidTransition, ValidationFailed

# Money columns are 32-bit, as the orders a quote becomes.
MAX_FEN = 2_147_483_647
# Quotes are valid through the end of a calendar day in China (UTC+8 all year, no daylight saving).
BUSINESS_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")
MAX_VALIDITY_DAYS = 366


class QuoteExpired(Conflict):
    title = "Quote expired"


# -- leads ------------------------------------------------------------------------------------------
# new → contacted → qualified | disqualified; a disqualified lead may be contacted again; a qualified one
# becomes `converted` only by conversion (into a customer and an opportunity).
LEAD_TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"contacted", "disqualified"}),
    "contacted": frozenset({"qualified", "disqualified"}),
    "qualified": frozenset({"disqualified"}),
    "disqualified": frozenset({"contacted"}),
    "converted": frozenset(),
}


def check_lead_transition(status: str, target: str) -> None:
    if target == status:
        return
    if target not in LEAD_TRANSITIONS.get(status, frozenset()):
        hint = " (convert it instead)" if target == "converted" else ""
        raise InvalidTransition(f"a lead that is {status} cannot become {target}{hint}", field="status",
                                current=status, requested=target)


def check_convertible(status: str) -> None:
    if status != "qualified":
        raise InvalidTransition(f"only a qualified lead can be converted; this one is {status}", field="status",
                                current=status, requested="converted")


# -- opportunities ----------------------------------------------------------------------------------
OPEN_STAGES = ("prospecting", "qualification", "proposal", "negotiation")
CLOSED_STAGES = ("won", "lost")
STAGES = OPEN_STAGES + CLOSED_STAGES
DEFAULT_PROBABILITY: dict[str, int] = {
    "prospecting": 10, "qualification": 20, "proposal": 50, "negotiation": 75, "won": 100, "lost": 0,
}


def check_stage_change(current: str, target: str, lost_reason: str | None) -> None:
    """Open stages move freely between each other (a board is dragged both ways) and close as won or lost.
    Won is final; a lost opportunity may be reopened. Losing needs a reason."""
    if target not in STAGES:
        raise ValidationFailed(f"stage must be one of {', '.join(STAGES)}", field="stage")
    if current == "won" and target != "won":
        raise InvalidTransition("a won opportunity stays won", field="stage", current=current, requested=target)
    if target == "lost" and not (lost_reason or "").strip():
        raise ValidationFailed("say why the opportunity was lost", field="lost_reason")


def probability_for(stage: str, given: int | None) -> int:
    """The probability an opportunity in `stage` carries: the stage's default unless one is given. Won and
    lost are certain either way."""
    if given is None:
        return DEFAULT_PROBABILITY[stage]
    if not 0 <= given <= 100:
        raise ValidationFailed("probability is a percentage, 0 to 100", field="probability")
    if stage in CLOSED_STAGES and given != DEFAULT_PROBABILITY[stage]:
        raise ValidationFailed(f"a {stage} opportunity has probability {DEFAULT_PROBABILITY[stage]}",
                               field="probability")
    return given


def weighted_value(value_times_percent: int) -> int:
    """Σ expected value × probability / 100, rounded half-up to the fen."""
    return (2 * value_times_percent + 100) // 200


# -- quotes -----------------------------------------------------------------------------------------
QUOTE_TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"sent"}),
    "sent": frozenset({"accepted", "rejected", "expired"}),
    "accepted": frozenset(),
    "rejected": frozenset(),
    "expired": frozenset(),
}
# A new negotiation round can follow any state but accepted; the quote is a draft again.
REVISABLE = frozenset({"draft", "sent", "rejected", "expired"})


def business_date(now: datetime) -> date:
    return now.astimezone(BUSINESS_TZ).date()


def expires_at(valid_until: date) -> datetime:
    """The moment a quote valid until that day stops being valid: the next midnight in China."""
    return datetime.combine(valid_until + timedelta(days=1), time(0), BUSINESS_TZ)


def is_expired(valid_until: date, now: datetime) -> bool:
    return now >= expires_at(valid_until)


def effective_status(status: str, valid_until: date, now: datetime) -> str:
    """A sent quote past its validity is expired, whether or not the expiry job has marked it yet."""
    return "expired" if status == "sent" and is_expired(valid_until, now) else status


def check_quote_transition(status: str, target: str) -> None:
    if target not in QUOTE_TRANSITIONS.get(status, frozenset()):
        raise InvalidTransition(f"a quote that is {status} cannot become {target}", field="status",
                                current=status, requested=target)


def check_revisable(status: str) -> None:
    if status not in REVISABLE:
        raise InvalidTransition(f"a quote that is {status} takes no new version", field="status",
                                current=status, requested="draft")


def check_valid_until(valid_until: date, now: datetime, field: str = "valid_until") -> None:
    today = business_date(now)
    if valid_until < today:
        raise ValidationFailed(f"valid_until {valid_until} has passed (today is {today} in China)", field=field)
    if valid_until > today + timedelta(days=MAX_VALIDITY_DAYS):
        raise ValidationFailed(f"a quote is valid for at most {MAX_VALIDITY_DAYS} days", field=field)


@dataclass(frozen=True)
class LineRequest:
    sku: str
    quantity: int
    unit_price: int
    discount: int


@dataclass(frozen=True)
class PricedLine:
    line_no: int
    product: ProductInfo
    quantity: int
    unit_price: int
    amount: int
    discount: int
    net_amount: int


@dataclass(frozen=True)
class PricedQuote:
    lines: tuple[PricedLine, ...]
    subtotal: int
    discount: int
    total: int


def price_quote(lines: list[LineRequest], products: dict[str, ProductInfo]) -> PricedQuote:
    """Each line at its agreed price (fen per the product's price basis), exactly as the order will price it."""
    priced: list[PricedLine] = []
    for i, line in enumerate(lines):
        product = products.get(line.sku)
        if product is None:
            raise ValidationFailed(f"unknown SKU {line.sku}", field=f"lines.{i}.sku")
        if not product.active:
            raise ValidationFailed(f"{line.sku} is no longer sold", field=f"lines.{i}.sku")
        amount = line_amount(line.quantity, line.unit_price, product.price_basis)
        if amount > MAX_FEN:
            raise ValidationFailed(f"the line comes to {amount} fen, more than one quote can hold",
                                   field=f"lines.{i}.quantity")
        if line.discount > amount:
            raise ValidationFailed("the discount exceeds the line amount", field=f"lines.{i}.discount")
        priced.append(PricedLine(i + 1, product, line.quantity, line.unit_price, amount, line.discount,
                                 amount - line.discount))
    subtotal = sum(p.amount for p in priced)
    if subtotal > MAX_FEN:
        raise ValidationFailed(f"the quote comes to {subtotal} fen, more than one quote can hold", field="lines")
    discount = sum(p.discount for p in priced)
    return PricedQuote(tuple(priced), subtotal, discount, subtotal - discount)
