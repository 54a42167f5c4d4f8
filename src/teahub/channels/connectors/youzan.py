"""Youzan 有赞 (the own WeChat mini-program shop): `youzan.trade.get` answers, push messages, the trades API.

Money is yuan strings; times Beijing time; `tid` like E20190326101702000600011, line `oid` 64-bit (kept as text).
Buyer ids: `yz_open_id` (a Youzan identity) and `outer_user_id` (the WeChat openid). Push: a JSON body whose
`msg` is URL-encoded JSON, signed `sign` = MD5(client_id + msg + client_secret); `version` orders updates.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote

from teahub.channels.connectors.base import (
    OrderRef,
    PlatformApi,
    PlatformLine,
    PlatformOrder,
    PlatformRefund,
    PushKeys,
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
    md5_lower,
    optional_text,
    platform_sku,
    reconcile,
    same,
    text_id,
    whole,
)
from teahub.customers.rules import is_masked
from teahub.errors import ValidationFailed

STATUSES = {
    "WAIT_BUYER_PAY": "confirmed",
    "TRADE_PAID": "paid", "WAIT_CONFIRM": "paid", "WAIT_SELLER_SEND_GOODS": "paid",
    "WAIT_BUYER_CONFIRM_GOODS": "shipped",
    "TRADE_SUCCESS": "completed",
}
REFUND_SUCCESS = 60  # refund_order[].refund_state: the money went back
RETURN_AND_REFUND = 2  # refund_order[].refund_type (1: refund only)
GATEWAY = "https://open.youzanyun.com"
PAGE_SIZE = 50


def _data(document: Mapping[str, Any]) -> Mapping[str, Any]:
    """`youzan.trade.get` answers {code, data: {full_order_info, refund_order, …}, success}; the `data` object
    alone is taken too."""
    if "full_order_info" in document:
        return document
    if document.get("success") is False or (document.get("code") not in (None, 200)):
        raise ValidationFailed(f"youzan answered an error: {document.get('message') or document.get('code')}",
                               field="code")
    data = dig(document, "data")
    if not isinstance(data, Mapping):
        raise ValidationFailed("data is not an object", field="data")
    return data


def identities(buyer: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    found = []
    for kind, key in (("youzan", "yz_open_id"), ("wechat_openid", "outer_user_id")):
        value = optional_text(buyer.get(key))
        if value and not is_masked(value):
            found.append((kind, value))
    return tuple(found)


class YouzanConnector:
    platform = "youzan"
    channel = "youzan"
    gateway = GATEWAY
    max_window = timedelta(days=1)

    def external_id_of(self, document: Mapping[str, Any]) -> str | None:
        try:
            return optional_text(dig(_data(document), "full_order_info", "order_info", "tid"))
        except ValidationFailed:
            return None

    def parse_order(self, document: Mapping[str, Any], *, version: int | None = None) -> PlatformOrder:
        data = _data(document)
        full = dig(data, "full_order_info")
        info = dig(full, "order_info")
        where = "full_order_info.order_info"
        tid = text_id(info.get("tid"), f"{where}.tid")
        status_text = str(info.get("status") or "")
        pay_time = beijing(info.get("pay_time"), f"{where}.pay_time")
        tags = info.get("order_tags") or {}
        paid = pay_time is not None or bool(tags.get("is_payed"))
        consigned = beijing(info.get("consign_time"), f"{where}.consign_time") is not None
        if status_text == "TRADE_CLOSED":
            # Closed before payment: cancelled. Closed after payment: refunded; the refunds say what went back.
            status = ("shipped" if consigned else "paid") if paid else "cancelled"
        elif status_text in STATUSES:
            status = STATUSES[status_text]
        else:
            raise ValidationFailed(f"unknown youzan status {status_text!r}", field=f"{where}.status")
        pay = full.get("pay_info") or {}
        total = fen(pay.get("payment"), "full_order_info.pay_info.payment")
        post = fen(pay.get("post_fee"), "full_order_info.pay_info.post_fee")
        raw_lines = as_list(full.get("orders"), "full_order_info.orders")
        if not raw_lines:
            raise ValidationFailed("the order has no lines", field="full_order_info.orders")
        lines = [self._line(raw, i) for i, raw in enumerate(raw_lines)]
        amounts = reconcile([line.paid for line in lines], total - post, [line.price * line.quantity for line in lines])
        lines = [PlatformLine(**{**line.__dict__, "paid": amount}) for line, amount in zip(lines, amounts, strict=True)]
        buyer = full.get("buyer_info") or {}
        address = full.get("address_info") or {}
        place = " ".join(str(address.get(k) or "") for k in ("delivery_province", "delivery_city",
                                                           "delivery_district", "delivery_address")).strip()
        order = PlatformOrder(
            external_id=tid, platform_status=status_text, status=status, paid=paid, total=total, shipping_fee=post,
            lines=tuple(lines), placed_at=beijing(info.get("created"), f"{where}.created") or _missing(where),
            modified_at=beijing(info.get("update_time"), f"{where}.update_time"), paid_at=pay_time, version=version,
            refunds=tuple(self._refunds(data)), identities=identities(buyer),
            buyer_name=optional_text(buyer.get("fans_nickname")),
            receiver=Receiver(optional_text(address.get("receiver_name")), optional_text(address.get("receiver_tel")),
                              place or None))
        order.check()
        return order

    def _line(self, raw: Mapping[str, Any], i: int) -> PlatformLine:
        where = f"full_order_info.orders.{i}"
        quantity = whole(raw.get("num"), f"{where}.num", minimum=1)
        return PlatformLine(
            line_id=text_id(raw.get("oid"), f"{where}.oid"), title=str(raw.get("title") or ""), quantity=quantity,
            price=fen(raw.get("price"), f"{where}.price"), paid=fen(raw.get("payment"), f"{where}.payment"),
            merchant_codes=codes(raw.get("outer_sku_id"), raw.get("outer_item_id")),
            platform_sku_id=platform_sku(raw.get("sku_id"), raw.get("item_id")), field=where)

    def _refunds(self, data: Mapping[str, Any]) -> Iterator[PlatformRefund]:
        for i, raw in enumerate(as_list(data.get("refund_order"), "refund_order")):
            where = f"refund_order.{i}"
            if whole(raw.get("refund_state"), f"{where}.refund_state") != REFUND_SUCCESS:
                continue
            oids = tuple(text_id(o.get("oid"), f"{where}.oids") for o in as_list(raw.get("oids"), f"{where}.oids"))
            yield PlatformRefund(text_id(raw.get("refund_id"), f"{where}.refund_id"),
                                 fen(raw.get("refund_fee"), f"{where}.refund_fee"), oids,
                                 returned=str(raw.get("refund_type")) == str(RETURN_AND_REFUND))

    # -- push -------------------------------------------------------------------------------------
    def verify_push(self, secrets: ShopSecrets, body: bytes, headers: Mapping[str, str],
                    query: Mapping[str, str]) -> bool:
        try:
            message = json.loads(body)
        except ValueError:
            return False
        if not isinstance(message, dict) or not isinstance(message.get("msg", ""), str):
            return False
        client_id = str(message.get("client_id") or "")
        expected = md5_lower((client_id + str(message.get("msg", "")) + secrets.app_secret).encode())
        return client_id == secrets.app_key and same(message.get("sign"), expected)

    def split_push(self, body: bytes) -> list[dict[str, Any]]:
        message = loads(body)
        if not isinstance(message, dict):
            raise ValidationFailed("a youzan push is a JSON object", field="body")
        return [] if message.get("test") is True else [message]  # a test: Youzan checking the push URL

    def read_push(self, message: Mapping[str, Any]) -> PushMessage:
        topic, version, tid, msg_id = _envelope(message)
        inner = loads(unquote(str(message.get("msg") or "")), "msg") if message.get("msg") else {}
        document = inner if isinstance(inner, dict) and "full_order_info" in inner else None
        if document is not None and tid is None:
            tid = self.external_id_of(document)
        return PushMessage(message_id=msg_id, topic=topic, external_id=tid if topic.startswith("trade") else None,
                           body=dict(message), order_document=document, version=version)

    def push_keys(self, message: Mapping[str, Any]) -> PushKeys:
        """From the envelope when it names the order (it does); otherwise as `read_push` reads it."""
        topic, _version, tid, msg_id = _envelope(message)
        if tid is None:
            read = self.read_push(message)
            return PushKeys(read.message_id, read.topic, read.external_id)
        return PushKeys(msg_id, topic, tid if topic.startswith("trade") else None)

    def push_ack(self) -> dict[str, Any]:
        return {"code": 0, "msg": "success"}

    # -- API ---------------------------------------------------------------------------------------
    def sign(self, secrets: ShopSecrets, params: Mapping[str, str], body: bytes = b"") -> str:
        return ""  # Youzan's API authenticates by access token only

    def request(self, secrets: ShopSecrets, method: str, params: Mapping[str, Any], now: datetime
                ) -> tuple[str, dict[str, str], bytes]:
        token = quote(secrets.access_token or "", safe="")
        return (f"/api/{method}/4.0.0?access_token={token}", {"content-type": "application/json"},
                json.dumps(dict(params), ensure_ascii=False).encode())

    def list_modified(self, api: PlatformApi, since: datetime, until: datetime) -> Iterator[OrderRef]:
        page = 1
        while True:
            answer = api.call("youzan.trades.sold.get", {
                "start_update": beijing_text(since), "end_update": beijing_text(until), "page_no": page,
                "page_size": PAGE_SIZE})
            data = _data(answer)
            found = as_list(data.get("full_order_info_list"), "data.full_order_info_list")
            for item in found:
                info = dig(item, "full_order_info", "order_info")
                yield OrderRef(text_id(info.get("tid"), "tid"), beijing(info.get("update_time"), "update_time"))
            total = whole(data.get("total_results") or 0, "data.total_results")
            if not found or page * PAGE_SIZE >= total:
                return
            page += 1

    def fetch_order(self, api: PlatformApi, external_id: str) -> dict[str, Any]:
        return api.call("youzan.trade.get", {"tid": external_id})

    # -- stock ---------------------------------------------------------------------------------------
    def stock_update(self, api: PlatformApi, update: StockUpdate) -> dict[str, Any]:
        """`youzan.item.quantity.update` (unconfirmed: Youzan's stock API is not in CHANNELS.md): `item_id`,
        `sku_id` when the item has SKUs, `quantity`, `type` 0 (full)."""
        item = update.item()
        if item is None:
            raise StockRefused(f"youzan needs the item id to set stock by merchant code {update.merchant_code}: "
                               "map the SKU with its item id", field="item_id")
        params: dict[str, Any] = {"item_id": item, "quantity": update.quantity, "type": 0}
        if update.sku_of_item():
            params["sku_id"] = update.sku_of_item()
        answer = api.call("youzan.item.quantity.update", params)
        if answer.get("success") is not True:
            raise StockRefused(f"youzan refused the stock update: {answer.get('message') or answer.get('code')}",
                               field="quantity")
        return answer


def _missing(where: str) -> Any:
    raise ValidationFailed(f"{where}.created is missing", field=f"{where}.created")


def _envelope(message: Mapping[str, Any]) -> tuple[str, int | None, str | None, str]:
    """A push's topic, version, order id (tid) and message id, from the envelope around its `msg`."""
    topic = str(message.get("type") or "")
    version = whole(message["version"], "version") if message.get("version") not in (None, "") else None
    tid = optional_text(message.get("id"))
    return topic, version, tid, optional_text(message.get("msg_id")) or f"{tid}:{topic}:{version}"
