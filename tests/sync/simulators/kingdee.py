"""Kingdee K3Cloud WebAPI for SAL_SaleOrder: Save, Submit, Audit, UnAudit, CancelAssign, Delete, ExcuteOperation
and ExecuteBillQuery, each a POST to `/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.<Op>.common.kdsvc`,
with signed X-Api-*/X-Kd-* headers checked (HMAC-SHA256 with the app secret, timestamp within 5 minutes).

Bills (FDocumentStatus): Save makes one in status A (a bill number already used is refused, as K3Cloud does);
Submit moves A|D → B; Audit B → C; UnAudit C → D (重新审核); CancelAssign (撤销) B → A; Delete removes an A, D or Z
bill (a submitted or audited one is refused); ExcuteOperation opNumber "Cancel" (作废) sets FCancelStatus A → B
on an unaudited bill. A voided bill refuses Submit, Audit and Delete; a bill `referenced` by a later document
refuses UnAudit. Each operation refuses a bill in the wrong
status with K3Cloud's kind of message. Answers {Result: {ResponseStatus: {IsSuccess, MsgCode, Errors,
SuccessEntitys}}}; ExecuteBillQuery answers rows of the FieldKeys asked for.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import re
import time
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.sync.simulators.server import Faults, Served

APP_ID, SECRET = "241234_teahub", "kingdee-app-secret-for-tests"
PREFIX = "/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService."


def _sign(text: str) -> str:
    return base64.b64encode(hmac.new(SECRET.encode(), text.encode(), hashlib.sha256).hexdigest().encode()).decode()


def answer(success: bool, *, errors: list[dict[str, Any]] | None = None, entities: list[dict[str, Any]] | None = None,
           code: int = 0) -> JSONResponse:
    return JSONResponse({"Result": {"ResponseStatus": {
        "IsSuccess": success, "MsgCode": code, "Errors": errors or [], "SuccessEntitys": entities or [],
        "SuccessMessages": [], "ErrorCode": 0 if success else 500}}})


def refused(message: str, field: str = "", code: int = 0) -> JSONResponse:
    return answer(False, errors=[{"FieldName": field, "Message": message, "DIndex": 0}], code=code)


class KingdeeSimulator:
    def __init__(self, materials: tuple[str, ...] = ("01.001", "01.002")) -> None:
        self.faults = Faults()
        self.materials = set(materials)
        self.bills: dict[str, dict[str, Any]] = {}  # by number
        self.ids = itertools.count(100001)
        self.bad_signatures = 0
        # K3Cloud lives under a virtual directory (/k3cloud/).
        routes = [Route(f"/k3cloud{PREFIX}{op}.common.kdsvc", self._endpoint(op), methods=["POST"])
                  for op in ("Save", "Submit", "Audit", "UnAudit", "CancelAssign", "Delete", "ExcuteOperation",
                             "ExecuteBillQuery")]
        self.served = Served(Starlette(routes=routes))
        self.url = self.served.url + "/k3cloud"

    def close(self) -> None:
        self.served.close()

    def _signed(self, request: Request) -> bool:
        h = request.headers
        try:
            fresh = abs(time.time() - int(h.get("X-Api-Timestamp", "0"))) < 300
        except ValueError:
            return False
        text = (f"POST\n{quote(request.url.path, safe='')}\n\nx-api-nonce:{h.get('X-Api-Nonce', '')}\n"
                f"x-api-timestamp:{h.get('X-Api-Timestamp', '')}\n")
        return (fresh and h.get("X-Kd-Appkey") == APP_ID
                and hmac.compare_digest(_sign(text), h.get("X-Api-Signature", ""))
                and hmac.compare_digest(_sign(APP_ID + h.get("X-Kd-Appdata", "")), h.get("X-Kd-Signature", "")))

    def _endpoint(self, op: str) -> Any:
        async def endpoint(request: Request) -> Response:
            if not self._signed(request):
                self.bad_signatures += 1
                return refused("签名验证失败 (signature check failed)", code=0)
            fault = self.faults.next(op)
            if fault == "500":
                return Response("Internal Server Error", status_code=500)
            if fault == "business":
                return refused(f"injected business error in {op}", "FBillNo")
            body = await request.json()
            if op == "ExcuteOperation":
                result = self.excuteoperation(str(body.get("opNumber") or ""), body.get("data") or {})
            else:
                result = getattr(self, op.lower())(body.get("data") or {})
            await self.faults.after(fault)
            return result
        return endpoint

    def save(self, data: dict[str, Any]) -> JSONResponse:
        model = data.get("Model") or {}
        number = model.get("FBillNo")
        if not number:
            return refused("单据编号必填", "FBillNo")
        if number in self.bills:
            return refused(f"单据编号 {number} 已存在 (bill number exists)", "FBillNo")
        for index, entry in enumerate(model.get("FSaleOrderEntry") or []):
            material = (entry.get("FMaterialId") or {}).get("FNumber")
            if material not in self.materials:
                return refused(f"物料 {material} 不存在 (no such material)", f"FSaleOrderEntry[{index}].FMaterialId")
        if not model.get("FSaleOrderEntry"):
            return refused("明细不能为空", "FSaleOrderEntry")
        bill_id = next(self.ids)
        amount = sum(float(e["FQty"]) * float(e["FTaxPrice"]) for e in model["FSaleOrderEntry"])
        self.bills[number] = {"Id": bill_id, "Number": number, "status": "A", "cancel_status": "A",
                              "amount": round(amount, 2), "model": model}
        return answer(True, entities=[{"Id": bill_id, "Number": number, "DIndex": 0}])

    def _move(self, data: dict[str, Any], before: str, after: str, what: str) -> JSONResponse:
        numbers = data.get("Numbers") or []
        entities = []
        for number in numbers:
            bill = self.bills.get(number)
            if bill is None:
                return refused(f"单据 {number} 不存在")
            if bill["cancel_status"] == "B":
                return refused(f"单据 {number} 已作废，不能{what}")
            if bill["status"] not in before:
                return refused(f"单据 {number} 状态 {bill['status']}，不能{what}")
            bill["status"] = after
            entities.append({"Id": bill["Id"], "Number": number, "DIndex": 0})
        return answer(True, entities=entities)

    def submit(self, data: dict[str, Any]) -> JSONResponse:
        return self._move(data, "AD", "B", "提交")

    def audit(self, data: dict[str, Any]) -> JSONResponse:
        return self._move(data, "B", "C", "审核")

    def unaudit(self, data: dict[str, Any]) -> JSONResponse:
        for number in data.get("Numbers") or []:
            if (self.bills.get(number) or {}).get("referenced"):  # a later document (delivery notice) uses it
                return refused(f"单据 {number} 已被下游单据引用，不能反审核")
        return self._move(data, "C", "D", "反审核")

    def cancelassign(self, data: dict[str, Any]) -> JSONResponse:
        return self._move(data, "B", "A", "撤销")

    def delete(self, data: dict[str, Any]) -> JSONResponse:
        numbers = data.get("Numbers") or []
        for number in numbers:
            bill = self.bills.get(number)
            if bill is None:
                return refused(f"单据 {number} 不存在")
            if bill["status"] not in "ADZ" or bill["cancel_status"] == "B":
                return refused(f"单据 {number} 状态 {bill['status']}，不能删除 (only created or re-audit bills)")
        entities = [{"Id": self.bills.pop(n)["Id"], "Number": n, "DIndex": 0} for n in numbers]
        return answer(True, entities=entities)

    def excuteoperation(self, op_number: str, data: dict[str, Any]) -> JSONResponse:
        if op_number != "Cancel":
            return refused(f"操作 {op_number} 不存在 (no such operation)")
        entities = []
        for number in data.get("Numbers") or []:
            bill = self.bills.get(number)
            if bill is None:
                return refused(f"单据 {number} 不存在")
            if bill["status"] in "BC" or bill["cancel_status"] == "B":
                return refused(f"单据 {number} 状态 {bill['status']}/{bill['cancel_status']}，不能作废")
            bill["cancel_status"] = "B"
            entities.append({"Id": bill["Id"], "Number": number, "DIndex": 0})
        return answer(True, entities=entities)

    FIELDS = {"FID": "Id", "FBillNo": "Number", "FDocumentStatus": "status", "FBillAllAmount": "amount",
              "FCancelStatus": "cancel_status"}

    def executebillquery(self, data: dict[str, Any]) -> JSONResponse:
        match = re.fullmatch(r"FBillNo in \((.*)\)", str(data.get("FilterString") or ""))
        numbers = re.findall(r"'((?:[^']|'')*)'", match.group(1)) if match else []
        keys = [k.strip() for k in str(data.get("FieldKeys") or "").split(",")]
        unknown = [k for k in keys if k not in self.FIELDS]
        if unknown:
            return refused(f"字段 {unknown[0]} 不存在", unknown[0])
        rows = [[b[self.FIELDS[k]] for k in keys] for n in numbers if (b := self.bills.get(n))]
        return JSONResponse(rows)
