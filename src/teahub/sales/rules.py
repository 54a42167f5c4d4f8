"""Order rules with no I/O: the lifecycle state machine, discounts, payments and refund arithmetic."""

from __future__ import annotations

from dataclasses import dataclass

from teahub.errors import InvalidTransition, ValidationFailed
from teahub.money import half_up_div

# draft (quote) → confirmed → paid → allocated → shipped → completed; cancelled from any state before shipped.
TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"confirmed", "cancelled"}),
    "confirmed": frozenset({"paid", "cancelled"}),
    "paid": frozenset({"allocated", "cancelled"}),
    "allocated": frozenset({"shipped", "cancelled"}),
    "shipped": frozenset({"completed"}),
    "completed": frozenset(),
    "cancelled": frozenset(),
}
# The happy path, used to bring a channel order to the status its platform reports.
PATH = ("draft", "confirmed", "paid", "allocated", "shipped", "completed")
RESERVING = frozenset({"confirmed", "paid", "allocated"})  # states whose order holds reserved stock
REFUNDABLE = frozenset({"paid", "allocated", "shipped", "completed"})


def can_transition(status: str, target: str, *, on_credit: bool = False, at_counter: bool = False) -> bool:
    if target in TRANSITIONS.get(status, frozenset()):
        return True
    if on_credit and status == "confirmed" and target == "allocated":
        return True  # B2B on credit terms ships before it pays
    if on_credit and status in ("allocated", "shipped", "completed") and target == "paid":
        return False
    return at_counter and status == "paid" and target == "completed"  # a POS sale is handed over at once


def check_transition(status: str, target: str, *, on_credit: bool = False, at_counter: bool = False) -> None:
    if not can_transition(status, target, on_credit=on_credit, at_counter=at_counter):
        raise InvalidTransition(f"an order that is {status} cannot become {target}", field="status",
                                current=status, requested=target)


def path_to(status: str, target: str) -> list[str]:
    """The lifecycle steps from status to target along the happy path (cancel is one step)."""
    if target == "cancelled":
        return ["cancelled"]
    if status not in PATH or target not in PATH:
        return [target]
    start, end = PATH.index(status), PATH.index(target)
    return list(PATH[start + 1:end + 1]) if end > start else []


@dataclass(frozen=True)
class Tender:
    method: str
    amount: int


@dataclass(frozen=True)
class Settlement:
    """What each payment method covers, and the change given back in cash."""

    applied: list[Tender]
    change: int


def settle(payments: list[Tender], due: int) -> Settlement:
    """Payments must cover what is due exactly; only cash may exceed it, and the excess is change."""
    paid = sum(p.amount for p in payments)
    if paid < due:
        raise ValidationFailed(f"payments cover {paid} of {due} fen", field="payments", due=due, paid=paid)
    change = paid - due
    cash = sum(p.amount for p in payments if p.method == "cash")
    if change > cash:
        raise ValidationFailed(f"payments exceed what is due by {change} fen, and only cash gives change",
                               field="payments", due=due, paid=paid)
    applied: list[Tender] = []
    left_change = change
    for p in payments:
        amount = p.amount
        if p.method == "cash" and left_change:
            back = min(left_change, amount)
            amount -= back
            left_change -= back
        applied.append(Tender(p.method, amount))
    return Settlement(applied, change)


def refund_amount(net_amount: int, quantity: int, refunded_quantity: int, refunded_amount: int,
                  returning: int, agreed: int | None = None) -> int:
    """What a refund of `returning` more units of a line gives back: the `agreed` amount when one is given (money
    back for part of a line, with or without units), else the units' share of what the line earned, and the whole
    remainder when the last units go back (so a line refunded in parts refunds exactly its amount). Never more
    than the line has left."""
    if returning < 0 or refunded_quantity + returning > quantity:
        raise ValidationFailed("refund quantity exceeds what is left on the line", field="quantity")
    left = net_amount - refunded_amount
    if agreed is not None:
        if agreed > left:
            raise ValidationFailed(f"the line has {left} fen left to refund", field="amount")
        return agreed
    if returning == 0:
        raise ValidationFailed("give the quantity given back, or the amount paid back", field="quantity")
    if refunded_quantity + returning == quantity:
        return left
    return min(half_up_div(net_amount * returning, quantity), left)



def shortfalls(wanted: list[tuple[str, int]], taken: list[int]) -> list[tuple[str, int]]:
    """(sku, units missing) for each line whose picks cover less than the units it needs (a gift box needs
    its components' units)."""
    return [(sku, units - got) for (sku, units), got in zip(wanted, taken, strict=True) if got < units]
