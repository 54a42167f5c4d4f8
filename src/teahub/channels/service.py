"""The channels' entry point for the rest of teahub: shops and their SKU mappings, taking platform orders and
pushes in through the inbox, replaying failed messages, pulling orders by modified time, stock pushed back to
the shops, and reconciliation with them. The use cases live in the modules named below."""

from __future__ import annotations

from teahub.channels.inbox import get_message, list_inbox
from teahub.channels.metrics import collector as metrics_collector
from teahub.channels.processing import (
    Outcome,
    accept_push,
    drain,
    draining,
    process,
    receive_order,
    receive_push,
    replay,
    replay_failed,
)
from teahub.channels.pulling import pull_all, pull_shop
from teahub.channels.reconcile import reconcile_all, reconcile_shop
from teahub.channels.shops import create_shop, delete_mapping, get_shop, list_shops
from teahub.channels.stock import (
    add_mapping,
    list_mappings,
    push_due,
    resync_all,
    resync_shop,
    shop_stock,
    update_shop,
)

__all__ = [
    "Outcome", "accept_push", "add_mapping", "create_shop", "delete_mapping", "drain", "draining", "get_message",
    "get_shop",
    "list_inbox", "list_mappings", "list_shops", "metrics_collector", "process", "pull_all", "pull_shop",
    "push_due", "receive_order", "receive_push", "reconcile_all", "reconcile_shop", "replay", "replay_failed",
    "resync_all", "resync_shop", "shop_stock", "update_shop",
]
