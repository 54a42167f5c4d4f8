"""Reconciliation with a shop: the platform's orders modified in the last N days, compared with what teahub holds
(missing, platform status, teahub status, total). What differs is repaired the way a pull would do it: the order
as the platform answers it now is stored in the inbox and processed. What still differs afterwards is reported
(an order cancelled in teahub but paid on the platform, an order that fails to process, …)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from teahub.channels import inbox
from teahub.channels.client import PlatformClient
from teahub.channels.connectors import connector_for
from teahub.channels.connectors.base import Connector, PlatformOrder
from teahub.channels.models import ChannelOrder
from teahub.channels.processing import process
from teahub.channels.pulling import windows
from teahub.channels.shops import ShopInfo, active_shop_codes, get_shop_info
from teahub.db.uow import UnitOfWork
from teahub.errors import DomainError, ValidationFailed
from teahub.sales import service as sales

MAX_DAYS = 90
DEFAULT_DAYS = 3
# teahub statuses that agree with what the platform says: a paid order may have its stock allocated already.
AGREES = {"paid": {"paid", "allocated"}, "confirmed": {"confirmed", "draft"}}

Difference = tuple[str, Any, Any]  # (field, platform, teahub)


def reconcile_shop(uow: UnitOfWork, code: str, *, days: int = DEFAULT_DAYS,
                   http: httpx.Client | None = None) -> dict[str, Any]:
    """Compare the shop's orders modified in the last `days` days with teahub's; repair; report the rest."""
    if not 1 <= days <= MAX_DAYS:
        raise ValidationFailed(f"days is 1 to {MAX_DAYS}", field="days")
    shop = get_shop_info(uow, code)
    connector = connector_for(shop.platform)
    api = PlatformClient(connector, shop, http, clock=uow.now)
    now = uow.now()
    external_ids: list[str] = []
    for begin, end in windows(now - timedelta(days=days), now, connector.max_window):
        for ref in connector.list_modified(api, begin, end):
            if ref.external_id not in external_ids:
                external_ids.append(ref.external_id)
    answer: dict[str, Any] = {"shop": code, "days": days, "checked": 0, "missing": 0, "repaired": 0,
                              "differences": []}
    for external_id in external_ids:
        document = connector.fetch_order(api, external_id)
        answer["checked"] += 1
        before = _differences(uow, shop, connector, document)
        if not before:
            continue
        if any(field == "order" for field, _, _ in before):
            answer["missing"] += 1
        body = json.dumps(document, ensure_ascii=False, default=str).encode()
        inbox_id, _new = inbox.store(uow, shop, source="pull", kind="order", payload=body.decode(),
                                     dedupe_key=inbox.document_key(body), external_id=external_id)
        outcome = process(uow, inbox_id)
        after = _differences(uow, shop, connector, document)
        if outcome.state != "processed":
            reason = outcome.error.detail if outcome.error else "see the inbox"
            after = [d for d in after if d[0] != "document"] + [("inbox", "processable", f"inbox {inbox_id} "
                                                                                         f"failed: {reason}")]
        if not after:
            answer["repaired"] += 1
        answer["differences"] += [{"external_id": external_id, "field": field, "platform": platform,
                                   "teahub": teahub} for field, platform, teahub in after]
    return answer


def _differences(uow: UnitOfWork, shop: ShopInfo, connector: Connector, document: dict[str, Any]
                 ) -> list[Difference]:
    try:
        po = connector.parse_order(document)
    except DomainError as exc:
        return [("document", exc.detail, None)]
    with uow.reading():
        held = uow.session.scalar(select(ChannelOrder).where(ChannelOrder.shop_id == shop.id,
                                                             ChannelOrder.external_id == po.external_id))
        if held is None or held.order_id is None:
            return [("order", po.external_id, None)]
        return compare(po, held.platform_status, sales.get_order(uow, held.order_id))


def compare(po: PlatformOrder, held_status: str, order: dict[str, Any]) -> list[Difference]:
    """What differs between the platform's order and teahub's: the platform's own status as last applied, the
    teahub status it maps to, and the total paid."""
    found: list[Difference] = []
    if held_status != po.platform_status[:40]:
        found.append(("platform_status", po.platform_status, held_status))
    if po.status is not None and order["status"] != po.status and order["status"] not in AGREES.get(po.status, ()):
        found.append(("status", po.status, order["status"]))
    if po.total != order["total"]:
        found.append(("total", po.total, order["total"]))
    return found


def reconcile_all(uow: UnitOfWork, *, days: int = DEFAULT_DAYS) -> dict[str, Any]:
    """The daily job: every active shop with pull on; one shop's failure stops no other."""
    results: dict[str, Any] = {}
    for code in active_shop_codes(uow):
        try:
            results[code] = reconcile_shop(uow, code, days=days)
        except DomainError as exc:
            results[code] = {"error": exc.detail}
    return {"shops": results}
