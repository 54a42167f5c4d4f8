"""Douyin shop 抖店: `order.orderDetail` answers, push messages, the order search API.

Money is **fen** integers; times Unix seconds; the parent `order_id` and each `sku_order_list[].order_id` are
strings. Receiver fields come encrypted and are kept as received; the buyer is `doudian_open_id` when given.
Push: an HTTP POST of a JSON array `[{tag, msg_id, data}]` (`data` a JSON string), header `event-sign` =
MD5(app_key + raw body + app_secret); answered `{"code": 0, "msg": "success"}`. API calls are signed
HMAC-SHA256(secret, secret + app_key… method… param_json… timestamp… v… + secret), hex.
"""

from __future__ import annotations

import hashlib
import hmac
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
    codes,
    dig,
    loads,
    md5_lower,
    optional_text,
    platform_sku,
    reconcile,
    same,
    text_id,
    unix_seconds,
    whole,
)
from teahub.customers.rules import is_masked
from teahub.errors import ValidationFailed

STATUSES = {1: "confirmed", 105: "paid", 2: "paid", 101: "shipped", 3: "shipped", 5: "completed", 4: "cancelled"}
REFUNDED_TAG = "206"
ORDER_TAGS = ("100", "101", "102", "103", "105", "106")
REFUND_SUCCESS = 3  # after_sale_info.refund_status
RETURN_AND_REFUND = 0  # after_sale_info.after_sale_type / aftersale_type
GATEWAY = "https://openapi-fxg.jinritemai.com"
PAGE_SIZE = 100


