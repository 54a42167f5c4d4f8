"""Pinduoduo: `pdd.order.information.get` answers, push frames, the incremental order API.

The order API's money is yuan strings; **push money is fen**. Times are Beijing time strings in the order API,
Unix milliseconds in pushes. `order_sn` like 261111-123456789012345 is the id; lines have none (their index is
used). PDD gives no paid amount per line: `pay_amount` less postage is split over the lines by
`goods_price` × `goods_count`. `order_status` 1/2/3 with `refund_status` 4 (refunded).
Signing: uppercase MD5(secret + sorted k+v + secret). Push frames (`{id, commandType, sendTime, message:
{type, mallID, content}}`, normally a WebSocket) are relayed to the webhook signed the same way over the query
plus the raw body.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from teahub.channels.connectors.base import (
    OrderRef,
    PlatformApi,
    PlatformLine,
    PlatformOrder,
    PlatformRefund,
    PushMessage,
    Receiver,
    ShopSecrets,
    StockRefused,
    StockUpdate,
    as_list,
    beijing,
    codes,
    dig,
    fen,
    loads,
    optional_text,
    platform_sku,
    query_signed_md5,
    reconcile,
    secret_wrapped_md5,
    text_id,
    unix_seconds,
    whole,
)
from teahub.errors import ValidationFailed

STATUSES = {1: "paid", 2: "shipped", 3: "completed"}
REFUNDED = 4
REFUND_TOPICS = ("pdd_refund_RefundAgreeAgreement",)  # the seller agreed: PDD pays the buyer back
GATEWAY = "https://gw-api.pinduoduo.com"
PAGE_SIZE = 100


class PddConnector:
    platform = "pdd"
    channel = "pdd"
    gateway = GATEWAY
    max_window = timedelta(minutes=30)  # the incremental API takes at most 30 minutes

    def external_id_of(self, document: Mapping[str, Any]) -> str | None:
        return optional_text(((document.get("order_info_get_response") or {}).get("order_info") or {})
                             .get("order_sn"))

    def parse_order(self, document: Mapping[str, Any], *, version: int | None = None) -> PlatformOrder:
        if "error_response" in document:
            error = document["error_response"] or {}
            raise ValidationFailed(f"pdd answered an error: {error.get('error_msg')}", field="error_response")
        info = dig(document, "order_info_get_response", "order_info")
        where = "order_info_get_response.order_info"
        order_sn = text_id(info.get("order_sn"), f"{where}.order_sn")
        state = whole(info.get("order_status"), f"{where}.order_status")
        if state not in STATUSES:
            raise ValidationFailed(f"unknown pdd order_status {state}", field=f"{where}.order_status")
        refund_state = whole(info.get("refund_status") or 1, f"{where}.refund_status")
        total = fen(info.get("pay_amount"), f"{where}.pay_amount")
        post = fen(info.get("postage"), f"{where}.postage")
        raw_lines = as_list(info.get("item_list"), f"{where}.item_list")
        if not raw_lines:
            raise ValidationFailed("the order has no lines", field=f"{where}.item_list")
        lines = [self._line(raw, i, where) for i, raw in enumerate(raw_lines)]
        amounts = reconcile([0] * len(lines), total - post, [line.price * line.quantity for line in lines])
        lines = [PlatformLine(**{**line.__dict__, "paid": amount}) for line, amount in zip(lines, amounts, strict=True)]
        refunds = (PlatformRefund(f"{order_sn}:refunded", total),) if refund_state == REFUNDED else ()
        place = " ".join(str(info.get(k) or "") for k in ("province", "city", "town", "address")).strip()
        order = PlatformOrder(
            external_id=order_sn, platform_status=f"{state}/{refund_state}", status=STATUSES[state], paid=True,
            total=total, shipping_fee=post, lines=tuple(lines),
            placed_at=beijing(info.get("created_time"), f"{where}.created_time") or _missing(where),
            modified_at=beijing(info.get("updated_at"), f"{where}.updated_at"),
            paid_at=beijing(info.get("pay_time"), f"{where}.pay_time"), version=version, refunds=refunds,
            receiver=Receiver(optional_text(info.get("receiver_name")), optional_text(info.get("receiver_phone")),
                              place or None))
        order.check()
        return order

    def _line(self, raw: Mapping[str, Any], i: int, where: str) -> PlatformLine:
        here = f"{where}.item_list.{i}"
        return PlatformLine(
            line_id=str(i), title=str(raw.get("goods_name") or ""),
            quantity=whole(raw.get("goods_count"), f"{here}.goods_count", minimum=1),
            price=fen(raw.get("goods_price"), f"{here}.goods_price"), paid=0,
            merchant_codes=codes(raw.get("outer_id"), raw.get("outer_goods_id")),
            platform_sku_id=platform_sku(raw.get("sku_id"), raw.get("goods_id")), field=here, code_field="outer_id")

    # -- push ----------------------------------------------------------------------------------------
    def verify_push(self, secrets: ShopSecrets, body: bytes, headers: Mapping[str, str],
                    query: Mapping[str, str]) -> bool:
        return query_signed_md5(secrets, body, query, key_param="client_id")

    def split_push(self, body: bytes) -> list[dict[str, Any]]:
        document = loads(body)
        frames = document if isinstance(document, list) else [document]
        if not all(isinstance(frame, dict) for frame in frames):
            raise ValidationFailed("a pdd push is a frame object or a list of them", field="body")
        return [f for f in frames if f.get("commandType", "Common") == "Common"]  # heartbeats carry nothing

    def read_push(self, frame: Mapping[str, Any]) -> PushMessage:
        message = frame.get("message") or {}
        if not isinstance(message, Mapping):
            raise ValidationFailed("message is not an object", field="message")
        content = message.get("content") or "{}"
        content = loads(content, "message.content") if isinstance(content, str) else content
        topic = str(message.get("type") or "")
        tid = optional_text(content.get("tid"))
        refund = None
        if topic in REFUND_TOPICS:
            refund = PlatformRefund(text_id(content.get("refund_id"), "message.content.refund_id"),
                                    whole(content.get("refund_fee"), "message.content.refund_fee"))  # fen
        return PushMessage(message_id=text_id(frame.get("id"), "id"), topic=topic,
                           external_id=tid if topic.startswith(("pdd_trade_", "pdd_refund_")) else None,
                           body=dict(frame), refund=refund,
                           modified_at=unix_seconds(content.get("modified"), "message.content.modified"))

    def push_ack(self) -> dict[str, Any]:
        return {"success": True}

    # -- API -----------------------------------------------------------------------------------------
    def sign(self, secrets: ShopSecrets, params: Mapping[str, str], body: bytes = b"") -> str:
        return secret_wrapped_md5(secrets.app_secret, params, body)

    def request(self, secrets: ShopSecrets, method: str, params: Mapping[str, Any], now: datetime
                ) -> tuple[str, dict[str, str], bytes]:
        full = {"type": method, "client_id": secrets.app_key, "timestamp": str(int(now.timestamp())),
                "data_type": "JSON", **({"access_token": secrets.access_token} if secrets.access_token else {}),
                **{k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}}
        full["sign"] = self.sign(secrets, full)
        return "/api/router", {"content-type": "application/x-www-form-urlencoded;charset=utf-8"}, \
            urlencode(full).encode()

    def list_modified(self, api: PlatformApi, since: datetime, until: datetime) -> Iterator[OrderRef]:
        page = 1
        while True:
            answer = api.call("pdd.order.number.list.increment.get", {
                "start_updated_at": str(int(since.timestamp())), "end_updated_at": str(int(until.timestamp())),
                "order_status": "5", "refund_status": "5", "page": str(page), "page_size": str(PAGE_SIZE),
                "use_has_next": "true", "is_lucky_flag": "0"})
            result = dig(answer, "order_sn_increment_get_response")
            for item in as_list(result.get("order_sn_list"), "order_sn_list"):
                yield OrderRef(text_id(item.get("order_sn"), "order_sn"), beijing(item.get("updated_at"), "updated_at"))
            if not result.get("has_next"):
                return
            page += 1

    def fetch_order(self, api: PlatformApi, external_id: str) -> dict[str, Any]:
        return api.call("pdd.order.information.get", {"order_sn": external_id})

    # -- stock ---------------------------------------------------------------------------------------
    def stock_update(self, api: PlatformApi, update: StockUpdate) -> dict[str, Any]:
        """`pdd.goods.quantity.update`: `goods_id`, then `sku_id` or `outer_id`, `quantity`, `update_type` 1 (full)."""
        goods = update.item()
        if goods is None:
            raise StockRefused(f"pdd needs the goods id to set stock by merchant code {update.merchant_code}: "
                               "map the SKU with its item id", field="item_id")
        params: dict[str, Any] = {"goods_id": goods, "quantity": str(update.quantity), "update_type": "1"}
        if update.sku_of_item():
            params["sku_id"] = update.sku_of_item()
        elif update.merchant_code:
            params["outer_id"] = update.merchant_code
        answer = api.call("pdd.goods.quantity.update", params)
        body = answer.get("goods_quantity_update_response")
        if not isinstance(body, dict) or body.get("is_success") is not True:
            error = answer.get("error_response") or answer
            raise StockRefused(f"pdd refused the stock update: {error.get('error_msg') or error}", field="quantity")
        return answer


def _missing(where: str) -> Any:
    raise ValidationFailed(f"{where}.created_time is missing", field=f"{where}.created_time")
