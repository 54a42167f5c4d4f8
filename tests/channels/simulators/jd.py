"""JD's gateway (`/routerjson`): form parameters with `360buy_param_json`, signed MD5(secret + sorted k+v +
secret), uppercase; `jingdong.pop.order.search` and `jingdong.pop.order.get`."""

from __future__ import annotations

import hashlib
import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.channels.simulators.base import APP_KEY, SECRET, Platform, beijing


def _modified(document: dict) -> tuple[str, object]:  # type: ignore[type-arg]
    info = document["jingdong_pop_order_get_responce"]["orderDetailInfo"]["orderInfo"]
    return str(info["orderId"]), beijing(info["modified"])


PLATFORM = Platform(_modified)  # type: ignore[arg-type]


async def routerjson(request: Request) -> Response:
    params = {k: str(v) for k, v in (await request.form()).items()}
    given = params.pop("sign", "")
    signed = SECRET + "".join(f"{k}{params[k]}" for k in sorted(params)) + SECRET
    if params.get("app_key") != APP_KEY or given != hashlib.md5(signed.encode()).hexdigest().upper():
        return JSONResponse({"error_response": {"code": "19", "zh_desc": "签名无效"}})
    method, args = params["method"], json.loads(params["360buy_param_json"])
    PLATFORM.calls.append(method)
    if method == "jingdong.pop.order.search":
        found = PLATFORM.modified_between(beijing(args["start_date"]), beijing(args["end_date"]))
        page, size = int(args.get("page", 1)), int(args.get("page_size", 20))
        chunk = found[(page - 1) * size: page * size]
        return JSONResponse({"jingdong_pop_order_search_responce": {"code": "0", "searchorderinfo_result": {
            "orderTotal": len(found), "orderInfoList": [
                {"orderId": h.external_id, "modified": json.loads(h.raw)["jingdong_pop_order_get_responce"][
                    "orderDetailInfo"]["orderInfo"]["modified"]} for h in chunk]}}})
    if method == "jingdong.pop.order.get":
        held = PLATFORM.orders.get(str(args.get("order_id")))
        if held is None:
            return JSONResponse({"jingdong_pop_order_get_responce": {"code": "1", "zh_desc": "订单不存在"}})
        return Response(held.raw, media_type="application/json")
    if method == "jingdong.stock.write.updateSkuStock":
        if not PLATFORM.take_stock({"skuId": str(args["skuId"]), "stockNum": int(args["stockNum"])}):
            return JSONResponse({"error_response": {"code": "10100", "zh_desc": "库存更新失败"}})
        return JSONResponse({"jingdong_stock_write_updateSkuStock_responce": {"code": "0", "success": True}})
    return JSONResponse({"error_response": {"code": "66", "zh_desc": f"没有此方法 {method}"}})


app = Starlette(routes=[Route("/routerjson", routerjson, methods=["POST"])])
