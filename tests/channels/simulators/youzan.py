"""Youzan's open API (`/api/{method}/4.0.0?access_token=…`, JSON body): `youzan.trades.sold.get` (Beijing-time
update window, pages) and `youzan.trade.get`. Answers `{code: 200, success: true, data: …}`."""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.channels.simulators.base import TOKEN, Platform, beijing


def _info(document: dict) -> dict:  # type: ignore[type-arg]
    data = document.get("data", document)
    return data["full_order_info"]["order_info"]  # type: ignore[no-any-return]


def _modified(document: dict) -> tuple[str, object]:  # type: ignore[type-arg]
    info = _info(document)
    return str(info["tid"]), beijing(info["update_time"])


PLATFORM = Platform(_modified)  # type: ignore[arg-type]


async def api(request: Request) -> Response:
    if request.query_params.get("access_token") != TOKEN:
        return JSONResponse({"code": 4201, "success": False, "message": "invalid access_token"})
    method = request.path_params["method"]
    args = json.loads(await request.body())
    PLATFORM.calls.append(method)
    if method == "youzan.trades.sold.get":
        found = PLATFORM.modified_between(beijing(args["start_update"]), beijing(args["end_update"]))
        page, size = int(args.get("page_no", 1)), int(args.get("page_size", 20))
        chunk = found[(page - 1) * size: page * size]
        items = [{"full_order_info": json.loads(h.raw).get("data", json.loads(h.raw))["full_order_info"]}
                 for h in chunk]
        return JSONResponse({"code": 200, "success": True, "message": "successful",
                             "data": {"full_order_info_list": items, "total_results": len(found)}})
    if method == "youzan.trade.get":
        held = PLATFORM.orders.get(str(args.get("tid")))
        if held is None:
            return JSONResponse({"code": 101300001, "success": False, "message": "订单不存在"})
        document = json.loads(held.raw)
        whole = document if "data" in document else {"code": 200, "success": True, "data": document}
        return JSONResponse(whole)
    if method == "youzan.item.quantity.update":
        update = {k: str(args[k]) for k in ("item_id", "sku_id") if k in args}
        update |= {"quantity": int(args["quantity"]), "type": int(args.get("type", 0))}
        if not PLATFORM.take_stock(update):
            return JSONResponse({"code": 141500101, "success": False, "message": "库存更新失败"})
        return JSONResponse({"code": 200, "success": True, "message": "successful", "data": True})
    return JSONResponse({"code": 4004, "success": False, "message": f"no api {method}"})


app = Starlette(routes=[Route("/api/{method}/4.0.0", api, methods=["POST"])])
