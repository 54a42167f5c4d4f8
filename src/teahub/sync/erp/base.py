"""What the ERP connectors share: reading the record an event is about (at delivery time, through the owning
capabilities' services: the clear phone of a customer comes from customers.service, never from the event),
the mapped document, the per-record link (steps, external id, mapping version), and error classification.

An order cancelled in teahub (its status, read at delivery time, is "cancelled": whichever of its events brings
it) is never created in an ERP; one already there is voided by the connector's own means (Kingdee UnAudit and
Delete, Odoo action_cancel, U8 close). One that never reached the ERP is marked NOT_SENT, so nothing is sent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import delete, select

from teahub.db.uow import UnitOfWork
from teahub.errors import NotFound
from teahub.sync.connectors import Result, TargetConfig
from teahub.sync.erp.models import SyncErpLink
from teahub.sync.mappings import ApplyError, Mapping, MappingError, for_target
from teahub.sync.rules import record_key

ACTOR = "sync:erp"
NOT_SENT = "not_sent"  # link step: the order was cancelled before any of it reached the ERP
NOT_SENT_DETAIL = "cancelled in teahub before it reached the ERP: nothing sent"


class Permanent(Exception):
    """The ERP (or the record) refuses for good: a dead letter with this message."""


class Transient(Exception):
    """Try again later: the ERP away, slow, or busy."""


# -- the source record ---------------------------------------------------------------------------------------
def order_source(uow: UnitOfWork, order_id: int, options: dict[str, Any],
                 event: dict[str, Any] | None = None) -> dict[str, Any]:
    """The order as sales shows it, its customer (clear, through customers.service), the target's options and
    the event being delivered."""
    from teahub.customers import service as customers
    from teahub.sales.views import get_order

    order = get_order(uow, order_id)
    customer = None
    if order.get("customer_id") is not None:
        try:
            customer = customers.get_customer(uow, int(order["customer_id"]))
        except NotFound:
            customer = None
    return {**order, "customer": customer, "options": _public(options), "event": event}


def customer_source(uow: UnitOfWork, customer_id: int, options: dict[str, Any],
                    event: dict[str, Any] | None = None) -> dict[str, Any]:
    from teahub.customers import service as customers

    return {**customers.get_customer(uow, customer_id), "options": _public(options), "event": event}


def _public(options: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in options.items() if k not in ("lookups", "mappings")}


def reference(record: str, source: dict[str, Any]) -> str:
    """What a record is found by in an ERP: the order number, or `teahub-<id>` for a customer."""
    return str(source["number"]) if record == "order" else f"teahub-{source['id']}"


@dataclass
class Prepared:
    record: str  # order | customer
    record_id: int
    source: dict[str, Any]
    mapping: Mapping
    document: dict[str, Any]
    key: str

    @property
    def reference(self) -> str:
        return reference(self.record, self.source)

    @property
    def cancelled(self) -> bool:
        """An order cancelled in teahub: the ERP must not keep a live order for it."""
        return self.record == "order" and self.source.get("status") == "cancelled"


def prepare(uow: UnitOfWork, target: TargetConfig, event: dict[str, Any], records: tuple[str, ...]) -> Prepared:
    """Read the event's record and map it. Raises Permanent for what no retry will fix."""
    kind = event.get("aggregate_type")
    if kind not in records:
        raise Permanent(f"the {target.kind} connector sends {' and '.join(records)}s, not {kind} events "
                        f"(check the target's event types)")
    try:
        record_id = int(event["aggregate_id"])
        mapping = for_target(target.kind, kind, target.options)
        source = (order_source if kind == "order" else customer_source)(uow, record_id, target.options, event)
    except (ValueError, NotFound, MappingError) as exc:
        detail = getattr(exc, "detail", None) or str(exc)
        raise Permanent(f"cannot map {kind} {event.get('aggregate_id')}: {detail}") from None
    try:
        document = mapping.apply(source, (target.options.get("lookups") or {}))
    except (ValueError, MappingError, ApplyError) as exc:
        if kind == "order" and source.get("status") == "cancelled":
            document = {}  # voiding needs only its number: a mapping problem must not hold up the cancellation
        else:
            detail = getattr(exc, "detail", None) or str(exc)
            raise Permanent(f"cannot map {kind} {event.get('aggregate_id')}: {detail}") from None
    return Prepared(kind, record_id, source, mapping, document, record_key(event))


