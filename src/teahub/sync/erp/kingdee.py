"""Kingdee K3Cloud WebAPI: SAL_SaleOrder Save, then Submit, then Audit, as separate steps; a cancelled order's
bill is taken back the same way (UnAudit, then Delete).

Each step done is recorded (sync_erp_links.step: saved → submitted → audited) the moment it succeeds, so a retry
resumes at the step that failed, never from Save. Before a first Save the order is looked for by its bill number
(ExecuteBillQuery): a Save whose answer was lost (a timeout) is found, and the steps go on from its status
(A created → Submit, B submitted → Audit, C audited → done).

An order cancelled in teahub is never saved. Its bill, if K3Cloud has one, is taken back step by step, each step
recorded too: audited → UnAudit (C → D, step "unaudited"); submitted → CancelAssign, the 撤销 service (B → A, step
"withdrawn"); then, from A or D, Delete (step "deleted"), or, with options.on_cancel = "void", the 作废 operation
(ExcuteOperation opNumber "Cancel": the bill stays, FCancelStatus B, step "voided") for books that keep every
number. Only an unaudited bill can be deleted or voided, hence UnAudit first. A bill referenced by later documents
(a delivery notice, say) is refused by K3Cloud: a dead letter with its message. No bill: step "not_sent".
Bodies: {"formid": "SAL_SaleOrder", "data": {"Numbers": [...]}}; ExcuteOperation adds "opNumber".
(金蝶云星空 WebAPI 接口说明书 V6.0: UnAudit, Delete, 通用操作接口 ExcuteOperation; vip.kingdee.com/article/178658:
销售订单作废 = ExcuteOperation "Cancel".)

Auth: signed headers (as the K3Cloud SDK signs them, HMAC-SHA256 with the app secret):
  X-Api-ClientID, X-Api-Auth-Version: 2.0, X-Api-Timestamp, X-Api-Nonce, X-Api-SignHeaders,
  X-Api-Signature = base64(hex(HMAC(secret, api_sign_text(path, nonce, timestamp)))),
  X-Kd-Appkey, X-Kd-Appdata = base64("<acct id>,<user>,<lcid>,<org number>"),
  X-Kd-Signature = base64(hex(HMAC(secret, appkey + appdata))).
Options: app_id, acct_id, user, lcid (2052), org (sale org number), sale_org, bill_type, tax_rate, on_cancel
(delete | void), mappings, lookups (materials: SKU → material number; customers: customer id → customer number).
Secret: the app secret.

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
TAKING_BACK = ("unaudited", "withdrawn")  # steps on the way to removing a cancelled order's bill
ENDED = ("deleted", "voided", base.NOT_SENT)  # a cancelled order: nothing more to do in K3Cloud
STATUS_STEP = {"Z": None, "A": "saved", "D": "saved", "B": "submitted", "C": "audited"}
QUERY_FIELDS = "FID,FBillNo,FDocumentStatus,FBillAllAmount,FCancelStatus"
ON_CANCEL = ("delete", "void")
DELETED_DETAIL = "order cancelled in teahub: bill deleted"
VOIDED_DETAIL = "order cancelled in teahub: bill voided"


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


def _stage(status: str) -> str:
    """A bill status as far as taking it back goes: audited, submitted, or removable (created, re-audit, draft)."""
    return {"C": "audited", "B": "submitted"}.get(status, "removable")


def _stage_of_step(step: str) -> str:
    return step if step in ("audited", "submitted") else "removable"


class KingdeeConnector:
    records = ("order",)

    def __init__(self, target: TargetConfig, sessions: sessionmaker[Session]) -> None:
        self.target = target
        self.sessions = sessions
        self.base_url = target.url.rstrip("/")
        self.client = httpx.Client(timeout=target.timeout_seconds, headers={"User-Agent": USER_AGENT})

    def call(self, operation: str, data: dict[str, Any], *, with_form: bool = True, **extra: Any) -> Any:
        url = f"{self.base_url}/{SERVICE.format(operation)}"
        headers = signed_headers(self.target.secret or "", self.target.options, urlsplit(url).path)
        body = {"formid": FORM, **extra, "data": data} if with_form else {"data": data}
        return base.post_json(self.client, url, body, headers=headers)

    def find(self, numbers: list[str]) -> dict[str, dict[str, Any]]:
        """Bills by number: number → {Id, status, amount (fen), cancelled (voided, 作废)}."""
        if not numbers:
            return {}
        quoted = ",".join("'" + n.replace("'", "''") + "'" for n in numbers)
        rows = self.call("ExecuteBillQuery", {"FormId": FORM, "FieldKeys": QUERY_FIELDS,
                                              "FilterString": f"FBillNo in ({quoted})"}, with_form=False)
        if isinstance(rows, dict):  # an error answer
            parse_status(rows)
            return {}
        return {str(r[1]): {"id": str(r[0]), "status": r[2], "amount": round(float(r[3] or 0) * 100),
                            "cancelled": r[4] == "B"} for r in rows}

    def send(self, uow: Any, event: dict[str, Any]) -> None:
        prepared = base.prepare(uow, self.target, event, self.records)
        number = str(prepared.document.get("FBillNo") or prepared.reference)
        link = base.get_link(uow, self.target.id, prepared.key)
        if link is not None and link.step in ENDED:
            return  # the order was cancelled and its bill dealt with: later events change nothing
        if prepared.cancelled:
            self.take_back(uow, prepared, event, number, link.step if link is not None else None)
            return
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

    def take_back(self, uow: Any, prepared: base.Prepared, event: dict[str, Any], number: str,
                  step: str | None) -> None:
        """Remove (or void) a cancelled order's bill, resuming at the step a failure stopped at."""
        on_cancel = str(self.target.options.get("on_cancel") or "delete")
        if on_cancel not in ON_CANCEL:
            raise Permanent(f"options.on_cancel is {on_cancel!r}: it is delete or void")
        if step not in STEPS + TAKING_BACK:  # nothing recorded: a Save whose answer was lost, or a forgotten link
            step = self._stands(uow, prepared, event, number, self.find([number]).get(number))
            if step is None:
                return
        try:
            self._take_back_from(uow, prepared, event, number, step, on_cancel)
        except Permanent:
            # Refused: maybe an earlier call did its work and only its answer was lost. Where is the bill now?
            found = self.find([number]).get(number)
            if found is not None and not found["cancelled"] and _stage(found["status"]) == _stage_of_step(step):
                raise  # it stands where we thought: the refusal is K3Cloud's real answer
            step = self._stands(uow, prepared, event, number, found)
            if step is not None:
                self._take_back_from(uow, prepared, event, number, step, on_cancel)

    def _stands(self, uow: Any, prepared: base.Prepared, event: dict[str, Any], number: str,
                found: dict[str, Any] | None) -> str | None:
        """Record where the bill stands; the step to go on from, or None when nothing is left to do."""
        tid, event_id = self.target.id, event["id"]
        if found is None:
            link = base.get_link(uow, tid, prepared.key)
            if link is None or link.step not in STEPS + TAKING_BACK:
                base.save_link(uow, tid, prepared, event_id, base.NOT_SENT, external_number=number,
                               detail=base.NOT_SENT_DETAIL)
            else:
                base.save_link(uow, tid, prepared, event_id, "deleted", detail=DELETED_DETAIL)
            return None
        if found["cancelled"]:
            base.save_link(uow, tid, prepared, event_id, "voided", external_id=found["id"], external_number=number,
                           detail=VOIDED_DETAIL)
            return None
        step = STATUS_STEP.get(found["status"]) or "saved"
        base.save_link(uow, tid, prepared, event_id, step, external_id=found["id"], external_number=number)
        return step

    def _take_back_from(self, uow: Any, prepared: base.Prepared, event: dict[str, Any], number: str, step: str,
                        on_cancel: str) -> None:
        tid, event_id = self.target.id, event["id"]
        if step == "audited":
            parse_status(self.call("UnAudit", {"Numbers": [number]}))
            step = "unaudited"
            base.save_link(uow, tid, prepared, event_id, step)
        elif step == "submitted":
            parse_status(self.call("CancelAssign", {"Numbers": [number]}))
            step = "withdrawn"
            base.save_link(uow, tid, prepared, event_id, step)
        if on_cancel == "void":
            parse_status(self.call("ExcuteOperation", {"Numbers": [number]}, opNumber="Cancel"))
            base.save_link(uow, tid, prepared, event_id, "voided", detail=VOIDED_DETAIL)
        else:
            parse_status(self.call("Delete", {"Numbers": [number]}))
            base.save_link(uow, tid, prepared, event_id, "deleted", detail=DELETED_DETAIL)

    def deliver(self, events: Sequence[dict[str, Any]]) -> list[Result]:
        uow = UnitOfWork(self.sessions, actor=base.ACTOR)
        return [base.guarded(e["id"], lambda e=e: self.send(uow, e)) for e in events]

    def present(self, record: str, references: list[str]) -> dict[str, dict[str, Any]]:
        return self.find(references)

    def close(self) -> None:
        self.client.close()
