"""Kingdee K3Cloud WebAPI: SAL_SaleOrder Save, then Submit, then Audit, as separate steps.

Each step done is recorded (sync_erp_links.step: saved → submitted → audited) the moment it succeeds, so a retry
resumes at the step that failed, never from Save. Before a first Save the order is looked for by its bill number
(ExecuteBillQuery): a Save whose answer was lost (a timeout) is found, and the steps go on from its status
(A created → Submit, B submitted → Audit, C audited → done).

Auth: signed headers (as the K3Cloud SDK signs them, HMAC-SHA256 with the app secret):
  X-Api-ClientID, X-Api-Auth-Version: 2.0, X-Api-Timestamp, X-Api-Nonce, X-Api-SignHeaders,
  X-Api-Signature = base64(hex(HMAC(secret, api_sign_text(path, nonce, timestamp)))),
  X-Kd-Appkey, X-Kd-Appdata = base64("<acct id>,<user>,<lcid>,<org number>"),
  X-Kd-Signature = base64(hex(HMAC(secret, appkey + appdata))).
Options: app_id, acct_id, user, lcid (2052), org (sale org number), sale_org, bill_type, tax_rate, mappings, lookups
(materials: SKU → material number; customers: customer id → customer number). Secret: the app secret.

Answers: Result.ResponseStatus{IsSuccess, MsgCode, Errors[{FieldName, Message}], SuccessEntitys[{Id, Number}]}.
Errors are the ERP refusing the data (a dead letter with its messages), unless the message code says the
session or a lock got in the way (MsgCode 1, 12; a retry).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from sqlalchemy.orm import Session, sessionmaker

from teahub.db.uow import UnitOfWork
from teahub.sync.connectors import USER_AGENT, Result, TargetConfig
from teahub.sync.erp import base
from teahub.sync.erp.base import Permanent, Transient

FORM = "SAL_SaleOrder"
SERVICE = "Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.{}.common.kdsvc"
TRANSIENT_CODES = frozenset({1, 12})  # session lost; the bill is locked by another operation
STEPS = ("saved", "submitted", "audited")
STATUS_STEP = {"Z": None, "A": "saved", "D": "saved", "B": "submitted", "C": "audited"}


def signature(secret: str, text: str) -> str:
    digest = hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()
    return base64.b64encode(digest.encode()).decode()


def api_sign_text(path: str, nonce: str, timestamp: str) -> str:
    return f"POST\n{quote(path, safe='')}\n\nx-api-nonce:{nonce}\nx-api-timestamp:{timestamp}\n"


def signed_headers(secret: str, options: dict[str, Any], path: str, *, now: float | None = None,
                   nonce: str | None = None) -> dict[str, str]:
    timestamp = str(int(now if now is not None else time.time()))
    nonce = nonce or secrets.token_hex(8)
    app_id = str(options.get("app_id") or "")
    appdata = base64.b64encode(",".join(str(options.get(k) or d) for k, d in (
        ("acct_id", ""), ("user", "teahub"), ("lcid", 2052), ("org", ""))).encode()).decode()
    return {"X-Api-ClientID": app_id.split("_")[0], "X-Api-Auth-Version": "2.0", "X-Api-Timestamp": timestamp,
            "X-Api-Nonce": nonce, "X-Api-SignHeaders": "X-Api-TimeStamp,X-Api-Nonce",
            "X-Api-Signature": signature(secret, api_sign_text(path, nonce, timestamp)),
            "X-Kd-Appkey": app_id, "X-Kd-Appdata": appdata, "X-Kd-Signature": signature(secret, app_id + appdata)}


def parse_status(answer: Any) -> dict[str, Any]:
    """Result.ResponseStatus of an answer → {Id, Number} of the first success; errors raise."""
    status = ((answer or {}).get("Result") or {}).get("ResponseStatus") if isinstance(answer, dict) else None
    if not isinstance(status, dict):
        raise Transient(f"not a K3Cloud answer: {str(answer)[:200]}")
    if status.get("IsSuccess"):
        entities = status.get("SuccessEntitys") or [{}]
        return dict(entities[0])
    errors = status.get("Errors") or []
    message = "; ".join(f"{e.get('FieldName') or '-'}: {e.get('Message')}" for e in errors) or "no message"
    if int(status.get("MsgCode") or 0) in TRANSIENT_CODES:
        raise Transient(f"K3Cloud busy (MsgCode {status.get('MsgCode')}): {message}")
    raise Permanent(f"K3Cloud refused: {message}")


class KingdeeConnector:
    records = ("order",)

    def __init__(self, target: TargetConfig, sessions: sessionmaker[Session]) -> None:
        self.target = target
        self.sessions = sessions
        self.base_url = target.url.rstrip("/")
        self.client = httpx.Client(timeout=target.timeout_seconds, headers={"User-Agent": USER_AGENT})

    def call(self, operation: str, data: dict[str, Any], *, with_form: bool = True) -> Any:
        url = f"{self.base_url}/{SERVICE.format(operation)}"
        headers = signed_headers(self.target.secret or "", self.target.options, urlsplit(url).path)
        body = {"formid": FORM, "data": data} if with_form else {"data": data}
        return base.post_json(self.client, url, body, headers=headers)

    def find(self, numbers: list[str]) -> dict[str, dict[str, Any]]:
        """Bills by number: number → {Id, status, amount (fen)}."""
        if not numbers:
            return {}
        quoted = ",".join("'" + n.replace("'", "''") + "'" for n in numbers)
        rows = self.call("ExecuteBillQuery", {"FormId": FORM, "FieldKeys": "FID,FBillNo,FDocumentStatus,FBillAllAmount",
                                              "FilterString": f"FBillNo in ({quoted})"}, with_form=False)
        if isinstance(rows, dict):  # an error answer
            parse_status(rows)
            return {}
        return {str(r[1]): {"id": str(r[0]), "status": r[2], "amount": round(float(r[3] or 0) * 100)}
                for r in rows}

    def send(self, uow: Any, event: dict[str, Any]) -> None:
        prepared = base.prepare(uow, self.target, event, self.records)
        number = str(prepared.document.get("FBillNo") or prepared.reference)
        link = base.get_link(uow, self.target.id, prepared.key)
        step = link.step if link is not None and link.step in STEPS else None
        bill_id = link.external_id if link is not None else None
        if step is None:
            found = self.find([number]).get(number)
            if found is not None:  # saved by an attempt whose answer was lost
                step, bill_id = STATUS_STEP.get(found["status"]) or "saved", found["id"]
                base.save_link(uow, self.target.id, prepared, event["id"], step, external_id=bill_id,
                               external_number=number)
        if step is None:
            saved = parse_status(self.call("Save", {"Model": prepared.document}))
            step, bill_id = "saved", str(saved.get("Id") or "")
            base.save_link(uow, self.target.id, prepared, event["id"], step, external_id=bill_id,
                           external_number=str(saved.get("Number") or number))
        if step == "saved":
            parse_status(self.call("Submit", {"Numbers": [number]}))
            step = "submitted"
            base.save_link(uow, self.target.id, prepared, event["id"], step)
        if step == "submitted":
            parse_status(self.call("Audit", {"Numbers": [number]}))
            base.save_link(uow, self.target.id, prepared, event["id"], "audited")

    def deliver(self, events: Sequence[dict[str, Any]]) -> list[Result]:
        uow = UnitOfWork(self.sessions, actor=base.ACTOR)
        return [base.guarded(e["id"], lambda e=e: self.send(uow, e)) for e in events]

    def present(self, record: str, references: list[str]) -> dict[str, dict[str, Any]]:
        return self.find(references)

    def close(self) -> None:
        self.client.close()
