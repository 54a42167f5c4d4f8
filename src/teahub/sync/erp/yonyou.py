"""Yonyou U8 OpenAPI: a token, then `saleorder/add` (asynchronous), then the result polled.

- `GET /system/token?from_account&app_key&app_secret` → {errcode "0", token {id, expiresIn}}
- `POST /api/saleorder/add?from_account&to_account&app_key&token&tradeid` {saleorder: {...}} →
  {errcode "0", tradeid, url}: the request is queued; `url` gives its result.
- `GET <url>&token=...` → {errcode "0", status: processing | done (id: the voucher id) | failed (errmsg)}
- `GET /api/saleorder/get?...&id=<code>` → {errcode "0", saleorder} or errcode "40404" (reconciliation).

`tradeid` is U8's idempotency key: `teahub-order-<order id>`, the same for every event and retry of the order,
so a request that timed out after U8 queued it is answered with the first request's result, not made twice.
The result is polled a bounded number of times (options.poll_attempts × options.poll_interval seconds); an
unfinished request is retried later (polling its recorded URL, not adding again).
Options: from_account, to_account, app_key, order_type, poll_attempts (10), poll_interval (1.0), mappings,
lookups (inventories, customers). Secret: the app secret.

An order cancelled in teahub is never added. One U8 has is closed:
- `POST /api/saleorder/close?...&tradeid` {saleorder: {voucher_code}} → {errcode "0"}
with tradeid `teahub-order-<order id>-close` (a close repeated after a lost answer is answered, not done twice),
after `saleorder/get` shows it open (a closed order has a `closer`). U8's OpenAPI has no saleorder delete: its
sale-order calls are add, get, verify/unverify, audit/abandon, open and close (the body {saleorder:
{voucher_code}} as verify takes it), so close is the documented-looking way to stop an order; should a U8 refuse
to close an order nobody verified, its refusal is a dead letter with its message, for a person to void it there.
An add still being processed is polled to its end first (failed: nothing to close); nothing in U8: "not_sent".
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from teahub.db.uow import UnitOfWork
from teahub.sync.connectors import USER_AGENT, Result, TargetConfig
from teahub.sync.erp import base
from teahub.sync.erp.base import Permanent, Transient

TOKEN_ERRORS = frozenset({"40001", "40002"})  # token invalid or expired: ask for a new one
TRANSIENT_ERRORS = frozenset({"30001", "30002", "50000"})  # busy, queue full, internal error
ENDED = ("closed", base.NOT_SENT)  # a cancelled order dealt with in U8


class YonyouConnector:
    records = ("order",)

    def __init__(self, target: TargetConfig, sessions: sessionmaker[Session]) -> None:
        self.target = target
        self.sessions = sessions
        self.options = target.options
        self.base_url = target.url.rstrip("/")
        self.client = httpx.Client(timeout=target.timeout_seconds, headers={"User-Agent": USER_AGENT})
        self.token: str | None = None
        self.poll_attempts = int(self.options.get("poll_attempts") or 10)
        self.poll_interval = float(self.options.get("poll_interval") or 1.0)

    def _check(self, answer: Any, what: str) -> dict[str, Any]:
        if not isinstance(answer, dict) or "errcode" not in answer:
            raise Transient(f"U8 {what}: not an OpenAPI answer: {str(answer)[:200]}")
        code = str(answer["errcode"])
        if code == "0":
            return answer
        message = f"U8 {what}: errcode {code}: {answer.get('errmsg')}"
        if code in TOKEN_ERRORS:
            self.token = None
            raise Transient(message)
        if code in TRANSIENT_ERRORS:
            raise Transient(message)
        raise Permanent(message)

    def _token(self) -> str:
        if self.token is None:
            answer = base.get_json(self.client, f"{self.base_url}/system/token", params={
                "from_account": self.options.get("from_account", ""), "app_key": self.options.get("app_key", ""),
                "app_secret": self.target.secret or ""})
            self.token = str(self._check(answer, "token")["token"]["id"])
        return self.token

    def _params(self, **extra: Any) -> dict[str, Any]:
        return {"from_account": self.options.get("from_account", ""), "to_account": self.options.get("to_account", ""),
                "app_key": self.options.get("app_key", ""), "token": self._token(), **extra}

    @staticmethod
    def tradeid(record_id: int) -> str:
        return f"teahub-order-{record_id}"

    def poll(self, url: str) -> str | None:
        """The voucher id once done; None while still processing after the bounded number of polls."""
        for attempt in range(self.poll_attempts):
            polled = httpx.URL(url).copy_merge_params({"token": self._token()})  # keep the URL's own query
            answer = self._check(base.get_json(self.client, str(polled)), "result")
            if answer.get("status") == "done":
                return str(answer.get("id"))
            if answer.get("status") == "failed":
                raise Permanent(f"U8 saleorder/add failed: {answer.get('errmsg')}")
            if attempt + 1 < self.poll_attempts:
                time.sleep(self.poll_interval)
        return None

    def send(self, uow: Any, event: dict[str, Any]) -> None:
        prepared = base.prepare(uow, self.target, event, self.records)
        link = base.get_link(uow, self.target.id, prepared.key)
        if link is not None and link.step in ENDED:
            return  # cancelled and dealt with in U8: later events change nothing
        if prepared.cancelled:
            self.close_order(uow, prepared, event, link)
            return
        if link is not None and link.step == "done":
            return  # U8 has the order; later events of it change nothing there
        url = link.detail if link is not None and link.step == "queued" else None
        if url is None:
            answer = self._check(base.post_json(self.client, f"{self.base_url}/api/saleorder/add",
                                                prepared.document,
                                                params=self._params(tradeid=self.tradeid(prepared.record_id))),
                                 "saleorder/add")
            url = str(answer["url"])
            base.save_link(uow, self.target.id, prepared, event["id"], "queued", detail=url,
                           external_number=prepared.reference)
        try:
            voucher = self.poll(url)
        except Permanent:
            base.save_link(uow, self.target.id, prepared, event["id"], "failed")
            raise
        if voucher is None:
            raise Transient(f"U8 is still processing {prepared.reference} after {self.poll_attempts} polls")
        base.save_link(uow, self.target.id, prepared, event["id"], "done", external_id=voucher)

    def close_order(self, uow: Any, prepared: base.Prepared, event: dict[str, Any], link: Any) -> None:
        code = str((prepared.document.get("saleorder") or {}).get("code") or prepared.reference)
        tid, event_id = self.target.id, event["id"]
        if link is not None and link.step == "queued" and link.detail:
            try:  # the add may yet make the order: learn how it ends before closing
                voucher = self.poll(link.detail)
            except Permanent:
                voucher = None  # it failed: U8 has nothing
            else:
                if voucher is None:
                    raise Transient(f"U8 is still processing {code}; it is closed once made")
                base.save_link(uow, tid, prepared, event_id, "done", external_id=voucher)
        order = self.get_order(code)
        if order is None:
            base.save_link(uow, tid, prepared, event_id, base.NOT_SENT, external_number=code,
                           detail=base.NOT_SENT_DETAIL)
            return
        if not order.get("closer"):
            self._check(base.post_json(self.client, f"{self.base_url}/api/saleorder/close",
                                       {"saleorder": {"voucher_code": code}},
                                       params=self._params(tradeid=f"{self.tradeid(prepared.record_id)}-close")),
                        "saleorder/close")
        base.save_link(uow, tid, prepared, event_id, "closed", external_id=str(order.get("id") or "") or None,
                       external_number=code, detail="order cancelled in teahub: closed in U8")

    def get_order(self, code: str) -> dict[str, Any] | None:
        answer = base.get_json(self.client, f"{self.base_url}/api/saleorder/get", params=self._params(id=code))
        if isinstance(answer, dict) and str(answer.get("errcode")) == "40404":
            return None
        return dict(self._check(answer, "saleorder/get")["saleorder"])

    def deliver(self, events: Sequence[dict[str, Any]]) -> list[Result]:
        uow = UnitOfWork(self.sessions, actor=base.ACTOR)
        return [base.guarded(e["id"], lambda e=e: self.send(uow, e)) for e in events]

    def present(self, record: str, references: list[str]) -> dict[str, dict[str, Any]]:
        found = {}
        for code in references:
            order = self.get_order(code)
            if order is not None:
                found[code] = {"id": str(order.get("id")), "amount": round(float(order.get("money") or 0) * 100),
                               "cancelled": bool(order.get("closer"))}
        return found

    def close(self) -> None:
        self.client.close()
