"""Douyin's open API (`/order/searchList`, `/order/orderDetail`): query `app_key, method, param_json, timestamp,
v, sign, sign_method=hmac-sha256, access_token`, sign = HMAC-SHA256(secret, secret + app_key…method…param_json…
timestamp…v… + secret), hex. Answers `{code: 10000, data: …}`."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.channels.simulators.base import APP_KEY, SECRET, TOKEN, Platform


def _modified(document: dict) -> tuple[str, object]:  # type: ignore[type-arg]
    info = document["data"]["shop_order_detail"]
    return str(info["order_id"]), datetime.fromtimestamp(int(info["update_time"]), UTC)


PLATFORM = Platform(_modified)  # type: ignore[arg-type]


def _verified(request: Request, body: bytes) -> dict[str, str] | None:
    query = dict(request.query_params)
    unwrapped = "".join(f"{k}{query.get(k, '')}" for k in ("app_key", "method", "param_json", "timestamp", "v"))
    expected = hmac.new(SECRET.encode(), f"{SECRET}{unwrapped}{SECRET}".encode(), hashlib.sha256).hexdigest()
    if query.get("app_key") != APP_KEY or query.get("sign") != expected or query.get("access_token") != TOKEN:
        return None
    if query.get("param_json", "").encode() != body:
        return None
    return query


async def search_list(request: Request) -> Response:
    query = _verified(request, await request.body())
    if query is None:
        return JSONResponse({"code": 30001, "msg": "签名不正确", "data": None})
    PLATFORM.calls.append("order.searchList")
    args = json.loads(query["param_json"])
    found = PLATFORM.modified_between(datetime.fromtimestamp(args["update_time_start"], UTC),
                                      datetime.fromtimestamp(args["update_time_end"], UTC))
    page, size = int(args.get("page", 0)), int(args.get("size", 10))
    chunk = found[page * size: (page + 1) * size]
    orders = [json.loads(h.raw)["data"]["shop_order_detail"] for h in chunk]
    return JSONResponse({"code": 10000, "msg": "success", "data": {"shop_order_list": orders, "total": len(found),
                                                                    "page": page, "size": size}})


async def order_detail(request: Request) -> Response:
    query = _verified(request, await request.body())
    if query is None:
        return JSONResponse({"code": 30001, "msg": "签名不正确", "data": None})
    PLATFORM.calls.append("order.orderDetail")
    held = PLATFORM.orders.get(str(json.loads(query["param_json"]).get("shop_order_id")))
    if held is None:
        return JSONResponse({"code": 50002, "msg": "订单不存在", "data": None})
    return Response(held.raw, media_type="application/json")


async def sync_stock(request: Request) -> Response:
    query = _verified(request, await request.body())
    if query is None:
        return JSONResponse({"code": 30001, "msg": "签名不正确", "data": None})
    PLATFORM.calls.append("sku.syncStock")
    args = json.loads(query["param_json"])
    update = {k: str(args[k]) for k in ("sku_id", "out_sku_id", "code", "product_id") if k in args}
    update |= {"stock_num": int(args["stock_num"]), "incremental": bool(args.get("incremental", False))}
    if "idempotent_id" in args:
        update["idempotent_id"] = str(args["idempotent_id"])
    if not PLATFORM.take_stock(update):
        return JSONResponse({"code": 50002, "msg": "库存同步失败", "data": None})
    return JSONResponse({"code": 10000, "msg": "success", "data": {}})


app = Starlette(routes=[Route("/order/searchList", search_list, methods=["POST"]),
                        Route("/order/orderDetail", order_detail, methods=["POST"]),
                        Route("/sku/syncStock", sync_stock, methods=["POST"])])
