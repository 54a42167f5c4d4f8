"""Odoo's external JSON-RPC API: `POST /jsonrpc` {jsonrpc, method: call, params: {service, method, args}}.

- common.authenticate(db, login, key, {}) → uid or false
- object.execute_kw(db, uid, key, model, method, args, kwargs) on res.partner and sale.order:
  search(domain), search_read(domain, fields), create(vals) → id, write(ids, vals), read(ids).
  Domains: [[field, "=" | "in", value]]; archived partners only with context active_test false.
  sale.order create wants partner_id of an existing partner and order_line [[0, 0, {product_id, ...}]].
  sale.order action_cancel(ids): a locked order (`locked`, or state done) is refused (UserError); an order past
  draft answers with the sale.order.cancel wizard (a window action, nothing cancelled) unless the context has
  disable_cancel_warning; else state → cancel, True. read of a missing id is a MissingError.
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
MISSING = "Record does not exist or has been deleted"
LOCKED = "You cannot cancel a locked order. Please unlock it first."


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
            missing = [i for i in call_args[0] if i not in table]
            if missing:
                raise OdooError("odoo.exceptions.MissingError", f"{MISSING}: {missing}")
            fields = kwargs.get("fields")
            return [{"id": i, **{f: table[i].get(f, False) for f in fields}} if fields else table[i]
                    for i in call_args[0]]
        if model == "sale.order" and name == "action_cancel":
            return self._cancel(call_args[0], kwargs.get("context") or {})
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

    def _cancel(self, ids: list[int], context: dict[str, Any]) -> Any:
        orders = self.records["sale.order"]
        for order_id in ids:
            if order_id not in orders:
                raise OdooError("odoo.exceptions.MissingError", f"{MISSING}: {order_id}")
            if orders[order_id].get("locked") or orders[order_id].get("state") == "done":
                raise OdooError("odoo.exceptions.UserError", LOCKED)
        if not context.get("disable_cancel_warning") and any(orders[i].get("state") != "draft" for i in ids):
            return {"name": "Cancel Sales Order", "type": "ir.actions.act_window", "res_model": "sale.order.cancel",
                    "view_mode": "form", "target": "new", "context": {"default_order_id": ids[0]}}
        for order_id in ids:
            orders[order_id]["state"] = "cancel"
        return True

    # -- for tests --------------------------------------------------------------------------------------
    def orders(self) -> list[dict[str, Any]]:
        return list(self.records["sale.order"].values())

    def partners(self) -> list[dict[str, Any]]:
        return list(self.records["res.partner"].values())
