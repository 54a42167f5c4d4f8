"""Events sales emits (aggregate `order`, id = order id; version = the order's version).

- `order.created`: {id, number, channel, external_id, status, customer_id, location, total, lines[{sku, quantity,
  net_amount}]}
- `order.confirmed`, `order.paid`, `order.allocated`, `order.shipped`, `order.completed`, `order.cancelled`:
  {id, number, channel, external_id, status, customer_id, location, total, paid_amount, refunded_amount,
  balance_due, cash_paid, cash_refunded, points_paid, points_refunded} (money paid and paid back so far, in
  fen, split between money and points)
- `order.payment_received`: a payment on an order that stays in its state (B2B on credit).
- `order.customer_changed`: the order now belongs to another customer (a merge or its reversal); payload as
  above plus previous_customer_id.
- `order.refunded`: the fields above plus {refund_id, amount, restock, lines[{sku, quantity, amount}]}
- `order.needs_review`: the fields above plus {reason}: a sale made offline found its stock sold meanwhile.
"""

CREATED = "order.created"
REFUNDED = "order.refunded"
PAYMENT_RECEIVED = "order.payment_received"
CUSTOMER_CHANGED = "order.customer_changed"
NEEDS_REVIEW = "order.needs_review"


def status_event(status: str) -> str:
    return f"order.{status}"
