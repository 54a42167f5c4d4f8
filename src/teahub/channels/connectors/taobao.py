"""Taobao and Tmall (one API, two sales channels): `taobao.trade.fullinfo.get` answers, TMC messages, the
trades API.

Money is yuan strings; times Beijing time; `tid` and `oid` 64-bit (kept as text). Buyer id: `buyer_open_uid`
(`buyer_nick` is masked). A one-line trade's line `payment` includes postage; `divide_order_fee` never does.
TMC messages are relayed to the webhook as JSON (`{id, topic, content, pub_time, …}` or `{"messages": […]}`),
signed as Taobao signs HTTP calls: `sign` (query) = uppercase MD5(secret + k1v1k2v2… (other query parameters,
sorted) + raw body + secret), or with `sign_method=hmac` HMAC-MD5 of the same string without the secrets.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator, Mapping, Sequence
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
    StockPushed,
    StockRefused,
    StockResult,
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
    reconcile,
    same,
    secret_wrapped_md5,
    sorted_pairs,
    text_id,
    whole,
)
from teahub.customers.rules import is_masked
from teahub.errors import DomainError, ValidationFailed

STATUSES = {
    "WAIT_BUYER_PAY": "confirmed", "TRADE_NO_CREATE_PAY": "confirmed", "PAY_PENDING": "confirmed",
    "WAIT_PRE_AUTH_CONFIRM": "confirmed",
    "WAIT_SELLER_SEND_GOODS": "paid", "PAID_FORBID_CONSIGN": "paid",
    "WAIT_BUYER_CONFIRM_GOODS": "shipped", "SELLER_CONSIGNED_PART": "shipped",
    "TRADE_BUYER_SIGNED": "completed", "TRADE_FINISHED": "completed",
    "TRADE_CLOSED_BY_TAOBAO": "cancelled",
}
REFUND_TOPIC = "taobao_refund_RefundSuccess"
GATEWAY = "https://eco.taobao.com"
TRADE_FIELDS = ("tid,status,payment,total_fee,post_fee,discount_fee,created,pay_time,consign_time,modified,"
                "buyer_open_uid,buyer_nick,receiver_name,receiver_mobile,receiver_state,receiver_city,"
                "receiver_district,receiver_town,receiver_address,orders")
PAGE_SIZE = 100
SKUS_PER_CALL = 20  # taobao.skus.quantity.update takes at most 20 `id:quantity` pairs


def _signed_string(params: Mapping[str, str], body: bytes) -> bytes:
    return sorted_pairs(params) + body


def sign(secret: str, params: Mapping[str, str], body: bytes = b"", method: str = "md5") -> str:
    if method == "hmac":
        return hmac.new(secret.encode(), _signed_string(params, body), hashlib.md5).hexdigest().upper()
    return secret_wrapped_md5(secret, params, body)


class TaobaoConnector:
    platform = "taobao"
    channel = "taobao"
    gateway = GATEWAY
    max_window = timedelta(days=1)  # taobao.trades.sold.increment.get takes at most one day

    def external_id_of(self, document: Mapping[str, Any]) -> str | None:
        trade = (document.get("trade_fullinfo_get_response") or {}).get("trade") or {}
        return optional_text(trade.get("tid"))

    def parse_order(self, document: Mapping[str, Any], *, version: int | None = None) -> PlatformOrder:
        if "error_response" in document:
            error = document["error_response"] or {}
            raise ValidationFailed(f"taobao answered an error: {error.get('sub_msg') or error.get('msg')}",
                                   field="error_response")
        trade = dig(document, "trade_fullinfo_get_response", "trade")
        where = "trade_fullinfo_get_response.trade"
        status_text = str(trade.get("status") or "")
        pay_time = beijing(trade.get("pay_time"), f"{where}.pay_time")
        if status_text == "TRADE_CLOSED":
            consigned = beijing(trade.get("consign_time"), f"{where}.consign_time") is not None
            status = ("shipped" if consigned else "paid") if pay_time else "cancelled"
        elif status_text in STATUSES:
            status = STATUSES[status_text]
        else:
            raise ValidationFailed(f"unknown taobao status {status_text!r}", field=f"{where}.status")
        total = fen(trade.get("payment"), f"{where}.payment")
        post = fen(trade.get("post_fee"), f"{where}.post_fee")
        raw_lines = as_list((trade.get("orders") or {}).get("order"), f"{where}.orders.order")
        if not raw_lines:
            raise ValidationFailed("the trade has no lines", field=f"{where}.orders.order")
        lines = [self._line(raw, i, post if len(raw_lines) == 1 else 0) for i, raw in enumerate(raw_lines)]
        amounts = reconcile([line.paid for line in lines], total - post, [line.price * line.quantity for line in lines])
        lines = [PlatformLine(**{**line.__dict__, "paid": amount}) for line, amount in zip(lines, amounts, strict=True)]
        refunds = []
        for raw, line in zip(raw_lines, lines, strict=True):
            if raw.get("refund_status") == "SUCCESS":
                refund_id = optional_text(raw.get("refund_id")) or f"oid:{line.line_id}"
                amount = fen(raw["refund_fee"], f"{line.field}.refund_fee") if raw.get("refund_fee") else line.paid
                refunds.append(PlatformRefund(refund_id, amount, (line.line_id,)))
        open_uid = optional_text(trade.get("buyer_open_uid"))
        address = " ".join(str(trade.get(k) or "") for k in ("receiver_state", "receiver_city", "receiver_district",
                                                            "receiver_town", "receiver_address")).strip()
        order = PlatformOrder(
            external_id=text_id(trade.get("tid"), f"{where}.tid"), platform_status=status_text, status=status,
            paid=pay_time is not None, total=total, shipping_fee=post, lines=tuple(lines),
            placed_at=beijing(trade.get("created"), f"{where}.created") or _missing(f"{where}.created"),
            modified_at=beijing(trade.get("modified"), f"{where}.modified"), paid_at=pay_time, version=version,
            refunds=tuple(refunds),
            identities=(("taobao", open_uid),) if open_uid and not is_masked(open_uid) else (),
            buyer_name=optional_text(trade.get("buyer_nick")),
            receiver=Receiver(optional_text(trade.get("receiver_name")), optional_text(trade.get("receiver_mobile")),
                              address or None))
        order.check()
        return order

    def _line(self, raw: Mapping[str, Any], i: int, postage_in_payment: int) -> PlatformLine:
        where = f"trade_fullinfo_get_response.trade.orders.order.{i}"
        if raw.get("divide_order_fee") not in (None, ""):
            paid = fen(raw.get("divide_order_fee"), f"{where}.divide_order_fee")
        else:
            paid = max(fen(raw.get("payment"), f"{where}.payment") - postage_in_payment, 0)
        return PlatformLine(
            line_id=text_id(raw.get("oid"), f"{where}.oid"), title=str(raw.get("title") or ""),
            quantity=whole(raw.get("num"), f"{where}.num", minimum=1), price=fen(raw.get("price"), f"{where}.price"),
            paid=paid, merchant_codes=codes(raw.get("outer_sku_id"), raw.get("outer_iid")),
            platform_sku_id=platform_sku(raw.get("sku_id"), raw.get("num_iid")), field=where)

    # -- push (TMC) ---------------------------------------------------------------------------------
    def verify_push(self, secrets: ShopSecrets, body: bytes, headers: Mapping[str, str],
                    query: Mapping[str, str]) -> bool:
        params = {k: v for k, v in query.items() if k != "sign"}
        if params.get("app_key") not in (None, secrets.app_key):
            return False
        method = params.get("sign_method", "md5").lower()
        return same(query.get("sign"), sign(secrets.app_secret, params, body, "hmac" if method == "hmac" else "md5"))

    def split_push(self, body: bytes) -> list[dict[str, Any]]:
        document = loads(body)
        if isinstance(document, dict) and "messages" in document:
            return [m for m in as_list(document["messages"], "messages")]
        if not isinstance(document, dict):
            raise ValidationFailed("a TMC message is a JSON object", field="body")
        return [document]

    def read_push(self, message: Mapping[str, Any]) -> PushMessage:
        content = message.get("content") or "{}"
        content = loads(content, "content") if isinstance(content, str) else content
        if not isinstance(content, Mapping):
            raise ValidationFailed("content is not a JSON object", field="content")
        topic = str(message.get("topic") or "")
        refund = None
        if topic == REFUND_TOPIC:
            refund = PlatformRefund(text_id(content.get("refund_id"), "content.refund_id"),
                                    fen(content.get("refund_fee"), "content.refund_fee"),
                                    (text_id(content.get("oid"), "content.oid"),))
        relevant = topic.startswith(("taobao_trade_", "taobao_refund_"))
        return PushMessage(
            message_id=text_id(message.get("id"), "id"), topic=topic,
            external_id=optional_text(content.get("tid")) if relevant else None, body=dict(message),
            refund=refund, modified_at=beijing(message.get("pub_time"), "pub_time"))

    def push_ack(self) -> dict[str, Any]:
        return {"response": {"flag": "success", "code": "0", "message": "received"}}

    # -- API ---------------------------------------------------------------------------------------
    def sign(self, secrets: ShopSecrets, params: Mapping[str, str], body: bytes = b"") -> str:
        return sign(secrets.app_secret, params, body)

    def request(self, secrets: ShopSecrets, method: str, params: Mapping[str, Any], now: datetime
                ) -> tuple[str, dict[str, str], bytes]:
        full = {"method": method, "app_key": secrets.app_key, "timestamp": beijing_text(now), "format": "json",
                "v": "2.0", "sign_method": "md5", "simplify": "false",
                **({"session": secrets.access_token} if secrets.access_token else {}),
                **{k: str(v) for k, v in params.items()}}
        full["sign"] = self.sign(secrets, full)
        return "/router/rest", {"content-type": "application/x-www-form-urlencoded;charset=utf-8"}, \
            urlencode(full).encode()

    def list_modified(self, api: PlatformApi, since: datetime, until: datetime) -> Iterator[OrderRef]:
        page = 1
        while True:
            answer = api.call("taobao.trades.sold.increment.get", {
                "fields": "tid,modified", "start_modified": beijing_text(since), "end_modified": beijing_text(until),
                "page_no": page, "page_size": PAGE_SIZE, "use_has_next": "true"})
            if "error_response" in answer:
                error = answer["error_response"] or {}
                raise ValidationFailed(f"taobao answered an error: {error.get('sub_msg') or error.get('msg')}",
                                       field="error_response")
            body = dig(answer, "trades_sold_increment_get_response")
            for trade in as_list((body.get("trades") or {}).get("trade"), "trades.trade"):
                yield OrderRef(text_id(trade.get("tid"), "tid"), beijing(trade.get("modified"), "modified"))
            if not body.get("has_next"):
                return
            page += 1

    def fetch_order(self, api: PlatformApi, external_id: str) -> dict[str, Any]:
        return api.call("taobao.trade.fullinfo.get", {"tid": external_id, "fields": TRADE_FIELDS})

    # -- stock ---------------------------------------------------------------------------------------
    def stock_updates(self, api: PlatformApi, updates: Sequence[StockUpdate]) -> list[StockResult]:
        """The SKUs of one item in `taobao.skus.quantity.update` calls of at most 20, by SKU id
        (`skuid_quantities`) or by merchant code (`outerid_quantities`: the platform ignores it beside SKU ids,
        so the two never share a call); `taobao.item.quantity.update` for the rest (an item without SKUs, no
        item id, an id the `id:qty;…` form cannot carry) and for a lone SKU of its item. The platform answers a
        batch as a whole: an error answer fails every update it carried."""
        sends: dict[tuple[str, str] | int, list[int]] = {}  # batch key, or the index of a single update
        for i, update in enumerate(updates):
            sends.setdefault(_batch_key(update) or i, []).append(i)
        results: list[StockResult | None] = [None] * len(updates)
        call = 0
        for key, indexes in sends.items():
            for start in range(0, len(indexes), SKUS_PER_CALL):
                chunk = indexes[start:start + SKUS_PER_CALL]
                call += 1
                try:
                    if isinstance(key, tuple) and len(chunk) > 1:
                        answer = self._skus_quantity_update(api, key, [updates[i] for i in chunk])
                    else:
                        answer = self.stock_update(api, updates[chunk[0]])
                except DomainError as exc:
                    for i in chunk:
                        results[i] = exc
                    continue
                for i in chunk:
                    results[i] = StockPushed(answer, call)
        return [r for r in results if r is not None]  # every index is in exactly one chunk

    def _skus_quantity_update(self, api: PlatformApi, key: tuple[str, str], updates: list[StockUpdate]
                              ) -> dict[str, Any]:
        item, form = key
        pairs = ";".join(f"{_batch_id(u)}:{u.quantity}" for u in updates)
        answer = api.call("taobao.skus.quantity.update", {"num_iid": item, f"{form}_quantities": pairs, "type": 1})
        what = f"{self.platform} refused the stock update of {len(updates)} SKUs of item {item} in one call"
        if "error_response" in answer:
            error = answer["error_response"] or {}
            code = error.get("sub_code") or error.get("code")
            raise StockRefused(f"{what}: {error.get('sub_msg') or error.get('msg') or error}"
                               + (f" ({code})" if code else ""), field="quantity")
        body = answer.get("skus_quantity_update_response")
        if not isinstance(body, Mapping) or not body.get("item"):
            raise StockRefused(f"{what}: the answer has no skus_quantity_update_response.item", field="quantity")
        return answer

    def stock_update(self, api: PlatformApi, update: StockUpdate) -> dict[str, Any]:
        """`taobao.item.quantity.update`: `num_iid`, then `sku_id` or `outer_id` (the SKU's merchant code),
        `quantity`, `type` 1 (full)."""
        item = update.item()
        if item is None:
            raise StockRefused(f"{self.platform} needs the item id (num_iid) to set stock by merchant code "
                               f"{update.merchant_code}: map the SKU with its item id", field="item_id")
        params: dict[str, Any] = {"num_iid": item, "quantity": update.quantity, "type": 1}
        if update.sku_of_item():
            params["sku_id"] = update.sku_of_item()
        elif update.merchant_code:
            params["outer_id"] = update.merchant_code
        answer = api.call("taobao.item.quantity.update", params)
        if "error_response" in answer:
            error = answer["error_response"] or {}
            raise StockRefused(f"{self.platform} refused the stock update: "
                               f"{error.get('sub_msg') or error.get('msg') or error}", field="quantity")
        return answer


def _batch_id(update: StockUpdate) -> str | None:
    """What names the update inside its item in the batch form: the SKU id, else the merchant code."""
    return update.sku_of_item() or (update.merchant_code if update.platform_sku_id is None else None)


def _batch_key(update: StockUpdate) -> tuple[str, str] | None:
    """(item id, "skuid" or "outerid") of an update `taobao.skus.quantity.update` can carry, else None."""
    name = _batch_id(update)
    if not update.item_id or not name or ":" in name or ";" in name:  # the separators of `id:qty;id:qty`
        return None
    return update.item_id, "skuid" if update.sku_of_item() else "outerid"


class TmallConnector(TaobaoConnector):
    platform = "tmall"
    channel = "tmall"


def _missing(where: str) -> Any:
    raise ValidationFailed(f"{where} is missing", field=where)

