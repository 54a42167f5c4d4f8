"""Sales' entry point for the rest of teahub: placing orders and moving them through their lifecycle, refunds,
and orders following merged customers. The use cases live in the modules named below."""

from __future__ import annotations

from teahub.sales.lifecycle import allocate, cancel, complete, confirm, pay, ship
from teahub.sales.placing import batchable, create_order, place_new_orders, place_order
from teahub.sales.reassign import move_orders, reassign_orders
from teahub.sales.records import Authorize
from teahub.sales.refunds import refund
from teahub.sales.views import customer_spend, get_order

__all__ = [
    "Authorize", "allocate", "batchable", "cancel", "complete", "confirm", "create_order", "customer_spend",
    "get_order", "move_orders", "pay", "place_new_orders", "place_order", "reassign_orders", "refund", "ship",
]
