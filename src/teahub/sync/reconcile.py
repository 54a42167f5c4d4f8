"""Reconciliation with an ERP target: what teahub sent (sync_records with a success, within N days) against
what the ERP has (searched by reference: the order number, `teahub-<id>` for a customer).

- missing: sent, but the ERP has no such document → repaired by queueing the record's last event again (its
  link forgotten, so the connector starts over; it searches before creating, so nothing is made twice);
- different: the ERP has it, but its amount differs from the order's total, or (Kingdee) it is not audited →
  reported; an unaudited Kingdee bill is repaired too (the queued event resumes its steps).
An order cancelled in teahub is owed nothing but its absence (or its voided, cancelled or closed document): it is
never missing; one the ERP still has live is different, and repaired (its last event queued again: the connector
voids it).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from teahub.db.outbox import OutboxEvent
from teahub.db.uow import UnitOfWork
from teahub.errors import NotFound, ValidationFailed
from teahub.sync import store
from teahub.sync.cursors import target_cursor
from teahub.sync.delivery import load_target
from teahub.sync.erp import base
from teahub.sync.models import SyncCursor, SyncRecord, SyncTarget

log = logging.getLogger("teahub.sync")
ERP_KINDS = ("odoo", "kingdee", "yonyou")
CHUNK = 100


def _references(uow: UnitOfWork, keys: list[str]) -> dict[str, str]:
    """record key → reference, for the records that still exist (an order number, `teahub-<id>`)."""
    from teahub.sales.views import order_number

    refs = {}
    for key in keys:
        kind, _, ident = key.partition(":")
        if not ident.isdigit():
            continue
        if kind == "order":
            refs[key] = order_number(int(ident))
        elif kind == "customer":
            refs[key] = f"teahub-{ident}"
    return refs


def reconcile_target(uow: UnitOfWork, name: str, *, days: int = 7, repair: bool = True) -> dict[str, Any]:
    if not 1 <= days <= 366:
        raise ValidationFailed("days is 1 to 366", field="days")
    with uow.reading():
        row = uow.session.scalar(select(SyncTarget).where(SyncTarget.name == name))
        if row is None:
            raise NotFound(f"no sync target {name!r}", field="name")
        target_id, kind = row.id, row.kind
    if kind not in ERP_KINDS:
        raise ValidationFailed(f"target {name} is a {kind}: only ERP targets ({', '.join(ERP_KINDS)}) can be "
                               "reconciled", field="name")
    target = load_target(uow, target_id)
    assert target is not None
    since = uow.now() - timedelta(days=days)
    with uow.reading():
        sent = list(uow.session.execute(
            select(SyncRecord.record_key, SyncRecord.last_event_id)
            .where(SyncRecord.target_id == target_id, SyncRecord.last_success_at.is_not(None),
                   SyncRecord.last_success_at >= since).order_by(SyncRecord.record_key)))
    event_ids = dict(sent)
    refs = _references(uow, list(event_ids))
    links = base.links(uow, target_id, list(refs))
    from teahub.sync.connectors import make_connector

    connector: Any = make_connector(target.config, uow.session_factory)
    report: dict[str, Any] = {"target": name, "kind": kind, "days": days, "checked": 0, "missing": [],
                              "different": [], "repaired": 0, "errors": []}
    try:
        for record in ("order", "customer"):
            keys = [k for k in refs if k.startswith(record + ":")]
            for start in range(0, len(keys), CHUNK):
                chunk = keys[start:start + CHUNK]
                try:
                    present = connector.present(record, [refs[k] for k in chunk])
                except (base.Transient, base.Permanent) as exc:
                    report["errors"].append(f"{record}s {refs[chunk[0]]}…: {exc}")
                    continue
                report["checked"] += len(chunk)
                for key in chunk:
                    _compare(uow, key, refs[key], present.get(refs[key]), links.get(key), kind, report)
    finally:
        connector.close()
    if repair:
        report["repaired"] = _requeue(uow, target_id, [m["record_key"] for m in report["missing"]]
                                      + [d["record_key"] for d in report["different"] if d.get("repairable")],
                                      event_ids)
    return report


def _order(uow: UnitOfWork, key: str) -> dict[str, Any] | None:
    from teahub.sales.views import get_order

    if not key.startswith("order:"):
        return None
    try:
        return get_order(uow, int(key.partition(":")[2]))
    except NotFound:
        return None


def _compare(uow: UnitOfWork, key: str, ref: str, found: dict[str, Any] | None, link: Any, kind: str,
             report: dict[str, Any]) -> None:
    mapping = f"{link.mapping}@v{link.mapping_version}" if link is not None else None
    order = _order(uow, key)
    if order is not None and order["status"] == "cancelled":
        if found is not None and not found.get("cancelled"):  # absent or voided is what a cancelled order is owed
            report["different"].append({"record_key": key, "reference": ref, "external_id": found.get("id"),
                                        "mapping": mapping, "problems": ["cancelled in teahub, live in the ERP"],
                                        "repairable": True})
        return
    if found is None:
        report["missing"].append({"record_key": key, "reference": ref, "mapping": mapping})
        return
    problems = []
    if found.get("cancelled"):
        problems.append("cancelled in the ERP, live in teahub")
    elif kind == "kingdee" and found.get("status") != "C":
        problems.append(f"status {found.get('status')} (not audited)")
    if "amount" in found and order is not None and abs(int(found["amount"]) - int(order["total"])) > 1:
        problems.append(f"amount {found['amount']} fen, teahub total {order['total']} fen")
    if problems:
        report["different"].append({"record_key": key, "reference": ref, "external_id": found.get("id"),
                                    "mapping": mapping, "problems": problems,
                                    "repairable": kind == "kingdee" and len(problems) == 1
                                    and problems[0].startswith("status")})


def _requeue(uow: UnitOfWork, target_id: int, keys: list[str], event_ids: dict[str, str | None]) -> int:
    """Queue each record's last sent event again (at once, fresh attempts); forget its link first."""
    if not keys:
        return 0
    base.forget_links(uow, target_id, keys)  # the connector looks again and starts where the ERP stands
    queued = 0
    with uow:
        now = uow.now()
        ids = [event_ids[k] for k in keys if event_ids.get(k)]
        events = {e.id: e.envelope() for e in uow.session.scalars(select(OutboxEvent).where(OutboxEvent.id.in_(ids)))}
        for key in keys:
            event = events.get(event_ids.get(key) or "")
            if event is None:
                log.warning("reconcile: the last event of %s is no longer in the outbox; not re-queued", key)
                continue
            store.enqueue(uow.session, target_id, event, attempts=0, next_attempt_at=now)
            queued += 1
        if queued:
            cursor = uow.session.get(SyncCursor, target_cursor(target_id))
            if cursor is not None:
                cursor.paused_until = None
        uow.audit("sync.reconcile_repaired", "sync_target", str(target_id), after={"records": keys})
        uow.commit()
    return queued


def reconcile_all(uow: UnitOfWork, *, target: str | None = None, days: int = 7,
                  repair: bool = True) -> list[dict[str, Any]]:
    with uow.reading():
        query = select(SyncTarget.name).where(SyncTarget.kind.in_(ERP_KINDS), SyncTarget.enabled.is_(True))
        if target is not None:
            query = select(SyncTarget.name).where(SyncTarget.name == target)
        names = list(uow.session.scalars(query.order_by(SyncTarget.name)))
    if target is not None and not names:
        raise NotFound(f"no sync target {target!r}", field="target")
    return [reconcile_target(uow, name, days=days, repair=repair) for name in names]
