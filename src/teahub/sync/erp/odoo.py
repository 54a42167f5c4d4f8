"""Odoo over JSON-RPC (`POST /jsonrpc`, service `object`, method `execute_kw`).

Options: database, login (the API user), default_partner_id (orders without a customer), mappings, lookups
(products: SKU → product.product id). Secret: the user's API key.

Customers → res.partner, searched by `ref` (teahub-<id>, archived ones too), then written or created.
Orders → sale.order, searched by `client_order_ref` (the teahub order number) before creating: an order whose
creation timed out after Odoo made it is found on the retry, not made twice. Its customer is made sure of first.

An order cancelled in teahub is never created; one Odoo has (the link's id, else searched by client_order_ref) is
cancelled with sale.order action_cancel, unless its state is cancel already. The context disable_cancel_warning
skips the wizard Odoo would otherwise answer with for a confirmed order (what Odoo's own sale.order.cancel wizard
passes when confirmed); a locked order is refused by Odoo (UserError): a dead letter with its message.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from teahub.db.uow import UnitOfWork
from teahub.sync.connectors import USER_AGENT, Result, TargetConfig
from teahub.sync.erp import base
from teahub.sync.erp.base import Permanent, Prepared, Transient

ENDED = ("cancelled", base.NOT_SENT)  # a cancelled order dealt with in Odoo
# Odoo exceptions that say the data is wrong (no retry will fix it); anything else (a lock, a restart) is passing.
BUSINESS_ERRORS = ("odoo.exceptions.ValidationError", "odoo.exceptions.UserError", "odoo.exceptions.AccessError",
                   "odoo.exceptions.MissingError", "odoo.exceptions.AccessDenied", "ValueError", "KeyError")


class OdooConnector:
    records = ("order", "customer")

    def __init__(self, target: TargetConfig, sessions: sessionmaker[Session]) -> None:
        self.target = target
        self.sessions = sessions
        self.url = target.url.rstrip("/") + "/jsonrpc"
        self.database = str(target.options.get("database") or "")
        self.login = str(target.options.get("login") or "")
        self.client = httpx.Client(timeout=target.timeout_seconds, headers={"User-Agent": USER_AGENT})
        self.ids = itertools.count(1)
        self.uid: int | None = None

    # -- JSON-RPC ---------------------------------------------------------------------------------------
    def call(self, service: str, method: str, *args: Any) -> Any:
        body = {"jsonrpc": "2.0", "method": "call", "id": next(self.ids),
                "params": {"service": service, "method": method, "args": list(args)}}
        answer = base.post_json(self.client, self.url, body)
        error = answer.get("error") if isinstance(answer, dict) else None
        if error:
            data = error.get("data") or {}
            name, message = str(data.get("name") or ""), str(data.get("message") or error.get("message") or error)
            if name in BUSINESS_ERRORS:
                raise Permanent(f"Odoo refused: {name}: {message}")
            raise Transient(f"Odoo error: {name or error.get('code')}: {message}")
        if not isinstance(answer, dict) or "result" not in answer:
            raise Transient(f"not a JSON-RPC answer: {str(answer)[:200]}")
        return answer["result"]

    def authenticate(self) -> int:
        if self.uid is None:
            uid = self.call("common", "authenticate", self.database, self.login, self.target.secret or "", {})
            if not uid:
                raise Permanent(f"Odoo refused the login {self.login!r} on database {self.database!r}")
            self.uid = int(uid)
        return self.uid

    def execute(self, model: str, method: str, args: list[Any], kwargs: dict[str, Any] | None = None) -> Any:
        uid = self.authenticate()
        return self.call("object", "execute_kw", self.database, uid, self.target.secret or "", model, method, args,
                         kwargs or {})

    def search(self, model: str, field: str, value: str) -> list[int]:
        return list(self.execute(model, "search", [[[field, "=", value]]],
                                 {"limit": 2, "context": {"active_test": False}}))

    # -- records ----------------------------------------------------------------------------------------
    def upsert_partner(self, vals: dict[str, Any]) -> int:
        found = self.search("res.partner", "ref", vals["ref"])
        if found:
            self.execute("res.partner", "write", [[found[0]], vals])
            return found[0]
        return int(self.execute("res.partner", "create", [vals]))

    def partner_for_order(self, prepared: Prepared) -> int:
        customer = prepared.source.get("customer")
        if customer:
            options = self.target.options
            mapping = base.for_target("odoo", "customer", options)
            try:
                vals = mapping.apply({**customer, "options": base._public(options)}, options.get("lookups") or {})
            except base.ApplyError as exc:
                raise Permanent(f"cannot map the order's customer: {exc}") from None
            return self.upsert_partner(vals)
        default = self.target.options.get("default_partner_id")
        if default is None:
            raise Permanent("the order has no customer and the target has no options.default_partner_id")
        return int(default)

    def send(self, uow: Any, event: dict[str, Any]) -> None:
        prepared = base.prepare(uow, self.target, event, self.records)
        vals = dict(prepared.document)
        if prepared.record == "customer":
            partner = self.upsert_partner(vals)
            base.save_link(uow, self.target.id, prepared, event["id"], "done", external_id=str(partner),
                           external_number=vals["ref"])
            return
        ref = vals.get("client_order_ref") or prepared.reference
        link = base.get_link(uow, self.target.id, prepared.key)
        if link is not None and link.step in ENDED:
            return  # cancelled and dealt with in Odoo: later events change nothing
        if prepared.cancelled:
            self.cancel_order(uow, prepared, event, ref, link.external_id if link is not None else None)
            return
        found = self.search("sale.order", "client_order_ref", ref)
        if found:
            order_id = found[0]  # made before (maybe by an attempt whose answer we never got): not again
        else:
            vals["partner_id"] = self.partner_for_order(prepared)
            vals["order_line"] = [[0, 0, line] for line in vals.get("order_line", [])]
            order_id = int(self.execute("sale.order", "create", [vals]))
        base.save_link(uow, self.target.id, prepared, event["id"], "done", external_id=str(order_id),
                       external_number=ref)

    def cancel_order(self, uow: Any, prepared: Prepared, event: dict[str, Any], ref: str,
                     external_id: str | None) -> None:
        domain = [["id", "=", int(external_id)]] if external_id else [["client_order_ref", "=", ref]]
        rows = self.execute("sale.order", "search_read", [domain], {"fields": ["state", "name"], "limit": 1})
        if not rows:
            detail = (f"sale.order {external_id} is no longer in Odoo: nothing to cancel" if external_id
                      else base.NOT_SENT_DETAIL)
            base.save_link(uow, self.target.id, prepared, event["id"], "cancelled" if external_id else base.NOT_SENT,
                           external_number=ref, detail=detail)
            return
        order = rows[0]
        if order.get("state") != "cancel":
            answer = self.execute("sale.order", "action_cancel", [[order["id"]]],
                                  {"context": {"disable_cancel_warning": True}})
            if isinstance(answer, dict):  # a window action: Odoo wants a person to confirm in its wizard
                raise Permanent(f"Odoo did not cancel {order.get('name')}: it answered with the "
                                f"{answer.get('res_model') or 'cancel'} wizard")
        base.save_link(uow, self.target.id, prepared, event["id"], "cancelled", external_id=str(order["id"]),
                       external_number=ref, detail=f"order cancelled in teahub: {order.get('name')} cancelled in Odoo")

    def deliver(self, events: Sequence[dict[str, Any]]) -> list[Result]:
        uow = UnitOfWork(self.sessions, actor=base.ACTOR)
        return [base.guarded(e["id"], lambda e=e: self.send(uow, e)) for e in events]

    # -- reconciliation ---------------------------------------------------------------------------------
    def present(self, record: str, references: list[str]) -> dict[str, dict[str, Any]]:
        """What Odoo has of these references: reference → {id, amount (fen) for orders}."""
        if not references:
            return {}
        if record == "customer":
            rows = self.execute("res.partner", "search_read", [[["ref", "in", references]]],
                                {"fields": ["ref"], "context": {"active_test": False}})
            return {r["ref"]: {"id": str(r["id"])} for r in rows}
        rows = self.execute("sale.order", "search_read", [[["client_order_ref", "in", references]]],
                            {"fields": ["client_order_ref", "amount_total", "state"]})
        return {r["client_order_ref"]: {"id": str(r["id"]), "amount": round(float(r["amount_total"]) * 100),
                                        "state": r.get("state"), "cancelled": r.get("state") == "cancel"}
                for r in rows}

    def close(self) -> None:
        self.client.close()