class DouyinConnector:
    platform = "douyin"
    channel = "douyin"
    gateway = GATEWAY
    max_window = timedelta(days=1)

    def external_id_of(self, document: Mapping[str, Any]) -> str | None:
        return optional_text(((document.get("data") or {}).get("shop_order_detail") or {}).get("order_id"))

    def parse_order(self, document: Mapping[str, Any], *, version: int | None = None) -> PlatformOrder:
        if document.get("code") not in (None, 10000, "10000"):
            raise ValidationFailed(f"douyin answered an error: {document.get('msg') or document.get('code')}",
                                   field="code")
        info = dig(document, "data", "shop_order_detail")
        where = "data.shop_order_detail"
        state = whole(info.get("order_status"), f"{where}.order_status")
        if state not in STATUSES:
            raise ValidationFailed(f"unknown douyin order_status {state}", field=f"{where}.order_status")
        paid_at = unix_seconds(info.get("pay_time"), f"{where}.pay_time")
        total = whole(info.get("pay_amount"), f"{where}.pay_amount")
        post = whole(info.get("post_amount") or 0, f"{where}.post_amount")
        raw_lines = as_list(info.get("sku_order_list"), f"{where}.sku_order_list")
        if not raw_lines:
            raise ValidationFailed("the order has no lines", field=f"{where}.sku_order_list")
        lines = [self._line(raw, i, where) for i, raw in enumerate(raw_lines)]
        amounts = reconcile([line.paid for line in lines], total - post, [line.price * line.quantity for line in lines])
        lines = [PlatformLine(**{**line.__dict__, "paid": amount}) for line, amount in zip(lines, amounts, strict=True)]
        refunds = []
        for raw, line in zip(raw_lines, lines, strict=True):
            after = raw.get("after_sale_info") or {}
            if after.get("refund_status") is not None and \
                    whole(after["refund_status"], f"{line.field}.after_sale_info.refund_status") == REFUND_SUCCESS:
                refunds.append(PlatformRefund(f"{line.line_id}:after_sale", line.paid, (line.line_id,),
                                              returned=str(after.get("after_sale_type")) == str(RETURN_AND_REFUND)))
        open_id = optional_text(info.get("doudian_open_id"))
        address = info.get("post_addr") or {}
        place = " ".join(str((address.get(k) or {}).get("name") or "") for k in ("province", "city", "town", "street"))
        place = f"{place.strip()} {address.get('encrypt_detail') or address.get('detail') or ''}".strip()
        order = PlatformOrder(
            external_id=text_id(info.get("order_id"), f"{where}.order_id"), platform_status=str(state),
            status=STATUSES[state], paid=paid_at is not None, total=total, shipping_fee=post, lines=tuple(lines),
            placed_at=unix_seconds(info.get("create_time"), f"{where}.create_time") or _missing(where),
            modified_at=unix_seconds(info.get("update_time"), f"{where}.update_time"), paid_at=paid_at,
            version=version, refunds=tuple(refunds),
            identities=(("douyin", open_id),) if open_id and not is_masked(open_id) else (),
            buyer_name=optional_text(info.get("mask_post_receiver")),
            receiver=Receiver(optional_text(info.get("encrypt_post_receiver") or info.get("post_receiver")),
                              optional_text(info.get("encrypt_post_tel") or info.get("post_tel")), place or None))
        order.check()
        return order

    def _line(self, raw: Mapping[str, Any], i: int, where: str) -> PlatformLine:
        here = f"{where}.sku_order_list.{i}"
        quantity = whole(raw.get("item_num"), f"{here}.item_num", minimum=1)
        origin = whole(raw.get("origin_amount") or 0, f"{here}.origin_amount")
        price = whole(raw["goods_price"], f"{here}.goods_price") if raw.get("goods_price") not in (None, "") \
            else origin // quantity
        return PlatformLine(
            line_id=text_id(raw.get("order_id"), f"{here}.order_id"), title=str(raw.get("product_name") or ""),
            quantity=quantity, price=price, paid=whole(raw.get("pay_amount") or 0, f"{here}.pay_amount"),
            merchant_codes=codes(raw.get("out_sku_id"), raw.get("code"), raw.get("out_product_id")),
            platform_sku_id=platform_sku(raw.get("sku_id"), raw.get("product_id")), field=here,
            code_field="out_sku_id")

    # -- push ----------------------------------------------------------------------------------------
    def verify_push(self, secrets: ShopSecrets, body: bytes, headers: Mapping[str, str],
                    query: Mapping[str, str]) -> bool:
        lowered = {k.lower(): v for k, v in headers.items()}
        if lowered.get("app-id") not in (None, secrets.app_key):
            return False
        expected = md5_lower(secrets.app_key.encode() + body + secrets.app_secret.encode())
        return same(lowered.get("event-sign"), expected)

    def split_push(self, body: bytes) -> list[dict[str, Any]]:
        document = loads(body)
        messages = document if isinstance(document, list) else [document]
        if not all(isinstance(m, dict) for m in messages):
            raise ValidationFailed("a douyin push is a JSON array of messages", field="body")
        return [m for m in messages if str(m.get("tag")) != "0"]  # tag 0: Douyin testing the URL

    def read_push(self, message: Mapping[str, Any]) -> PushMessage:
        data = message.get("data") or "{}"
        data = loads(data, "data") if isinstance(data, str) else data
        if not isinstance(data, Mapping):
            raise ValidationFailed("data is not a JSON object", field="data")
        tag = str(message.get("tag") or "")
        parent = optional_text(data.get("p_id"))
        refund = None
        if tag == REFUNDED_TAG:
            refund = PlatformRefund(text_id(data.get("aftersale_id"), "data.aftersale_id"),
                                    whole(data.get("refund_amount"), "data.refund_amount"),  # fen
                                    (text_id(data.get("s_id"), "data.s_id"),) if data.get("s_id") else (),
                                    returned=str(data.get("aftersale_type")) == str(RETURN_AND_REFUND))
        relevant = tag in ORDER_TAGS or tag.startswith("2")
        return PushMessage(message_id=text_id(message.get("msg_id"), "msg_id"), topic=tag,
                           external_id=parent if relevant else None, body=dict(message), refund=refund,
                           modified_at=unix_seconds(data.get("update_time"), "data.update_time"))

    def push_ack(self) -> dict[str, Any]:
        return {"code": 0, "msg": "success"}

    # -- API -----------------------------------------------------------------------------------------
    def sign(self, secrets: ShopSecrets, params: Mapping[str, str], body: bytes = b"") -> str:
        unwrapped = "".join(f"{k}{params[k]}" for k in ("app_key", "method", "param_json", "timestamp", "v"))
        text = f"{secrets.app_secret}{unwrapped}{secrets.app_secret}"
        return hmac.new(secrets.app_secret.encode(), text.encode(), hashlib.sha256).hexdigest()

    def request(self, secrets: ShopSecrets, method: str, params: Mapping[str, Any], now: datetime
                ) -> tuple[str, dict[str, str], bytes]:
        param_json = json.dumps(dict(sorted(params.items())), ensure_ascii=False, separators=(",", ":"))
        query = {"app_key": secrets.app_key, "method": method, "param_json": param_json,
                 "timestamp": str(int(now.timestamp())), "v": "2"}
        query["sign"] = self.sign(secrets, query)
        query["sign_method"] = "hmac-sha256"
        if secrets.access_token:
            query["access_token"] = secrets.access_token
        return f"/{method.replace('.', '/')}?{urlencode(query)}", {"content-type": "application/json"}, \
            param_json.encode()

    def list_modified(self, api: PlatformApi, since: datetime, until: datetime) -> Iterator[OrderRef]:
        page = 0
        while True:
            answer = api.call("order.searchList", {"update_time_start": int(since.timestamp()),
                                                   "update_time_end": int(until.timestamp()), "page": page,
                                                   "size": PAGE_SIZE, "order_by": "update_time"})
            data = dig(answer, "data")
            found = as_list(data.get("shop_order_list"), "data.shop_order_list")
            for info in found:
                yield OrderRef(text_id(info.get("order_id"), "order_id"),
                               unix_seconds(info.get("update_time"), "update_time"))
            if not found or (page + 1) * PAGE_SIZE >= whole(data.get("total") or 0, "data.total"):
                return
            page += 1

    def fetch_order(self, api: PlatformApi, external_id: str) -> dict[str, Any]:
        return api.call("order.orderDetail", {"shop_order_id": external_id})

    # -- stock ---------------------------------------------------------------------------------------
    def stock_update(self, api: PlatformApi, update: StockUpdate) -> dict[str, Any]:
        """`sku.syncStock`: `sku_id` or `out_sku_id` (the merchant code), `stock_num`, `incremental` false, and
        `idempotent_id` so a retried update is applied once."""
        params: dict[str, Any] = {"stock_num": update.quantity, "incremental": False}
        if update.sku_of_item() or (update.platform_sku_id and not update.item_id):
            params["sku_id"] = update.sku_of_item() or update.platform_sku_id
        elif update.merchant_code:
            params["out_sku_id"] = update.merchant_code
        else:
            raise StockRefused("douyin needs a sku_id or a merchant code", field="platform_sku_id")
        if update.item_id:
            params["product_id"] = update.item_id
        if update.idempotency_key:
            params["idempotent_id"] = update.idempotency_key
        answer = api.call("sku.syncStock", params)
        if answer.get("code") not in (10000, "10000"):
            raise StockRefused(f"douyin refused the stock update: {answer.get('msg') or answer.get('code')}",
                               field="quantity")
        return answer


def _missing(where: str) -> Any:
    raise ValidationFailed(f"{where}.create_time is missing", field=f"{where}.create_time")
