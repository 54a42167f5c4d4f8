"""Pinduoduo's gateway (`/api/router`): form parameters (`type` names the API) signed MD5(secret + sorted k+v +
secret), uppercase; `pdd.order.number.list.increment.get` (Unix seconds) and `pdd.order.information.get`."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.channels.simulators.base import APP_KEY, SECRET, Platform, beijing


def _modified(document: dict) -> tuple[str, object]:  # type: ignore[type-arg]
    info = document["order_info_get_response"]["order_info"]
    return str(info["order_sn"]), beijing(info["updated_at"])


PLATFORM = Platform(_modified)  # type: ignore[arg-type]


async def router(request: Request) -> Response:
    params = {k: str(v) for k, v in (await request.form()).items()}
    given = params.pop("sign", "")
    signed = SECRET + "".join(f"{k}{params[k]}" for k in sorted(params)) + SECRET
    if params.get("client_id") != APP_KEY or given != hashlib.md5(signed.encode()).hexdigest().upper():
        return JSONResponse({"error_response": {"error_code": 10016, "error_msg": "签名错误"}})
    method = params["type"]
    PLATFORM.calls.append(method)
    if method == "pdd.order.number.list.increment.get":
        found = PLATFORM.modified_between(datetime.fromtimestamp(int(params["start_updated_at"]), UTC),
                                          datetime.fromtimestamp(int(params["end_updated_at"]), UTC))
        page, size = int(params.get("page", 1)), int(params.get("page_size", 100))
        chunk = found[(page - 1) * size: page * size]
        return JSONResponse({"order_sn_increment_get_response": {
            "total_count": len(found), "has_next": page * size < len(found),
            "order_sn_list": [{"order_sn": h.external_id, "updated_at": json.loads(h.raw)[
                "order_info_get_response"]["order_info"]["updated_at"]} for h in chunk]}})
    if method == "pdd.order.information.get":
        held = PLATFORM.orders.get(params.get("order_sn", ""))
        if held is None:
            return JSONResponse({"error_response": {"error_code": 50000, "error_msg": "订单不存在"}})
        return Response(held.raw, media_type="application/json")
    if method == "pdd.goods.quantity.update":
        update = {k: params[k] for k in ("goods_id", "sku_id", "outer_id") if k in params}
        update |= {"quantity": int(params["quantity"]), "update_type": int(params.get("update_type", "1"))}
        if not PLATFORM.take_stock(update):
            return JSONResponse({"error_response": {"error_code": 70031, "error_msg": "库存更新失败"}})
        return JSONResponse({"goods_quantity_update_response": {"is_success": True}})
    return JSONResponse({"error_response": {"error_code": 10000, "error_msg": f"unknown type {method}"}})


app = Starlette(routes=[Route("/api/router", router, methods=["POST"])])
