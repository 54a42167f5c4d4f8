"""Yonyou U8 OpenAPI: a token, an asynchronous saleorder/add deduplicated on `tradeid`, and its result polled.

- GET /system/token?from_account&app_key&app_secret → {errcode "0", token {id, expiresIn}}
- POST /api/saleorder/add?...&token&tradeid {saleorder} → {errcode "0", tradeid, url}; the same tradeid again
  (unless its request failed) answers with the first request's url and makes nothing new.
- GET /api/result?requestid&token → {errcode "0", status processing | done (id) | failed (errmsg)}; a request
  is processed after `polls_needed` polls.
- GET /api/saleorder/get?...&id=<code> → {errcode "0", saleorder} | {errcode "40404"}; a closed order has its
  `closer` and `closedate`.
- POST /api/saleorder/close?...&token&tradeid {saleorder: {voucher_code}} → {errcode "0"}; an unknown code
  (errcode "20002") or an order closed already ("20003") is refused; the tradeid of a close done already is
  answered as the first time and does nothing more.
"""

from __future__ import annotations

import itertools
import secrets
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.sync.simulators.server import Faults, Served

FROM_ACCOUNT, APP_KEY, APP_SECRET = "teahub", "u8-app-key", "u8-app-secret-for-tests"


class YonyouSimulator:
    def __init__(self, inventories: tuple[str, ...] = ("I-LJ", "I-DHP"), polls_needed: int = 2) -> None:
        self.faults = Faults()
        self.inventories = set(inventories)
        self.polls_needed = polls_needed
        self.tokens: set[str] = set()
        self.requests: dict[str, dict[str, Any]] = {}  # by request id
        self.by_tradeid: dict[str, str] = {}
        self.orders: dict[str, dict[str, Any]] = {}  # by code
        self.ids = itertools.count(1)
        self.business_failures = 0  # the next N processed requests fail with a business error
        self.closes: dict[str, dict[str, Any]] = {}  # close answers by tradeid
        self.served = Served(Starlette(routes=[
            Route("/system/token", self.token, methods=["GET"]),
            Route("/api/saleorder/add", self.add, methods=["POST"]),
            Route("/api/result", self.result, methods=["GET"]),
            Route("/api/saleorder/get", self.get, methods=["GET"]),
            Route("/api/saleorder/close", self.close_order, methods=["POST"]),
        ]))
        self.url = self.served.url

    def close(self) -> None:
        self.served.close()

    async def _fault(self, op: str) -> tuple[str | None, Response | None]:
        fault = self.faults.next(op)
        if fault == "500":
            return fault, Response("Internal Server Error", status_code=500)
        if fault == "business":
            return fault, JSONResponse({"errcode": "20001", "errmsg": f"injected business error in {op}"})
        return fault, None

    def _authorized(self, request: Request) -> bool:
        return request.query_params.get("token") in self.tokens

    async def token(self, request: Request) -> Response:
        q = request.query_params
        if (q.get("from_account"), q.get("app_key"), q.get("app_secret")) != (FROM_ACCOUNT, APP_KEY, APP_SECRET):
            return JSONResponse({"errcode": "10001", "errmsg": "app_key or app_secret is wrong"})
        token = secrets.token_hex(8)
        self.tokens.add(token)
        return JSONResponse({"errcode": "0", "errmsg": "", "token": {"id": token, "expiresIn": 7200}})

    async def add(self, request: Request) -> Response:
        if not self._authorized(request):
            return JSONResponse({"errcode": "40001", "errmsg": "token invalid"})
        fault, early = await self._fault("add")
        if early is not None:
            return early
        tradeid = request.query_params.get("tradeid") or ""
        known = self.by_tradeid.get(tradeid)
        if known is None or self.requests[known]["status"] == "failed":
            request_id = secrets.token_hex(6)
            self.requests[request_id] = {"tradeid": tradeid, "status": "processing", "polls": 0,
                                         "body": await request.json()}
            self.by_tradeid[tradeid] = request_id
            known = request_id
        await self.faults.after(fault)
        return JSONResponse({"errcode": "0", "errmsg": "", "tradeid": tradeid,
                             "url": f"{self.url}/api/result?requestid={known}"})

    async def result(self, request: Request) -> Response:
        if not self._authorized(request):
            return JSONResponse({"errcode": "40001", "errmsg": "token invalid"})
        fault, early = await self._fault("result")
        if early is not None:
            return early
        req = self.requests.get(request.query_params.get("requestid") or "")
        if req is None:
            return JSONResponse({"errcode": "40404", "errmsg": "no such request"})
        if req["status"] == "processing":
            req["polls"] += 1
            if req["polls"] >= self.polls_needed:
                self._process(req)
        await self.faults.after(fault)
        return JSONResponse({"errcode": "0", "status": req["status"], "id": req.get("id"),
                             "errmsg": req.get("errmsg", ""), "tradeid": req["tradeid"]})

    def _process(self, req: dict[str, Any]) -> None:
        order = dict(req["body"].get("saleorder") or {})
        bad = [e.get("inventorycode") for e in order.get("entry") or [] if e.get("inventorycode") not in
               self.inventories]
        if self.business_failures > 0:
            self.business_failures -= 1
            req.update(status="failed", errmsg="存货档案被锁定 (injected business failure)")
        elif bad:
            req.update(status="failed", errmsg=f"存货编码 {bad[0]} 不存在")
        elif order.get("code") in self.orders:
            req.update(status="failed", errmsg=f"单据号 {order['code']} 重复")
        else:
            voucher = f"U8-{next(self.ids):05d}"
            self.orders[order["code"]] = {**order, "id": voucher}
            req.update(status="done", id=voucher)

    async def get(self, request: Request) -> Response:
        if not self._authorized(request):
            return JSONResponse({"errcode": "40001", "errmsg": "token invalid"})
        order = self.orders.get(request.query_params.get("id") or "")
        if order is None:
            return JSONResponse({"errcode": "40404", "errmsg": "not found"})
        return JSONResponse({"errcode": "0", "saleorder": order})

    async def close_order(self, request: Request) -> Response:
        if not self._authorized(request):
            return JSONResponse({"errcode": "40001", "errmsg": "token invalid"})
        fault, early = await self._fault("close")
        if early is not None:
            return early
        tradeid = request.query_params.get("tradeid") or ""
        if tradeid and tradeid in self.closes:
            result = self.closes[tradeid]
        else:
            code = str(((await request.json()).get("saleorder") or {}).get("voucher_code") or "")
            order = self.orders.get(code)
            if order is None:
                result = {"errcode": "20002", "errmsg": f"销售订单 {code} 不存在"}
            elif order.get("closer"):
                result = {"errcode": "20003", "errmsg": f"销售订单 {code} 已关闭"}
            else:
                order.update(closer="demo", closedate="2024-01-01")
                result = {"errcode": "0", "errmsg": "", "tradeid": tradeid}
            if tradeid and result["errcode"] == "0":
                self.closes[tradeid] = result
        await self.faults.after(fault)
        return JSONResponse(result)
