"""JD POP: `jingdong.pop.order.get` answers (note the platform's own spelling `…_responce`), pushes, the order
search API.

Money is yuan strings; times Beijing time; `orderId` 64-bit (kept as text). JD gives no paid amount per line:
`orderPayment` less freight is split over the lines in proportion to `jdPrice` × quantity. The buyer `pin` is
a JD identity unless masked; `consigneeInfo` is encrypted since 2022 and kept as received.
Request signing (third-party clients; unconfirmed by JD): uppercase MD5(secret + sorted k+v + secret). Pushes
(unconfirmed) are relayed as JSON `{id, topic, content}` signed the same way over the query plus the raw body.
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
    PushMessage,
    Receiver,
    ShopSecrets,
    StockRefused,
    StockUpdate,
    as_list,
    beijing,
    beijing_text,
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
    whole,
)
from teahub.customers.rules import is_masked
from teahub.errors import ValidationFailed

STATUSES = {
    "WAIT_SELLER_STOCK_OUT": "paid", "WAIT_SELLER_DELIVERY": "paid",
    "SEND_TO_DISTRIBUTION_CENER": "shipped", "DISTRIBUTION_CENTER_RECEIVED": "shipped",
    "WAIT_GOODS_RECEIVE_CONFIRM": "shipped",
    "RECEIPTS_CONFIRM": "completed", "FINISHED_L": "completed",
    "TRADE_CANCELED": "cancelled",
    "LOCKED": None, "PAUSE": None,  # the platform holds the order: keep the reservation, do not ship
}
GATEWAY = "https://api.jd.com"
ENVELOPE = "jingdong_pop_order_get_responce"
PAGE_SIZE = 100
ALL_STATES = ",".join(s for s in STATUSES)


class JdConnector:
    platform = "jd"
    channel = "jd"
    gateway = GATEWAY
    max_window = timedelta(days=1)

    def external_id_of(self, document: Mapping[str, Any]) -> str | None:
        info = ((document.get(ENVELOPE) or {}).get("orderDetailInfo") or {}).get("orderInfo") or {}
        return optional_text(info.get("orderId"))

    def parse_order(self, document: Mapping[str, Any], *, version: int | None = None) -> PlatformOrder:
        envelope = dig(document, ENVELOPE)
        if str(envelope.get("code", "0")) != "0":
            raise ValidationFailed(f"jd answered an error: {envelope.get('zh_desc') or envelope.get('code')}",
                                   field=f"{ENVELOPE}.code")
        info = dig(document, ENVELOPE, "orderDetailInfo", "orderInfo")
        where = f"{ENVELOPE}.orderDetailInfo.orderInfo"
        state = str(info.get("orderState") or "")
        if state not in STATUSES:
            raise ValidationFailed(f"unknown jd order state {state!r}", field=f"{where}.orderState")
        status = STATUSES[state]
        total = fen(info.get("orderPayment"), f"{where}.orderPayment")
        post = fen(info.get("freightPrice"), f"{where}.freightPrice")
        raw_lines = as_list(info.get("itemInfoList"), f"{where}.itemInfoList")
        if not raw_lines:
            raise ValidationFailed("the order has no lines", field=f"{where}.itemInfoList")
        lines = [self._line(raw, i, where) for i, raw in enumerate(raw_lines)]
        gross = [line.price * line.quantity for line in lines]
        amounts = reconcile([0] * len(lines), total - post, gross)
        lines = [PlatformLine(**{**line.__dict__, "paid": amount}) for line, amount in zip(lines, amounts, strict=True)]
        pin = optional_text(info.get("pin"))
        consignee = info.get("consigneeInfo") or {}
        paid_at = beijing(info.get("paymentConfirmTime"), f"{where}.paymentConfirmTime")
        order = PlatformOrder(
            external_id=text_id(info.get("orderId"), f"{where}.orderId"), platform_status=state, status=status,
            paid=True,  # POP orders reach the seller paid (cash on delivery aside)
            total=total, shipping_fee=post, lines=tuple(lines),
            placed_at=beijing(info.get("orderStartTime"), f"{where}.orderStartTime") or _missing(where),
            modified_at=beijing(info.get("modified"), f"{where}.modified"), paid_at=paid_at, version=version,
            identities=(("jd", pin),) if pin and not is_masked(pin) else (), buyer_name=pin,
            receiver=Receiver(optional_text(consignee.get("fullname")),
                              optional_text(consignee.get("mobile") or consignee.get("desen_mobile")),
                              optional_text(consignee.get("fullAddress"))))
        order.check()
        return order

    def _line(self, raw: Mapping[str, Any], i: int, where: str) -> PlatformLine:
        here = f"{where}.itemInfoList.{i}"
        return PlatformLine(
            line_id=optional_text(raw.get("id")) or str(i), title=str(raw.get("skuName") or ""),
            quantity=whole(raw.get("itemTotal"), f"{here}.itemTotal", minimum=1),
            price=fen(raw.get("jdPrice"), f"{here}.jdPrice"), paid=0, merchant_codes=codes(raw.get("outerSkuId")),
            platform_sku_id=platform_sku(raw.get("skuId"), raw.get("wareId")), field=here, code_field="outerSkuId")

    # -- push ----------------------------------------------------------------------------------------
    def verify_push(self, secrets: ShopSecrets, body: bytes, headers: Mapping[str, str],
                    query: Mapping[str, str]) -> bool:
        return query_signed_md5(secrets, body, query, key_param="app_key")

    def split_push(self, body: bytes) -> list[dict[str, Any]]:
        document = loads(body)
        if not isinstance(document, dict):
            raise ValidationFailed("a jd push is a JSON object", field="body")
        return [document]

    def read_push(self, message: Mapping[str, Any]) -> PushMessage:
        content = message.get("content") or {}
        content = loads(content, "content") if isinstance(content, str) else content
        if not isinstance(content, Mapping):
            raise ValidationFailed("content is not a JSON object", field="content")
        order_id = optional_text(content.get("orderId"))
        return PushMessage(message_id=text_id(message.get("id"), "id"), topic=str(message.get("topic") or ""),
                           external_id=order_id, body=dict(message),
                           modified_at=beijing(content.get("modified"), "content.modified"))

    def push_ack(self) -> dict[str, Any]:
        return {"code": 0, "msg": "success"}

    # -- API -----------------------------------------------------------------------------------------
    def sign(self, secrets: ShopSecrets, params: Mapping[str, str], body: bytes = b"") -> str:
        return secret_wrapped_md5(secrets.app_secret, params, body)

    def request(self, secrets: ShopSecrets, method: str, params: Mapping[str, Any], now: datetime
                ) -> tuple[str, dict[str, str], bytes]:
        full = {"method": method, "app_key": secrets.app_key, "timestamp": beijing_text(now), "v": "2.0",
                "360buy_param_json": json.dumps(dict(params), ensure_ascii=False, separators=(",", ":")),
                **({"access_token": secrets.access_token} if secrets.access_token else {})}
        full["sign"] = self.sign(secrets, full)
        return "/routerjson", {"content-type": "application/x-www-form-urlencoded;charset=utf-8"}, \
            urlencode(full).encode()

    def list_modified(self, api: PlatformApi, since: datetime, until: datetime) -> Iterator[OrderRef]:
        page = 1
        while True:
            answer = api.call("jingdong.pop.order.search", {
                "start_date": beijing_text(since), "end_date": beijing_text(until), "order_state": ALL_STATES,
                "optional_fields": "orderId,modified", "page": str(page), "page_size": str(PAGE_SIZE),
                "dateType": 1})
            result = dig(answer, "jingdong_pop_order_search_responce", "searchorderinfo_result")
            found = as_list(result.get("orderInfoList"), "orderInfoList")
            for info in found:
                yield OrderRef(text_id(info.get("orderId"), "orderId"), beijing(info.get("modified"), "modified"))
            total = whole(result.get("orderTotal") or 0, "orderTotal")
            if not found or page * PAGE_SIZE >= total:
                return
            page += 1

    def fetch_order(self, api: PlatformApi, external_id: str) -> dict[str, Any]:
        return api.call("jingdong.pop.order.get", {"order_id": external_id, "optional_fields": (
            "orderId,orderState,orderStartTime,paymentConfirmTime,modified,pin,orderTotalPrice,orderSellerPrice,"
            "orderPayment,freightPrice,sellerDiscount,consigneeInfo,itemInfoList")})

    # -- stock ---------------------------------------------------------------------------------------
    def stock_update(self, api: PlatformApi, update: StockUpdate) -> dict[str, Any]:
        """`jingdong.stock.write.updateSkuStock`: `skuId`, `stockNum` (the JD SKU id; JD takes no merchant code)."""
        sku_id = update.sku_of_item() or update.platform_sku_id
        if sku_id is None:
            raise StockRefused(f"jd sets stock by its skuId only; merchant code {update.merchant_code} names none: "
                               "map the JD skuId", field="platform_sku_id")
        answer = api.call("jingdong.stock.write.updateSkuStock", {"skuId": sku_id, "stockNum": update.quantity})
        body = answer.get("jingdong_stock_write_updateSkuStock_responce")
        if not isinstance(body, dict) or str(body.get("code", "0")) != "0" or body.get("success") is False:
            error = answer.get("error_response") or body or answer
            raise StockRefused(f"jd refused the stock update: {error.get('zh_desc') or error.get('msg') or error}",
                               field="quantity")
        return answer


def _missing(where: str) -> Any:
    raise ValidationFailed(f"{where}.orderStartTime is missing", field=f"{where}.orderStartTime")
