"""Odoo's external JSON-RPC API: `POST /jsonrpc` {jsonrpc, method: call, params: {service, method, args}}.

- common.authenticate(db, login, key, {}) → uid or false
- object.execute_kw(db, uid, key, model, method, args, kwargs) on res.partner and sale.order:
  search(domain), search_read(domain, fields), create(vals) → id, write(ids, vals), read(ids).
  Domains: [[field, "=" | "in", value]]; archived partners only with context active_test false.
  sale.order create wants partner_id of an existing partner and order_line [[0, 0, {product_id, ...}]].
Errors are JSON-RPC errors {code 200, message, data {name: odoo.exceptions.ValidationError, message}}.
"""

from __future__ import annotations

import itertools
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.sync.simulators.server import Faults, Served

DB, LOGIN, KEY, UID = "teahub", "sync@teahub", "odoo-api-key-for-tests", 2


class OdooError(Exception):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name, self.message = name, message


class OdooSimulator:
    def __init__(self) -> None:
        self.faults = Faults()
        self.records: dict[str, dict[int, dict[str, Any]]] = {"res.partner": {}, "sale.order": {},
                                                               "product.product": {}}
        self.ids = itertools.count(1)
        self.products = {10: "LJ-MQ26-250", 11: "DHP-WYS-100"}
        self.records["product.product"] = {i: {"id": i, "default_code": c} for i, c in self.products.items()}
        self.served = Served(Starlette(routes=[Route("/jsonrpc", self.jsonrpc, methods=["POST"])]))
        self.url = self.served.url

    def close(self) -> None:
        self.served.close()

    # -- the endpoint -----------------------------------------------------------------------------------
    async def jsonrpc(self, request: Request) -> Response:
        body = await request.json()
        params = body.get("params") or {}
        service, method, args = params.get("service"), params.get("method"), params.get("args") or []
        op = f"{args[3]}.{args[4]}" if service == "object" and len(args) > 4 else f"{service}.{method}"
        fault = self.faults.next(op)
        if fault == "500":
            return Response("Internal Server Error", status_code=500)
        if fault == "business":
            return self._error(OdooError("odoo.exceptions.ValidationError", "injected: the record is invalid"),
                               body)
        try:
            result = self._dispatch(service, method, args)
        except OdooError as exc:
            return self._error(exc, body)
        await self.faults.after(fault)
        return JSONResponse({"jsonrpc": "2.0", "id": body.get("id"), "result": result})

    @staticmethod
    def _error(exc: OdooError, body: dict[str, Any]) -> Response:
        return JSONResponse({"jsonrpc": "2.0", "id": body.get("id"), "error": {
            "code": 200, "message": "Odoo Server Error",
            "data": {"name": exc.name, "message": exc.message, "debug": "Traceback ..."}}})

    def _dispatch(self, service: str, method: str, args: list[Any]) -> Any:
        if service == "common" and method == "authenticate":
            db, login, key = args[:3]
            return UID if (db, login, key) == (DB, LOGIN, KEY) else False
        if service != "object" or method != "execute_kw":
            raise OdooError("builtins.KeyError", f"no {service}.{method}")
        db, uid, key, model, name = args[:5]
        call_args = args[5] if len(args) > 5 else []
        kwargs = args[6] if len(args) > 6 else {}
        if (db, uid, key) != (DB, UID, KEY):
            raise OdooError("odoo.exceptions.AccessDenied", "Access Denied")
        if model not in self.records:
            raise OdooError("builtins.KeyError", model)
        table = self.records[model]
        if name in ("search", "search_read"):
            found = [r for r in table.values() if self._matches(r, call_args[0], kwargs.get("context") or {})]
            if "limit" in kwargs:
                found = found[: kwargs["limit"]]
            if name == "search":
                return [r["id"] for r in found]
            fields = kwargs.get("fields") or list(found[0]) if found else []
            return [{"id": r["id"], **{f: r.get(f, False) for f in fields}} for r in found]
        if name == "create":
            return self._create(model, dict(call_args[0]))
        if name == "write":
            for record_id in call_args[0]:
                table[record_id].update(call_args[1])
            return True
        if name == "read":
            return [table[i] for i in call_args[0] if i in table]
        raise OdooError("builtins.AttributeError", f"{model} has no method {name}")

    @staticmethod
    def _matches(record: dict[str, Any], domain: list[Any], context: dict[str, Any]) -> bool:
        if context.get("active_test", True) and record.get("active") is False:
            return False
        for field_name, op, value in domain:
            have = record.get(field_name)
            if op == "=" and have != value:
                return False
            if op == "in" and have not in value:
                return False
        return True

    def _create(self, model: str, vals: dict[str, Any]) -> int:
        record_id = next(self.ids)
        if model == "sale.order":
            if vals.get("partner_id") not in self.records["res.partner"]:
                raise OdooError("odoo.exceptions.ValidationError", f"partner {vals.get('partner_id')} does not exist")
            lines = []
            for command in vals.get("order_line") or []:
                if not (isinstance(command, list) and command[:2] == [0, 0]):
                    raise OdooError("builtins.ValueError", f"bad order_line command {command!r}")
                line = command[2]
                if line.get("product_id") not in self.products:
                    raise OdooError("odoo.exceptions.ValidationError", f"no product {line.get('product_id')}")
                lines.append(line)
            vals["order_line"] = lines
            vals["amount_total"] = round(sum(float(ln["product_uom_qty"]) * float(ln["price_unit"])
                                             * (1 - float(ln.get("discount") or 0) / 100) for ln in lines), 2)
            vals.setdefault("state", "draft")
            vals["name"] = f"S{record_id:05d}"
        if model == "res.partner":
            vals.setdefault("active", True)
        self.records[model][record_id] = {"id": record_id, **vals}
        return record_id

    # -- for tests --------------------------------------------------------------------------------------
    def orders(self) -> list[dict[str, Any]]:
        return list(self.records["sale.order"].values())

    def partners(self) -> list[dict[str, Any]]:
        return list(self.records["res.partner"].values())
