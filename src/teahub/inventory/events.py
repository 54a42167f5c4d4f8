"""Events the inventory emits.

- `location.created`: the location view.
- `stock.changed` (aggregate `stock`, id `SKU@LOCATION`): {sku, location, on_hand, reserved, available,
  reason, reference} after any movement or reservation.
- `stock.low` (same aggregate): {sku, location, available, minimum} when available falls below the
  threshold set for that SKU at that location.
"""

LOCATION_CREATED = "location.created"
STOCK_CHANGED = "stock.changed"
STOCK_LOW = "stock.low"
