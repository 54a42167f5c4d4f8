"""Sync targets (outbound connector subscriptions): add, change, remove, list. The secret is stored sealed and
never shown again."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import delete, select

from teahub.db.uow import UnitOfWork
from teahub.errors import Conflict, NotFound, ValidationFailed
from teahub.sync import cursors
from teahub.sync.connectors import connector_kinds
from teahub.sync.models import SyncCursor, SyncDeadLetter, SyncPending, SyncRecord, SyncTarget
from teahub.sync.rules import TARGET_NAME, matches, valid_pattern
from teahub.sync.schemas import TargetIn, TargetPatch


def _check_url(url: str) -> str:
    try:
        parsed = httpx.URL(url)
    except Exception:  # noqa: BLE001 - whatever httpx cannot parse is not a URL we can call
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValidationFailed("the URL must be an absolute http:// or https:// URL", field="url")
    return url


def _check_patterns(patterns: list[str]) -> list[str]:
    for index, pattern in enumerate(patterns):
        if not valid_pattern(pattern):
            raise ValidationFailed(f"{pattern!r} is not an event type, `prefix.*` or `*`",
                                   field=f"event_types.{index}")
    return sorted(set(patterns), key=patterns.index)


ERP_KINDS = frozenset({"odoo", "kingdee", "yonyou"})
ORDER_CANCELLED = "order.cancelled"


def _with_cancellations(kind: str, patterns: list[str]) -> list[str]:
    """An ERP target that takes orders takes their cancellation too: without it a cancelled order stays a live,
    audited order in the ERP (its connector voids it there)."""
    takes_orders = any(p == "*" or p.startswith("order.") for p in patterns)
    if kind in ERP_KINDS and takes_orders and not matches(patterns, ORDER_CANCELLED):
        return [*patterns, ORDER_CANCELLED]
    return patterns


def as_dict(target: SyncTarget) -> dict[str, Any]:
    return {"id": target.id, "name": target.name, "kind": target.kind, "url": target.url,
            "has_secret": target.secret is not None, "event_types": list(target.event_types),
            "enabled": target.enabled, "max_attempts": target.max_attempts, "timeout_seconds": target.timeout_seconds,
            "created_at": target.created_at, "updated_at": target.updated_at}


def _get(uow: UnitOfWork, name: str) -> SyncTarget:
    target = uow.session.scalar(select(SyncTarget).where(SyncTarget.name == name))
    if target is None:
        raise NotFound(f"no sync target {name!r}", field="name")
    return target


def add_target(uow: UnitOfWork, data: TargetIn) -> dict[str, Any]:
    if not TARGET_NAME.match(data.name):
        raise ValidationFailed("a name is lower-case letters, digits, - and _", field="name")
    if data.kind not in connector_kinds():
        raise ValidationFailed(f"unknown kind {data.kind!r}", field="kind")
    if data.kind == "webhook" and not data.secret:
        raise ValidationFailed("a webhook needs a secret (16 characters or more) to sign its events",
                               field="secret")
    patterns = _with_cancellations(data.kind, _check_patterns(data.event_types))
    url = _check_url(data.url)
    with uow:
        if uow.session.scalar(select(SyncTarget.id).where(SyncTarget.name == data.name)) is not None:
            raise Conflict(f"a sync target named {data.name!r} exists", field="name")
        now = uow.now()
        target = SyncTarget(name=data.name, kind=data.kind, url=url, secret=data.secret, event_types=patterns,
                            enabled=data.enabled, max_attempts=data.max_attempts,
                            timeout_seconds=data.timeout_seconds, options={}, created_at=now, updated_at=now)
        uow.session.add(target)
        uow.session.flush()
        position = 0 if data.start == "beginning" else cursors.newest_committed_seq(uow)
        uow.session.add(SyncCursor(name=cursors.target_cursor(target.id), position=position,
                                   consecutive_failures=0, delivered=0, failed=0, updated_at=now))
        uow.audit("sync.target_added", "sync_target", target.name,
                  after={k: v for k, v in as_dict(target).items() if k not in ("created_at", "updated_at")})
        result = as_dict(target)
        uow.commit()
    return result


def update_target(uow: UnitOfWork, name: str, patch: TargetPatch) -> dict[str, Any]:
    changes = patch.model_dump(exclude_unset=True, exclude_none=True)
    if "event_types" in changes:
        changes["event_types"] = _check_patterns(changes["event_types"])
    if "url" in changes:
        _check_url(changes["url"])
    with uow:
        target = _get(uow, name)
        before = as_dict(target)
        if "event_types" in changes:
            changes["event_types"] = _with_cancellations(target.kind, changes["event_types"])
        for field, value in changes.items():
            setattr(target, field, value)
        if changes:
            target.updated_at = uow.now()
            if changes.get("enabled"):
                # Re-enabled by hand: try at once rather than waiting out a pause.
                cursor = uow.session.get(SyncCursor, cursors.target_cursor(target.id))
                if cursor is not None:
                    cursor.paused_until = None
            uow.audit("sync.target_changed", "sync_target", name,
                      before={k: before[k] for k in changes if k != "secret"},
                      after={k: v for k, v in changes.items() if k != "secret"})
        result = as_dict(target)
        uow.commit()
    return result


def remove_target(uow: UnitOfWork, name: str) -> None:
    """Remove the target with its cursor, retry queue, record states and dead letters. (Its broker queue, if
    any, is deleted by the caller.)"""
    with uow:
        target = _get(uow, name)
        for model in (SyncPending, SyncRecord, SyncDeadLetter):
            uow.session.execute(delete(model).where(model.target_id == target.id))  # type: ignore[attr-defined]
        uow.session.execute(delete(SyncCursor).where(SyncCursor.name == cursors.target_cursor(target.id)))
        uow.audit("sync.target_removed", "sync_target", name)
        uow.session.delete(target)
        uow.commit()


def get_target(uow: UnitOfWork, name: str) -> dict[str, Any]:
    with uow.reading():
        return as_dict(_get(uow, name))


def list_targets(uow: UnitOfWork) -> list[dict[str, Any]]:
    with uow.reading():
        return [as_dict(t) for t in uow.session.scalars(select(SyncTarget).order_by(SyncTarget.name))]
