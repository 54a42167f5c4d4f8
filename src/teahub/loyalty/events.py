"""Events loyalty emits.

- `points.changed` (aggregate `points`, id = customer id): {customer_id, kind, points, balance, document,
  order_id} for every ledger entry (earn, spend, return, reverse, expire, adjust).
- `tier.changed` (aggregate `membership`, id = customer id): {customer_id, tier,
  previous, spend_12m}.
"""

POINTS_CHANGED = "points.changed"
TIER_CHANGED = "tier.changed"
