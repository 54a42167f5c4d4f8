"""Taobao's TOP gateway (`/router/rest`): form parameters signed MD5(secret + sorted k+v + secret), uppercase;
`taobao.trades.sold.increment.get` (modified window, pages, has_next), `taobao.trade.fullinfo.get`, and stock:
`taobao.item.quantity.update` (one SKU) and `taobao.skus.quantity.update` (up to 20 SKUs of one item as
`skuid_quantities` or `outerid_quantities`, `id:qty;id:qty`; the latter ignored beside the former).

An item's SKUs are known once a test lists them in `PLATFORM.items`; then an unknown SKU id or merchant code is
an error answer, as on the platform. Error codes and messages are the simulator's own choice."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.channels.simulators.base import APP_KEY, SECRET, Platform, beijing

SKUS_PER_CALL = 20


def _modified(document: dict) -> tuple[str, object]:  # type: ignore[type-arg]
    trade = document["trade_fullinfo_get_response"]["trade"]
    return str(trade["tid"]), beijing(trade["modified"])


@dataclass
class TaobaoPlatform(Platform):
    items: dict[str, dict[str, str | None]] = field(default_factory=dict)  # num_iid → {sku_id: outer_id}
    refuse_items: set[str] = field(default_factory=set)  # stock calls on these items are refused until removed
    batches: list[tuple[str, list[str]]] = field(default_factory=list)  # each skus.quantity.update: item, ids

    def reset(self) -> None:
        super().reset()
        self.items.clear()
        self.refuse_items.clear()
        self.batches.clear()


PLATFORM = TaobaoPlatform(_modified)  # type: ignore[arg-type]


def _error(code: int, msg: str, sub_code: str | None = None, sub_msg: str | None = None) -> JSONResponse:
    error: dict[str, Any] = {"code": code, "msg": msg, "request_id": "sim"}
    if sub_code:
        error |= {"sub_code": sub_code, "sub_msg": sub_msg}
    return JSONResponse({"error_response": error})


def _refused() -> JSONResponse:
    return _error(15, "Remote service error", "isv.item-quantity-update-service-error", "库存更新失败")


def _invalid(sub_msg: str) -> JSONResponse:
    return _error(15, "Remote service error", "isv.invalid-parameter", sub_msg)


async def rest(request: Request) -> Response:
    if PLATFORM.down:
        return Response("gateway timeout", status_code=504)
    params = {k: str(v) for k, v in (await request.form()).items()}
    given = params.pop("sign", "")
    signed = SECRET + "".join(f"{k}{params[k]}" for k in sorted(params)) + SECRET
    if params.get("app_key") != APP_KEY or given != hashlib.md5(signed.encode()).hexdigest().upper():
        return _error(25, "Invalid signature")
    method = str(params.get("method"))
    PLATFORM.calls.append(method)
    if method == "taobao.trades.sold.increment.get":
        found = PLATFORM.modified_between(beijing(params["start_modified"]), beijing(params["end_modified"]))
        page, size = int(params.get("page_no", 1)), int(params.get("page_size", 40))
        chunk = found[(page - 1) * size: page * size]
        body = {"trades_sold_increment_get_response": {
            "total_results": len(found), "has_next": page * size < len(found),
            "trades": {"trade": [{"tid": int(h.external_id), "modified": json.loads(h.raw)[
                "trade_fullinfo_get_response"]["trade"]["modified"]} for h in chunk]}}}
        return JSONResponse(body)
    if method == "taobao.trade.fullinfo.get":
        held = PLATFORM.orders.get(params.get("tid", ""))
        if held is None:
            return _error(15, "Remote service error: trade not found")
        return Response(held.raw, media_type="application/json")
    if method == "taobao.item.quantity.update":
        return _item_quantity_update(params)
    if method == "taobao.skus.quantity.update":
        return _skus_quantity_update(params)
    return _error(22, f"Invalid method {method}")


def _item_quantity_update(params: dict[str, str]) -> Response:
    update: dict[str, Any] = {k: params[k] for k in ("num_iid", "sku_id", "outer_id") if k in params}
    update |= {"quantity": int(params["quantity"]), "type": int(params.get("type", 1))}
    skus = PLATFORM.items.get(update["num_iid"])
    if skus is not None and "sku_id" in update and update["sku_id"] not in skus:
        return _invalid(f"SKU {update['sku_id']} 不属于商品 {update['num_iid']}")
    if update["num_iid"] in PLATFORM.refuse_items or not PLATFORM.take_stock(update):
        return _refused()
    return JSONResponse({"item_quantity_update_response": {"item": {
        "num_iid": update["num_iid"], "num": update["quantity"], "modified": "2026-11-11 10:00:00"}}})


def _skus_quantity_update(params: dict[str, str]) -> Response:
    num_iid = params.get("num_iid", "")
    if not num_iid:
        return _error(40, "Missing required arguments:num_iid")
    by_sku_id = bool(params.get("skuid_quantities"))  # outerid_quantities counts only without it
    text = params.get("skuid_quantities") or params.get("outerid_quantities") or ""
    pairs = [pair.split(":") for pair in text.split(";") if pair]
    if not pairs or any(len(p) != 2 or not p[0] or not p[1].isdigit() for p in pairs):
        return _invalid("skuid_quantities 或 outerid_quantities 格式应为 id:数量;id:数量")
    PLATFORM.batches.append((num_iid, [name for name, _ in pairs]))
    if len(pairs) > SKUS_PER_CALL:
        return _invalid(f"最多支持{SKUS_PER_CALL}个SKU同时修改")
    skus = PLATFORM.items.get(num_iid)
    if skus is None:
        return _error(15, "Remote service error", "isv.item-not-exist", f"商品 {num_iid} 不存在")
    known = set(skus) if by_sku_id else {outer for outer in skus.values() if outer}
    unknown = [name for name, _ in pairs if name not in known]
    if unknown:
        return _invalid(f"SKU {','.join(unknown)} 不属于商品 {num_iid}")
    if num_iid in PLATFORM.refuse_items or PLATFORM.refuses_stock():
        return _refused()
    key, set_to = ("sku_id" if by_sku_id else "outer_id"), {name: int(quantity) for name, quantity in pairs}
    for name, quantity in set_to.items():
        PLATFORM.record_stock({"num_iid": num_iid, key: name, "quantity": quantity, "type": int(params.get("type", 1))})
    # The item as the platform answers it: the SKUs set (an outer id sets every SKU carrying it), the item's total.
    changed = {s: set_to[s if by_sku_id else str(o)] for s, o in skus.items() if (s if by_sku_id else o) in set_to}
    return JSONResponse({"skus_quantity_update_response": {"item": {
        "iid": num_iid, "num_iid": int(num_iid), "modified": "2026-11-11 10:00:00",
        "num": sum(q for ids, q in PLATFORM.shown().items() if ids.startswith(f"{num_iid}/")),
        "skus": {"sku": [{"sku_id": int(s), "quantity": q, "modified": "2026-11-11 10:00:00"}
                         for s, q in changed.items()]}}}})


app = Starlette(routes=[Route("/router/rest", rest, methods=["POST"])])