# -- links ---------------------------------------------------------------------------------------------------
def get_link(uow: UnitOfWork, target_id: int, key: str) -> SyncErpLink | None:
    with uow.reading():
        link = uow.session.get(SyncErpLink, (target_id, key))
        if link is not None:
            uow.session.expunge(link)
        return link


def save_link(uow: UnitOfWork, target_id: int, prepared: Prepared, event_id: str, step: str, *,
              external_id: str | None = None, external_number: str | None = None,
              detail: str | None = None) -> None:
    """Record a step done (in its own transaction, at once: a later failure resumes after it)."""
    with uow:
        link = uow.session.get(SyncErpLink, (target_id, prepared.key))
        if link is None:
            link = SyncErpLink(target_id=target_id, record_key=prepared.key)
            uow.session.add(link)
        link.reference = prepared.reference
        link.step = step
        if external_id is not None:
            link.external_id = external_id
        if external_number is not None:
            link.external_number = external_number
        link.detail = detail
        link.mapping, link.mapping_version = prepared.mapping.name, prepared.mapping.version
        link.last_event_id = event_id
        link.updated_at = uow.now()
        uow.commit()


def forget_links(uow: UnitOfWork, target_id: int, keys: list[str]) -> None:
    if not keys:
        return
    with uow:
        uow.session.execute(delete(SyncErpLink).where(SyncErpLink.target_id == target_id,
                                                      SyncErpLink.record_key.in_(keys)))
        uow.commit()


def links(uow: UnitOfWork, target_id: int, keys: list[str]) -> dict[str, SyncErpLink]:
    with uow.reading():
        rows = list(uow.session.scalars(select(SyncErpLink).where(SyncErpLink.target_id == target_id,
                                                                  SyncErpLink.record_key.in_(keys))))
        for row in rows:
            uow.session.expunge(row)
        return {row.record_key: row for row in rows}


# -- calls and answers ---------------------------------------------------------------------------------------
def post_json(client: httpx.Client, url: str, body: Any, **kwargs: Any) -> Any:
    """POST and parse JSON; transport errors, timeouts, 408/425/429/5xx → Transient; other non-2xx → Permanent."""
    return _json(lambda: client.post(url, json=body, **kwargs))


def get_json(client: httpx.Client, url: str, **kwargs: Any) -> Any:
    return _json(lambda: client.get(url, **kwargs))


def _json(call: Any) -> Any:
    try:
        response = call()
    except httpx.TimeoutException as exc:
        raise Transient(f"timeout: {exc!r}") from None
    except httpx.HTTPError as exc:
        raise Transient(f"{type(exc).__name__}: {exc}") from None
    if response.status_code in (408, 425, 429) or response.status_code >= 500:
        raise Transient(f"HTTP {response.status_code}: {response.text[:300]}")
    if not 200 <= response.status_code < 300:
        raise Permanent(f"HTTP {response.status_code}: {response.text[:300]}")
    try:
        return response.json()
    except ValueError:
        raise Transient(f"not JSON (HTTP {response.status_code}): {response.text[:200]}") from None


def guarded(event_id: str, work: Any) -> Result:
    """Run one event's work; Transient → retry, Permanent → rejected (a dead letter with the ERP's message)."""
    try:
        work()
    except Transient as exc:
        return Result.retry(event_id, str(exc))
    except Permanent as exc:
        return Result.rejected(event_id, str(exc))
    return Result.delivered(event_id)
