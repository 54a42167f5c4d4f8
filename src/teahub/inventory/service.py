"""The inventory's entry point for the rest of teahub: locations, receipts, transfers, counts, scrap,
thresholds, reservations and what is in stock. The use cases live in the modules named below."""

from __future__ import annotations

from teahub.inventory.locations import (
    LocationInfo,
    create_location,
    default_warehouse,
    get_location,
    get_location_by_id,
    list_locations,
    location_codes,
)
from teahub.inventory.movements import count_stock, receive_stock, scrap_stock, set_threshold, transfer_stock
from teahub.inventory.queries import ledger_entries, stock_levels, verify_ledger
from teahub.inventory.reservations import (
    Held,
    StockRequest,
    available,
    put_back,
    reallocate_expired,
    release,
    reserve,
    reserve_many,
    ship,
)
from teahub.inventory.rules import Pick

__all__ = [
    "Held", "LocationInfo", "Pick", "StockRequest", "available", "count_stock", "create_location",
    "default_warehouse", "get_location", "get_location_by_id", "ledger_entries", "list_locations",
    "location_codes", "put_back", "reallocate_expired", "receive_stock", "release", "reserve", "reserve_many",
    "scrap_stock",
    "set_threshold", "ship", "stock_levels", "transfer_stock", "verify_ledger",
]
