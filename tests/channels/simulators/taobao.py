"""Taobao's TOP gateway (`/router/rest`): form parameters signed MD5(secret + sorted k+v + secret), uppercase;
`taobao.trades.sold.increment.get` (modified window, pages, has_next) and `taobao.trade.fullinfo.get`."""

from __future__ import annotations

import hashlib
import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.channels.simulators.base import APP_KEY, SECRET, Platform, beijing


def _modified(document: dict) -> tuple[str, object]:  # type: ignore[type-arg]
    trade = document["trade_fullinfo_get_response"]["trade"]
    return str(trade["tid"]), beijing(trade["modified"])


PLATFORM = Platform(_modified)  # type: ignore[arg-type]


def _error(code: int, msg: str) -> JSONResponse:
    return JSONResponse({"error_response": {"code": code, "msg": msg, "request_id": "sim"}})


async def rest(request: Request) -> Response:
    if PLATFORM.down:
        return Response("gateway timeout", status_code=504)
    params = dict((await request.form()).items())
    given = params.pop("sign", "")
    signed = SECRET + "".join(f"{k}{params[k]}" for k in sorted(params)) + SECRET
    if params.get("app_key") != APP_KEY or given != hashlib.md5(signed.encode()).hexdigest().upper():
        return _error(25, "Invalid signature")
    method = str(params.get("method"))
    PLATFORM.calls.append(method)
    if method == "taobao.trades.sold.increment.get":
        found = PLATFORM.modified_between(beijing(str(params["start_modified"])), beijing(str(params["end_modified"])))
        page, size = int(str(params.get("page_no", 1))), int(str(params.get("page_size", 40)))
        chunk = found[(page - 1) * size: page * size]
        body = {"trades_sold_increment_get_response": {
            "total_results": len(found), "has_next": page * size < len(found),
            "trades": {"trade": [{"tid": int(h.external_id), "modified": json.loads(h.raw)[
                "trade_fullinfo_get_response"]["trade"]["modified"]} for h in chunk]}}}
        return JSONResponse(body)
    if method == "taobao.trade.fullinfo.get":
        held = PLATFORM.orders.get(str(params.get("tid")))
        if held is None:
            return _error(15, "Remote service error: trade not found")
        return Response(held.raw, media_type="application/json")
    if method == "taobao.item.quantity.update":
        update = {k: str(params[k]) for k in ("num_iid", "sku_id", "outer_id") if k in params}
        update |= {"quantity": int(str(params["quantity"])), "type": int(str(params.get("type", 1)))}
        if not PLATFORM.take_stock(update):
            return JSONResponse({"error_response": {"code": 15, "msg": "Remote service error",
                                                    "sub_code": "isv.item-quantity-update-service-error",
                                                    "sub_msg": "库存更新失败", "request_id": "sim"}})
        return JSONResponse({"item_quantity_update_response": {"item": {
            "num_iid": update["num_iid"], "num": update["quantity"], "modified": "2026-11-11 10:00:00"}}})
    return _error(22, f"Invalid method {method}")


app = Starlette(routes=[Route("/router/rest", rest, methods=["POST"])])
